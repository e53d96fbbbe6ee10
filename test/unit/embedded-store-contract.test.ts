import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openEmbeddedStore } from '../../src/adapters/store/open-embedded-store.js';
import { describeStoreContract } from '../support/store-contract.js';

async function open(o: { eager: boolean }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'store-contract-'));
  // Eager: every finished deploy, decided confirmation and claim leaves for the history at the next flush, so the
  // contract is also checked against records read back from the history segments.
  const store = await openEmbeddedStore(dir, o.eager ? { hotForMs: 0, everyMs: 0, claimsHotForMs: 0 } : {});
  return {
    stores: store.stores,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeStoreContract('embedded', () => open({ eager: false }));
describeStoreContract('embedded, history-eager', () => open({ eager: true }));
