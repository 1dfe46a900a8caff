import { performance } from 'node:perf_hooks';

/**
 * Open-model arrivals: `total` calls of `fire`, evenly spaced at `rate` per second from now,
 * whatever became of earlier ones (a late timer fires every arrival that is due at once).
 * `fire` gets the arrival's scheduled time; resolves after the last one, or at `stop`.
 */
export function scheduleArrivals(rate: number, total: number, fire: (scheduledAt: number) => void, stop: AbortSignal): Promise<void> {
  const start = performance.now();
  const spacing = 1000 / rate;
  let fired = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      if (stop.aborted) return resolve();
      const due = Math.min(total, Math.floor((performance.now() - start) / spacing) + 1);
      while (fired < due) fire(start + fired++ * spacing);
      if (fired >= total) return resolve();
      setTimeout(tick, Math.max(0, start + fired * spacing - performance.now()));
    };
    tick();
  });
}
