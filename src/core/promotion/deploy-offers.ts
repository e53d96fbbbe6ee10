import type { EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-types.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { Confirmation } from '../store-data.js';
import type { CardOutcome } from './render-card-outcome.js';

/**
 * What promotion needs from the chain between environments (the composition root wires the chain in): `/promote` with
 * nothing paused offers to bring the previous environment's proven tag, and a confirmed offer is run by the chain.
 */
export interface DeployOffers {
  /** Offers the previous environment's proven tag; undefined when the environment has no deploy block. */
  offer(o: { target: EnvTarget; ctx: CommandContext; current?: RolloutState; dryRun: boolean; force: boolean }): Promise<CommandReply | undefined>;
  /**
   * Runs a claimed deploy offer (`current` is the rollout as read just now); resolves to what its card shows in place
   * of its buttons (undefined: leave the card as it is).
   */
  confirmDeploy(c: Confirmation, user: string, current: RolloutState | undefined): Promise<CardOutcome | undefined>;
}
