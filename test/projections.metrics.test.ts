import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../projections/memoryStore.js';
import { ProjectionRuntime } from '../projections/runtime.js';
import { newLedger, tally, testEvent } from './support/projectionFixtures.js';

/** The value of a metric line `name{consumer="…"} value` in Prometheus text. */
function reading(text: string, name: string, consumer: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{consumer="${consumer}"}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('consumer metrics', () => {
  it('count batches, records and dead letters, and report each consumer’s lag behind the ledger', async () => {
    const ledger = newLedger();
    const registry = new Registry();
    const runtime = (consumer: string) =>
      new ProjectionRuntime({ consumer, ledger, store: new MemoryStore(), projections: [tally], registry, logger: pino({ level: 'silent' }) });
    const busy = runtime('busy');
    const idle = runtime('idle');
    await ledger.append([
      testEvent('1', 'alpha', 'a', { delta: 1, label: 'x', tag: 't' }),
      testEvent('2', 'alpha', 'b', { delta: 2, label: 'y', tag: 't', poison: true }),
      testEvent('3', 'alpha', 'c', { delta: 3, label: 'z', tag: 't' }),
    ]);
    await busy.catchUp();

    const text = await registry.metrics();
    expect(reading(text, 'foldline_projection_records_total', 'busy')).toBe(3);
    expect(reading(text, 'foldline_projection_dead_letters_total', 'busy')).toBe(1);
    expect(reading(text, 'foldline_projection_batches_total', 'busy')).toBeGreaterThanOrEqual(1);
    expect(reading(text, 'foldline_projection_lag', 'busy')).toBe(0);
    // The consumer that folded nothing is three records behind: it shows as itself.
    expect(reading(text, 'foldline_projection_lag', 'idle')).toBe(3);
    expect(reading(text, 'foldline_projection_records_total', 'idle')).toBeUndefined();
    await idle.stop();
  });
});
