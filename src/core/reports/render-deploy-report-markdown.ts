import { formatDuration } from '../text/duration.js';
import { escapeMarkdown as md } from '../text/escape-markdown.js';
import { isSlackUserId } from '../text/is-slack-user-id.js';
import type { DeployReport, TimelineEntry } from './build-deploy-report.js';

/** GitHub's limit for a check run's `output.text` (and `output.summary`), in characters. */
export const GITHUB_CHECK_TEXT_MAX = 65_535;

/** A report as a GitHub check run shows it: a plain-text title, a few Markdown lines of summary, the full Markdown text. */
export interface MarkdownReport {
  title: string;
  summary: string;
  text: string;
}

/** The commit a report is about, as far as the bot knows it. */
export interface ReportCommit {
  sha: string;
  message?: string;
  author?: string;
  url?: string;
}

/** What every report may carry besides the deploys: where the deploy was talked about, and the commit. */
export interface MarkdownReportContext {
  /** The Slack thread's permalink. */
  link?: string;
  commit?: ReportCommit;
  /** The most `text` may hold (default GitHub's 65,535). */
  maxChars?: number;
}

const OUTCOME: Record<DeployReport['outcome'], string> = { completed: '✅ completed', aborted: '❌ aborted', superseded: '⏭️ superseded', 'in progress': '⏳ in progress' };
const MARK: Record<TimelineEntry['kind'], string> = { start: '▶️ ', event: '', action: '👤 ', end: '🏁 ' };

/**
 * One deploy's report as Markdown for GitHub: how it ended, how long it took and how long people kept it waiting, who
 * promoted it, then its timeline to the second (each step, pause, analysis and action, with who did it). Everything
 * the bot did not write itself is escaped; a timeline too long for GitHub is cut in the middle, with a note.
 */
export function renderDeployReportMarkdown(r: DeployReport, o: MarkdownReportContext = {}): MarkdownReport {
  const head = [`## ${md(r.app)} · ${md(r.env)} · revision ${code(r.revision)}${r.tag ? ` · ${code(r.tag)}` : ''}`, '', ...facts(r), ...context(o), ''];
  const text = fit({ head, sections: [{ heading: '### Timeline (UTC)', report: r }], max: o.maxChars });
  return { title: `${r.app} ${r.env}: ${outcomeWords(r)}`, summary: summaryOf(r, o.link), text };
}

/**
 * A tag's whole way through its chain (dev → qa → staging) as Markdown: the total from the first start to the last
 * completion and the waiting in it, a table of the environments, then each environment's timeline.
 */
export function renderChainReportMarkdown(o: MarkdownReportContext & { app: string; tag: string; reports: DeployReport[] }): MarkdownReport {
  const { first, last, waited, path } = chainFacts(o.reports);
  const total = `${formatDuration(last - first)} from the first start to the last completion, ${waited > 0 ? `${formatDuration(waited)} of it waiting for people` : 'no waiting for people'}`;
  const table = ['| Environment | Outcome | Took | Waiting for people | Promoted by |', '| --- | --- | ---: | ---: | --- |'];
  for (const r of o.reports) table.push(`| ${md(r.env)} | ${OUTCOME[r.outcome]} | ${formatDuration(r.tookMs)} | ${r.waitedMs > 0 ? formatDuration(r.waitedMs) : '—'} | ${promoters(r) || '—'} |`);
  const head = [`## ${md(o.app)} · ${code(o.tag)} through ${o.reports.map((r) => md(r.env)).join(' → ')}`, '', `**${total}**`, '', ...context(o), '', ...table, ''];
  const sections = o.reports.map((r) => ({ heading: `### ${md(r.env)} · revision ${code(r.revision)} (UTC)`, report: r }));
  const summary = [`**${md(o.app)}** ${code(o.tag)} went ${path.map(md).join(' → ')}: ${total}.`, ...o.reports.map((r) => `- **${md(r.env)}**: ${outcomeWords(r)}${r.waitedMs > 0 ? `, waited ${formatDuration(r.waitedMs)}` : ''}${r.promotedBy.length ? `, promoted by ${promoters(r)}` : ''}`)];
  if (o.link) summary.push('', `[Deploy thread in Slack](${o.link})`);
  const text = fit({ head, sections, max: o.maxChars });
  return { title: `${o.app} ${o.tag}: ${path.join(' → ')} in ${formatDuration(last - first)}`, summary: summary.join('\n'), text };
}

function chainFacts(reports: DeployReport[]) {
  const first = Math.min(...reports.map((r) => r.startedAt));
  const last = Math.max(...reports.map((r) => r.finishedAt ?? r.startedAt + r.tookMs));
  return { first, last, waited: reports.reduce((n, r) => n + r.waitedMs, 0), path: reports.map((r) => r.env) };
}

function outcomeWords(r: DeployReport): string {
  if (r.outcome === 'in progress') return `in progress for ${formatDuration(r.tookMs)}`;
  return `${r.outcome} ${r.outcome === 'completed' ? 'in' : 'after'} ${formatDuration(r.tookMs)}`;
}

