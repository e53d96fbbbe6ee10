import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Where a V8 CPU profile (`node --cpu-prof`) spent its samples: by function (self time) and by package or source file. */
export async function summarizeProfile(file: string, top = 20): Promise<{ totalMs: number; idlePercent: number; byFunction: Array<{ name: string; percent: number }>; byModule: Array<{ name: string; percent: number }> }> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  for (const s of profile.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  const total = profile.samples.length;
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let idle = 0;
  for (const [id, count] of hits) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') idle += count;
    const where = moduleOf(url, functionName);
    const name = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    fn.set(name, (fn.get(name) ?? 0) + count);
    mod.set(where, (mod.get(where) ?? 0) + count);
  }
  const pct = (c: number) => Math.round((c / total) * 1000) / 10;
  const rank = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, c]) => ({ name, percent: pct(c) }));
  return { totalMs: (profile.endTime - profile.startTime) / 1000, idlePercent: pct(idle), byFunction: rank(fn), byModule: rank(mod) };
}

function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const dist = /\/dist\/(.+)$/.exec(url);
  if (dist) return `dist/${dist[1]}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}
