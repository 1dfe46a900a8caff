import { MemoryStore } from '../projections/memoryStore.js';
import { stateStoreContract } from './contract/stateStore.contract.js';

stateStoreContract(
  'memory',
  async () => {
    const store = new MemoryStore();
    return { store, dispose: () => store.close() };
  },
  { durable: false, atomicCommit: true },
  { blobs: true },
);
