import { describe, expect, it } from 'vitest';
import { Harness } from '../support/harness.js';

describe('the harness', () => {
  it('fails a test whose bot made a call no emulator route expected', async () => {
    const h = await Harness.start({ noStart: true });
    await fetch(`${h.github.apiUrl}/repos/acme/nowhere/deployments`, { method: 'POST', headers: { authorization: 'token x' }, body: '{}' });
    await fetch(`${h.k8s.url}/apis/argoproj.io/v1alpha1/namespaces/x/nothings`);
    await expect(h.close()).rejects.toThrow(/emulators saw calls nobody expected: .*kubernetes: GET \/apis\/argoproj.io\/v1alpha1\/namespaces\/x\/nothings.*|emulators saw calls nobody expected: .*github: POST/);
  });

  it('lets a test name the unknown calls it provokes on purpose', async () => {
    const h = await Harness.start({ noStart: true, allowUnexpected: (c) => c.emulator === 'github' });
    await fetch(`${h.github.apiUrl}/repos/acme/nowhere/deployments`, { method: 'POST', headers: { authorization: 'token x' }, body: '{}' });
    await expect(h.close()).resolves.toBeUndefined();
  });
});
