// Unit tests for the PromQL metric-name extractor that deploy-files.test.ts relies on: known answers, so that
// an extractor returning nothing (and so passing every check) cannot go unnoticed.
import { describe, it, expect } from 'vitest';
import { promqlMetricNames } from '../helpers/promql-names.js';

function names(expr: string): string[] {
  return [...promqlMetricNames(expr)].sort();
}

describe('promqlMetricNames', () => {
  it('finds a bare metric in a comparison', () => {
    expect(names('pubsub_mon_node_up == 0')).toEqual(['pubsub_mon_node_up']);
  });

  it('leaves out functions, aggregations, grouping labels, matchers and Grafana variables', () => {
    const expr =
      'histogram_quantile(0.99, sum by (le, node) (rate(pubsub_mon_exporter_poll_duration_seconds_bucket{instance="$instance", channel=~"a|b"}[$__rate_interval])))';
    expect(names(expr)).toEqual(['pubsub_mon_exporter_poll_duration_seconds_bucket']);
  });

  it('handles vector matching, set operators, offsets and keywords in any case', () => {
    const expr = 'a < on(channel, kind) group_left(version) b{x="y"} AND IGNORING(role) c offset 5m unless sum without (kind) (d) > bool 1';
    expect(names(expr)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('does not take number literals for names', () => {
    expect(names('pubsub_mon_node_pubsub_soft_limit_bytes < +Inf or x > NaN or y > 1e3 * 0x1f')).toEqual(['pubsub_mon_node_pubsub_soft_limit_bytes', 'x', 'y']);
  });

  it('reads __name__ matchers and recording-rule names, and ignores strings and comments', () => {
    const expr = '{__name__="up", job="x"} == 0 and max_over_time(job:foo:rate5m[1h:5m]) # not_a_metric\n + label_replace(m, "dst", "{x} y", "src", "(.*)")';
    expect(names(expr)).toEqual(['job:foo:rate5m', 'm', 'up']);
  });

  it("understands Grafana's label_values and ${var} forms", () => {
    expect(names('label_values(pubsub_mon_channel_subscribers{instance="$instance"}, channel)')).toEqual(['pubsub_mon_channel_subscribers']);
    expect(names('label_values(instance)')).toEqual([]);
    expect(names('rate(z_total{instance="${instance}"}[${__rate_interval}]) * [[factor]]')).toEqual(['z_total']);
  });
});
