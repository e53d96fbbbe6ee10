import type { App } from '@slack/bolt';
import type { CommandService } from '../../core/commands/command-service.js';
import { helpText, parseCommand } from '../../core/commands/parse-command.js';
import type { Logger } from '../../core/logger.js';

/** Handlers for what people do in threads and on buttons; provided by the promotion feature. */
export interface ThreadHandlers {
  /** A plain message in a thread, once per Slack event when `claim` is given (Slack retries what it thinks timed out). */
  onThreadMessage?: (o: { channel: string; threadTs: string; user: string; text: string; eventId?: string; ts: string }) => Promise<void>;
  /** A button press: `actionId`, its value, and the message it was on. */
  onAction?: (o: { actionId: string; value: string; user: string; channel: string; messageTs: string; threadTs?: string }) => Promise<void>;
  /** Claiming or handling a thread message threw: tell the person (a confirming word gets "failed, nothing was changed"). */
  onThreadMessageFailed?: (o: { channel: string; threadTs: string; user: string; text: string; eventId?: string; ts: string }, err: unknown) => Promise<void> | void;
  /** Handling a button press threw: tell the presser. */
  onActionFailed?: (o: { actionId: string; value: string; user: string; channel: string; messageTs: string; threadTs?: string }, err: unknown) => Promise<void> | void;
}

/** The slash commands the bot registers (the Slack app manifest declares the same three). */
export const SLASH_COMMANDS = ['/promote', '/rollout', '/errors'] as const;

/**
 * Every Slack listener, registered from one place: slash commands, thread messages, button actions.
 * Commands are acknowledged first; the answer comes within Slack's 3 s either in the ack or as a follow-up.
 */
export function registerSlackListeners(app: App, deps: {
  commands: CommandService;
  log: Logger;
  threads?: ThreadHandlers;
  countCommand?: (verb: string) => void;
  /** Claims a delivery key once, durably (claim-slack-delivery.ts): a thread message Slack delivers again is dropped. */
  claim?: (key: string) => Promise<boolean>;
}): void {
  // One listener for the three commands: Bolt runs every listener's middleware on every request, so three would do
  // that work three times for each command (exact names, as Bolt matches a string).
  const commandName = new RegExp(`^(?:${SLASH_COMMANDS.map((c) => c.replace('/', '\\/')).join('|')})$`);
  app.command(commandName, async ({ command, ack, respond }) => {
    const name = command.command;
    const parsed = parseCommand(name, command.text ?? '', { apps: deps.commands.appNames() });
    if (!parsed.ok) {
      deps.countCommand?.('invalid');
      await ack({ response_type: 'ephemeral', text: `❓ ${parsed.problem.error}\n\n${helpText(parsed.problem.topic)}` });
      return;
    }
    const cmd = parsed.command;
    deps.countCommand?.(cmd.verb);
    const ctx = { source: 'slack' as const, user: command.user_id, channel: command.channel_id };
    // Reads answer in the ack; anything that talks to other services answers through the response URL.
    if (cmd.verb === 'help' || cmd.verb === 'status' || cmd.verb === 'history') {
      const reply = await deps.commands.run(cmd, ctx);
      await ack({ response_type: 'ephemeral', text: reply.text, ...(reply.blocks ? { blocks: reply.blocks as never } : {}) });
      return;
    }
    await ack();
    try {
      const reply = await deps.commands.run(cmd, ctx);
      await respond({ response_type: 'ephemeral', text: reply.text, ...(reply.blocks ? { blocks: reply.blocks as never } : {}) });
    } catch (err) {
      deps.log.error({ err, command: name, text: (command.text ?? '').slice(0, 200) }, 'command failed');
      await respond({ response_type: 'ephemeral', text: `⚠️ \`${name} ${command.text}\` failed: ${(err as Error).message}. Nothing was changed; try again.` }).catch(() => undefined);
    }
  });

  app.event('message', async ({ event, body }) => {
    const e = event as { subtype?: string; thread_ts?: string; ts: string; channel: string; user?: string; text?: string; bot_id?: string };
    // A reply also sent to the channel arrives as subtype thread_broadcast; it is still a person typing in the thread.
    if ((e.subtype !== undefined && e.subtype !== 'thread_broadcast') || e.bot_id || !e.thread_ts || e.thread_ts === e.ts || !e.user) return;
    const eventId = (body as { event_id?: string }).event_id;
    const m = { channel: e.channel, threadTs: e.thread_ts, user: e.user, text: e.text ?? '', eventId, ts: e.ts };
    try {
      if (deps.claim && !(await deps.claim(eventId ? `slack:${eventId}` : `slack:${e.channel}:${e.ts}`))) return;
      await deps.threads?.onThreadMessage?.(m);
    } catch (err) {
      const failed = deps.threads?.onThreadMessageFailed;
      await answerFailure(deps.log, 'thread message failed', err, failed && (() => failed(m, err)));
    }
  });

  app.action(/.*/, async ({ ack, body, action }) => {
    await ack();
    const b = body as { user?: { id?: string }; channel?: { id?: string }; container?: { channel_id?: string; message_ts?: string; thread_ts?: string }; message?: { ts?: string; thread_ts?: string } };
    const a = action as { action_id?: string; value?: string };
    if (!a.action_id || !b.user?.id) return;
    const pressed = {
      actionId: a.action_id,
      value: a.value ?? '',
      user: b.user.id,
      channel: b.channel?.id ?? b.container?.channel_id ?? '',
      messageTs: b.container?.message_ts ?? b.message?.ts ?? '',
      threadTs: b.container?.thread_ts ?? b.message?.thread_ts,
    };
    try {
      await deps.threads?.onAction?.(pressed);
    } catch (err) {
      const failed = deps.threads?.onActionFailed;
      await answerFailure(deps.log, 'button press failed', err, failed && (() => failed(pressed, err)));
    }
  });
}

/** Runs the failure answer (which logs the error); without one, or when it fails too, the error is logged here. */
async function answerFailure(log: Logger, msg: string, err: unknown, answer: (() => Promise<void> | void) | undefined): Promise<void> {
  if (!answer) return log.error({ err }, msg);
  try {
    await answer();
  } catch (answerErr) {
    log.error({ err, answerErr }, msg);
  }
}
