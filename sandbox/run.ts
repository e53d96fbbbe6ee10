/**
 * `npm run sandbox`: the real bot against emulated Kubernetes/Argo, Slack, GitHub and ECR, with a page to watch and
 * drive it. SANDBOX_PORT picks the page's port (default 8080); LOG_LEVEL the bot's log level (default warn).
 */
import { createLogger } from '../src/adapters/logging/create-logger.js';
import type { LogLevel } from '../src/config/env-schema.js';
import { startSandbox } from './sandbox.js';

// The AWS SDK warns about Node 20 on every start; in a local sandbox that is noise (CI and the tests silence it too).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const level = (process.env.LOG_LEVEL ?? 'warn').toLowerCase();
const rawPort = process.env.SANDBOX_PORT ?? '8080';
const port = Number(rawPort);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`SANDBOX_PORT: must be a port number 0-65535 (got "${rawPort}")`);
if (!LEVELS.includes(level)) fail(`LOG_LEVEL: must be one of ${LEVELS.join(', ')} (got "${level}")`);

const sandbox = await startSandbox({ port, log: createLogger(level as LogLevel) }).catch((err: unknown) => fail((err as Error).message));
console.log(`Sandbox: open ${sandbox.url}`);
console.log('  watch a push go dev -> qa -> staging, then in #voting01-staging type /promote staging as Lead, and `promote` in the thread');
console.log('  while qa\'s canary soaks at 60% (30 s), type /rollout drill qa as Lead: the errors fail its analysis and it rolls back');
console.log('  Ctrl-C stops everything');

/** When the first stop signal came; 0 while running. */
let stoppingSince = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stoppingSince) {
      // npm and tsx both pass the terminal's Ctrl-C on, so one press can arrive two or three times: only a later,
      // separate press means "stop now".
      if (Date.now() - stoppingSince > 1000) {
        console.error('Sandbox: stopped without cleaning up');
        process.exit(130);
      }
      return;
    }
    stoppingSince = Date.now();
    console.log('\nSandbox: stopping… (Ctrl-C again to force)');
    sandbox.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`Sandbox: stop failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  });
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
