import { z } from 'zod';
import { ServiceError, type ErrorSimulator } from '../../core/ports.js';

/** The one answer shape the endpoint may give. Anything else is reported, never interpreted. */
const ErrorSimAnswer = z.object({ enabled: z.boolean() });

const SERVICE = 'error simulation';

/**
 * The app's error-simulation endpoint over HTTP with global fetch: `GET` reads `{"enabled": bool}`, `POST` toggles.
 * Every call has a timeout; an unreachable endpoint, a non-2xx status, a body that is not JSON or JSON of another shape
 * all throw a ServiceError whose message says which, so a person can tell "down" from "odd".
 */
export class HttpErrorSimulator implements ErrorSimulator {
  constructor(private readonly opts: { timeoutMs?: number; fetch?: typeof fetch } = {}) {}

  get(url: string): Promise<boolean> {
    return this.call('GET', url);
  }

  toggle(url: string): Promise<boolean> {
    return this.call('POST', url);
  }

  private async call(method: 'GET' | 'POST', url: string): Promise<boolean> {
    const timeoutMs = this.opts.timeoutMs ?? 5000;
    const doFetch = this.opts.fetch ?? fetch;
    let res: Response;
    try {
      res = await doFetch(url, { method, headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
      throw new ServiceError(SERVICE, `${method} ${url} failed: ${why}`, { cause: err, code: e.name === 'TimeoutError' ? 'timeout' : e.cause?.code });
    }
    let body: string;
    try {
      body = await res.text();
    } catch (err) {
      throw new ServiceError(SERVICE, `${method} ${url}: the answer broke off (${(err as Error).message})`, { cause: err });
    }
    if (!res.ok) throw new ServiceError(SERVICE, `${method} ${url} answered HTTP ${res.status}${body ? `: ${snippet(body)}` : ''}`, { code: `http_${res.status}`, permanent: res.status < 500 });
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new ServiceError(SERVICE, `${method} ${url} answered something that is not JSON: ${snippet(body) || '(empty)'}`, { code: 'not_json', permanent: true });
    }
    const parsed = ErrorSimAnswer.safeParse(json);
    if (!parsed.success) throw new ServiceError(SERVICE, `${method} ${url} answered ${snippet(body)}, not {"enabled": true|false}`, { code: 'bad_shape', permanent: true });
    return parsed.data.enabled;
  }
}

function snippet(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t.length > 120 ? `${t.slice(0, 119)}…` : t;
}
