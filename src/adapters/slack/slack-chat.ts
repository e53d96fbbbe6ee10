import type { WebClient } from '@slack/web-api';
import type { ChatContent, ChatPort, ReadBackPage } from '../../core/ports.js';
import { ServiceError } from '../../core/ports.js';
import { toServiceError } from './to-service-error.js';

/** Slack message metadata type that marks our messages and carries the keys of what they announce. */
export const METADATA_TYPE = 'rollout_chatops';

interface SlackMessageLike { ts?: string; metadata?: { event_type?: string; event_payload?: { key?: unknown } } }

/** The chat port over Slack's Web API. `client` must be built with rejectRateLimitedCalls and no retries: the outbox retries. */
export class SlackChat implements ChatPort {
  private workspaceUrl = 'https://slack.com/';
  constructor(private readonly client: WebClient) {}

  /** Learns the workspace URL (for permalinks) and checks the token; call once at start-up. */
  async init(): Promise<{ userId?: string; team?: string }> {
    try {
      const res = await this.client.auth.test();
      if (typeof res.url === 'string') this.workspaceUrl = res.url.endsWith('/') ? res.url : `${res.url}/`;
      return { userId: res.user_id, team: res.team };
    } catch (err) {
      throw toServiceError(err, 'auth.test');
    }
  }

  async postMessage(o: ChatContent & { channel: string; threadTs?: string; broadcast?: boolean; keys: string[] }): Promise<{ ts: string }> {
    try {
      const res = await this.client.chat.postMessage({
        channel: o.channel,
        text: o.text,
        ...(o.blocks ? { blocks: o.blocks as never } : {}),
        ...(o.threadTs ? { thread_ts: o.threadTs } : {}),
        ...(o.broadcast ? { reply_broadcast: true } : {}),
        unfurl_links: false,
        unfurl_media: false,
        metadata: { event_type: METADATA_TYPE, event_payload: { key: o.keys.join(' ') } },
      } as never);
      // Slack answered, but without a ts there is no message to thread under or find again: counted as not posted.
      if (!res.ts) throw new ServiceError('slack', 'chat.postMessage answered without a ts', { code: 'no_ts', rejected: true });
      return { ts: res.ts };
    } catch (err) {
      if (err instanceof ServiceError) throw err;
      throw toServiceError(err, 'chat.postMessage');
    }
  }

  async updateMessage(o: ChatContent & { channel: string; ts: string; keys: string[] }): Promise<void> {
    try {
      await this.client.chat.update({
        channel: o.channel,
        ts: o.ts,
        text: o.text,
        ...(o.blocks ? { blocks: o.blocks as never } : {}),
        metadata: { event_type: METADATA_TYPE, event_payload: { key: o.keys.join(' ') } },
      } as never);
    } catch (err) {
      throw toServiceError(err, 'chat.update');
    }
  }

  async readBack(o: { channel: string; threadTs?: string; sinceMs?: number; cursor?: string }): Promise<ReadBackPage> {
    const oldest = o.sinceMs !== undefined ? { oldest: (Math.max(0, o.sinceMs) / 1000).toFixed(6) } : {};
    try {
      // Slack caps `limit` (at 15 for apps under the 1-request-a-minute history limit); the cursor carries on from there.
      const res = o.threadTs
        ? await this.client.conversations.replies({ channel: o.channel, ts: o.threadTs, include_all_metadata: true, limit: 200, ...oldest, ...(o.cursor ? { cursor: o.cursor } : {}) })
        : await this.client.conversations.history({ channel: o.channel, include_all_metadata: true, limit: 200, ...oldest, ...(o.cursor ? { cursor: o.cursor } : {}) });
      const keys: Record<string, string> = {};
      for (const m of (res.messages as SlackMessageLike[] | undefined) ?? []) {
        const key = m.metadata?.event_type === METADATA_TYPE ? m.metadata.event_payload?.key : undefined;
        if (typeof key !== 'string' || !m.ts) continue;
        for (const k of key.split(' ')) if (k) keys[k] = m.ts;
      }
      const cursor = res.response_metadata?.next_cursor || undefined;
      return cursor ? { keys, cursor } : { keys };
    } catch (err) {
      throw toServiceError(err, o.threadTs ? 'conversations.replies' : 'conversations.history');
    }
  }

  async postEphemeral(o: ChatContent & { channel: string; user: string; threadTs?: string }): Promise<void> {
    try {
      await this.client.chat.postEphemeral({
        channel: o.channel,
        user: o.user,
        text: o.text,
        ...(o.blocks ? { blocks: o.blocks as never } : {}),
        ...(o.threadTs ? { thread_ts: o.threadTs } : {}),
      });
    } catch (err) {
      throw toServiceError(err, 'chat.postEphemeral');
    }
  }

  permalink(channel: string, ts: string): string {
    return `${this.workspaceUrl}archives/${channel}/p${ts.replace('.', '')}`;
  }
}
