import { createDocumentStores } from '../../src/adapters/store/document-stores.js';
import { emptyStoreData } from '../../src/core/store-data.js';
import { describeStoreContract } from '../support/store-contract.js';

describeStoreContract(
  'document',
  async () => ({
    stores: createDocumentStores({ data: emptyStoreData(), flush: async () => undefined }),
    close: async () => undefined,
  })
);
