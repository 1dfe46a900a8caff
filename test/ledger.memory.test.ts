import { MemoryLedger } from '../ledger/memoryLedger.js';
import { ledgerContract } from './contract/ledger.contract.js';

/*
 * No reader of its own: a memory ledger cannot be opened from another thread, so the suite
 * reads it through itself, which sees its appends as they land (readerFollowsWriter: false).
 */
const capabilities = { durable: false, atomicBatch: true, identityDedup: true, readerFollowsWriter: false };

ledgerContract('memory', async (streams, route) => ({ ledger: new MemoryLedger({ streams, route }), cleanup: async () => {} }), capabilities);

// An at-least-once source, as consumer tests use it: the contract's weaker promise without identity dedup.
ledgerContract(
  'memory without identity dedup',
  async (streams, route) => ({ ledger: new MemoryLedger({ streams, route, identityDedup: false }), cleanup: async () => {} }),
  { ...capabilities, identityDedup: false },
);
