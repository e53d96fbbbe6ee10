import { esc, who } from '../text/mrkdwn.js';
import { relativeTime } from '../text/relative-time.js';
import type { LockHold } from './judge-lock.js';
import type { LockRecord } from './lock-record.js';

/** A time as people read it in Slack and on GitHub alike: `2026-11-22 09:00 UTC`. */
function at(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function lockedBy(l: LockRecord): string {
  return l.source === 'github' ? `@${esc(l.by)} (GitHub)` : who(l.by);
}

/** What holds the environment, in one line: who locked it, why and since when; or the freeze window and its reason. */
export function describeHold(o: { hold: LockHold; name: string; now: number }): string {
  const { hold, name, now } = o;
  if (hold.kind === 'lock') {
    const l = hold.lock;
    return `🔒 ${esc(name)} is locked by ${lockedBy(l)} since ${at(l.since)} (${relativeTime(l.since, now)})${l.reason ? `: ${esc(l.reason)}` : ' (no reason given)'}`;
  }
  return `🧊 ${esc(name)} is frozen: ${esc(hold.reason)}, from ${at(hold.start)} until ${at(hold.end)}${hold.cron ? ` (freeze \`${esc(hold.cron)}\`)` : ''}`;
}

/** The hold in a few words, for the audit log and the card line of an override. */
export function holdSummary(hold: LockHold): string {
  if (hold.kind === 'lock') return `lock by ${hold.lock.by}${hold.lock.reason ? ` (${hold.lock.reason})` : ''}`;
  return `freeze (${hold.reason}) until ${at(hold.end)}`;
}

/** Why a promotion or a dispatch did not happen, and how an approver overrides it. */
export function renderHoldRefusal(o: { hold: LockHold; name: string; now: number; what: 'promote' | 'dispatch' }): string {
  const nothing = o.what === 'promote' ? 'Nothing was promoted' : 'Nothing was dispatched';
  const lift = o.hold.kind === 'lock' ? '`/rollout unlock` lifts the lock; ' : '';
  return `${describeHold(o)}. ${nothing}; ${lift}an approver can add \`--force\` to override (the override is recorded).`;
}

/** What people are told about a lock or unlock they asked for. */
export type LockAnswer =
  | { kind: 'locked'; name: string; lock: LockRecord; now: number }
  | { kind: 'already-locked'; name: string; lock: LockRecord; now: number }
  | { kind: 'unlocked'; name: string; lock: LockRecord; by: string; source: 'slack' | 'github' }
  | { kind: 'not-locked'; name: string }
  | { kind: 'denied'; name: string; verb: 'lock' | 'unlock'; approvers: string };

/** Every word a lock or unlock answers with (ephemeral in Slack, a comment on GitHub, the note in the thread). */
export function renderLockAnswer(a: LockAnswer): string {
  switch (a.kind) {
    case 'locked':
      return `${describeHold({ hold: { kind: 'lock', lock: a.lock }, name: a.name, now: a.now })}. Promotions and chain dispatches are refused until \`/rollout unlock ${esc(a.lock.env)}\`.`;
    case 'already-locked':
      return `${describeHold({ hold: { kind: 'lock', lock: a.lock }, name: a.name, now: a.now })} already; nothing changed.`;
    case 'unlocked':
      return `🔓 ${esc(a.name)} unlocked by ${a.source === 'github' ? `@${esc(a.by)} (GitHub)` : who(a.by)} (it was locked by ${lockedBy(a.lock)}${a.lock.reason ? `: ${esc(a.lock.reason)}` : ''}).`;
    case 'not-locked':
      return `${esc(a.name)} is not locked; nothing changed.`;
    case 'denied':
      return `🚫 Only approvers may ${a.verb} ${esc(a.name)}: ${a.approvers}. Nothing changed.`;
  }
}

/** The card line of a locked environment. */
export function renderLockCardLine(lock: LockRecord): string {
  return `🔒 Locked by ${lockedBy(lock)} since ${at(lock.since)}${lock.reason ? `: ${esc(lock.reason)}` : ''}`;
}
