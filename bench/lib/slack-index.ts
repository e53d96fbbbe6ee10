import type { SlackCall } from '../../emulators/slack-emulator.js';

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
        } else {
          for (const k of keys) if (k.endsWith('#root')) this.setCard(threadKeyOfKey(k), args.text ?? '', call.at, res.ts ?? '');
        }
      } else if (call.method === 'chat.update') {
        this.updates.push(call.at);
        for (const k of keys) if (k.endsWith('#root')) this.setCard(threadKeyOfKey(k), args.text ?? '', call.at, args.ts ?? '');
      } else {
        this.otherCalls++;
      }
    }
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
