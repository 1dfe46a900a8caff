import type { Logger } from 'pino';
import type { CloudEvent, Ledger } from '../ledger/types.js';

const batchEvents = 1000;

/**
 * Gives an empty ledger a domain's demo history, so that a first start shows something. A
 * ledger that holds anything is left alone, so a restart never appends twice.
 */
export async function loadDemoHistory(ledger: Ledger, history: Iterable<CloudEvent>, logger: Logger): Promise<void> {
  if (Object.keys(await ledger.head()).length > 0) return;
  let batch: CloudEvent[] = [];
  let events = 0;
  for (const event of history) {
    batch.push(event);
    if (batch.length === batchEvents) {
      await ledger.append(batch);
      events += batch.length;
      batch = [];
    }
  }
  if (batch.length > 0) await ledger.append(batch);
  logger.info({ events: events + batch.length }, 'loaded the demo history');
}
