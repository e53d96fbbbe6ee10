import { loadSettings } from './config/load-settings.js';
import { StartupError, startApp } from './app.js';
import { StoreOpenError } from './adapters/store/open-json-store.js';

// The AWS SDK warns about Node 20 on every start; the README says why we stay on 20 for now.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Starts the bot from the environment; bad settings print one line per problem and exit 1. */
async function main(): Promise<void> {
  const loaded = loadSettings(process.env);
  if (!loaded.ok) {
    for (const line of loaded.problems) process.stderr.write(`${line}\n`);
    process.exit(1);
  }
  let app: Awaited<ReturnType<typeof startApp>>;
  try {
    app = await startApp(loaded.settings);
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
