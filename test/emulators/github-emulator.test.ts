import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeMiddleware, createProbot, Probot, ProbotOctokit, type ApplicationFunction } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueCommentPayload, pushPayload, sendWebhook, signGitHubPayload } from '../../emulators/clients/github-webhooks.js';
import { startGitHubEmulator, type GitHubEmulator } from '../../emulators/github-emulator.js';

const APP_ID = 4242;
const REPO = 'acme/voting01';
const SECRET = 'webhook-secret';
/**
 * Retry and throttling off. It must be the function form: Probot 14.3.2 wraps the class with its own defaults whose
 * `throttle` object (no `enabled` key) shallowly replaces an object-form `throttle: {enabled:false}`, so throttling
 * stays on and comments go out 3 s apart (the plugin's "notifications" group). A function runs last and wins.
 */
const TestOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  retry: { enabled: false },
  throttle: { enabled: false },
}));

/** GitHub hands out PKCS#1 keys ("BEGIN RSA PRIVATE KEY"); Probot converts them itself. */
function rsaKeyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
}

const appKey = rsaKeyPair();

function probotFor(gh: GitHubEmulator, privateKey = appKey.privateKey): Probot {
  return new Probot({ appId: APP_ID, privateKey, secret: SECRET, baseUrl: gh.apiUrl, logLevel: 'fatal', Octokit: TestOctokit });
}

/** What the bot does with a PR comment: check permission, react with 👀, answer. */
const commentBot: ApplicationFunction = (app) => {
  app.on('issue_comment.created', async (context) => {
    const username = context.payload.comment.user?.login ?? '';
    const { data } = await context.octokit.rest.repos.getCollaboratorPermissionLevel(context.repo({ username }));
    await context.octokit.rest.reactions.createForIssueComment(
      context.repo({ comment_id: context.payload.comment.id, content: 'eyes' as const }),
    );
    await context.octokit.rest.issues.createComment(context.issue({ body: `${username} has ${data.permission}` }));
  });
};

