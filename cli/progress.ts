import { SingleBar } from 'cli-progress';

/** Progress of long work: events done of a total. */
export interface Progress {
  update(done: number): void;
  stop(): void;
}

const plainEveryMs = 2_000;

/**
 * A cli-progress bar on a terminal (events/s, percent, ETA); elsewhere a plain line every
 * two seconds, so a log is not flooded with redraws. A total of 0 is not known: then only
 * the count and the rate.
 */
export function progressOf(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = performance.now();
  const rate = (done: number): number => Math.round(done / Math.max(1e-3, (performance.now() - started) / 1000));
  const known = total > 0;
  if (stream.isTTY) {
    const format = known ? `${label} [{bar}] {percentage}% | {value}/{total} events | {speed} events/s | ETA {eta_formatted}` : `${label} {value} events | {speed} events/s`;
    const bar = new SingleBar({ stream, format, hideCursor: true });
    bar.start(known ? total : 1, 0, { speed: 0 });
    return {
      update: (done) => bar.update(done, { speed: rate(done) }),
      stop: () => bar.stop(),
    };
  }
  let printed = started;
  return {
    update(done) {
      if (performance.now() - printed < plainEveryMs) return;
      printed = performance.now();
      const share = known ? `/${total} events (${Math.floor((done / total) * 100)}%)` : ' events';
      stream.write(`${label}: ${done}${share}, ${rate(done)} events/s\n`);
    },
    stop: () => {},
  };
}
