import type { ErrorSimRecord } from '../store-data.js';
import { formatDuration } from '../text/duration.js';
import { esc, who } from '../text/mrkdwn.js';
import { slackTime } from '../text/slack-time.js';

/** An environment as the messages name it. */
interface Env {
  app: string;
  env: string;
}

/** What the error simulation says, in deploy threads and as command answers. */
export type ErrorSimMessage =
  /** Thread: errors were on without the bot; it took over the deadline. */
  | (Env & { kind: 'adopted'; by: string; offAt: number })
  /** Thread: a person switched errors on. */
  | (Env & { kind: 'switched-on'; by: string; rec: ErrorSimRecord })
  /** Thread: the deadline came, but errors were already off. */
  | (Env & { kind: 'ttl-already-off' })
  /** Thread: the deadline switched errors off. */
  | (Env & { kind: 'ttl-off'; rec: ErrorSimRecord })
  /** Thread: a person switched errors off; `lastedMs` when the bot knew since when. */
  | (Env & { kind: 'switched-off'; by: string; lastedMs?: number })
  /** Thread: switching off at the deadline failed (said once; retried). */
  | (Env & { kind: 'ttl-failed'; offAt: number; error: string })
  /** Answer: the person may not switch. */
  | (Env & { kind: 'not-approver'; action: 'on' | 'off'; approvers: string })
  /** Answer: the environment has no `errorSimulation`; `withIt` names those that do. */
  | (Env & { kind: 'not-configured'; withIt: string[] })
  /** Answer to `/errors status`: the endpoint did not answer. */
  | (Env & { kind: 'status-unreadable'; error: string; rec?: ErrorSimRecord })
  /** Answer to `/errors status`: what the endpoint says, and the bot's record. */
  | (Env & { kind: 'status'; enabled: boolean; rec?: ErrorSimRecord; ttlMs: number })
  /** Answer to `/errors on|off`: what happened. `where` links the deploy thread (with a leading space) or is empty. */
  | (Env & { kind: 'switch-answer'; action: 'on' | 'off'; out: SwitchAnswer; where: string });

/** A message said in a deploy thread, without the environment (the service adds it). */
export type ErrorSimThreadMessage = Extract<ErrorSimMessage, { kind: 'adopted' | 'switched-on' | 'ttl-already-off' | 'ttl-off' | 'switched-off' | 'ttl-failed' }> extends infer M
  ? M extends unknown ? Omit<M, 'app' | 'env'> : never
  : never;

/** The part of a switch outcome an answer needs. */
export type SwitchAnswer =
  | { ok: true; changed: boolean; record?: ErrorSimRecord; adopted?: boolean; warning?: string }
  | { ok: false; error: string; posted: boolean };

/** The words of the error simulation, in one place. */
export function renderErrorSim(m: ErrorSimMessage): string {
  const name = `${esc(m.app)} ${esc(m.env)}`;
  switch (m.kind) {
    case 'adopted':
      return `🧪 Errors were already on in ${name} (switched on outside the bot). ${who(m.by)} asked for them on: nothing changed, except that they now switch off by themselves at ${slackTime(m.offAt)}.`;
    case 'switched-on':
      return `🧪 Errors switched *on* by ${who(m.by)}: ${name} now fails on purpose. They switch off by themselves at ${slackTime(m.rec.offAt)} (after ${formatDuration(m.rec.offAt - m.rec.since)}), or with \`/errors off ${m.env}\`.`;
    case 'ttl-already-off':
      return `⏱️ Error simulation deadline reached in ${name}: errors were already off (switched off outside the bot).`;
    case 'ttl-off':
      return `⏱️ Errors switched *off* by themselves in ${name}: their ${formatDuration(m.rec.offAt - m.rec.since)} TTL ran out${m.rec.adopted ? '' : ` (switched on by ${who(m.rec.by)} at ${slackTime(m.rec.since)})`}.`;
    case 'switched-off':
      return `✅ Errors switched *off* by ${who(m.by)} in ${name}${m.lastedMs !== undefined ? ` after ${formatDuration(m.lastedMs)}` : ''}.`;
    case 'ttl-failed':
      return `⚠️ Errors in ${name} should have switched off at ${slackTime(m.offAt)}, but that failed: ${esc(m.error)}. I keep trying; switch them off by hand if this goes on.`;
    case 'not-approver':
      return `🚫 Only approvers of ${m.app} ${m.env} may switch errors ${m.action}: ${m.approvers}.`;
    case 'not-configured':
      if (m.withIt.length === 0) return `🚫 Error simulation is not configured for ${esc(`${m.app} ${m.env}`)}, nor for any other environment: add \`errorSimulation: { url: … }\` to an environment in the config.`;
      return `🚫 Error simulation is not configured for ${esc(`${m.app} ${m.env}`)}. Environments that have it: ${m.withIt.map((n) => esc(n)).join(', ')}.`;
    case 'status-unreadable':
      return `⚠️ I could not read the error simulation of ${name}: ${esc(m.error)}.${m.rec ? ` As far as I know errors are on since ${slackTime(m.rec.since)} (by ${who(m.rec.by)}), switching off at ${slackTime(m.rec.offAt)}.` : ''}`;
    case 'status': {
      const rec = m.rec;
      if (!m.enabled) return `🟢 Errors are *off* in ${name}.`;
      if (!rec) return `🧪 Errors are *on* in ${name}, switched on outside the bot, so no deadline is set. \`/errors off ${m.env}\` stops them; \`/errors on ${m.env}\` sets the ${formatDuration(m.ttlMs)} deadline.`;
      return `🧪 Errors are *on* in ${name} since ${slackTime(rec.since)} (${rec.adopted ? 'taken over by the bot' : `by ${who(rec.by)}`}${rec.drillId ? ', rollback drill' : ''}); they switch off by themselves at ${slackTime(rec.offAt)}.${rec.offError ? ` ⚠️ The last attempt to switch them off failed: ${esc(rec.offError)}` : ''}`;
    }
    case 'switch-answer':
      return switchAnswer(name, m.action, m.out, m.where);
  }
}

function switchAnswer(name: string, action: 'on' | 'off', out: SwitchAnswer, where: string): string {
  if (!out.ok) return `⚠️ Could not switch errors ${action} in ${name}: ${esc(out.error)}.${out.posted ? '' : ' Nothing was changed.'}`;
  const warning = out.warning ? `\n⚠️ Odd answer: ${esc(out.warning)}.` : '';
  if (action === 'on') {
    const rec = out.record;
    const until = rec ? ` They switch off by themselves at ${slackTime(rec.offAt)}.` : '';
    if (out.adopted) return `ℹ️ Errors were already on in ${name} (switched on outside the bot): nothing changed.${until}${where}`;
    if (!out.changed) return `ℹ️ Errors were already on in ${name}${rec ? ` since ${slackTime(rec.since)} (by ${who(rec.by)})` : ''}: nothing changed.${until}${where}`;
    return `🧪 Errors are now *on* in ${name} (confirmed by the endpoint).${until}${where}${warning}`;
  }
  if (!out.changed) return `ℹ️ Errors were already off in ${name}: nothing changed.`;
  return `✅ Errors are now *off* in ${name} (confirmed by the endpoint).${where}${warning}`;
}
