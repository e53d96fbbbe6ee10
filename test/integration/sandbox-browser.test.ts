import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startSandbox, type RunningSandbox } from '../../sandbox/sandbox.js';

/** Debian's chromium (`apt-get install -y chromium`); playwright-core brings no browser of its own. SANDBOX_CHROMIUM points elsewhere (e.g. on a Mac). */
const CHROMIUM = process.env.SANDBOX_CHROMIUM ?? '/usr/bin/chromium';
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
/** Every wait of the test shares this budget. */
const BUDGET_MS = 90_000;

describe.skipIf(process.env.SANDBOX_BROWSER === 'skip')('sandbox page in a browser', () => {
  it('shows a push reach staging, and completes it after /promote staging and promote typed as Lead', { timeout: BUDGET_MS + 30_000 }, async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found: install it with \`apt-get update && apt-get install -y chromium\`, or set SANDBOX_BROWSER=skip to leave this test out`);
    }
    const deadline = Date.now() + BUDGET_MS;
    const left = () => Math.max(1, deadline - Date.now());
    // Faster than `npm run sandbox` (1 s ticks, 5 s pauses), same flow.
    const sandbox: RunningSandbox = await startSandbox({ port: 0, tickMs: 250, pause: '1s' });
    let browser: Browser | undefined;
    let page: Page | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        timeout: left(),
      });
      page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const p = page;
      await p.goto(sandbox.url, { timeout: left() });
      await p.selectOption('#user-select', 'U0LEAD', { timeout: left() });
      await p.click('#channel-list [data-channel="C0STAGING"]', { timeout: left() });

      const stagingRoot = p.locator('#messages article.msg', { hasText: 'voting01 · staging' });
      await visible(stagingRoot.locator('.thread-link'), left()).then((link) => link.click({ timeout: left() }));
      const thread = p.locator('#thread-messages');
      await visible(thread.locator('article.msg', { hasText: 'waiting for promotion' }), left());

      await p.fill('#channel-input', '/promote staging', { timeout: left() });
      await p.press('#channel-input', 'Enter', { timeout: left() });
      // The pointer to the thread is ephemeral: shown to Lead in the channel, marked as such.
      await visible(p.locator('#messages article.msg.ephemeral', { hasText: 'waiting for confirmation' }), left());
      await visible(thread.locator('article.msg', { hasText: 'Promote voting01 staging?' }), left());

      await p.fill('#thread-input', 'promote', { timeout: left() });
      await p.press('#thread-input', 'Enter', { timeout: left() });
      await visible(thread.locator('article.msg.reply.person', { hasText: 'promote' }), left());
      await visible(thread.locator('article.msg.reply', { hasText: 'Promoted by' }).locator('.mention', { hasText: '@Lead' }), left());
      await visible(thread.locator('article.msg.reply', { hasText: /Completed/ }), left());

      await mkdir(RESULTS, { recursive: true });
      await p.screenshot({ path: `${RESULTS}sandbox.png`, timeout: left() });
    } catch (err) {
      await mkdir(RESULTS, { recursive: true });
      await page?.screenshot({ path: `${RESULTS}sandbox-failure.png`, timeout: 5000 }).catch(() => undefined);
      throw new Error(`${(err as Error).message}\n(screenshot: test-results/sandbox-failure.png)\n--- slack transcript ---\n${sandbox.transcript()}`, { cause: err });
    } finally {
      await browser?.close().catch(() => undefined);
      await sandbox.close();
    }
  });
});

/** Waits until the first match is visible (re-resolved on every poll of the page), within `timeoutMs`. */
async function visible(locator: Locator, timeoutMs: number): Promise<Locator> {
  const first = locator.first();
  await first.waitFor({ state: 'visible', timeout: timeoutMs });
  return first;
}
