import type { RolloutState } from './rollout-state.js';

/**
 * Text for people without the rollout's pod-template hashes: " (74b948fccb)" goes, an AnalysisRun name keeps only its
 * template part (`web-74b948fccb-2` → `web`), and a bare hash becomes "the new version" / "the stable version".
 */
export function withoutPodHashes(text: string, state: Pick<RolloutState, 'currentPodHash' | 'stableRS' | 'blueGreen'>): string {
  const hashes = [state.currentPodHash, state.stableRS, state.blueGreen?.previewSelector, state.blueGreen?.activeSelector]
    .filter((h): h is string => Boolean(h));
  let out = text;
  for (const h of new Set(hashes)) {
    const name = h === state.stableRS && h !== state.currentPodHash ? 'the stable version' : 'the new version';
    out = out
      .replace(new RegExp(` \\(${h}\\)`, 'g'), '')
      .replace(new RegExp(`([a-z0-9])-${h}(?:-\\d+)+\\b`, 'g'), '$1')
      .replace(new RegExp(`\\b${h}\\b`, 'g'), name);
  }
  return out;
}
