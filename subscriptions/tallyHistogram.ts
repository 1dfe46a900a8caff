import type { Histogram, Registry } from 'prom-client';

/** A value of a metric as prom-client's registry reads it from `get()`. */
interface ExposedValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

export interface TallyHistogramOptions {
  name: string;
  help: string;
  /** The one label its series are told apart by. */
  label: string;
  /** Upper bounds, ascending. */
  buckets: readonly number[];
}

/** One series' counts per bucket (the last is +Inf), their sum and count. */
class Series {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let bucket = 0;
    while (bucket < this.bounds.length && value > this.bounds[bucket]!) bucket++;
    this.counts[bucket]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A Prometheus histogram whose observations are a bucket search and three additions, for a
 * path that observes per item: prom-client's own builds and hashes its labels on every call.
 * Registered with `registry.registerMetric`; it exposes what prom-client's Histogram does.
 */
export class TallyHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly label: string;
  private readonly bounds: readonly number[];
  private readonly byLabel = new Map<string, Series>();

  constructor(options: TallyHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.label = options.label;
    this.bounds = options.buckets;
  }

  /** The series of one label value, made on first use. */
  series(value: string): { observe(value: number): void } {
    let series = this.byLabel.get(value);
    if (!series) {
      series = new Series(this.bounds);
      this.byLabel.set(value, series);
    }
    return series;
  }

  forget(value: string): void {
    this.byLabel.delete(value);
  }

  reset(): void {
    this.byLabel.clear();
  }

  /** Adds it to `registry`, whose types know only prom-client's own metrics, though it reads any with `get()`. */
  register(registry: Registry): void {
    registry.registerMetric(this as unknown as Histogram);
  }

  get(): Promise<{ name: string; help: string; type: 'histogram'; values: ExposedValue[]; aggregator: 'sum' }> {
    const values: ExposedValue[] = [];
    for (const [value, series] of this.byLabel) {
      let cumulative = 0;
      for (let bucket = 0; bucket <= this.bounds.length; bucket++) {
        cumulative += series.counts[bucket]!;
        const le = bucket < this.bounds.length ? this.bounds[bucket]! : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { le, [this.label]: value }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { [this.label]: value }, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.label]: value }, value: series.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }
}
