import { z } from 'zod';
import { AnalysisRunObject } from './analysis-run-object.js';
import type { AnalysisMetric, AnalysisRun } from './analysis-run.js';

/**
 * Reads an AnalysisRun API object into our model: each metric of `spec.metrics[]` with its conditions, joined by name
 * to its `status.metricResults[]` entry. Throws an Error naming the problem when the object is not a readable AnalysisRun.
 */
export function readAnalysisRun(obj: unknown): AnalysisRun {
  const kind = typeof obj === 'object' && obj !== null ? (obj as { kind?: unknown }).kind : undefined;
  if (kind !== undefined && kind !== null && kind !== 'AnalysisRun') {
    throw new Error(`expected an Argo Rollouts AnalysisRun, got kind ${JSON.stringify(kind)}`);
  }
  const parsed = AnalysisRunObject.safeParse(obj);
  if (!parsed.success) throw new Error(`not a readable AnalysisRun object:\n${z.prettifyError(parsed.error)}`);
  const ar = parsed.data;
  const results = ar.status?.metricResults ?? [];
  const specs = ar.spec?.metrics ?? [];
  // Metrics in spec order; a result whose metric the spec no longer names still counts.
  const names = [...new Set([...specs.map((m) => m.name), ...results.map((r) => r.name)])];
  const metrics = names.map((name): AnalysisMetric => {
    const spec = specs.find((m) => m.name === name);
    const result = results.find((r) => r.name === name);
    const metric: AnalysisMetric = {
      name,
      phase: result?.phase || 'Pending',
      measurements: (result?.measurements ?? []).map((m) => ({
        phase: m.phase || 'Pending',
        ...(m.value !== null && m.value !== undefined ? { value: m.value } : {}),
        ...(m.message ? { message: m.message } : {}),
      })),
    };
    if (spec?.successCondition) metric.successCondition = spec.successCondition;
    if (spec?.failureCondition) metric.failureCondition = spec.failureCondition;
    if (result?.message) metric.message = result.message;
    return metric;
  });
  const run: AnalysisRun = { namespace: ar.metadata.namespace ?? '', name: ar.metadata.name, phase: ar.status?.phase || 'Pending', metrics };
  if (ar.status?.message) run.message = ar.status.message;
  return run;
}
