import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TallyHistogram } from '../subscriptions/tallyHistogram.js';

const buckets = [0.001, 0.01, 0.1, 1, 10];
const options = { name: 'test_seconds', help: 'Seconds of something' };

describe('TallyHistogram', () => {
  it('exposes what prom-client’s Histogram exposes for the same observations, bounds included (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.oneof(fc.constantFrom(...buckets), fc.double({ min: 0, max: 20, noNaN: true }))), { maxLength: 60 }),
        fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
        async (observations, forgotten) => {
          const theirs = new Registry();
          const reference = new Histogram({ ...options, labelNames: ['subscription'], buckets, registers: [theirs] });
          const ours = new Registry();
          const tally = new TallyHistogram({ ...options, label: 'subscription', buckets });
          tally.register(ours);
          for (const [label, value] of observations) {
            reference.labels({ subscription: label }).observe(value);
            tally.series(label).observe(value);
          }
          if (forgotten !== undefined) {
            reference.remove({ subscription: forgotten });
            tally.forget(forgotten);
          }
          expect(await ours.metrics()).toBe(await theirs.metrics());
        },
      ),
      { numRuns: 200 },
    );
  });
});
