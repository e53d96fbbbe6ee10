import type { ErrorSimRecord } from '../store-data.js';

/** Who switches, and why: a person's command, the TTL deadline, or a drill. */
export interface SwitchRequest {
  /** Slack user id, `@login (GitHub)`, `ttl` or `drill`. */
  by: string;
  source: 'slack' | 'github' | 'schedule';
  why: 'command' | 'ttl' | 'drill';
  /** The drill that switches them on (shown on the banner). */
  drillId?: string;
}

/** What happened at the endpoint. `enabled` is what the endpoint last reported, when it answered. */
export type SwitchOutcome =
  | { ok: true; changed: boolean; enabled: boolean; record?: ErrorSimRecord; adopted?: boolean; warning?: string }
  | { ok: false; error: string; posted: boolean; enabled?: boolean };
