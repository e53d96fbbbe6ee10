/**
 * The GitHub emulator's Checks API (check runs only), as GitHub Apps use it:
 * `POST /repos/{o}/{r}/check-runs`, `PATCH /repos/{o}/{r}/check-runs/{id}` and
 * `GET /repos/{o}/{r}/commits/{ref}/check-runs` (`{total_count, check_runs}`, filtered by `check_name`, `status` and
 * `filter=latest|all`, paginated with a `Link` header). Writing needs the installation permission `checks: write`,
 * reading `checks: read` or `write`; fields are validated as GitHub does (403 and 422 otherwise).
 */

/** A check run as the REST API returns it (trimmed to what a GitHub App sees of its own). */
export interface GitHubCheckRun {
  id: number;
  node_id: string;
  name: string;
  head_sha: string;
  external_id: string;
  url: string;
  html_url: string;
  details_url: string | null;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  started_at: string;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text: string | null; annotations_count: number; annotations_url: string };
  check_suite: { id: number };
  app: { id: number; slug: string; name: string };
  pull_requests: unknown[];
}

/** What the routes answer (the emulator's reply shape). */
export interface CheckRunReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  unexpected?: boolean;
}

/** One request as the routes see it: `rest` is the path after `/repos/{o}/{r}`. */
export interface CheckRunRequest {
  method: string;
  apiPath: string;
  rest: string;
  query: Record<string, string>;
  body: unknown;
}

const STATUSES = new Set(['queued', 'in_progress', 'completed']);
const CONCLUSIONS = new Set(['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out']);
/** GitHub's limit for `output.summary` and `output.text`. */
const TEXT_MAX = 65_535;
const DOCS = 'https://docs.github.com/enterprise-server@3.14/rest/checks/runs';

