import { toServiceError } from '../../src/adapters/slack/to-service-error.js';
import type { ChatContent, ChatPort, ReadBackPage } from '../../src/core/ports.js';

export interface MemoryMessage extends ChatContent { channel: string; ts: string; threadTs?: string; broadcast?: boolean; keys: string[]; at: number }

/** An in-memory ChatPort for unit tests of the core: records posts and updates, can be told to fail. */
export class MemoryChat implements ChatPort {
  messages: MemoryMessage[] = [];
  updates: Array<{ channel: string; ts: string; text: string; at: number }> = [];
  /**
   * Failures for the next calls, one per call. A string is Slack answering ok:false with that error, thrown as SlackChat
   * throws it (classified the same way); an Error is thrown as is.
   */
  failures: Array<(method: string) => Error | string | undefined> = [];
  private n = 0;
  constructor(private readonly now: () => number) {}

  private fail(method: string): void {
    const f = this.failures.shift();
    const err = f?.(method);
    if (typeof err === 'string') throw toServiceError({ code: 'slack_webapi_platform_error', data: { error: err } }, method);
    if (err) throw err;
  }

  async postMessage(o: ChatContent & { channel: string; threadTs?: string; broadcast?: boolean; keys: string[] }): Promise<{ ts: string }> {
    this.fail('chat.postMessage');
    const ts = `1700000000.${String(++this.n).padStart(6, '0')}`;
    this.messages.push({ ...o, ts, at: this.now() });
    return { ts };
  }

  async updateMessage(o: ChatContent & { channel: string; ts: string; keys: string[] }): Promise<void> {
    this.fail('chat.update');
    this.updates.push({ channel: o.channel, ts: o.ts, text: o.text, at: this.now() });
    const m = this.messages.find((x) => x.ts === o.ts);
    if (m) Object.assign(m, { text: o.text, blocks: o.blocks });
  }

  /** Read-back calls, in order. */
  reads: Array<{ channel: string; threadTs?: string; sinceMs?: number; cursor?: string; at: number }> = [];
  /** Messages per read-back page. */
  pageSize = 100;

  async readBack(o: { channel: string; threadTs?: string; sinceMs?: number; cursor?: string }): Promise<ReadBackPage> {
    this.reads.push({ ...o, at: this.now() });
    this.fail(o.threadTs ? 'conversations.replies' : 'conversations.history');
    const list = this.messages.filter((m) => m.channel === o.channel && (o.threadTs ? m.threadTs === o.threadTs : !m.threadTs) && (o.sinceMs === undefined || m.at >= o.sinceMs));
    const start = o.cursor ? Number(o.cursor) : 0;
    const keys: Record<string, string> = {};
    for (const m of list.slice(start, start + this.pageSize)) for (const k of m.keys) keys[k] = m.ts;
    return start + this.pageSize < list.length ? { keys, cursor: String(start + this.pageSize) } : { keys };
  }

  async postEphemeral(): Promise<void> {}

  permalink(channel: string, ts: string): string {
    return `https://example.slack.com/archives/${channel}/p${ts.replace('.', '')}`;
  }
}
