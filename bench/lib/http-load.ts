import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** One request to send: the path and headers/body are built fresh per request (signatures carry a timestamp). */
export interface RequestSpec {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** The outcome of one request. */
export interface Sample {
  /** Milliseconds from the write of the request to the end of the response. */
  ms: number;
  status: number;
}

/** A keep-alive client for one loopback port; the same client shape serves the bot and its floor. */
export class LoopbackClient {
  private readonly agent: http.Agent;
  constructor(private readonly port: number, maxSockets = 256) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  /** POSTs and resolves when the whole response has arrived (status 0 on a socket error). */
  post(spec: RequestSpec): Promise<Sample> {
    return new Promise((resolve) => {
      const t0 = performance.now();
      const req = http.request(
        { host: '127.0.0.1', port: this.port, method: 'POST', path: spec.path, agent: this.agent, headers: { ...spec.headers, 'content-length': Buffer.byteLength(spec.body) } },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode ?? 0 }));
          res.on('error', () => resolve({ ms: performance.now() - t0, status: 0 }));
        },
      );
      req.on('error', () => resolve({ ms: performance.now() - t0, status: 0 }));
      req.end(spec.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Open loop: starts `rate` requests per second for `durationMs`, whether or not earlier ones have answered (as Slack
 * does), and resolves with every sample once the last one answered (or `drainMs` passed).
 */
export async function openLoop(o: { client: LoopbackClient; rate: number; durationMs: number; make: () => RequestSpec; drainMs?: number }): Promise<Sample[]> {
  const samples: Sample[] = [];
  const inFlight = new Set<Promise<void>>();
  const total = Math.round((o.rate * o.durationMs) / 1000);
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * o.rate) / 1000) + 1);
      while (sent < due) {
        sent++;
        const p = o.client.post(o.make()).then((s) => {
          samples.push(s);
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
  await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, o.drainMs ?? 10_000))]);
  return samples;
}

/** Closed loop: `concurrency` workers send back to back for `durationMs`; returns the samples (completed requests). */
export async function closedLoop(o: { client: LoopbackClient; concurrency: number; durationMs: number; make: () => RequestSpec }): Promise<{ samples: Sample[]; elapsedMs: number }> {
  const samples: Sample[] = [];
  const start = performance.now();
  const end = start + o.durationMs;
  const worker = async () => {
    while (performance.now() < end) samples.push(await o.client.post(o.make()));
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return { samples, elapsedMs: performance.now() - start };
}