/** The check-run routes over one emulator's state; `handle` answers undefined for a path that is not theirs. */
export function checkRunRoutes(o: {
  origin: () => string;
  /** The app whose installation writes (the only one the emulator serves). */
  app: () => { id: number; slug: string };
  permission: () => string | undefined;
  nextId: () => number;
  /** A ref (sha, prefix, branch) to the full sha, when the repo knows it. */
  resolveSha: (repo: string, ref: string) => string | undefined;
}) {
  const runs: Array<GitHubCheckRun & { repoKey: string }> = [];
  const suites = new Map<string, number>();
  const json = ({ repoKey: _r, ...run }: GitHubCheckRun & { repoKey: string }): GitHubCheckRun => structuredClone(run);
  const denied: CheckRunReply = { status: 403, body: { message: 'Resource not accessible by integration', documentation_url: DOCS } };
  const invalid = (message: string, errors?: unknown[]): CheckRunReply => ({ status: 422, body: { message, ...(errors ? { errors } : {}), documentation_url: DOCS } });

  /** The body's fields GitHub validates; an answer when one is wrong. */
  function validate(body: Record<string, unknown>, creating: boolean): CheckRunReply | undefined {
    if (creating || body.name !== undefined) {
      if (typeof body.name !== 'string' || body.name.trim() === '') return invalid('Invalid request.\n\n"name" wasn\'t supplied.');
    }
    if (creating && (typeof body.head_sha !== 'string' || !/^[0-9a-f]{40}$/i.test(body.head_sha))) {
      return typeof body.head_sha === 'string' ? invalid(`No commit found for SHA: ${body.head_sha}`) : invalid('Invalid request.\n\n"head_sha" wasn\'t supplied.');
    }
    if (body.status !== undefined && !STATUSES.has(String(body.status))) return invalid('Invalid request.\n\nFor \'properties/status\', "' + String(body.status) + '" is not a member of the allowed values.');
    if (body.conclusion !== undefined && !CONCLUSIONS.has(String(body.conclusion))) return invalid('Invalid request.\n\nFor \'properties/conclusion\', "' + String(body.conclusion) + '" is not a member of the allowed values.');
    if (body.status === 'completed' && body.conclusion === undefined) return invalid('Validation Failed', [{ resource: 'CheckRun', code: 'missing_field', field: 'conclusion' }]);
    for (const field of ['external_id', 'details_url', 'started_at', 'completed_at'] as const) {
      if (body[field] !== undefined && typeof body[field] !== 'string') return invalid(`Invalid request.\n\nFor 'properties/${field}', ${JSON.stringify(body[field])} is not a string.`);
    }
    if (body.output !== undefined) {
      const out = (typeof body.output === 'object' && body.output !== null ? body.output : {}) as Record<string, unknown>;
      if (typeof out.title !== 'string') return invalid('Invalid request.\n\n"title" wasn\'t supplied.');
      if (typeof out.summary !== 'string') return invalid('Invalid request.\n\n"summary" wasn\'t supplied.');
      for (const field of ['summary', 'text'] as const) {
        const v = out[field];
        if (v !== undefined && typeof v !== 'string') return invalid(`Invalid request.\n\nFor 'properties/${field}', ${JSON.stringify(v)} is not a string.`);
        if (typeof v === 'string' && v.length > TEXT_MAX) return invalid('Invalid request.\n\nOnly 65535 characters are allowed; ' + v.length + ' were supplied.');
      }
    }
    return undefined;
  }

  /** Applies the body's fields to a run (creation or update), GitHub's way: a conclusion completes it. */
  function apply(run: GitHubCheckRun, body: Record<string, unknown>): void {
    if (typeof body.name === 'string') run.name = body.name;
    if (typeof body.external_id === 'string') run.external_id = body.external_id;
    if (typeof body.details_url === 'string') run.details_url = body.details_url;
    if (typeof body.started_at === 'string') run.started_at = body.started_at;
    if (typeof body.status === 'string') run.status = body.status as GitHubCheckRun['status'];
    if (typeof body.conclusion === 'string') {
      run.conclusion = body.conclusion;
      run.status = 'completed';
    }
    if (run.status === 'completed') run.completed_at = typeof body.completed_at === 'string' ? body.completed_at : (run.completed_at ?? new Date().toISOString());
    if (body.output !== undefined) {
      const out = body.output as Record<string, unknown>;
      run.output = { ...run.output, title: out.title as string, summary: out.summary as string, text: typeof out.text === 'string' ? out.text : null };
    }
  }

  function list(req: CheckRunRequest, repo: { fullName: string }, ref: string): CheckRunReply {
    const repoKey = repo.fullName.toLowerCase();
    const sha = o.resolveSha(repo.fullName, ref) ?? ref.toLowerCase();
    let found = runs.filter((r) => r.repoKey === repoKey && r.head_sha === sha);
    if (req.query.check_name !== undefined) found = found.filter((r) => r.name === req.query.check_name);
    if (req.query.status !== undefined) found = found.filter((r) => r.status === req.query.status);
    // `latest` (the default): only the most recent run of each name.
    if ((req.query.filter ?? 'latest') === 'latest') found = found.filter((r) => !found.some((x) => x.name === r.name && x.id > r.id));
    found = [...found].reverse();
    const perPage = Math.min(Number(req.query.per_page ?? 30) || 30, 100);
    const page = Math.max(Number(req.query.page ?? 1) || 1, 1);
    const headers: Record<string, string> = {};
    if (page * perPage < found.length) {
      const next = new URLSearchParams({ ...req.query, per_page: String(perPage), page: String(page + 1) });
      headers.link = `<${o.origin()}/api/v3${req.apiPath}?${next.toString()}>; rel="next"`;
    }
    return { status: 200, headers, body: { total_count: found.length, check_runs: found.slice((page - 1) * perPage, page * perPage).map(json) } };
  }

  function handle(req: CheckRunRequest, repo: { fullName: string }): CheckRunReply | undefined {
    const repoKey = repo.fullName.toLowerCase();
    const body = (typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) ? req.body : {}) as Record<string, unknown>;
    const listMatch = /^\/commits\/([^/]+)\/check-runs$/.exec(req.rest);
    if (listMatch) {
      if (req.method !== 'GET') return { status: 404, body: { message: 'Not Found' }, unexpected: true };
      if (o.permission() === undefined) return denied;
      return list(req, repo, decodeURIComponent(listMatch[1] ?? ''));
    }
    if (req.rest === '/check-runs' && req.method === 'POST') {
      if (o.permission() !== 'write') return denied;
      const bad = validate(body, true);
      if (bad) return bad;
      const id = o.nextId();
      const sha = String(body.head_sha).toLowerCase();
      const suiteKey = `${repoKey}@${sha}`;
      if (!suites.has(suiteKey)) suites.set(suiteKey, o.nextId());
      const apiRepo = `${o.origin()}/api/v3/repos/${repo.fullName}`;
      const run: GitHubCheckRun & { repoKey: string } = {
        id,
        node_id: `CR_kwDO${id}`,
        name: '',
        head_sha: sha,
        external_id: '',
        url: `${apiRepo}/check-runs/${id}`,
        html_url: `${o.origin()}/${repo.fullName}/runs/${id}`,
        details_url: null,
        status: 'queued',
        conclusion: null,
        started_at: new Date().toISOString(),
        completed_at: null,
        output: { title: null, summary: null, text: null, annotations_count: 0, annotations_url: `${apiRepo}/check-runs/${id}/annotations` },
        check_suite: { id: suites.get(suiteKey)! },
        app: { ...o.app(), name: o.app().slug },
        pull_requests: [],
        repoKey,
      };
      apply(run, body);
      runs.push(run);
      return { status: 201, body: json(run) };
    }
    const one = /^\/check-runs\/(\d+)$/.exec(req.rest);
    if (one && req.method === 'PATCH') {
      if (o.permission() !== 'write') return denied;
      const run = runs.find((r) => r.id === Number(one[1]) && r.repoKey === repoKey);
      if (run === undefined) return { status: 404, body: { message: 'Not Found', documentation_url: DOCS } };
      const bad = validate(body, false);
      if (bad) return bad;
      apply(run, body);
      return { status: 200, body: json(run) };
    }
    if (req.rest.startsWith('/check-runs')) return { status: 404, body: { message: 'Not Found' }, unexpected: true };
    return undefined;
  }

  return {
    handle,
    /** Every check run created on a repo (or on all), oldest first, as they stand now. */
    list: (repo?: string): GitHubCheckRun[] => runs.filter((r) => repo === undefined || r.repoKey === repo.toLowerCase()).map(json),
  };
}
