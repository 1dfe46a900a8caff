import { runStorageAdapterTests } from '@automerge/automerge-repo/helpers/tests/storage-adapter-tests.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStorageAdapter } from '../gateway/sync/blobStorage.js';
import { EmbeddedStore } from '../projections/embeddedStore.js';
import { MemoryStore } from '../projections/memoryStore.js';

/*
 * automerge-repo's own acceptance suite for storage adapters, run against the adapter the
 * server keeps documents through (BlobStorageAdapter), over each state store with blobs.
 */
runStorageAdapterTests(async () => ({ adapter: new BlobStorageAdapter(new MemoryStore()) }), 'blobs of the memory store');

runStorageAdapterTests(async () => {
  const path = await mkdtemp(join(tmpdir(), 'foldline-am-storage-'));
  const store = new EmbeddedStore({ path });
  return {
    adapter: new BlobStorageAdapter(store),
    teardown: async () => {
      await store.close();
      await rm(path, { recursive: true, force: true });
    },
  };
}, 'blobs of the embedded LMDB store');
