/** A GitHub deployment (or commit) status as posted: what is compared to decide whether to post again. */
export interface PostedStatus {
  state: string;
  description: string;
  /** `environment_url` (deployment) or unused (commit status). */
  environmentUrl?: string;
  /** The thread link sent as `log_url` / `target_url`. */
  link?: string;
}

/**
 * A report check run written for a deploy thread (its own report, or the whole chain's in the chain's last
 * environment). Kept like the deployment: `creatingAt` before asking, the id once GitHub answered, so a restart or a
 * lost answer finds it again (by name and `external_id`) instead of writing a second one.
 */
export interface CheckRunMark {
  /** The check run's name as GitHub shows it and as it is looked up by (`rollout-chatops report: qa`). */
  name: string;
  /** Its `external_id`: the thread key (`#chain` appended for the chain's report). */
  externalId: string;
  /** The check run, once GitHub answered its creation (or it was found again). */
  id?: number;
  /** Its page on GitHub (`html_url`): the final deployment status's `log_url`. */
  url?: string;
  /** Set (and flushed) just before asking GitHub to create it: after a crash it may exist without an id here. */
  creatingAt?: number;
  /** A digest of the report last written: a changed report (the deploy ended again) updates the same check run. */
  digest?: string;
  /**
   * GitHub refused it for good (401/403: the app lacks `checks: write`): not asked again for this deploy, whose
   * statuses go without the report; the next deploy asks again.
   */
  refused?: boolean;
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
  /** The deploy's report as a check run on the commit, once the deploy ended. */
  report?: CheckRunMark;
  /** The chain's report (every environment of the tag), in the chain's last environment only. */
  chainReport?: CheckRunMark;
}
