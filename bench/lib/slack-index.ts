import type { SlackCall } from '../../emulators/slack-emulator.js';
import { levelOfText, type ThreadMessage } from './strict-oracle.js';

/** The thread key of an outbox key (`<threadKey>#<event>`). */
export function threadKeyOfKey(key: string): string {
  const i = key.lastIndexOf('#');
  return i < 0 ? key : key.slice(0, i);
}

/**
 * What the bot has shown in Slack, rebuilt incrementally from the emulator's recorded calls (cheap enough to refresh
 * every few hundred ms while the fleet runs): each card's current text, when each reply key was posted, and the time of
 * every post per channel and of every chat.update.
 */
export class SlackIndex {
  /** Current text of each thread's root card, and when it was first posted. */
  readonly cards = new Map<string, { text: string; postedAt: number; ts: string }>();
  /** Every root post/update per thread, in order, for "when did the card first show X". */
  readonly cardHistory = new Map<string, Array<{ at: number; text: string }>>();
  /** When each reply key first reached Slack. */
  readonly replyKeys = new Map<string, number>();
  readonly postsByChannel = new Map<string, number[]>();
  /**
   * Every message of each thread as Slack places it, in order: root posts and the chat.updates of that root (by its
   * channel and ts), and replies (by their thread_ts), with the level each shows (strict-oracle.ts).
   */
  readonly threadMessages = new Map<string, ThreadMessage[]>();
  /** Replies whose thread_ts is no root we know; replies whose metadata names another thread than the one they are in. */
  orphanReplies = 0;
  misplacedReplies = 0;
  private readonly rootByTs = new Map<string, string>();
  readonly updates: number[] = [];
  failed = 0;
  rateLimited = 0;
  otherCalls = 0;
  private seen = 0;

  constructor(private readonly calls: SlackCall[]) {}

  /** Takes in the calls recorded since the last refresh. */
  refresh(): void {
    for (; this.seen < this.calls.length; this.seen++) {
      const call = this.calls[this.seen]!;
      const res = call.response as { ok?: boolean; ts?: string } | undefined;
      if (call.status === 429) this.rateLimited++;
      if (call.status !== 200 || !res?.ok) {
        this.failed++;
        continue;
      }
      const args = call.args as { channel?: string; thread_ts?: string; text?: string; ts?: string; metadata?: { event_payload?: { key?: string } } };
      const keys = (args.metadata?.event_payload?.key ?? '').split(' ').filter(Boolean);
      if (call.method === 'chat.postMessage') {
        const channel = args.channel ?? '';
        let list = this.postsByChannel.get(channel);
        if (!list) this.postsByChannel.set(channel, (list = []));
        list.push(call.at);
        if (args.thread_ts) {
          for (const k of keys) if (!this.replyKeys.has(k)) this.replyKeys.set(k, call.at);
          const thread = this.rootByTs.get(`${channel} ${args.thread_ts}`);
          if (thread === undefined) this.orphanReplies++;
          else {
            if (keys.some((k) => threadKeyOfKey(k) !== thread)) this.misplacedReplies++;
            this.addMessage(thread, { at: call.at, kind: 'reply', level: levelOfText(args.text ?? '', 'reply') });
          }
        } else {
          for (const k of keys) {
            if (!k.endsWith('#root')) continue;
            const thread = threadKeyOfKey(k);
            this.setCard(thread, args.text ?? '', call.at, res.ts ?? '');
            if (res.ts) this.rootByTs.set(`${channel} ${res.ts}`, thread);
            this.addMessage(thread, { at: call.at, kind: 'card', level: levelOfText(args.text ?? '', 'card') });
          }
        }
      } else if (call.method === 'chat.update') {
        this.updates.push(call.at);
        for (const k of keys) if (k.endsWith('#root')) this.setCard(threadKeyOfKey(k), args.text ?? '', call.at, args.ts ?? '');
        // Slack edits the message named by channel and ts, whatever the metadata says.
        const thread = this.rootByTs.get(`${args.channel ?? ''} ${args.ts ?? ''}`);
        if (thread !== undefined) this.addMessage(thread, { at: call.at, kind: 'card', level: levelOfText(args.text ?? '', 'card') });
      } else {
        this.otherCalls++;
      }
    }
  }

  private addMessage(thread: string, m: ThreadMessage): void {
    let list = this.threadMessages.get(thread);
    if (!list) this.threadMessages.set(thread, (list = []));
    list.push(m);
  }

  private setCard(threadKey: string, text: string, at: number, ts: string): void {
    const card = this.cards.get(threadKey);
    if (card) card.text = text;
    else this.cards.set(threadKey, { text, postedAt: at, ts });
    let h = this.cardHistory.get(threadKey);
    if (!h) this.cardHistory.set(threadKey, (h = []));
    h.push({ at, text });
  }
}