function summaryOf(r: DeployReport, link: string | undefined): string {
  const lines = [
    `**${md(r.app)} ${md(r.env)}**${r.tag ? ` ${code(r.tag)}` : ''}: ${OUTCOME[r.outcome]} ${r.outcome === 'completed' ? 'in' : 'after'} ${formatDuration(r.tookMs)}.`,
    `Waiting for people: ${r.waitedMs > 0 ? formatDuration(r.waitedMs) : 'none'}.${r.promotedBy.length ? ` Promoted by ${promoters(r)}.` : ''}`,
  ];
  if (link) lines.push('', `[Deploy thread in Slack](${link})`);
  return lines.join('\n');
}

function facts(r: DeployReport): string[] {
  const lines = [
    `**${OUTCOME[r.outcome]}** ${r.outcome === 'completed' ? 'in' : r.outcome === 'in progress' ? 'for' : 'after'} **${formatDuration(r.tookMs)}**, ${r.waitedMs > 0 ? `**${formatDuration(r.waitedMs)}** of it waiting for people` : 'no waiting for people'}.`,
    '',
    `- Started: ${utc(r.startedAt, true)}`,
  ];
  if (r.finishedAt !== undefined) lines.push(`- Finished: ${utc(r.finishedAt, true)}`);
  if (r.promotedBy.length) lines.push(`- Promoted by: ${promoters(r)}`);
  return lines;
}

function context(o: MarkdownReportContext): string[] {
  const lines: string[] = [];
  const c = o.commit;
  if (c) {
    const sha = c.url ? `[${code(c.sha.slice(0, 7))}](${c.url})` : code(c.sha.slice(0, 7));
    lines.push(`- Commit: ${sha}${c.message ? ` ${md(c.message)}` : ''}${c.author ? ` (${md(c.author)})` : ''}`);
  }
  if (o.link) lines.push(`- Deploy thread: [Slack](${o.link})`);
  return lines;
}

/** One timeline row: time, time since the deploy started, what happened, who did it. */
function row(r: DeployReport, e: TimelineEntry): string {
  const since = e.at !== undefined ? (e.at === r.startedAt ? '0s' : `+${formatDuration(e.at - r.startedAt)}`) : '';
  const what = e.kind === 'end' ? `**${md(e.text)}**` : md(e.text);
  return `| ${e.at !== undefined ? utc(e.at) : '·'} | ${since} | ${MARK[e.kind]}${what} | ${e.who ? person(e.who) : ''} |`;
}

const TABLE_HEAD = ['| Time | Since start | What | Who |', '| --- | ---: | --- | --- |'];

/**
 * The report's text within `max` characters: each timeline keeps as many rows as fit (its first ones and its end), the
 * same cap for every timeline, and says how many rows it left out.
 */
function fit(o: { head: string[]; sections: Array<{ heading: string; report: DeployReport }>; max?: number }): string {
  const max = o.max ?? GITHUB_CHECK_TEXT_MAX;
  const rows = o.sections.map((s) => s.report.timeline.map((e) => row(s.report, e)));
  const render = (cap: number) => [...o.head, ...o.sections.flatMap((s, i) => ['', s.heading, '', ...TABLE_HEAD, ...capped(rows[i]!, cap)])].join('\n') + '\n';
  const most = Math.max(0, ...rows.map((r) => r.length));
  let text = render(most);
  if (text.length <= max) return text;
  let [lo, hi] = [2, most];
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (render(mid).length <= max) lo = mid;
    else hi = mid - 1;
  }
  text = render(lo);
  if (text.length <= max) return text;
  // Even two rows a timeline do not fit (very long words): cut the text itself.
  const note = '\n\n*… the rest is left out: GitHub keeps 65,535 characters of a report. The deploy thread in Slack has every step.*\n';
  return text.slice(0, Math.max(0, max - note.length)) + note;
}

function capped(rows: string[], cap: number): string[] {
  if (rows.length <= cap) return rows;
  const left = rows.length - (cap - 1);
  return [...rows.slice(0, cap - 2), `| … | | *${left} more ${left === 1 ? 'line' : 'lines'} left out: GitHub keeps 65,535 characters of a report; the deploy thread in Slack has every step* | |`, rows.at(-1)!];
}

function promoters(r: DeployReport): string {
  return [...new Set(r.promotedBy)].map(person).join(', ');
}

/**
 * A Slack user id said to be one (GitHub cannot resolve it); a GitHub login or the bot's own actor word (`chain`) as
 * written, never as an @-mention (an action record does not say which of the two it is).
 */
function person(id: string): string {
  return isSlackUserId(id) ? `Slack user ${code(id)}` : md(id);
}

/** Inline code for identifiers (tags, revisions, shas); anything else is escaped as words. */
function code(text: string): string {
  return /^[\w.:/@+-]+$/.test(text) ? `\`${text}\`` : md(text);
}

function utc(ms: number, withDate = false): string {
  const iso = new Date(ms).toISOString();
  return withDate ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : iso.slice(11, 19);
}
