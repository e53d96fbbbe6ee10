import { describe, expect, it } from 'vitest';
import { buildDeployReport } from '../../src/core/reports/build-deploy-report.js';
import { renderChainReportMarkdown, renderDeployReportMarkdown } from '../../src/core/reports/render-deploy-report-markdown.js';
import { escapeMarkdown } from '../../src/core/text/escape-markdown.js';
import type { ThreadRecord } from '../../src/core/store-data.js';

const T0 = Date.UTC(2026, 0, 29, 12, 0, 0);
const LINK = 'https://slack.example/archives/C0STAGING/p1769688000000100';
const thread = (o: Partial<ThreadRecord> = {}): ThreadRecord => ({
  key: 'voting01/staging/uid/2', app: 'voting01', env: 'staging', namespace: 'voting01-staging', rollout: 'vote', revision: '2', tag: 'ea11a24-20260129125607',
  channel: 'C0STAGING', createdAt: T0, attempt: 1, cardVersion: 1, cardSent: 1, startedAt: T0,
  announced: ['deploy-started', 'a1:step-completed:1', 'a1:paused:manual:1', 'a1:analysis:background:success-rate:Successful', 'a1:resumed:manual:1', 'a1:completed'],
  announcedAt: { 'a1:step-completed:1': T0 + 10_000, 'a1:paused:manual:1': T0 + 12_000, 'a1:analysis:background:success-rate:Successful': T0 + 30_000, 'a1:resumed:manual:1': T0 + 61_000 },
  actions: [{ at: T0 + 60_000, who: 'U0LEAD', what: 'promoted' }],
  outcome: 'completed', finishedAt: T0 + 252_000, waitedMs: 48_000,
  ...o,
});
const report = (o: Partial<ThreadRecord> = {}) => buildDeployReport(thread(o), T0 + 300_000);
const rows = (text: string) => text.split('\n').filter((l) => /^\| \d\d:\d\d:\d\d /.test(l) || l.startsWith('| … '));

describe('escapeMarkdown', () => {
  it('escapes what GitHub would read as Markdown, HTML, an entity, math or a table cell, and keeps one line', () => {
    expect(escapeMarkdown('*bold* _it_ `code` [x](y) <img> &amp; $x$ a|b ~s~ ![i] #1\nnext')).toBe(
      '\\*bold\\* \\_it\\_ \\`code\\` \\[x\\](y) \\<img\\> \\&amp; \\$x\\$ a\\|b \\~s\\~ \\!\\[i\\] \\#1 next',
    );
  });
});

