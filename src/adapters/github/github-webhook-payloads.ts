import { z } from 'zod';

/**
 * The fields of GitHub webhook payloads that the bot (and Probot, which reads `action` and `installation.id`) reads,
 * and nothing else: GitHub adds fields all the time, so unknown keys pass, but a payload without what the handlers
 * read is refused with 400 at the edge instead of failing half-way through a handler.
 */

const Installation = z.object({ id: z.number().int().positive() }).nullish();
const Repository = z.object({
  full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be owner/name'),
  default_branch: z.string().optional(),
  master_branch: z.string().optional(),
});
const Timestamp = z.string().refine((s) => Number.isFinite(Date.parse(s)), 'must be an ISO 8601 time');

/** Every event: a JSON object (Probot reads `action` and `installation.id` before any handler). */
export const AnyWebhookPayload = z.looseObject({
  action: z.string().optional(),
  installation: Installation,
});
export type AnyWebhookPayload = z.infer<typeof AnyWebhookPayload>;

/** `push`: the commits to record. */
export const PushWebhookPayload = z.looseObject({
  ref: z.string(),
  repository: Repository,
  installation: Installation,
  commits: z.array(z.object({
    id: z.string().regex(/^[0-9a-f]{40}$/i, 'must be a commit sha'),
    message: z.string(),
    url: z.string(),
    timestamp: z.string(),
    author: z.object({ name: z.string(), username: z.string().optional() }),
  })),
});
export type PushWebhookPayload = z.infer<typeof PushWebhookPayload>;

const CommentUser = z.object({ login: z.string(), type: z.string().optional() });

/** `issue_comment` with action `created`: the comment to read commands from. Other actions are not read. */
export const IssueCommentWebhookPayload = z.looseObject({
  action: z.literal('created'),
  repository: Repository,
  installation: Installation,
  issue: z.object({ number: z.number().int().positive(), pull_request: z.looseObject({}).nullish() }),
  comment: z.object({
    id: z.number().int().positive(),
    body: z.string().nullable(),
    html_url: z.string().optional(),
    user: CommentUser.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  sender: z.object({ type: z.string().optional() }).optional(),
});
export type IssueCommentWebhookPayload = z.infer<typeof IssueCommentWebhookPayload>;

/** A delivery the bot reads, with its payload checked against the schema of its event; `other` is one it does not read. */
export type ReadWebhook =
  | { kind: 'push'; payload: PushWebhookPayload }
  | { kind: 'issue_comment.created'; payload: IssueCommentWebhookPayload }
  | { kind: 'other' };

/**
 * Checks a parsed payload against what the bot reads of its event, once: the checked payload, or why it is refused
 * (paths and messages, never values).
 */
export function readWebhook(event: string, payload: unknown): { ok: true; read: ReadWebhook } | { ok: false; problem: string } {
  const base = AnyWebhookPayload.safeParse(payload);
  if (!base.success || Array.isArray(payload)) return { ok: false, problem: 'the payload must be a JSON object' };
  if (event === 'push') return checked(PushWebhookPayload, payload, (p) => ({ kind: 'push', payload: p }));
  if (event === 'issue_comment' && base.data.action === 'created') return checked(IssueCommentWebhookPayload, payload, (p) => ({ kind: 'issue_comment.created', payload: p }));
  return { ok: true, read: { kind: 'other' } };
}

function checked<T>(schema: z.ZodType<T>, payload: unknown, wrap: (p: T) => ReadWebhook): { ok: true; read: ReadWebhook } | { ok: false; problem: string } {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return { ok: true, read: wrap(parsed.data) };
  return { ok: false, problem: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ') };
}
