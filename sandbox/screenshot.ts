/**
 * `npm run screenshot`: the picture of a deploy thread in the README. Starts the sandbox on a free port with short
 * timers, waits until staging's deploy thread says "waiting for promotion", opens that thread in a 1280×800 headless
 * chromium (sandbox/chromium.ts) and saves docs/deploy-thread.png. SCREENSHOT_OUT writes it elsewhere.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { hasChromium, launchChromium, missingChromium } from './chromium.js';
import { startSandbox } from './sandbox.js';

// The AWS SDK warns about Node 20 on every start; here that is noise (as in `npm run sandbox`).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const OUT = path.resolve(process.env.SCREENSHOT_OUT ?? fileURLToPath(new URL('../docs/deploy-thread.png', import.meta.url)));
/** Every wait shares this budget: the push reaches staging in well under a minute with these timers. */
const BUDGET_MS = 120_000;

if (!hasChromium()) fail(missingChromium());
const deadline = Date.now() + BUDGET_MS;
const left = () => Math.max(1, deadline - Date.now());

// The timers of the browser test: 250 ms ticks, 1 s pauses, a 1 s soak in qa.
const sandbox = await startSandbox({ port: 0, tickMs: 250, pause: '1s', soak: '1s' }).catch((err: unknown) => fail(`sandbox did not start: ${(err as Error).message}`));
let browser: Browser | undefined;
let page: Page | undefined;
let failed = false;
try {
  browser = await launchChromium(left());
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(sandbox.url, { timeout: left() });
  await page.selectOption('#user-select', 'U0LEAD', { timeout: left() });
  // Staging is the last environment: following the deploy opens no thread after its own.
  await page.click('#channel-list [data-channel="C0STAGING"]', { timeout: left() });
  const stagingRoot = page.locator('#messages article.msg', { hasText: 'voting01 · staging' });
  await (await visible(stagingRoot.locator('.thread-link'))).click({ timeout: left() });
  const thread = page.locator('#thread-messages');
  await visible(thread.locator('article.msg', { hasText: 'waiting for promotion' }));
  await page.locator('#thread-input').blur({ timeout: left() });
  await mkdir(path.dirname(OUT), { recursive: true });
  await page.screenshot({ path: OUT, timeout: left() });
  console.log(`Screenshot: ${path.relative(process.cwd(), OUT) || OUT}`);
} catch (err) {
  failed = true;
  console.error(`Screenshot failed: ${(err as Error).message}\n--- slack transcript ---\n${sandbox.transcript()}`);
} finally {
  await browser?.close().catch(() => undefined);
  await sandbox.close();
}
process.exit(failed ? 1 : 0);

/** Waits until the first match is visible (re-resolved on every poll of the page), within the budget. */
async function visible(locator: Locator): Promise<Locator> {
  const first = locator.first();
  await first.waitFor({ state: 'visible', timeout: left() });
  return first;
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
