import { z } from 'zod';

const id = z.string().min(1);
/** Slack sends some ids as strings and some objects as `null`; Bolt reads both with `in` and `.id`, so nothing else will do. */
const objectOrNull = z.union([z.looseObject({}), z.null()]);

/** A slash command (form-encoded): what the listeners and Bolt's routing read. */
export const SlashCommandBody = z.looseObject({
  /** `/promote`, `/rollout`, `/errors`. */
  command: z.string().startsWith('/'),
  /** What follows the command; may be empty. */
  text: z.string().optional(),
  /** Who typed it: every permission check starts here. */
  user_id: id,
  /** Where it was typed. */
  channel_id: id,
  /** Where follow-up answers go. */
  response_url: z.url(),
  /** One per invocation: the identity replays are recognised by. */
  trigger_id: id.optional(),
  team_id: z.string().optional(),
  enterprise_id: z.string().optional(),
});
export type SlashCommandBody = z.infer<typeof SlashCommandBody>;

/** A message event's fields the thread listener reads; Bolt reads `channel`, `user`, `item` and `subteam` with `in`. */
const Event = z.looseObject({
  type: id,
  subtype: z.string().optional(),
  channel: z.union([z.string(), z.looseObject({})]).optional(),
  user: z.union([z.string(), z.looseObject({})]).optional(),
  text: z.string().optional(),
  ts: z.string().optional(),
  thread_ts: z.string().optional(),
  bot_id: z.string().optional(),
  item: z.looseObject({}).optional(),
  subteam: z.looseObject({}).optional(),
});

/** An Events API delivery. */
export const EventCallbackBody = z.looseObject({
  type: z.literal('event_callback'),
  /** Slack's id of the event: thread messages are deduplicated by it. */
  event_id: id,
  event: Event,
  team_id: z.string().optional(),
  authorizations: z.array(z.looseObject({ team_id: z.string().nullable().optional(), enterprise_id: z.string().nullable().optional() })).optional(),
});
export type EventCallbackBody = z.infer<typeof EventCallbackBody>;

/** The handshake when the events URL is saved. */
export const UrlVerificationBody = z.looseObject({ type: z.literal('url_verification'), challenge: z.string() });
export type UrlVerificationBody = z.infer<typeof UrlVerificationBody>;

/** A button press (`payload=` JSON): what the action listener and Bolt's routing read. */
export const BlockActionsBody = z.looseObject({
  type: z.literal('block_actions'),
  /** One per press: the identity replays are recognised by. */
  trigger_id: id.optional(),
  user: z.looseObject({ id, team_id: z.string().optional() }),
  actions: z.array(z.looseObject({ action_id: id, block_id: z.string().optional(), value: z.string().optional(), action_ts: z.string().optional() })).min(1),
  channel: z.looseObject({ id: z.string() }).optional(),
  container: z.looseObject({ channel_id: z.string().optional(), message_ts: z.string().optional(), thread_ts: z.string().optional() }).optional(),
  message: z.looseObject({ ts: z.string().optional(), thread_ts: z.string().optional() }).optional(),
  response_url: z.url().optional(),
  team: objectOrNull.optional(),
  enterprise: objectOrNull.optional(),
});
export type BlockActionsBody = z.infer<typeof BlockActionsBody>;

/** A signed Slack request, sorted by what it is. `ignored` is a kind of request the bot has no listener for. */
export type SlackPayload =
  | { kind: 'command'; body: SlashCommandBody }
  | { kind: 'event'; body: EventCallbackBody }
  | { kind: 'url_verification'; body: UrlVerificationBody }
  | { kind: 'block_actions'; body: BlockActionsBody }
  | { kind: 'ignored'; type: string };

/**
 * Sorts a parsed, signed Slack body the way Bolt routes it (event, command, action), and checks the fields the bot and
 * Bolt read, so that nothing malformed reaches a listener. Problems name paths and codes, never values.
 */
export function parseSlackPayload(body: unknown): { ok: true; payload: SlackPayload } | { ok: false; problems: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, problems: [`body: expected an object (got ${body === null ? 'null' : Array.isArray(body) ? 'array' : typeof body})`] };
  const b = body as Record<string, unknown>;
  // Bolt routes by whichever of these it finds first (event, then command, then actions): a body with two of them
  // would be checked as one kind and handled as another, so it is refused.
  const kinds = (['event', 'command', 'actions'] as const).filter((k) => k in b);
  if (kinds.length > 1) return { ok: false, problems: [`body: holds ${kinds.join(' and ')} (a Slack payload is one kind)`] };
  if (b.type === 'url_verification') return check(UrlVerificationBody, b, (body) => ({ kind: 'url_verification', body }));
  if ('event' in b || b.type === 'event_callback') return check(EventCallbackBody, b, (body) => ({ kind: 'event', body }));
  if ('command' in b) return check(SlashCommandBody, b, (body) => ({ kind: 'command', body }));
  if ('actions' in b || b.type === 'block_actions') return check(BlockActionsBody, b, (body) => ({ kind: 'block_actions', body }));
  if (typeof b.type === 'string' && b.type) return { ok: true, payload: { kind: 'ignored', type: b.type } };
  return { ok: false, problems: ['type: expected a Slack payload type'] };
}

function check<T>(schema: z.ZodType<T>, body: unknown, wrap: (body: T) => SlackPayload): { ok: true; payload: SlackPayload } | { ok: false; problems: string[] } {
  const r = schema.safeParse(body);
  if (r.success) return { ok: true, payload: wrap(r.data) };
  return { ok: false, problems: r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.code}`) };
}
