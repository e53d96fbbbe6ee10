const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+)(ms|s|m|h|d)/g;

/** Parses `30s`, `10m`, `1h`, `1h30m` into milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h|d))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const m of trimmed.matchAll(PART)) total += Number(m[1]) * (UNIT_MS[m[2]!] ?? 0);
  return total;
}

/** Formats milliseconds the way people write them: `1m54s`, `6m31s`, `2h5m`, `800ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (h) return m ? `${h}h${m}m` : `${h}h`;
  if (m) return s ? `${m}m${s}s` : `${m}m`;
  return `${s}s`;
}
