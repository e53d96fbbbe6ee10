import { readFileSync } from 'node:fs';

/** Busy time of each CPU so far (all but idle and iowait), in ms, from /proc/stat; empty when unreadable. */
export function readCoreBusyMs(): number[] {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+) (.+)$/.exec(line);
    if (!m) continue;
    const [user, nice, system, , , irq, softirq, steal] = m[2]!.trim().split(/\s+/).map(Number);
    out[Number(m[1])] = ((user! + nice! + system! + irq! + softirq! + steal!) * 1000) / 100;
  }
  return out;
}

/**
 * CPU time spent by processes other than ours during a block, in % of the block: the busy time of every core minus
 * what our processes used (their /proc/<pid>/stat, each read before and after). Another engineer's test run on the
 * same cores shows up here; it lands on whichever side happens to run then.
 */
export class ForeignLoad {
  private busy0: number[] = [];
  private own0 = 0;
  private t0 = 0;

  constructor(private readonly ownCpuMs: () => number) {}

  start(): void {
    this.busy0 = readCoreBusyMs();
    this.own0 = this.ownCpuMs();
    this.t0 = Date.now();
  }

  /** Foreign CPU since start(), in % of one core over the block (0 when /proc is unreadable). */
  stop(): number {
    const busy = readCoreBusyMs();
    if (busy.length === 0 || this.busy0.length === 0) return 0;
    const total = busy.reduce((s, b, i) => s + b - (this.busy0[i] ?? b), 0);
    const own = this.ownCpuMs() - this.own0;
    const ms = Date.now() - this.t0;
    return ms > 0 ? Math.max(0, (100 * (total - own)) / ms) : 0;
  }
}
