import { MemoryLedger } from '../ledger/memoryLedger.js';
import { ledgerContract } from './contract/ledger.contract.js';

ledgerContract('memory', async (streams, route) => ({ ledger: new MemoryLedger({ streams, route }), cleanup: async () => {} }));
