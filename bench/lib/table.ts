import type { FleetResult } from '../sections/fleet.js';
import type { SlashAckResult } from '../sections/slash-ack.js';
import type { StoreSizeResult } from '../sections/store.js';
import type { WebhookResult } from '../sections/webhooks.js';

/** Everything one run measured; a section that failed carries its error instead. */
export interface BenchResults {
  slash?: SlashAckResult | { error: string };
  webhooks?: WebhookResult | { error: string };
  fleet?: Array<FleetResult | { error: string; rollouts: number }>;
  store?: Array<StoreSizeResult | { error: string; records: number }>;
  floorRssMb?: { idle: number; peak: number; botIdle: number };
  /** With --profile: where the bot spent its CPU during the slash and webhook sections. */
  inboundProfile?: object;
}

type Row = [figure: string, measured: string, floor: string, target: string, met: string];

const ms = (v: number) => (v >= 100 ? `${Math.round(v)} ms` : `${v.toFixed(v >= 10 ? 1 : 2)} ms`);
const s = (v: number | null) => (v === null ? '—' : `${v.toFixed(1)} s`);
const mark = (ok: boolean) => (ok ? '✅ met' : '❌ missed');
const failed = (x: object): x is { error: string } => 'error' in x;
/** A latency: infinite (never shown; null once through JSON) as ∞, seconds from 10 s up. */
const lat = (v: number | null) => (v === null || !Number.isFinite(v) ? '∞' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : ms(v));
const KIND_ORDER = ['revision', 'step', 'promotion', 'abort', 'completion', 'other'] as const;
const KIND_LABEL: Record<(typeof KIND_ORDER)[number], string> = {
  revision: 'new revision (root card)', step: 'step progress', promotion: 'waiting for promotion', abort: 'abort', completion: 'completion', other: 'other change',
};

