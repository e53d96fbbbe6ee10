import type { AnalysisMetric, AnalysisRun } from './analysis-run.js';

/** At most this many measured values per metric: the latest ones, which decided the run. */
const MAX_VALUES = 5;
const BAD = new Set(['Failed', 'Error', 'Inconclusive']);

/**
 * Why an AnalysisRun failed, in numbers: one line per failing metric with its measured values and its condition,
 * e.g. `success-rate = 0.82, 0.79 (needs result[0] >= 0.95)`. Metrics that did not fail are left out; an empty list
 * means the run names no failing metric.
 */
export function describeAnalysisFailure(run: AnalysisRun): string[] {
  const failing = run.metrics.filter((m) => BAD.has(m.phase));
  return failing.map(describeMetric);
}

function describeMetric(m: AnalysisMetric): string {
  const recent = m.measurements.slice(-MAX_VALUES);
  const values = recent.map((x) => x.value ?? (x.phase === 'Error' ? `error${x.message ? ` (${x.message})` : ''}` : x.phase.toLowerCase()));
  const more = m.measurements.length > recent.length ? '…, ' : '';
  const measured = values.length ? ` = ${more}${values.join(', ')}` : ': no measurement';
  const conditions = [m.successCondition ? `needs ${m.successCondition}` : '', m.failureCondition ? `fails when ${m.failureCondition}` : ''].filter(Boolean);
  const why = conditions.length ? ` (${conditions.join('; ')})` : '';
  const phase = m.phase === 'Failed' ? '' : ` [${m.phase}]`;
  return `${m.name}${measured}${why}${phase}`;
}
