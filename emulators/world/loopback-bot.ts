/**
 * How the real bot is set up to talk to the loopback emulators: shared by the tests' harness, the sandbox and the bench.
 */
import { ProbotOctokit } from 'probot';
import { STAGING_BLUE_GREEN, voting01Config } from './voting01-config.js';

/** Probot's Octokit without throttling or retries: the loopback GitHub has no rate limits, and tests must not wait seconds. */
export const TEST_OCTOKIT = ProbotOctokit.defaults((o: Record<string, unknown>) => ({ ...o, throttle: { enabled: false }, retry: { enabled: false } }));

/** The config most tests use: one app, dev and qa canaries, staging blue-green waiting for promotion. */
export const DEFAULT_CONFIG = voting01Config({ staging: [...STAGING_BLUE_GREEN, 'approvers:', '  slackUsers: [U0LEAD]'] });

/** Fast pacing so scenarios don't wait on Slack's real one-per-second; pacing itself has unit tests and a benchmark. */
export const FAST_PACING = { postsPerSecond: 200, postBurst: 50, updatesPerSecond: 200, updateBurst: 50 };