const prComment = (login = 'alice') =>
  issueCommentPayload({ repo: REPO, issueNumber: 7, isPullRequest: true, body: '/promote staging', user: { login }, commentId: 555 });

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('GitHub emulator with a real Probot app', () => {
  let gh: GitHubEmulator;

  beforeEach(async () => {
    gh = await startGitHubEmulator();
    gh.registerApp({ appId: APP_ID, publicKeyPem: appKey.publicKey });
    gh.setPermission(REPO, 'alice', 'write');
  });

  afterEach(async () => {
    await gh.close();
  });

  it('exchanges a verified app JWT for an installation token and uses that token on repo calls', async () => {
    const probot = probotFor(gh);
    await probot.load(commentBot);

    await probot.receive({ id: 'd-1', name: 'issue_comment', payload: prComment() as never });

    const [exchange, ...repoCalls] = gh.calls;
    expect(exchange).toMatchObject({ method: 'POST', path: '/api/v3/app/installations/1/access_tokens', status: 201 });
    expect(exchange?.authorization).toMatch(/^bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(repoCalls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      'GET /api/v3/repos/acme/voting01/collaborators/alice/permission 200',
      'POST /api/v3/repos/acme/voting01/issues/comments/555/reactions 201',
      'POST /api/v3/repos/acme/voting01/issues/7/comments 201',
    ]);
    expect(repoCalls.every((c) => /^token ghs_\w+$/.test(c.authorization ?? ''))).toBe(true);
  });

  it('stores the reaction and the bot comment a PR comment handler creates', async () => {
    const probot = probotFor(gh);
    await probot.load(commentBot);

    await probot.receive({ id: 'd-1', name: 'issue_comment', payload: prComment() as never });

    expect(gh.reactions(555)).toEqual([expect.objectContaining({ content: 'eyes' })]);
    expect(gh.comments(REPO, 7)).toEqual([
      expect.objectContaining({ body: 'alice has write', user: expect.objectContaining({ login: 'rollout-chatops[bot]', type: 'Bot' }) }),
    ]);
    expect(gh.unexpectedCalls()).toEqual([]);
  });

  it('folds the maintain role into write permission and keeps the role name', async () => {
    gh.setPermission(REPO, 'mia', 'maintain');
    const octokit = await probotFor(gh).auth(1);

    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner: 'acme', repo: 'voting01', username: 'mia' });

    expect(data).toMatchObject({ permission: 'write', role_name: 'maintain', user: { login: 'mia' } });
  });

  it('answers 404 for a user no test registered', async () => {
    const octokit = await probotFor(gh).auth(1);

    const err = await thrown(() =>
      octokit.rest.repos.getCollaboratorPermissionLevel({ owner: 'acme', repo: 'voting01', username: 'mallory' }),
    );

    expect(err).toMatchObject({ status: 404 });
  });

  it('answers team memberships like GitHub: active, pending, 404 for a non-member, and records each call', async () => {
    gh.addTeamMember('acme', 'sre', 'carol');
    gh.addTeamMember('acme', 'sre', 'dave', 'pending');
    const octokit = await probotFor(gh).auth(1);

    const carol = await octokit.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'sre', username: 'carol' });
    const dave = await octokit.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'sre', username: 'dave' });
    const erin = await thrown(() => octokit.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'sre', username: 'erin' }));

    expect([carol.data.state, dave.data.state]).toEqual(['active', 'pending']);
    expect(erin).toMatchObject({ status: 404 });
    expect(gh.calls.filter((c) => c.path.includes('/teams/')).map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      'GET /api/v3/orgs/acme/teams/sre/memberships/carol 200',
      'GET /api/v3/orgs/acme/teams/sre/memberships/dave 200',
      'GET /api/v3/orgs/acme/teams/sre/memberships/erin 404',
    ]);
    expect(gh.unexpectedCalls()).toEqual([]);
  });

  it('refuses team memberships to an installation without the members permission, and counts unknown teams as unexpected', async () => {
    const noMembers = await startGitHubEmulator({ permissions: { metadata: 'read', issues: 'write' } });
    noMembers.registerApp({ appId: APP_ID, publicKeyPem: appKey.publicKey });
    noMembers.addTeamMember('acme', 'sre', 'carol');
    const octokit = await probotFor(noMembers).auth(1);
    expect(await thrown(() => octokit.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'sre', username: 'carol' }))).toMatchObject({ status: 403 });
    await noMembers.close();

    const octokit2 = await probotFor(gh).auth(1);
    expect(await thrown(() => octokit2.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'nope', username: 'carol' }))).toMatchObject({ status: 404 });
    expect(gh.unexpectedCalls().map((c) => c.path)).toEqual(['/api/v3/orgs/acme/teams/nope/memberships/carol']);
  });

  it('rejects an app JWT signed by a key other than the registered one', async () => {
    const probot = probotFor(gh, rsaKeyPair().privateKey);
    await probot.load(commentBot);

    const err = await thrown(() => probot.receive({ id: 'd-1', name: 'issue_comment', payload: prComment() as never }));

    expect((err as AggregateError).errors[0]).toMatchObject({ status: 401 });
    expect(gh.calls.map((c) => `${c.path} ${c.status}`)).toEqual(['/api/v3/app/installations/1/access_tokens 401']);
  });

  it('accepts any JWT-shaped bearer token when no app key is registered', async () => {
    const open = await startGitHubEmulator();
    try {
      open.setPermission(REPO, 'alice', 'admin');
      const probot = probotFor(open, rsaKeyPair().privateKey);
      await probot.load(commentBot);

      await probot.receive({ id: 'd-1', name: 'issue_comment', payload: prComment() as never });

      expect(open.comments(REPO, 7).map((c) => c.body)).toEqual(['alice has admin']);
    } finally {
      await open.close();
    }
  });

  it('answers 401 to repo calls without a valid installation token', async () => {
    const noToken = await fetch(`${gh.apiUrl}/repos/acme/voting01`);
    const wrongToken = await fetch(`${gh.apiUrl}/repos/acme/voting01`, { headers: { authorization: 'token ghs_made_up' } });

    expect([noToken.status, wrongToken.status]).toEqual([401, 401]);
    expect(await noToken.json()).toMatchObject({ message: 'Bad credentials' });
  });

  it('accepts a static token for a Probot built with githubToken', async () => {
    const withStatic = await startGitHubEmulator({ staticTokens: ['ghs_static'] });
    try {
      withStatic.addRepo(REPO, { defaultBranch: 'trunk' });
      const probot = new Probot({ githubToken: 'ghs_static', baseUrl: withStatic.apiUrl, logLevel: 'fatal', Octokit: TestOctokit });
      const octokit = await probot.auth();

      const { data } = await octokit.rest.repos.get({ owner: 'acme', repo: 'voting01' });

      expect(data).toMatchObject({ full_name: REPO, default_branch: 'trunk', owner: { login: 'acme' } });
    } finally {
      await withStatic.close();
    }
  });

  it('answers app info and the repo installation to app-authenticated calls', async () => {
    const appOctokit = await probotFor(gh).auth();

    const app = await appOctokit.rest.apps.getAuthenticated();
    const installation = await appOctokit.rest.apps.getRepoInstallation({ owner: 'acme', repo: 'voting01' });

    expect(app.data).toMatchObject({ id: APP_ID, slug: 'rollout-chatops' });
    expect(installation.data.id).toBe(1);
  });

  it('serves the /api/v3 layout that createProbot builds from GHE_HOST and GHE_PROTOCOL', async () => {
    const probot = createProbot({
      env: {
        APP_ID: String(APP_ID),
        PRIVATE_KEY: appKey.privateKey,
        WEBHOOK_SECRET: SECRET,
        GHE_HOST: gh.host,
        GHE_PROTOCOL: 'http',
        LOG_LEVEL: 'fatal',
      },
      overrides: { Octokit: TestOctokit },
    });
    await probot.load(commentBot);

    await probot.receive({ id: 'd-1', name: 'issue_comment', payload: prComment() as never });

    expect(gh.comments(REPO, 7)).toHaveLength(1);
  });

  describe('commits', () => {
    it('finds a commit by full sha, by a 7-char prefix and by branch name', async () => {
      const sha = gh.addCommit(REPO, {
        message: 'Make the vote button blue',
        author: { name: 'Alice', email: 'alice@example.com', login: 'alice' },
      });
      const octokit = await probotFor(gh).auth(1);

      const refs = [sha, sha.slice(0, 7), 'main'];
      const found = await Promise.all(refs.map((ref) => octokit.rest.repos.getCommit({ owner: 'acme', repo: 'voting01', ref })));

      expect(found.map((r) => r.data.sha)).toEqual([sha, sha, sha]);
      expect(found[0]?.data).toMatchObject({
        commit: { message: 'Make the vote button blue', author: { name: 'Alice', email: 'alice@example.com' } },
        author: { login: 'alice' },
      });
    });

    it('answers 422 "No commit found for SHA" for an unknown ref', async () => {
      gh.addRepo(REPO);
      const octokit = await probotFor(gh).auth(1);

      const err = await thrown(() => octokit.rest.repos.getCommit({ owner: 'acme', repo: 'voting01', ref: 'deadbee' }));

      expect(err).toMatchObject({ status: 422, response: { data: { message: 'No commit found for SHA: deadbee' } } });
    });

    it('shows a null author for a commit GitHub could not match to an account', async () => {
      const sha = gh.addCommit(REPO, { message: 'Bump deps', author: { name: 'CI', email: 'ci@example.com' } });
      const octokit = await probotFor(gh).auth(1);

      const { data } = await octokit.rest.repos.getCommit({ owner: 'acme', repo: 'voting01', ref: sha });

      expect(data.author).toBeNull();
    });
  });

  describe('comments', () => {
    it('edits a bot comment in place and lists the current body', async () => {
      gh.addRepo(REPO);
      const octokit = await probotFor(gh).auth(1);
      const { data: created } = await octokit.rest.issues.createComment({ owner: 'acme', repo: 'voting01', issue_number: 7, body: 'queued' });

      await octokit.rest.issues.updateComment({ owner: 'acme', repo: 'voting01', comment_id: created.id, body: 'promoted' });
      const { data: listed } = await octokit.rest.issues.listComments({ owner: 'acme', repo: 'voting01', issue_number: 7 });

      expect(listed.map((c) => c.body)).toEqual(['promoted']);
    });

    it('answers 200 with the existing reaction when the bot reacts the same way twice', async () => {
      gh.addRepo(REPO);
      const octokit = await probotFor(gh).auth(1);
      const react = () => octokit.rest.reactions.createForIssueComment({ owner: 'acme', repo: 'voting01', comment_id: 9, content: 'rocket' });

      const first = await react();
      const second = await react();

      expect([first.status, second.status]).toEqual([201, 200]);
      expect(gh.reactions(9)).toHaveLength(1);
    });
  });

  describe('workflow dispatches and deployments', () => {
    it('records a workflow dispatch with its ref and inputs', async () => {
      gh.addWorkflow(REPO, 'ci-build-push.yaml', { inputs: ['environment', 'image_tag'] });
      const octokit = await probotFor(gh).auth(1);

      const res = await octokit.rest.actions.createWorkflowDispatch({
        owner: 'acme',
        repo: 'voting01',
        workflow_id: 'ci-build-push.yaml',
        ref: 'main',
        inputs: { environment: 'qa', image_tag: 'ea11a24-20260129125607' },
      });

      expect(res.status).toBe(204);
      expect(gh.dispatches(REPO)).toEqual([
        { repo: REPO, workflow: 'ci-build-push.yaml', ref: 'main', inputs: { environment: 'qa', image_tag: 'ea11a24-20260129125607' } },
      ]);
    });

    it('answers 404 to a dispatch of a workflow that was not registered', async () => {
      gh.addRepo(REPO);
      const octokit = await probotFor(gh).auth(1);

      const err = await thrown(() =>
        octokit.rest.actions.createWorkflowDispatch({ owner: 'acme', repo: 'voting01', workflow_id: 'nope.yaml', ref: 'main' }),
      );

      expect(err).toMatchObject({ status: 404 });
      expect(gh.dispatches()).toEqual([]);
    });

    it('answers 422 to a dispatch with an input the workflow does not declare', async () => {
      gh.addWorkflow(REPO, 'ci-build-push.yaml', { inputs: ['environment', 'image_tag'] });
      const octokit = await probotFor(gh).auth(1);

      const err = await thrown(() =>
        octokit.rest.actions.createWorkflowDispatch({
          owner: 'acme',
          repo: 'voting01',
          workflow_id: 'ci-build-push.yaml',
          ref: 'main',
          inputs: { env: 'qa' },
        }),
      );

      expect(err).toMatchObject({ status: 422 });
    });

    it('creates a deployment for a known commit and records its statuses', async () => {
      const sha = gh.addCommit(REPO, { message: 'x', author: { name: 'A', email: 'a@example.com' } });
      const octokit = await probotFor(gh).auth(1);

      const { data: deployment } = await octokit.rest.repos.createDeployment({
        owner: 'acme',
        repo: 'voting01',
        ref: sha.slice(0, 7),
        environment: 'qa',
        auto_merge: false,
        required_contexts: [],
      });
      if (!('id' in deployment)) throw new Error('expected a deployment');
      await octokit.rest.repos.createDeploymentStatus({ owner: 'acme', repo: 'voting01', deployment_id: deployment.id, state: 'success' });

      expect(gh.deployments(REPO)).toEqual([expect.objectContaining({ sha, environment: 'qa' })]);
      expect(gh.deploymentStatuses(deployment.id).map((s) => s.state)).toEqual(['success']);
    });

    it('records commit statuses by sha and context and lists them newest first', async () => {
      gh.addRepo(REPO);
      const sha = 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b';
      const octokit = await probotFor(gh).auth(1);

      await octokit.rest.repos.createCommitStatus({ owner: 'acme', repo: 'voting01', sha, state: 'pending', context: 'rollout-chatops/qa', description: 'deploying to qa' });
      await octokit.rest.repos.createCommitStatus({ owner: 'acme', repo: 'voting01', sha, state: 'success', context: 'rollout-chatops/qa', target_url: 'https://slack.example/t' });
      const { data: listed } = await octokit.rest.repos.listCommitStatusesForRef({ owner: 'acme', repo: 'voting01', ref: sha });

      expect(gh.commitStatuses(REPO, sha).map((c) => [c.context, c.state, c.target_url])).toEqual([
        ['rollout-chatops/qa', 'pending', null],
        ['rollout-chatops/qa', 'success', 'https://slack.example/t'],
      ]);
      expect(listed.map((c) => c.state)).toEqual(['success', 'pending']);
    });

    it('answers 422 to a status description longer than GitHub allows', async () => {
      gh.addRepo(REPO);
      const octokit = await probotFor(gh).auth(1);

      const err = await thrown(() =>
        octokit.rest.repos.createCommitStatus({ owner: 'acme', repo: 'voting01', sha: 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b', state: 'failure', description: 'x'.repeat(141) }),
      );

      expect(err).toMatchObject({ status: 422 });
      expect(gh.commitStatuses(REPO)).toEqual([]);
    });
  });

  describe('test controls', () => {
    it('fails the next matching calls with the given status, then answers normally', async () => {
      gh.addRepo(REPO);
      const octokit = await probotFor(gh).auth(1);
      gh.failNext({ count: 1, status: 502, path: /\/reactions$/ });
      const react = () => octokit.rest.reactions.createForIssueComment({ owner: 'acme', repo: 'voting01', comment_id: 9, content: 'eyes' });

      const err = await thrown(react);
      const retried = await react();

      expect(err).toMatchObject({ status: 502 });
      expect(retried.status).toBe(201);
    });

    it('answers 404 to an unknown route and lists it as unexpected', async () => {
      gh.addRepo(REPO);
      const octokit = await probotFor(gh).auth(1);

      const err = await thrown(() => octokit.rest.pulls.get({ owner: 'acme', repo: 'voting01', pull_number: 7 }));

      expect(err).toMatchObject({ status: 404 });
      expect(gh.unexpectedCalls().map((c) => `${c.method} ${c.path}`)).toEqual(['GET /api/v3/repos/acme/voting01/pulls/7']);
    });

    it('answers 404 to a token request for an installation it does not host', async () => {
      const err = await thrown(() => probotFor(gh).auth(99).then((octokit) => octokit.rest.repos.get({ owner: 'acme', repo: 'voting01' })));

      expect(err).toMatchObject({ status: 404 });
      expect(gh.unexpectedCalls().map((c) => c.path)).toEqual(['/api/v3/app/installations/99/access_tokens']);
    });

    it('lists calls to a repository no test registered as unexpected', async () => {
      const octokit = await probotFor(gh).auth(1);

      await thrown(() => octokit.rest.repos.get({ owner: 'acme', repo: 'typo' }));

      expect(gh.unexpectedCalls().map((c) => c.path)).toEqual(['/api/v3/repos/acme/typo']);
    });

    it('names what it waited for when waitFor times out', async () => {
      const err = await thrown(() => gh.waitFor(() => gh.comments(REPO, 1).length > 0, 'a comment on #1', 50));

      expect(String(err)).toContain('waiting for a comment on #1');
    });
  });
});

