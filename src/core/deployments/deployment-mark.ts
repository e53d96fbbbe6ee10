/** A GitHub deployment (or commit) status as posted: what is compared to decide whether to post again. */
export interface PostedStatus {
  state: string;
  description: string;
  /** `environment_url` (deployment) or unused (commit status). */
  environmentUrl?: string;
  /** The thread link sent as `log_url` / `target_url`. */
  link?: string;
}

/** What was created and posted on GitHub for one deploy thread (durable: a restart neither repeats nor forgets). */
export interface DeploymentMark {
  app: string;
  env: string;
  /** `owner/name` of the app's repo. */
  repo: string;
  /** Full sha of the deployed commit. */
  sha: string;
  /** The GitHub deployment, once GitHub answered its creation. */
  deploymentId?: number;
  /** Set (and flushed) just before asking GitHub to create it: after a crash it may exist without an id here. */
  creatingAt?: number;
  /** The last deployment status posted. */
  deployment?: PostedStatus;
  /** The last commit status posted (context `rollout-chatops/<env>`). */
  commit?: PostedStatus;
}