/** The results as one Markdown table: each figure beside its floor and its target. */
export function renderTable(r: BenchResults): string {
  const rows: Row[] = [];
  if (r.slash) {
    if (failed(r.slash)) rows.push(['1 slash-command ack', `error: ${r.slash.error}`, '', '', '']);
    else {
      const x = r.slash;
      rows.push([
        `1 \`/rollout status\` ack p50 / p95 / p99 (${x.rate} req/s, ${x.blocks}×${x.blockMs / 1000} s A/B)`,
        `${ms(x.bot.p50)} / ${ms(x.bot.p95)} / ${ms(x.bot.p99)} (CPU ${ms(x.cpuMsPerRequest.bot)}/req)`,
        `bare Bolt ${ms(x.floor.p50)} / ${ms(x.floor.p95)} / ${ms(x.floor.p99)} (CPU ${ms(x.cpuMsPerRequest.floor)}/req)`,
        `p99 ≤ 1.25× floor: **${x.p99Ratio}×** (p95 ${x.p95Ratio}×${x.allRounds ? `; ${x.pooledOver === 'quiet rounds' ? `over the ${x.quietRounds} of ${x.blocks} rounds no other program contended; all rounds p99 ${x.allRounds.p99Ratio}×` : `over all rounds, only ${x.quietRounds} of ${x.blocks} uncontended`}` : ''}; per-round p99 median ${x.medianRoundP99Ratio}×${x.roundP99RatioIqr ? `, middle half ${x.roundP99RatioIqr[0]}–${x.roundP99RatioIqr[1]}×` : ''}, all ${Math.min(...x.roundP99Ratios)}–${Math.max(...x.roundP99Ratios)}×)`,
        mark(x.met),
      ]);
    }
  }
  if (r.webhooks) {
    if (failed(r.webhooks)) rows.push(['2 push webhooks', `error: ${r.webhooks.error}`, '', '', '']);
    else {
      const x = r.webhooks;
      rows.push([
        `2 signed push deliveries/s (concurrency ${x.concurrency}, ${x.blocks}×${x.blockMs / 1000} s A/B)`,
        `${Math.round(x.botPerSec)}/s (p99 ${ms(x.botLatency.p99)}; rounds ${x.roundBotPerSec.map(Math.round).join(' → ')}/s as the store grows to ${x.botStoreMb} MB; CPU ${ms(x.cpuMsPerDelivery.bot)}/delivery)`,
        `bare Probot ${Math.round(x.floorPerSec)}/s (p99 ${ms(x.floorLatency.p99)}; CPU ${ms(x.cpuMsPerDelivery.floor)}/delivery)`,
        `≥ 0.8× floor: **${x.ratio}×** (per round ${Math.min(...x.roundRatios)}–${Math.max(...x.roundRatios)}×, median ${x.medianRoundRatio}×${x.cpuRatio ? `; CPU per delivery ${x.cpuRatio}× the floor's; load generator ${Math.round(x.clientCpuPct.bot)}% / ${Math.round(x.clientCpuPct.floor)}% of its core` : ''})`,
        mark(x.met),
      ]);
      if (x.botRssMb) rows.push([
        '2 signed push deliveries: peak RSS of `node dist/main.js` during the run (a new commit each)',
        `${Math.round(x.botRssMb.peak)} MB (${Math.round(x.botRssMb.end)} MB at the end)`,
        '—',
        '≤ 200 MB',
        mark(x.botRssMb.met),
      ]);
    }
  }
  for (const f of r.fleet ?? []) {
    if (failed(f)) {
      rows.push([`3 fleet of ${f.rollouts}`, `error: ${f.error}`, '', '', '']);
      continue;
    }
    const size = `${f.rollouts} rollouts / ${f.channels} ch, ${f.rate} changes/s × ${Math.round(f.loadSeconds)} s${f.store === 'postgres' ? ', PostgreSQL' : ''}`;
    const fs = f.finalState;
    const st = f.strict;
    const lim = st.floor.limits;
    rows.push([
      `3 ${size}: all final states shown (root card's current version or thread's last reply) after load stops`,
      `${s(st.finalState.allShownS)}${st.finalState.notShown ? ` (${st.finalState.notShown} not shown after ${s(fs.waitedS)})` : ''}; lenient oracle ${s(fs.allShownS)}; cards exact ${fs.cardsS !== null ? s(fs.cardsS) : `${fs.cardsStaleAtEnd} of ${f.touched} stale at +${Math.round(fs.waitedS)} s, ~${fs.projectedAllCardsS === null ? '?' : Math.round(fs.projectedAllCardsS)} s at ${fs.cardUpdatesPerSecAfterLoad} updates/s`}`,
      `ideal scheduler ${s(st.finalState.floorS)} (Slack limits: ${lim.postsPerSecond} post/s/ch, burst ${lim.postBurst}, ≤ ${lim.postsPerWindow} per ${lim.postWindowMs / 1000} s; chat.update ${lim.updatesPerMinute}/min per workspace, burst ${lim.updateBurst})`,
      '≤ 60 s',
      mark(st.goals.finalMet),
    ]);
    for (const kind of KIND_ORDER) {
      const k = st.byKind[kind];
      if (!k) continue;
      const m = k.measured;
      const target = kind === 'step'
        ? `p50 ≤ 1.2× floor: **${st.goals.stepP50Ratio ?? '?'}×**${m.unshown ? ', none unshown' : ''}`
        : kind === 'revision' ? `root card p99 ≤ 5 s${m.unshown ? ', none unshown' : ''}` : kind === 'other' ? 'none unshown' : `p99 ≤ 2 s${m.unshown ? ', none unshown' : ''}`;
      const met = kind === 'step' ? st.goals.stepMet && !m.unshown
        : kind === 'revision' ? m.p99 !== null && m.p99 <= 5000
        : kind === 'other' ? !m.unshown : m.p99 !== null && m.p99 <= 2000;
      rows.push([
        `3 ${size}: ${KIND_LABEL[kind]} → first message in its thread showing it or later, p50 / p99`,
        `${lat(m.p50)} / ${lat(m.p99)} (n ${m.n}${m.unshown ? `, **${m.unshown} never shown**` : ''}; max ${lat(m.max)})`,
        `ideal ${lat(k.floor.p50)} / ${lat(k.floor.p99)}`,
        target,
        mark(met),
      ]);
    }
    rows.push([
      `3 ${size}: changes never shown (strict oracle)`,
      `${st.unshown} of ${st.changes}${st.orphanReplies || st.misplacedReplies ? ` (${st.orphanReplies} replies in no known thread, ${st.misplacedReplies} in another revision's thread)` : ''}; lenient oracle: priority p99 ${lat(f.priority.p99)}, ${f.priority.unshown} of ${f.priority.n + f.priority.unshown} priority events unshown`,
      `ideal ${st.floor.posts} posts, ${st.floor.updates} updates`,
      '0',
      mark(st.goals.noneUnshown),
    ]);
    rows.push([
      `3 ${size}: posts per channel per s, worst 10 s window`,
      `${f.posts.maxPerChannel10s}/s (mean ${f.posts.meanPerChannelDuringLoad}/s during load; ${f.posts.total} posts, ${f.posts.updates} updates, at most ${f.posts.maxUpdatesPerMinute ?? '?'} in a minute; ${f.posts.folded ?? '?'} replies folded into their cards)`,
      `one message per event would need ${f.demand.perChannelPerSec}/s`,
      '≤ 1/s over any 10 s',
      mark(f.posts.met),
    ]);
    rows.push([
      `3 ${size}: peak RSS of \`node dist/main.js\``,
      `${Math.round(f.rss.peakMb)} MB (idle ${Math.round(f.rss.idleMb)} MB; bot CPU ${Math.round(f.bot.cpuPercentDuringLoad)}% of a core)`,
      r.floorRssMb ? `bare Bolt+Probot ${Math.round(r.floorRssMb.idle)} MB idle; bot with 3 envs ${Math.round(r.floorRssMb.botIdle)} MB idle` : '—',
      '≤ 200 MB',
      mark(f.rss.met),
    ]);
    if (f.store !== 'postgres') rows.push([
      `3 ${size}: bytes written to disk per rollout change`,
      `${f.bot.diskWriteKbPerChange ?? '?'} KB (${f.bot.diskWriteMbDuringLoad ?? '?'} MB during the load, for a ${f.bot.storeMbAtEnd} MB DATA_DIR at the end)`,
      '—',
      '≤ 10 KB',
      mark(f.bot.diskWriteKbPerChange !== null && f.bot.diskWriteKbPerChange <= 10),
    ]);
  }
  for (const st of r.store ?? []) {
    if (failed(st)) {
      rows.push([`4 store, ${st.records} records`, `error: ${st.error}`, '', '', '']);
      continue;
    }
    const n = st.records.toLocaleString('en-US');
    rows.push([
      `4 store, ${n} deploy records (hot file ${st.hotFileMb} MB + history ${st.archiveFileMb} MB): p99 write, flush after a one-record change (n ${st.writeSamples})`,
      `${ms(st.write.p99)} (${st.bytesPerChange} B per change; back to back: p50 ${ms(st.backToBack.p50)}, p99 ${ms(st.backToBack.p99)}; a flush that moves a finished deploy to the history: ${st.archiveRewriteMs.map(ms).join(', ')}; one that compacts the hot file: ${st.compactionMs.map(ms).join(', ')})`,
      `journal append ${ms(st.alternativesP99.journal)}, + fdatasync ${ms(st.alternativesP99.journalFsync)}`,
      '≤ 5 ms',
      mark(st.met.write),
    ]);
    rows.push([
      `4 store, ${n} deploy records: cold load (fresh process, both files)`,
      st.coldLoadMs.map(ms).join(', '),
      '—',
      '≤ 1 s',
      mark(st.met.load),
    ]);
  }
  const head = '| figure | measured | floor / baseline | target | |\n| --- | --- | --- | --- | --- |';
  return `${head}\n${rows.map((row) => `| ${row.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`).join('\n')}`;
}
