import { describe, expect, it } from 'vitest';
import { Metrics } from './metrics.js';

describe('the Prometheus metrics', () => {
  it('renders counters by label, a cumulative latency histogram and gauges read when scraped', () => {
    const metrics = new Metrics();
    let depth = 3;
    metrics.gauge('overcast_operator_queue_depth', 'Objects ready to reconcile.', () => [
      { labels: {}, value: depth },
    ]);
    metrics.reconciled('Network', 'success', 0.04);
    metrics.reconciled('Network', 'success', 0.3);
    metrics.reconciled('Network', 'retry', 2);
    metrics.error('Network', 'TransientError');
    const text = metrics.render();
    expect(text).toContain('# TYPE overcast_operator_reconciles_total counter');
    expect(text).toContain('overcast_operator_reconciles_total{kind="Network",result="success"} 2');
    expect(text).toContain('overcast_operator_reconciles_total{kind="Network",result="retry"} 1');
    expect(text).toContain(
      'overcast_operator_reconcile_errors_total{kind="Network",reason="TransientError"} 1',
    );
    expect(text).toContain('overcast_operator_reconcile_duration_seconds_bucket{kind="Network",le="0.05"} 1');
    expect(text).toContain('overcast_operator_reconcile_duration_seconds_bucket{kind="Network",le="0.5"} 2');
    expect(text).toContain('overcast_operator_reconcile_duration_seconds_bucket{kind="Network",le="+Inf"} 3');
    expect(text).toContain('overcast_operator_reconcile_duration_seconds_count{kind="Network"} 3');
    expect(text).toContain('overcast_operator_queue_depth 3');
    depth = 0;
    expect(metrics.render()).toContain('overcast_operator_queue_depth 0');
  });
});
