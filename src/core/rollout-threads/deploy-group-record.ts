/** One deploy of a several-rollout environment: the rollouts' revisions built from one commit, in one Slack thread. */
export interface DeployGroup {
  /** The short or full sha the tags name (undefined when a tag names none). */
  sha?: string;
  /** Rollout name → the thread key of its revision in this deploy. */
  members: Record<string, string>;
}
