import type { CanaryStep } from './rollout-state.js';
import type { RolloutCanaryStep } from './rollout-object.js';

/** Seconds per Go duration unit (time.ParseDuration). */
const GO_UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600,
};
const GO_DURATION = /^[+-]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;
const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Parses a Go duration (`30s`, `1m30s`, `1h0m0s`, `1.5h`, `500ms`) into whole seconds, truncated as Go's
 * `int32(d.Seconds())` does. Undefined when the text is not a Go duration.
 */
export function parseGoDurationSeconds(text: string): number | undefined {
  if (text === '0' || text === '+0' || text === '-0') return 0;
  if (!GO_DURATION.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(GO_DURATION_PART)) total += Number(m[1]) * (GO_UNIT_SECONDS[m[2]!] ?? 0);
  const sign = text.startsWith('-') ? -1 : 1;
  // Round away float noise (0.1+0.2 style) before truncating like Go does.
  return Math.trunc(Math.round(sign * total * 1e6) / 1e6);
}

/**
 * A pause step's duration in seconds, as RolloutPause.DurationSeconds reads it: an int is seconds, a numeric
 * string is seconds, anything else is a Go duration. Undefined for an indefinite pause (no duration) and for
 * text that is none of these.
 */
export function pauseDurationSeconds(duration: number | string | null | undefined): number | undefined {
  if (duration === null || duration === undefined) return undefined;
  if (typeof duration === 'number') return Math.trunc(duration);
  if (/^[+-]?\d+$/.test(duration)) return Number.parseInt(duration, 10);
  return parseGoDurationSeconds(duration);
}

/**
 * Reduces a raw canary step to its kind and text. The text follows CanaryStepString (`setWeight: 20`, `pause`,
 * `pause: 30s`, `analysis`, `experiment`, `setCanaryScale{weight: 25}`); a pause duration is shown as written,
 * like Go's IntOrString.String(). Upstream prints "invalid" for setHeaderRoute/setMirrorRoute/plugin steps; we
 * name them, because they are valid steps and "invalid" would mislead in chat.
 */
export function toCanaryStep(step: RolloutCanaryStep): CanaryStep {
  if (step.setWeight !== null && step.setWeight !== undefined) {
    return { kind: 'setWeight', text: `setWeight: ${step.setWeight}`, weight: step.setWeight };
  }
  if (step.pause !== null && step.pause !== undefined) {
    const duration = step.pause.duration;
    if (duration === null || duration === undefined) return { kind: 'pause', text: 'pause' };
    const seconds = pauseDurationSeconds(duration);
    return { kind: 'pause', text: `pause: ${duration}`, ...(seconds !== undefined ? { pauseSeconds: seconds } : {}) };
  }
  if (isSet(step.experiment)) return { kind: 'experiment', text: 'experiment' };
  if (isSet(step.analysis)) return { kind: 'analysis', text: 'analysis' };
  if (step.setCanaryScale !== null && step.setCanaryScale !== undefined) {
    const s = step.setCanaryScale;
    if (s.weight !== null && s.weight !== undefined) return { kind: 'setCanaryScale', text: `setCanaryScale{weight: ${s.weight}}` };
    if (s.matchTrafficWeight) return { kind: 'setCanaryScale', text: 'setCanaryScale{matchTrafficWeight: true}' };
    if (s.replicas !== null && s.replicas !== undefined) return { kind: 'setCanaryScale', text: `setCanaryScale{replicas: ${s.replicas}}` };
    return { kind: 'setCanaryScale', text: 'invalid' };
  }
  if (isSet(step.setHeaderRoute)) return { kind: 'setHeaderRoute', text: 'setHeaderRoute' };
  if (isSet(step.setMirrorRoute)) return { kind: 'setMirrorRoute', text: 'setMirrorRoute' };
  if (isSet(step.plugin)) return { kind: 'plugin', text: 'plugin' };
  return { kind: 'unknown', text: 'invalid' };
}

/**
 * The setWeight in effect while step `index` runs: the first setWeight found scanning `steps[index]` back to
 * `steps[0]` (so a pause step reports the preceding setWeight), or 0 when there is none.
 */
export function weightAtStep(steps: readonly CanaryStep[], index: number): number {
  for (let i = Math.min(index, steps.length - 1); i >= 0; i--) {
    const w = steps[i]?.weight;
    if (steps[i]?.kind === 'setWeight' && w !== undefined) return w;
  }
  return 0;
}

/**
 * GetCurrentSetWeight (reference 2.5): aborted → 0; no current step (no steps, or index ≥ number of steps)
 * → maxTrafficWeight (default 100); else the setWeight in effect at the current step.
 */
export function currentSetWeight(o: {
  steps: readonly CanaryStep[];
  stepIndex: number;
  aborted: boolean;
  maxTrafficWeight?: number;
}): number {
  if (o.aborted) return 0;
  if (o.steps.length === 0 || o.stepIndex >= o.steps.length) return o.maxTrafficWeight ?? 100;
  return weightAtStep(o.steps, o.stepIndex);
}

/** `step 2/8 (pause)` for the 0-based `index`; `the end of the steps` when index is past the last step. */
export function stepTitle(steps: readonly CanaryStep[], index: number): string {
  const step = steps[index];
  if (step === undefined) return 'the end of the steps';
  return `step ${index + 1}/${steps.length} (${step.text})`;
}

function isSet(value: unknown): boolean {
  return value !== null && value !== undefined;
}
