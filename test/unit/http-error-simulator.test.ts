import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpErrorSimulator } from '../../src/adapters/errorsim/http-error-simulator.js';
import { ServiceError } from '../../src/core/ports.js';
import { startErrorSimEmulator, type ErrorSimEmulator } from '../../emulators/errorsim-emulator.js';

let sim: ErrorSimEmulator;
beforeEach(async () => {
  sim = await startErrorSimEmulator();
});
afterEach(async () => {
  await sim.close();
});

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ServiceError);
  return err as ServiceError;
}

describe('HttpErrorSimulator', () => {
  it('reads with GET and toggles with POST', async () => {
    const s = new HttpErrorSimulator();
    expect(await s.get(sim.url)).toBe(false);
    expect(await s.toggle(sim.url)).toBe(true);
    expect(await s.get(sim.url)).toBe(true);
    expect(sim.calls.map((c) => c.method)).toEqual(['GET', 'POST', 'GET']);
  });

  it('reports a body that is not JSON', async () => {
    sim.failNext({ kind: 'garbage' });
    const err = await failure(new HttpErrorSimulator().get(sim.url));
    expect(err.message).toContain('not JSON');
    expect(err.message).toContain('Welcome to nginx');
  });

  it('reports JSON of another shape instead of guessing', async () => {
    sim.failNext({ kind: 'wrong-shape' });
    const err = await failure(new HttpErrorSimulator().get(sim.url));
    expect(err.message).toContain('{"enabled":"yes"}, not {"enabled": true|false}');
  });

  it('reports an HTTP error status', async () => {
    sim.failNext({ kind: 'http500' });
    expect((await failure(new HttpErrorSimulator().get(sim.url))).message).toContain('answered HTTP 500');
  });

  it('reports a connection reset and a closed port as unreachable', async () => {
    sim.failNext({ kind: 'reset' });
    expect((await failure(new HttpErrorSimulator().get(sim.url))).message).toMatch(/GET .* failed: /);
    const closed = sim.url;
    await sim.close();
    expect((await failure(new HttpErrorSimulator().toggle(closed))).message).toContain('ECONNREFUSED');
    sim = await startErrorSimEmulator();
  });

  it('gives up on an endpoint that does not answer in time', async () => {
    sim.failNext({ kind: 'hang' });
    const err = await failure(new HttpErrorSimulator({ timeoutMs: 100 }).get(sim.url));
    expect(err.message).toContain('no answer within 100 ms');
  });
});
