/** What the endpoint answered around one toggle: the toggle's own answer (or its error), then a fresh read (or its error). */
export interface ToggleAnswers {
  toggled?: boolean;
  postError?: string;
  after?: boolean;
  readError?: string;
}

/** What one toggle achieved; the confirming read is the truth, the toggle's own answer only a warning when it disagrees. */
export type ToggleVerdict =
  | { kind: 'confirmed'; warning?: string }
  /** The read says the state did not change; `why` says so in words. */
  | { kind: 'unchanged'; why: string }
  /** The read failed: `what` says what the toggle did; the caller adds what that means. */
  | { kind: 'unknown'; what: string };

/** Judges a toggle that was meant to switch errors to `want` (pure). */
export function judgeToggle(want: boolean, a: ToggleAnswers): ToggleVerdict {
  const what = a.postError ? `the toggle failed (${a.postError})` : `the toggle answered enabled=${String(a.toggled)}`;
  if (a.after === want) {
    const said = String(want);
    const warning = a.toggled === !want ? `the toggle answered enabled=${String(!want)}, but the read right after it says ${said}` : a.postError ? `the toggle reported an error (${a.postError}), but the read right after it says ${said}` : undefined;
    return warning ? { kind: 'confirmed', warning } : { kind: 'confirmed' };
  }
  if (a.after === !want) {
    if (!want) return { kind: 'unchanged', why: `after one toggle the endpoint still reports enabled=true (${what})` };
    return { kind: 'unchanged', why: a.postError ? `the toggle failed (${a.postError}); errors are still off` : `after one toggle the endpoint still reports enabled=false${a.toggled === undefined ? '' : ` (the toggle itself answered enabled=${a.toggled})`}` };
  }
  return { kind: 'unknown', what };
}
