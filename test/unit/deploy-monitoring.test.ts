import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '../../src/adapters/metrics/create-metrics.js';
import { createScheduleMetrics } from '../../src/adapters/metrics/schedule-metrics.js';

// The alerts and the dashboard may only speak of series the bot really exports. The names come from the bot's own
// registry (createMetrics with prom-client's default process metrics, plus the schedule metrics), and from every
// 'rollout_chatops_…' string literal in src/ for series registered elsewhere. Label names come from the registry,
// plus the labels a Kubernetes scrape adds to every series.

const ROOT = path.resolve(import.meta.dirname, '../..');
const RULE_FILE = 'deploy/monitoring/prometheus-rule.yaml';
const CHART_RULE_FILE = 'charts/rollout-chatops/files/prometheus-rule.yaml';
const DASHBOARD_FILE = 'deploy/monitoring/grafana-dashboard.json';
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** Labels the scrape puts on every series (ServiceMonitor or the usual pod job); `exported_namespace` is a metric's own `namespace`. */
const TARGET_LABELS = ['namespace', 'pod', 'instance', 'job', 'service', 'container', 'endpoint', 'exported_namespace'];
const PROMQL_FUNCTIONS = new Set([
  'sum', 'max', 'min', 'count', 'avg', 'rate', 'increase', 'irate', 'deriv', 'delta', 'changes', 'absent', 'histogram_quantile',
  'max_over_time', 'min_over_time', 'avg_over_time', 'label_values', 'vector', 'clamp_min',
]);
const PROMQL_KEYWORDS = new Set(['by', 'without', 'and', 'or', 'unless', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool']);

type Known = { labels: Map<string, string[] | undefined>; histograms: Set<string> };

function knownMetrics(): Known {
  const metrics = createMetrics();
  createScheduleMetrics(metrics.registry);
  const labels = new Map<string, string[] | undefined>();
  const histograms = new Set<string>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    const metric = m as unknown as { name: string; labelNames?: string[]; type?: string };
    labels.set(metric.name, metric.labelNames ?? []);
    if (metric.type === 'histogram') histograms.add(metric.name);
  }
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : /\.ts$/.test(f) ? [p] : [];
  });
  for (const file of walk(path.join(ROOT, 'src'))) {
    for (const [, name] of readFileSync(file, 'utf8').matchAll(/['"`](rollout_chatops_[a-z0-9_]+)['"`]/g)) {
      if (!labels.has(name!)) labels.set(name!, undefined); // registered outside the registry above: labels unknown
    }
  }
  return { labels, histograms };
}
const KNOWN = knownMetrics();

/** The exported metric a series name belongs to (a histogram's _bucket, _sum and _count belong to it). */
function metricOf(series: string): string | undefined {
  if (KNOWN.labels.has(series)) return series;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return KNOWN.histograms.has(base) ? base : undefined;
}

const seriesIn = (expr: string) => [...new Set(expr.match(/\brollout_chatops_[a-z0-9_]+\b/g) ?? [])];

/** Everything wrong with one PromQL expression, as far as can be told without a full parser. */
function exprProblems(expr: string): string[] {
  const problems: string[] = [];
  const series = seriesIn(expr);
  if (series.length === 0) problems.push('names no rollout_chatops_ series');
  const metrics: string[] = [];
  for (const s of series) {
    const m = metricOf(s);
    if (m) metrics.push(m);
    else problems.push(`${s} is not a metric the bot exports`);
  }
  const stripped = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const stack: string[] = [];
  for (const ch of stripped) {
    if ('([{'.includes(ch)) stack.push(ch);
    else if (')]}'.includes(ch)) {
      const open = stack.pop();
      if (open !== { ')': '(', ']': '[', '}': '{' }[ch]) problems.push(`unbalanced ${ch}`);
    }
  }
  if (stack.length > 0) problems.push(`unclosed ${stack.join('')}`);
  for (const [, fn] of stripped.matchAll(/\b([a-z_]+)\s*\(/g)) {
    if (!PROMQL_FUNCTIONS.has(fn!) && !PROMQL_KEYWORDS.has(fn!)) problems.push(`unknown function ${fn}`);
  }
  const allowed = new Set(TARGET_LABELS);
  for (const m of metrics) {
    const names = KNOWN.labels.get(m);
    for (const l of names ?? []) allowed.add(l);
    if (KNOWN.histograms.has(m)) allowed.add('le');
  }
  const used = [
    ...[...stripped.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap(([, list]) => list!.split(',').map((l) => l.trim()).filter(Boolean)),
    ...[...stripped.matchAll(/\{([^}]*)\}/g)].flatMap(([, body]) => [...body!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map(([, l]) => l!)),
  ];
  for (const l of used) if (!allowed.has(l)) problems.push(`label ${l} is on none of ${metrics.join(', ') || '(no known metric)'}`);
  return problems;
}

// ---- the PrometheusRule ----

type Rule = { alert: string; expr: string; for?: string; labels: { severity: string }; annotations: { summary: string; description: string } };
type PrometheusRule = { apiVersion: string; kind: string; metadata: { name: string }; spec: { groups: { name: string; rules: Rule[] }[] } };
const prometheusRule = () => parse(read(RULE_FILE)) as PrometheusRule;
const rules = () => prometheusRule().spec.groups.flatMap((g) => g.rules);
const rule = (alert: string) => {
  const found = rules().find((r) => r.alert === alert);
  expect(found, alert).toBeDefined();
  return found!;
};
const oneLine = (expr: string) => expr.replace(/\s+/g, ' ').trim();

describe('deploy/monitoring/prometheus-rule.yaml', () => {
  it('is a PrometheusRule whose rules each have a name, an expression, a severity and words for people', () => {
    const file = prometheusRule();
    expect(file.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(file.kind).toBe('PrometheusRule');
    const names = rules().map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const r of rules()) {
      expect(r.alert, r.alert).toMatch(/^RolloutChatops[A-Z][A-Za-z]+$/);
      expect(r.expr.trim().length, r.alert).toBeGreaterThan(0);
      if (r.for !== undefined) expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning'], r.alert).toContain(r.labels.severity);
      expect(r.annotations.summary.length, r.alert).toBeGreaterThan(0);
      expect(r.annotations.description.length, r.alert).toBeGreaterThan(0);
      for (const text of [r.annotations.summary, r.annotations.description]) {
        expect(text.split('{{').length, `${r.alert}: template braces`).toBe(text.split('}}').length);
      }
    }
  });

  it('refers in every expression only to series the bot exports, with their own labels', () => {
    expect(rules().flatMap((r) => exprProblems(r.expr).map((problem) => `${r.alert}: ${problem}`))).toEqual([]);
  });

  it('alerts when no replica has led for a minute, and when no replica reports at all', () => {
    const noLeader = rule('RolloutChatopsNoLeader');
    expect(oneLine(noLeader.expr)).toBe('max by (namespace) (rollout_chatops_leader) < 1');
    expect(noLeader.for).toBe('1m');
    const down = rule('RolloutChatopsDown');
    expect(oneLine(down.expr)).toBe('absent(rollout_chatops_leader)');
    expect(down.for).toBe('1m');
    expect([noLeader.labels.severity, down.labels.severity]).toEqual(['critical', 'critical']);
  });

  it('alerts when more than one replica reports itself leader', () => {
    const several = rule('RolloutChatopsSeveralLeaders');
    expect(oneLine(several.expr)).toBe('count by (namespace) (rollout_chatops_leader == 1) > 1');
    expect(several.labels.severity).toBe('critical');
  });

  it('alerts on an outbox above 50 that has kept growing for 10 minutes', () => {
    const growing = rule('RolloutChatopsOutboxGrowing');
    expect(oneLine(growing.expr)).toContain('deriv(rollout_chatops_delivery_queue_depth[10m])) > 0');
    expect(oneLine(growing.expr)).toContain('max by (namespace) (rollout_chatops_delivery_queue_depth) > 50');
    expect(growing.for).toBe('10m');
  });

  it('alerts on a watch that keeps restarting and on a storm of Slack 429s', () => {
    const watch = rule('RolloutChatopsWatchRestarting');
    expect(oneLine(watch.expr)).toContain('increase(rollout_chatops_watch_restarts_total[10m])) > 10');
    const storm = rule('RolloutChatopsSlackRateLimited');
    expect(oneLine(storm.expr)).toBe('sum by (namespace) (rate(rollout_chatops_slack_rate_limited_total[5m])) > 1');
    expect(storm.for).toBe('5m');
  });

  it('is carried byte for byte by the Helm chart', () => {
    expect(read(CHART_RULE_FILE), `copy ${RULE_FILE} to ${CHART_RULE_FILE}`).toBe(read(RULE_FILE));
  });
});

// ---- the Grafana dashboard ----

type Target = { refId: string; expr: string; datasource?: { type: string; uid: string } };
type Panel = { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; datasource?: { type: string; uid: string }; targets?: Target[] };
type Dashboard = {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
};
const dashboard = () => JSON.parse(read(DASHBOARD_FILE)) as Dashboard;
const graphPanels = () => dashboard().panels.filter((p) => p.type !== 'row');
const allExprs = () => graphPanels().flatMap((p) => (p.targets ?? []).map((t) => t.expr));

describe('deploy/monitoring/grafana-dashboard.json', () => {
  it('is a Grafana dashboard with a uid, a title and unique panel ids', () => {
    const d = dashboard();
    expect(d.uid).toBe('rollout-chatops');
    expect(d.title.length).toBeGreaterThan(0);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lays its panels out on the 24-column grid without overlaps', () => {
    const panels = dashboard().panels;
    for (const p of panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    for (const [i, a] of panels.entries()) {
      for (const b of panels.slice(i + 1)) {
        const apart = a.gridPos.x + a.gridPos.w <= b.gridPos.x || b.gridPos.x + b.gridPos.w <= a.gridPos.x
          || a.gridPos.y + a.gridPos.h <= b.gridPos.y || b.gridPos.y + b.gridPos.h <= a.gridPos.y;
        expect(apart, `${a.title} overlaps ${b.title}`).toBe(true);
      }
    }
  });

  it('queries the Prometheus data source variable and offers a namespace variable from a real series', () => {
    const vars = dashboard().templating.list;
    expect(vars.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const namespace = vars.find((v) => v.name === 'namespace');
    const query = typeof namespace?.query === 'string' ? namespace.query : namespace?.query.query;
    expect(query).toMatch(/^label_values\((rollout_chatops_[a-z0-9_]+), namespace\)$/);
    expect(metricOf(/\((rollout_chatops_[a-z0-9_]+),/.exec(query!)![1]!)).toBeDefined();
    for (const p of graphPanels()) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe('${datasource}');
    }
  });

  it('gives every panel a query, each naming only series the bot exports, with their own labels', () => {
    for (const p of graphPanels()) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refIds = p.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
    }
    const problems = graphPanels().flatMap((p) => p.targets!.flatMap((t) => exprProblems(t.expr).map((problem) => `${p.title} ${t.refId}: ${problem}`)));
    expect(problems).toEqual([]);
  });

  it('filters every selector by the namespace variable', () => {
    for (const expr of allExprs()) {
      for (const m of expr.matchAll(/\brollout_chatops_[a-z0-9_]+(.)/g)) expect(expr.slice(m.index).startsWith(`${m[0]!.slice(0, -1)}{namespace=~"$namespace"`), expr).toBe(true);
    }
  });

  it('shows leadership, outbox, delivery latency p50 and p99, Slack calls and 429s, webhooks, commands, watch restarts and memory', () => {
    const exprs = allExprs().join('\n');
    for (const series of [
      'rollout_chatops_leader{', 'rollout_chatops_leader_epoch', 'rollout_chatops_delivery_queue_depth', 'rollout_chatops_slack_calls_total',
      'rollout_chatops_slack_rate_limited_total', 'rollout_chatops_github_webhooks_total', 'rollout_chatops_commands_total',
      'rollout_chatops_watch_restarts_total', 'rollout_chatops_process_resident_memory_bytes',
    ]) expect(exprs, series).toContain(series);
    expect(exprs).toMatch(/histogram_quantile\(0\.5, sum by \(le\) \(rate\(rollout_chatops_delivery_latency_seconds_bucket/);
    expect(exprs).toMatch(/histogram_quantile\(0\.99, sum by \(le\) \(rate\(rollout_chatops_delivery_latency_seconds_bucket/);
  });
});
