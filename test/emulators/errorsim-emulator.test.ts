import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startErrorSimEmulator, type ErrorSimEmulator } from '../../emulators/errorsim-emulator.js';

let sim: ErrorSimEmulator;
beforeEach(async () => {
  sim = await startErrorSimEmulator();
});
afterEach(async () => {
  await sim.close();
});

describe('error-simulation emulator', () => {
  it('answers GET with the state and toggles on POST, recording every call', async () => {
    expect(await (await fetch(sim.url)).json()).toEqual({ enabled: false });
    expect(await (await fetch(sim.url, { method: 'POST' })).json()).toEqual({ enabled: true });
    expect(await (await fetch(sim.url, { method: 'POST' })).json()).toEqual({ enabled: false });
    expect(sim.calls.map((c) => `${c.method} ${c.status}`)).toEqual(['GET 200', 'POST 200', 'POST 200']);
    expect(sim.count('POST')).toBe(2);
  });

  it('fails the next calls of one method as told, without toggling', async () => {
    sim.failNext({ kind: 'http500', method: 'POST' });
    expect((await fetch(sim.url, { method: 'POST' })).status).toBe(500);
    expect(sim.enabled).toBe(false);
    expect((await fetch(sim.url, { method: 'POST' })).status).toBe(200);
    expect(sim.enabled).toBe(true);
  });

  it('answers a stuck POST with the unchanged state', async () => {
    sim.failNext({ kind: 'stuck' });
    expect(await (await fetch(sim.url, { method: 'POST' })).json()).toEqual({ enabled: false });
    expect(sim.enabled).toBe(false);
  });

  it('records calls to other paths as unexpected', async () => {
    expect((await fetch(sim.url.replace('/api/error-sim', '/nope'))).status).toBe(404);
    expect(sim.unexpected()).toHaveLength(1);
  });
});
