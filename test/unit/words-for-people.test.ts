import { describe, expect, it } from 'vitest';
import { ROLLOUT_FIXTURE_FILES, loadRolloutFixture, type RolloutFixtureFile } from '../../emulators/world/rollout-fixtures.js';
import { readRollout } from '../../src/core/rollout/read-rollout.js';
import type { RolloutState } from '../../src/core/rollout/rollout-state.js';
import { detectRolloutEvents } from '../../src/core/rollout-threads/detect-rollout-events.js';
import { renderEvent } from '../../src/core/rollout-threads/render-event.js';
import { renderCard } from '../../src/core/rollout-threads/render-card.js';
import { planAbort, planPromotion, planRetry } from '../../src/core/promotion/plan-rollout-action.js';
import { renderPreflight, type PreflightView } from '../../src/core/promotion/render-preflight.js';
import { renderExecuted, renderPatchFailed, renderPromotion } from '../../src/core/promotion/render-promotion.js';
import { describePatch } from '../../src/core/promotion/describe-patch.js';
import { plainText } from '../../src/core/text/plain-text.js';
import { shortDigest } from '../../src/core/text/short-digest.js';
import { threadOf } from '../support/state-builders.js';

const DIGEST = `sha256:87af1f0b${'0123456789abcdef'.repeat(3)}87654321`;
const REASON_CODES = /CanaryPauseStep|BlueGreenPause|RolloutAborted|InconclusiveAnalysisRun|InconclusiveExperiment|ProgressDeadlineExceeded|RolloutCompleted|RolloutPaused|NewReplicaSetAvailable/;
/** mrkdwn markers a notification would show literally: backticks, *bold*, _italic_. */
const MRKDWN_MARKER = /`|(^|\s)[*_]\S|\S[*_](\s|$|[.,:;])/m;

interface Msg { text: string; blocks?: unknown[] }
type Block = { type: string; text?: { text: string }; fields?: Array<{ text: string }>; elements?: Array<{ text?: string }> };

function states(): Array<[RolloutFixtureFile, RolloutState]> {
  return ROLLOUT_FIXTURE_FILES.filter((f) => loadRolloutFixture(f).kind === 'Rollout').map((f) => [f, readRollout(loadRolloutFixture(f))]);
}

/** The main text people read: the fallback when there are no blocks, else every block but the context lines. */
function mainText(m: Msg): string {
  if (!m.blocks) return m.text;
  return (m.blocks as Block[]).filter((b) => b.type !== 'context').map((b) => [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)].join('\n')).join('\n');
}

function allText(m: Msg): string {
  const ctx = ((m.blocks ?? []) as Block[]).filter((b) => b.type === 'context').flatMap((b) => (b.elements ?? []).map((e) => e.text ?? ''));
  return [m.text, mainText(m), ...ctx].join('\n');
}

function hashesOf(s: RolloutState): string[] {
  return [s.currentPodHash, s.stableRS, s.blueGreen?.previewSelector, s.blueGreen?.activeSelector].filter((h): h is string => Boolean(h));
}

function expectWordsForPeople(m: Msg, s: RolloutState, o: { dryRun?: boolean } = {}): void {
  const all = allText(m);
  expect(all).not.toMatch(/[0-9a-f]{64}/);
  expect(all).not.toContain('merge-patch');
  expect(all).not.toMatch(REASON_CODES);
  for (const h of hashesOf(s)) expect(all).not.toContain(h);
  if (!o.dryRun) expect(mainText(m)).not.toContain('{"status"');
  if (m.blocks) expect(m.text).not.toMatch(MRKDWN_MARKER);
}

function view(s: RolloutState, mode: PreflightView['mode'], action: PreflightView['action']): PreflightView {
  const plan = action === 'promote' ? planPromotion(s, { full: false }) : action === 'abort' ? planAbort(s) : planRetry(s);
  const refused = 'refusal' in plan;
  return {
    mode: refused ? 'refused' : mode, action, app: 'voting01', env: 'staging', requestedBy: 'U0LEAD', state: s, tag: 'ea11a24-1',
    image: { digest: DIGEST }, ecrRepository: 'voting01-vote', describe: refused ? '' : plan.describe, patches: refused ? [] : plan.patches,
    full: false, force: false, approvers: '<@U0LEAD>', namespace: s.namespace, rollout: s.name, confirmationId: 'c1',
    ...(refused ? { refusal: plan.refusal } : {}),
  };
}

describe('words for people, over every fixture', () => {
  it.each(states())('the card of %s: a header block, words instead of codes and hashes, a plain fallback', (_f, s) => {
    const card = renderCard(threadOf(s, { namespace: s.namespace, rollout: s.name, revision: s.revision }), undefined);
    expect((card.blocks as Block[]).some((b) => b.type === 'header')).toBe(true);
    expectWordsForPeople(card, s);
  });

  it.each(states())('the replies for what %s shows', (_f, s) => {
    for (const event of detectRolloutEvents(undefined, s)) {
      const reply = renderEvent(event, s, undefined);
      if (reply) expectWordsForPeople(reply, s);
    }
  });

  it.each(states())('the preflight cards of %s (confirm, executed, refused; the patch only in a context line)', (_f, s) => {
    for (const action of ['promote', 'abort', 'retry'] as const) {
      for (const mode of ['confirm', 'executed'] as const) expectWordsForPeople(renderPreflight(view(s, mode, action)), s);
    }
  });

  it.each(states())('the dry run of %s shows the exact patch in its main text, with a short digest', (_f, s) => {
    const v = view(s, 'dry-run', 'promote');
    const card = renderPreflight(v);
    expectWordsForPeople(card, s, { dryRun: true });
    for (const p of v.patches) expect(mainText(card)).toContain(describePatch(p));
    expect(mainText(card)).toContain('digest `sha256:87af1f0b…`');
  });

  it.each(states())('the action replies for %s (promoted, aborted, retried, failed)', (_f, s) => {
    for (const action of ['promote', 'abort', 'retry'] as const) {
      const done = renderExecuted({ action, full: false, user: 'U0LEAD', github: false, describe: 'continues from step 2/8 (pause) to step 3/8 (setWeight: 40)', override: false, sent: ['PATCH rollouts/status {"status":{"pauseConditions":null}}'], env: 'staging', revision: s.revision, strategy: s.strategy });
      expectWordsForPeople(done, s);
      expect((done.blocks as Block[]).at(-1)).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Sent: `PATCH rollouts/status {"status":{"pauseConditions":null}}`' }] });
      expectWordsForPeople(renderPatchFailed({ kind: 'patch-failed', action, error: 'the API server said 409', sent: ['PATCH rollouts/status {"status":{"abort":true}}'] }), s);
    }
  });
});

describe('the words themselves', () => {
  it('says where a canary is paused, not the reason code', () => {
    const s = readRollout(loadRolloutFixture('canary-paused-at-pause-step-v1.yaml'));
    const card = renderCard(threadOf(s), undefined);
    expect(mainText(card)).toContain('⏸️ voting01 · qa · revision 2\n*Paused at step 2/8 (pause), waiting for promotion*');
    expect(card.text).toBe('⏸️ voting01 · qa · revision 2 · Paused at step 2/8 (pause), waiting for promotion · tag ea11a24-1 · step 2/8 (pause) · set weight 21%');
  });

  it('says "waiting for promotion" for a blue-green preview and names versions, not hashes', () => {
    const s = readRollout(loadRolloutFixture('bluegreen-paused-awaiting-promotion.yaml'));
    const card = renderCard(threadOf(s), undefined);
    expect(mainText(card)).toContain('*Preview ready, waiting for promotion*');
    expect(mainText(card)).toContain(`*Blue-green*\npreview: revision ${s.revision} · active: the stable version`);
  });

  it('uses 🛑 for an abort by a person and 🔁 for a retry, with full stops', () => {
    const base = { full: false, user: 'U0LEAD', github: false, describe: '', override: false, sent: [], env: 'dev', revision: '3', strategy: 'canary' } as const;
    expect(renderExecuted({ ...base, action: 'abort' }).text).toBe('🛑 Aborted by <@U0LEAD>: the update to revision 3 is stopped, traffic goes back to the stable version.\nTo try again: /rollout retry dev.');
    expect(renderExecuted({ ...base, action: 'retry' }).text).toBe('🔁 Retried by <@U0LEAD>: the update to revision 3 starts again from the first step.');
    expect(renderExecuted({ ...base, action: 'promote', describe: 'switches the active service to the preview' }).text).toBe('🚀 Promoted by <@U0LEAD>: switches the active service to the preview.');
  });

  it('a cancelled request says how to ask again', () => {
    expect(renderPromotion({ kind: 'cancelled', action: 'promote', user: 'U1', headline: 'Promote voting01 staging', again: '/promote staging' }))
      .toBe('✖️ Promote cancelled by <@U1>: Promote voting01 staging. Nothing was sent. To ask again: run `/promote staging`.');
  });

  it('shortens a digest to 8 hex digits and plain-texts mrkdwn', () => {
    expect(shortDigest(DIGEST)).toBe('sha256:87af1f0b…');
    expect(plainText('🚦 *Promote voting01 qa?* requested by <@U1>: tag `ea11a24` in <https://x.test/a|the thread> &amp; _more_')).toBe('🚦 Promote voting01 qa? requested by <@U1>: tag ea11a24 in the thread & more');
  });
});
