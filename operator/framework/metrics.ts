// The operator's Prometheus metrics, in the text exposition format: a few counters, gauges and
// one histogram need no client library.

type Labels = Record<string, string>;

const labelText = (labels: Labels) => {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([name, value]) => `${name}="${value.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`).join(',')}}`;
};

class Series<T> {
  readonly values = new Map<string, { labels: Labels; value: T }>();
  entry(labels: Labels, initial: () => T): { labels: Labels; value: T } {
    const key = labelText(labels);
    let found = this.values.get(key);
    if (!found) {
      found = { labels, value: initial() };
      this.values.set(key, found);
    }
    return found;
  }
}

const LATENCY_BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class Metrics {
  private readonly reconciles = new Series<number>();
  private readonly errors = new Series<number>();
  private readonly latency = new Series<{ buckets: number[]; sum: number; count: number }>();
  private readonly gauges: { name: string; help: string; read: () => { labels: Labels; value: number }[] }[] =
    [];

  /** One finished reconcile: `result` is success, retry or error. */
  reconciled(kind: string, result: string, seconds: number): void {
    this.reconciles.entry({ kind, result }, () => 0).value++;
    const histogram = this.latency.entry({ kind }, () => ({
      buckets: LATENCY_BUCKETS_SECONDS.map(() => 0),
      sum: 0,
      count: 0,
    })).value;
    LATENCY_BUCKETS_SECONDS.forEach((bound, index) => {
      if (seconds <= bound) histogram.buckets[index]!++;
    });
    histogram.sum += seconds;
    histogram.count++;
  }

  error(kind: string, reason: string): void {
    this.errors.entry({ kind, reason }, () => 0).value++;
  }

  /** A gauge read when scraped (queue depth, leadership). */
  gauge(name: string, help: string, read: () => { labels: Labels; value: number }[]): void {
    this.gauges.push({ name, help, read });
  }

  render(): string {
    const lines: string[] = [];
    const counter = (name: string, help: string, series: Series<number>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const { labels, value } of series.values.values())
        lines.push(`${name}${labelText(labels)} ${value}`);
    };
    counter(
      'overcast_operator_reconciles_total',
      'Reconciles finished, by kind and result.',
      this.reconciles,
    );
    counter(
      'overcast_operator_reconcile_errors_total',
      'Reconcile failures, by kind and reason.',
      this.errors,
    );
    const histogram = 'overcast_operator_reconcile_duration_seconds';
    lines.push(`# HELP ${histogram} Time one reconcile took.`, `# TYPE ${histogram} histogram`);
    for (const { labels, value } of this.latency.values.values()) {
      LATENCY_BUCKETS_SECONDS.forEach((bound, index) => {
        lines.push(
          `${histogram}_bucket${labelText({ ...labels, le: String(bound) })} ${value.buckets[index]}`,
        );
      });
      lines.push(`${histogram}_bucket${labelText({ ...labels, le: '+Inf' })} ${value.count}`);
      lines.push(
        `${histogram}_sum${labelText(labels)} ${value.sum}`,
        `${histogram}_count${labelText(labels)} ${value.count}`,
      );
    }
    for (const gauge of this.gauges) {
      lines.push(`# HELP ${gauge.name} ${gauge.help}`, `# TYPE ${gauge.name} gauge`);
      for (const { labels, value } of gauge.read()) lines.push(`${gauge.name}${labelText(labels)} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
