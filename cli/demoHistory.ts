import type { Logger } from 'pino';
import type { Ledger } from '../ledger/types.js';
import { generateEvents } from '../retail/generator.js';

/** Events of generated history a new demo data directory starts with. */
export const demoHistoryEvents = 20_000;

/**
 * Gives an empty ledger a generated history (seed 1: customers c-1, c-2, c-3 among them),
 * so that a first `npm start` shows a catalog, carts and a leaderboard. A ledger that
 * holds anything is left alone, so a restart never appends twice.
 */
export async function loadDemoHistory(ledger: Ledger, logger: Logger): Promise<void> {
  if (Object.keys(await ledger.head()).length > 0) return;
  let batch = [];
  for (const event of generateEvents({ seed: 1, events: demoHistoryEvents })) {
    batch.push(event);
    if (batch.length === 1000) {
      await ledger.append(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await ledger.append(batch);
  logger.info({ events: demoHistoryEvents }, 'loaded the demo history');
}
