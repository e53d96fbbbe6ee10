import type { RepoHost } from '../ports.js';
import { ServiceError } from '../ports.js';
import type { CheckRunMark } from './deployment-mark.js';
import type { ReportCheckPlan } from './plan-report-checks.js';

/**
 * Brings one report check run on GitHub to `want`, converging like the deployment itself: a known check run is
 * updated in place; one whose creation was asked without an answer (`creatingAt`) is looked up by name and
 * `external_id` first, and updated when found; only then is one created, with `creatingAt` saved (and flushed) just
 * before. A refusal for good (401/403) is saved as `refused` and thrown; any other failure is thrown as it came.
 */
export async function ensureReportCheck(o: {
  repoHost: RepoHost;
  repo: string;
  sha: string;
  known: CheckRunMark | undefined;
  want: ReportCheckPlan;
  now: number;
  save: (mark: CheckRunMark) => Promise<void>;
}): Promise<CheckRunMark> {
  const { repoHost, repo, sha, known, want } = o;
  const { name, externalId } = want.check;
  try {
    let id = known?.id;
    if (id === undefined && known?.creatingAt !== undefined) id = (await repoHost.findCheckRun({ repo, sha, name: known.name, externalId }))?.id;
    let ref;
    if (id !== undefined) {
      ref = await repoHost.updateCheckRun({ repo, id, check: want.check });
    } else {
      await o.save({ name, externalId, creatingAt: o.now });
      ref = await repoHost.createCheckRun({ repo, sha, check: want.check });
    }
    const done: CheckRunMark = { name, externalId, id: ref.id, url: ref.url, digest: want.digest };
    await o.save(done);
    return done;
  } catch (err) {
    // Refused outright, nothing was created: the deploy's statuses go on without the report.
    if (err instanceof ServiceError && err.permanent && known?.id === undefined) await o.save({ name, externalId, refused: true });
    throw err;
  }
}
