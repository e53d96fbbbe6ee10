/**
 * A stand-in for an app's error-simulation endpoint (the seeds' design): `GET <path>` answers `{"enabled": bool}`,
 * `POST <path>` toggles and answers the new state. Every call is recorded; faults make the next calls fail the ways a
 * real endpoint does (5xx, an HTML error page, JSON of another shape, a reset connection, no answer at all), or make a
 * POST answer without toggling.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the emulator saw. */
export interface ErrorSimCall {
  method: string;
  path: string;
  /** Date.now() when it arrived. */
  at: number;
  /** Status answered (0 when the connection was reset or left hanging). */
  status: number;
  /** Body answered. */
  body: string;
  /** The fault that answered it, if any. */
  fault?: FaultKind;
}

/**
 * `http500`: 500 with a text body · `garbage`: 200 with an HTML page · `wrong-shape`: 200 `{"enabled":"yes"}` ·
 * `reset`: the socket is destroyed · `hang`: never answers · `stuck`: a POST answers the current state without toggling.
 * No fault toggles.
 */
export type FaultKind = 'http500' | 'garbage' | 'wrong-shape' | 'reset' | 'hang' | 'stuck';

export interface ErrorSimEmulator {
  /** The endpoint URL to put in `errorSimulation.url`. */
  url: string;
  /** The simulated app's state; tests may set it. */
  enabled: boolean;
  calls: ErrorSimCall[];
  /** Calls of one method to the endpoint path. */
  count(method: 'GET' | 'POST'): number;
  /** Calls to any other path or with another method (a test should expect none). */
  unexpected(): ErrorSimCall[];
  /** The next `count` (default 1) calls, of `method` when given, answer with the fault. */
  failNext(o: { kind: FaultKind; count?: number; method?: 'GET' | 'POST' }): void;
  /** Every call answers with this fault until `heal()`. */
  breakWith(kind: FaultKind): void;
  heal(): void;
  close(): Promise<void>;
}

const PATH = '/api/error-sim';

/** Starts the emulator on 127.0.0.1, port 0. */
export async function startErrorSimEmulator(o: { enabled?: boolean } = {}): Promise<ErrorSimEmulator> {
  const calls: ErrorSimCall[] = [];
  const faults: Array<{ kind: FaultKind; left: number; method?: string }> = [];
  let broken: FaultKind | undefined;
  const sockets = new Set<Socket>();
  const state = { enabled: o.enabled ?? false };

  function takeFault(method: string): FaultKind | undefined {
    if (broken) return broken;
    const f = faults.find((x) => x.left > 0 && (!x.method || x.method === method));
    if (!f) return undefined;
    f.left--;
    return f.kind;
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0]!;
    const call: ErrorSimCall = { method, path, at: Date.now(), status: 0, body: '' };
    calls.push(call);
    const send = (status: number, body: string, type = 'application/json') => {
      call.status = status;
      call.body = body;
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (path !== PATH || (method !== 'GET' && method !== 'POST')) {
      send(404, JSON.stringify({ error: 'not found' }));
      return;
    }
    const fault = takeFault(method);
    if (fault) call.fault = fault;
    switch (fault) {
      case 'http500':
        send(500, 'internal error', 'text/plain');
        return;
      case 'garbage':
        send(200, '<html><body>Welcome to nginx!</body></html>', 'text/html');
        return;
      case 'wrong-shape':
        send(200, JSON.stringify({ enabled: 'yes' }));
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        return;
      case 'stuck':
        send(200, JSON.stringify({ enabled: state.enabled }));
        return;
      default:
        if (method === 'POST') state.enabled = !state.enabled;
        send(200, JSON.stringify({ enabled: state.enabled }));
    }
  }

  const server = createServer((req, res) => {
    // Drain the body (a POST may carry one) before answering.
    req.resume();
    req.on('end', () => handle(req, res));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${PATH}`,
    get enabled() {
      return state.enabled;
    },
    set enabled(v: boolean) {
      state.enabled = v;
    },
    calls,
    count: (method) => calls.filter((c) => c.method === method && c.path === PATH).length,
    unexpected: () => calls.filter((c) => c.path !== PATH || (c.method !== 'GET' && c.method !== 'POST')),
    failNext: ({ kind, count = 1, method }) => {
      faults.push({ kind, left: count, ...(method ? { method } : {}) });
    },
    breakWith: (kind) => {
      broken = kind;
    },
    heal: () => {
      broken = undefined;
      faults.length = 0;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
