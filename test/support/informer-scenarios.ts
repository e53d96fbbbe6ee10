import { expect, it } from 'vitest';
import type { KubernetesEmulator, RecordedCall } from '../../emulators/kubernetes-emulator.js';

/** What the shared informer cases need of the file that runs them (its emulator, its informer, its rollout). */
export interface InformerWorld {
  emu: () => KubernetesEmulator;
  namespace: string;
  rollout: (name: string) => Record<string, unknown>;
  /** Starts an informer on the namespace's rollouts; resolves once its watch is open. `seen`: `<verb> <name> …`. */
  startInformer: () => Promise<{ seen: string[]; errors: unknown[] }>;
  lists: () => RecordedCall[];
  watches: () => RecordedCall[];
  /** The file's own polling wait (the emulator's tests do not load the bot's harness). */
  waitFor: (check: () => unknown, what: string) => Promise<unknown>;
}

/**
 * The relist and re-watch cases an informer meets, pinned once: test/emulators/kubernetes-emulator.test.ts runs them
 * against client-node 1.4's own informer, test/integration/kube-client.test.ts against the bot's ListWatch, so the
 * two behave alike.
 */
export function informerRelistScenarios(w: InformerWorld): void {
  const waitFor = (check: () => unknown, what: string) => w.waitFor(check, what);
  it('an HTTP 410 Gone makes it relist, which reports objects deleted in the gap', async () => {
    w.emu().apply(w.rollout('web'));
    const { seen, errors } = await w.startInformer();
    w.emu().compact('http');
    w.emu().remove(w.namespace, 'web'); // no watch is open: only a relist can reveal this
    await waitFor(() => seen.some((s) => s.startsWith('delete web')), 'the delete from the relist');
    expect(w.watches().some((c) => c.status === 410)).toBe(true);
    expect(w.lists()).toHaveLength(2);
    expect(errors).toEqual([]);
    await waitFor(() => w.emu().openWatches() === 1, 'the new watch');
  });

  it('an in-stream 410 ERROR event makes it relist', async () => {
    w.emu().apply(w.rollout('web'));
    const { errors } = await w.startInformer();
    w.emu().compact('stream');
    await waitFor(() => w.lists().length === 2, 'the relist');
    await waitFor(() => w.emu().openWatches() === 1, 'the new watch');
    expect(w.watches().at(-1)?.query.resourceVersion).toBe(w.emu().resourceVersion());
    expect(errors).toEqual([]);
  });

  it('a watch the server ends is resumed from the last resourceVersion without relisting', async () => {
    w.emu().apply(w.rollout('web'));
    const { seen } = await w.startInformer();
    const rv = w.emu().resourceVersion();
    w.emu().endWatches();
    await waitFor(() => w.watches().length === 2 && w.emu().openWatches() === 1, 'the re-watch');
    expect(w.watches()[1]?.query.resourceVersion).toBe(rv);
    expect(w.lists()).toHaveLength(1);
    w.emu().apply(w.rollout('api'));
    await waitFor(() => seen.some((s) => s.startsWith('add api')), 'the add after re-watch');
  });
}
