import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeBackend } from '../projections/embeddedStoreBackend.js';
import type { StateStore } from '../projections/types.js';
import { stateStoreContract } from './contract/stateStore.contract.js';

stateStoreContract(
  'embedded (LMDB)',
  async () => {
    const path = await mkdtemp(join(tmpdir(), 'foldline-store-'));
    let store: StateStore = await storeBackend.open({ path });
    return {
      store,
      reopen: async () => {
        await store.close();
        store = await storeBackend.open({ path });
        return store;
      },
      dispose: async () => {
        await store.close();
        await rm(path, { recursive: true, force: true });
      },
    };
  },
  storeBackend.capabilities,
  { blobs: true },
);
