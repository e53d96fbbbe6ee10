import type { EnvTarget } from '../catalog.js';
import type { ErrorSimRecord } from '../store-data.js';

/** Default `errorSimulation.ttl`. */
export const DEFAULT_ERROR_TTL_MS = 15 * 60_000;

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

/**
 * The error switch as other features use it (drills): switch on, switch off, and whether the bot's record says errors
 * may be on. The composition root hands them the error simulation's.
 */
export interface ErrorSwitch {
  switchOn(target: EnvTarget, req: SwitchRequest): Promise<SwitchOutcome>;
  switchOff(target: EnvTarget, req: SwitchRequest): Promise<SwitchOutcome>;
  /** Whether errors may be on in `<app>/<env>` as far as the bot switched them (a deadline is on record). */
  mayBeOn(envKey: string): Promise<boolean>;
}
