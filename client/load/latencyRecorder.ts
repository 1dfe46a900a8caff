import { build, type Histogram } from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Latencies are recorded in microseconds: HDR histograms hold integers. */
const newHistogram = (): Histogram => build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });

/** Effect-after-cause latencies of a whole run and of the current progress interval. */
export class LatencyRecorder {
  private readonly total = newHistogram();
  private readonly interval = newHistogram();

  record(ms: number): void {
    const micros = Math.max(1, Math.round(ms * 1000));
    this.total.recordValue(micros);
    this.interval.recordValue(micros);
  }

  summary(): LatencySummary {
    return summarize(this.total);
  }

  /** Forgets everything recorded so far (the end of a warm-up). */
  reset(): void {
    this.total.reset();
    this.interval.reset();
  }

  /** The interval since the last call, then starts a new one. */
  takeInterval(): LatencySummary {
    const summary = summarize(this.interval);
    this.interval.reset();
    return summary;
  }
}

/** Milliseconds with microsecond resolution. */
function summarize(histogram: Histogram): LatencySummary {
  const ms = (micros: number): number => Math.round(micros) / 1000;
  const count = histogram.totalCount;
  // A percentile is its bucket's highest value: never report one above the exact maximum.
  const max = histogram.maxValue;
  const at = (percentile: number): number => ms(Math.min(histogram.getValueAtPercentile(percentile), max));
  return {
    count,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: ms(max),
    mean: count === 0 ? 0 : ms(histogram.mean),
  };
}