describe('signed webhooks through the Probot middleware', () => {
  let gh: GitHubEmulator;
  let server: Server;
  let webhookUrl: string;
  let pushedHeads: string[];

  beforeEach(async () => {
    gh = await startGitHubEmulator();
    // The private key works too: the emulator derives the public half.
    gh.registerApp({ appId: APP_ID, publicKeyPem: appKey.privateKey });
    gh.setPermission(REPO, 'alice', 'write');
    pushedHeads = [];
    const bot: ApplicationFunction = async (app, options) => {
      await commentBot(app, options);
      app.on('push', (context) => {
        pushedHeads.push(context.payload.head_commit?.id ?? '');
      });
    };
    const middleware = await createNodeMiddleware(bot, { probot: probotFor(gh) });
    server = createServer((req, res) => {
      void middleware(req, res, () => res.writeHead(404).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gh.close();
  });

  it('signs like GitHub: sha256= and the hex HMAC of the raw body', () => {
    // Test vector from GitHub's "Validating webhook deliveries" docs.
    expect(signGitHubPayload("It's a Secret to Everybody", 'Hello, World!')).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });

  it('delivers a signed issue_comment that Probot accepts and handles before answering', async () => {
    const res = await sendWebhook({ url: webhookUrl, secret: SECRET, event: 'issue_comment', payload: prComment() });

    expect(res.status).toBe(200);
    expect(gh.comments(REPO, 7).map((c) => c.body)).toEqual(['alice has write']);
  });

  it('gets 400 for a forged signature and no GitHub call is made', async () => {
    const res = await sendWebhook({ url: webhookUrl, secret: SECRET, event: 'issue_comment', payload: prComment(), forgeSignature: true });

    expect(res.status).toBe(400);
    expect(res.body).toContain('signature does not match');
    expect(gh.calls).toEqual([]);
  });

  it('delivers a push payload Probot validates and routes to push handlers', async () => {
    const payload = pushPayload({
      repo: REPO,
      commits: [{ id: 'ea11a24'.padEnd(40, '0'), message: 'Make the vote button blue', author: { name: 'Alice', email: 'alice@example.com', username: 'alice' } }],
    });

    const res = await sendWebhook({ url: webhookUrl, secret: SECRET, event: 'push', payload });

    expect(res.status).toBe(200);
    expect(pushedHeads).toEqual(['ea11a24'.padEnd(40, '0')]);
  });
});
