import { describe, expect, it } from 'vitest';
import { Catalog } from '../../src/core/catalog.js';
import { ClusterNotices } from '../../src/core/clusters/cluster-notices.js';
import { configSchema } from '../../src/core/config/config-schema.js';
import type { ThreadKernel } from '../../src/core/threads/thread-kernel.js';
import { parse } from 'yaml';
import { voting01Config } from '../../emulators/world/voting01-config.js';
import { createDocumentStores } from '../../src/adapters/store/document-stores.js';
import { emptyStoreData } from '../../src/core/store-data.js';

function setup(data = emptyStoreData()) {
  const sent: Array<{ channel: string; text: string }> = [];
  const kernel = {
    notice: async (t: { env: { slackChannel: string } }, _key: string, text: string) => void sent.push({ channel: t.env.slackChannel, text }),
    commit: async () => undefined,
  } as unknown as ThreadKernel;
  const catalog = new Catalog(configSchema({ isCron: () => true }).parse(parse(voting01Config())));
  const stores = createDocumentStores({ data, flush: async () => undefined });
  return { sent, data, notices: new ClusterNotices({ kernel, clock: { now: () => 1 } as never, stores }), targets: catalog.targets };
}

describe('cluster notices', () => {
  it('says nothing while a cluster stays reachable, once when it goes, once when it is back', async () => {
    const { sent, notices, targets } = setup();
    await notices.changed({ cluster: 'prod-eu', reachable: true, targets });
    expect(sent).toEqual([]);
    await notices.changed({ cluster: 'prod-eu', reachable: false, reason: 'connect ECONNREFUSED', targets });
    await notices.changed({ cluster: 'prod-eu', reachable: false, targets });
    expect(sent.map((s) => s.channel)).toEqual(['C0DEV', 'C0QA', 'C0STAGING']);
    expect(sent[0]!.text).toContain('Cluster `prod-eu` is unreachable (connect ECONNREFUSED)');
    await notices.changed({ cluster: 'prod-eu', reachable: true, targets });
    await notices.changed({ cluster: 'prod-eu', reachable: true, targets });
    expect(sent).toHaveLength(6);
    expect(sent[3]!.text).toContain('Cluster `prod-eu` answers again');
  });

  it('does not tell a channel again after a restart that finds the cluster still down, and tells when it is back', async () => {
    const first = setup();
    await first.notices.changed({ cluster: 'prod-eu', reachable: false, reason: 'ECONNREFUSED', targets: first.targets });
    expect(first.sent.length).toBeGreaterThan(0);
    expect(first.data.clustersDown?.['prod-eu']).toMatchObject({ since: 1, reason: 'ECONNREFUSED' });
    // A new process (or a new leader) over the same store.
    const again = setup(first.data);
    await again.notices.changed({ cluster: 'prod-eu', reachable: false, reason: 'ECONNREFUSED', targets: again.targets });
    expect(again.sent).toEqual([]);
    expect(again.notices.isDown('prod-eu')).toBe(true);
    await again.notices.changed({ cluster: 'prod-eu', reachable: true, targets: again.targets });
    expect(again.sent.length).toBe(first.sent.length);
    expect(again.data.clustersDown?.['prod-eu']).toBeUndefined();
  });
});