describe('renderDeployReportMarkdown', () => {
  it('says how it ended, how long it took and waited, who promoted it, in the title and the summary', () => {
    const m = renderDeployReportMarkdown(report(), { link: LINK });
    expect(m.title).toBe('voting01 staging: completed in 4m12s');
    expect(m.summary).toBe(`**voting01 staging** \`ea11a24-20260129125607\`: ✅ completed in 4m12s.\nWaiting for people: 48s. Promoted by Slack user \`U0LEAD\`.\n\n[Deploy thread in Slack](${LINK})`);
  });

  it('lays the timeline out to the second in a table: each step, pause, analysis and promotion, who promoted, the end', () => {
    const { text } = renderDeployReportMarkdown(report(), { link: LINK, commit: { sha: 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b', message: 'Fix the *vote* button', author: 'Ada Lovelace (@ada)', url: 'https://github.example/acme/voting01/commit/ea11a24' } });
    expect(text).toContain('## voting01 · staging · revision `2` · `ea11a24-20260129125607`');
    expect(text).toContain('**✅ completed** in **4m12s**, **48s** of it waiting for people.');
    expect(text).toContain('- Started: 2026-01-29 12:00:00 UTC');
    expect(text).toContain('- Commit: [`ea11a24`](https://github.example/acme/voting01/commit/ea11a24) Fix the \\*vote\\* button (Ada Lovelace (@ada))');
    expect(rows(text)).toEqual([
      '| 12:00:00 | 0s | ▶️ deploy of revision 2 started |  |',
      '| 12:00:10 | +10s | step 1 completed |  |',
      '| 12:00:12 | +12s | paused at step 2 (manual) |  |',
      '| 12:00:30 | +30s | background analysis success-rate: Successful |  |',
      '| 12:01:00 | +1m | 👤 promoted | Slack user `U0LEAD` |',
      '| 12:01:01 | +1m1s | resumed |  |',
      '| 12:04:12 | +4m12s | 🏁 **completed** |  |',
    ]);
  });

  it('escapes words people typed, so a reason cannot break the table or inject HTML', () => {
    const { text } = renderDeployReportMarkdown(report({ actions: [{ at: T0 + 1000, who: 'mallory|x', what: 'rejected a request: <script>|**no**' }] }));
    const line = rows(text).find((l) => l.includes('rejected'))!;
    expect(line).toBe('| 12:00:01 | +1s | 👤 rejected a request: \\<script\\>\\|\\*\\*no\\*\\* | mallory\\|x |');
    expect(line.split(/(?<!\\)\|/)).toHaveLength(6);
  });

  it('says "after" for an aborted deploy', () => {
    expect(renderDeployReportMarkdown(report({ outcome: 'aborted' })).title).toBe('voting01 staging: aborted after 4m12s');
  });

  it('cuts a timeline too long for GitHub in the middle, keeps its start and its end, and says how much it left out', () => {
    const announced = ['deploy-started', ...Array.from({ length: 5000 }, (_, i) => `a1:step-completed:${i + 1}`), 'a1:completed'];
    const announcedAt = Object.fromEntries(announced.map((k, i) => [k, T0 + i * 1000]));
    const { text } = renderDeployReportMarkdown(report({ announced, announcedAt, finishedAt: T0 + 6_000_000 }));
    expect(text.length).toBeLessThanOrEqual(65_535);
    expect(text.length).toBeGreaterThan(60_000);
    const shown = rows(text);
    expect(shown[0]).toContain('deploy of revision 2 started');
    expect(shown.at(-1)).toContain('**completed**');
    const note = shown.at(-2)!;
    const left = Number(/\*(\d+) more lines left out/.exec(note)?.[1]);
    // Every row is either shown or counted in the note.
    expect(shown.length - 1 + left).toBe(5000 + 3);
  });

  it('keeps to a smaller limit when asked', () => {
    const announced = ['deploy-started', ...Array.from({ length: 50 }, (_, i) => `a1:step-completed:${i + 1}`)];
    const { text } = renderDeployReportMarkdown(report({ announced }), { maxChars: 2000 });
    expect(text.length).toBeLessThanOrEqual(2000);
    expect(text).toMatch(/more lines left out/);
  });
});

describe('renderChainReportMarkdown', () => {
  it('totals the whole way and shows each environment with its timeline', () => {
    const qa = report({ key: 'voting01/qa/uid/2', env: 'qa', actions: [], waitedMs: 0, startedAt: T0 - 600_000, finishedAt: T0 - 300_000, announcedAt: {} });
    const m = renderChainReportMarkdown({ app: 'voting01', tag: 'ea11a24-20260129125607', reports: [qa, report()], link: LINK });
    expect(m.title).toBe('voting01 ea11a24-20260129125607: qa → staging in 14m12s');
    expect(m.summary.split('\n').slice(0, 3)).toEqual([
      '**voting01** `ea11a24-20260129125607` went qa → staging: 14m12s from the first start to the last completion, 48s of it waiting for people.',
      '- **qa**: completed in 5m',
      '- **staging**: completed in 4m12s, waited 48s, promoted by Slack user `U0LEAD`',
    ]);
    expect(m.text).toContain('| qa | ✅ completed | 5m | — | — |');
    expect(m.text).toContain('| staging | ✅ completed | 4m12s | 48s | Slack user `U0LEAD` |');
    expect(m.text).toContain('### qa · revision `2` (UTC)');
    expect(m.text).toContain('### staging · revision `2` (UTC)');
    expect(rows(m.text).filter((l) => l.includes('**completed**'))).toHaveLength(2);
  });
});
