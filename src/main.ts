import { register } from 'node:module';
import { loadSettings } from './config/load-settings.js';
import { StoreOpenError } from './adapters/store/store-files.js';
import { createLogger } from './adapters/logging/create-logger.js';
import type { Logger } from './core/logger.js';

// Before anything imports client-node: its KubeConfig then loads without the generated API (client-node-hooks.ts, issue
// 16/12: some 25 MB of RSS). Hence the app is imported here, not above: static imports resolve before this line runs.
register('./adapters/kubernetes/client-node-hooks.js', import.meta.url);
const { StartupError, startApp } = await import('./app.js');

// The AWS SDK warns about Node 20 on every start; the README says why we stay on 20 for now.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * What an error nobody caught does. During start-up it is a programmer error: one line on stderr, exit 1 (the
 * operator sees it at once, as with a bad setting). Once the bot is serving, it is logged with its stack and the
 * process stays up: the store is written atomically and every effect is keyed and idempotent, so one failed request or
 * timer leaves nothing half-done that a crash would tidy up, while exiting would let any sender who finds such a
 * path stop the bot for everyone.
 */
function installCrashPolicy(started: () => Logger | undefined): void {
  const onError = (origin: string) => (err: unknown) => {
    const log = started();
    if (!log) {
      process.stderr.write(`start-up failed (${origin}): ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    }
    log.error({ err, origin, fix: 'a bug: report it with this line; the bot keeps serving' }, 'uncaught error, staying up');
  };
  process.on('uncaughtException', onError('uncaughtException'));
  process.on('unhandledRejection', onError('unhandledRejection'));
}

/** Starts the bot from the environment; bad settings print one line per problem and exit 1. */
async function main(): Promise<void> {
  let serving: Logger | undefined;
  installCrashPolicy(() => serving);
  const loaded = loadSettings(process.env);
  if (!loaded.ok) {
    for (const line of loaded.problems) process.stderr.write(`${line}\n`);
    process.exit(1);
  }
  const log = createLogger(loaded.settings.logLevel);
  let app: Awaited<ReturnType<typeof startApp>>;
  try {
    app = await startApp(loaded.settings, { log });
  } catch (err) {
    if (err instanceof StoreOpenError || err instanceof StartupError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      process.stderr.write(`PORT: ${loaded.settings.port} is already in use on ${loaded.settings.host}\n`);
      process.exit(1);
    }
    process.stderr.write(`start-up failed: ${e.message}\n`);
    process.exit(1);
  }
  serving = log;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 25_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown after ${signal} failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
