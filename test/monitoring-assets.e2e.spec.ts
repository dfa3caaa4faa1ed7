import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/test-app.js';

/**
 * The Prometheus alert rules and the Grafana dashboard in docker/: they parse, and every metric their
 * expressions name is one the service exports on /metrics (a renamed metric fails here, not on a night shift).
 */
const ROOT = new URL('../', import.meta.url);
const RULES_FILE = 'docker/prometheus/alerts.yml';
const DASHBOARD_FILE = 'docker/grafana/crossdock-dashboard.json';
// Made by Prometheus itself for every scrape target.
const PROMETHEUS_SERIES = new Set(['up']);
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression reads: what is left once strings, matchers, ranges, label lists and calls are set aside. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = bare.slice(match.index + match[0].length);
    if (/^\s*\(/.test(after) || PROMQL_WORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = (): Rule[] => (parse(readFileSync(new URL(RULES_FILE, ROOT), 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> }).groups.flatMap((g) => g.rules);

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(new URL(DASHBOARD_FILE, ROOT), 'utf8'));
  const panels = (dashboard.panels as any[]).flatMap((p) => [p, ...(p.panels ?? [])]);
  const targets = panels.flatMap((p) => (p.targets ?? []).map((t: { expr: string }) => t.expr));
  const variables = (dashboard.templating.list as any[]).filter((v) => v.type === 'query').map((v) => /label_values\(([^,]+),/.exec(v.definition)![1]!.trim());
  return [...targets, ...variables];
}

let t: TestApp;
let exported: Map<string, string>;

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'error' } });
  const text = (await t.request('GET', '/metrics', { token: null })).text;
  exported = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
});
afterAll(async () => {
  await t?.close();
});

function unknownMetrics(expressions: string[]): string[] {
  const known = (name: string) => {
    if (exported.has(name) || PROMETHEUS_SERIES.has(name)) return true;
    const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
    return base !== undefined && ['histogram', 'summary'].includes(exported.get(base) ?? '');
  };
  return [...new Set(expressions.flatMap(metricNames))].filter((name) => !known(name));
}

describe('PromQL metric names', () => {
  it('are found in expressions with aggregations, matchers, ranges and joins', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(crossdock_relay_lag_seconds_bucket[$__rate_interval])))')).toEqual(['crossdock_relay_lag_seconds_bucket']);
    expect(metricNames('max by (flow, destination) (a_seconds{flow=~"$flow"}) > on (flow, destination) 3 * max by (flow) (b_seconds)')).toEqual(['a_seconds', 'b_seconds']);
    expect(metricNames('sum(rate(x_total{status=~"5.."}[5m])) / sum(rate(x_total[5m])) > bool 0.01 unless up == 0')).toEqual(['x_total', 'up']);
  });
});

describe(RULES_FILE, () => {
  it('parses into groups of rules, each alert with an expression, a severity and a summary', () => {
    const all = rules();
    expect(all.length).toBeGreaterThan(5);
    const names = all.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of all) {
      expect(rule.alert, JSON.stringify(rule)).toMatch(/^Crossdock[A-Za-z]+$/);
      expect(typeof rule.expr).toBe('string');
      expect([...rule.expr].reduce((depth, c) => (depth < 0 ? depth : depth + (c === '(' ? 1 : c === ')' ? -1 : 0)), 0), rule.alert).toBe(0);
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning', 'info']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
    }
    expect(names).toContain('CrossdockFlowBehindObjective');
  });

  it('names only metrics the service exports', () => {
    const expressions = rules().map((r) => r.expr);
    expect(expressions.flatMap(metricNames)).toEqual(expect.arrayContaining(['crossdock_oldest_waiting_seconds', 'crossdock_flow_slo_max_age_seconds']));
    expect(unknownMetrics(expressions)).toEqual([]);
    expect(unknownMetrics(['sum(rate(crossdock_no_such_calls_total[5m])) / sum(rate(crossdock_delivery_latency_seconds_count[5m]))'])).toEqual(['crossdock_no_such_calls_total']);
  });
});

describe(DASHBOARD_FILE, () => {
  it('parses, and every panel reads Prometheus through the dashboard variable', () => {
    const dashboard = JSON.parse(readFileSync(new URL(DASHBOARD_FILE, ROOT), 'utf8'));
    const panels = (dashboard.panels as any[]).filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    expect(new Set(dashboard.panels.map((p: { id: number }) => p.id)).size).toBe(dashboard.panels.length);
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
  });

  it('names only metrics the service exports, and shows every flow gauge', () => {
    const expressions = dashboardExpressions();
    const named = new Set(expressions.flatMap(metricNames));
    for (const metric of ['crossdock_queue_depth', 'crossdock_oldest_waiting_seconds', 'crossdock_flow_slo_max_age_seconds', 'crossdock_flow_slo_breached', 'crossdock_delivery_latency_seconds_bucket', 'crossdock_delivery_attempts_total', 'crossdock_replays_total', 'crossdock_circuit_state']) {
      expect(named).toContain(metric);
    }
    expect(unknownMetrics(expressions)).toEqual([]);
  });
});
