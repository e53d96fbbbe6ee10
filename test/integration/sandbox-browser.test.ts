import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { hasChromium, launchChromium, missingChromium } from '../../sandbox/chromium.js';
import { startSandbox, type RunningSandbox, type SandboxOptions } from '../../sandbox/sandbox.js';

const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
/** Every wait of one test shares this budget. */
const BUDGET_MS = 90_000;

describe.skipIf(process.env.SANDBOX_BROWSER === 'skip')('sandbox page in a browser', () => {
  it('shows a push reach staging, and completes it after /promote staging and Lead pressing Promote on the broadcast, which changes the card', { timeout: BUDGET_MS + 30_000 }, async () => {
    // Faster than `npm run sandbox` (1 s ticks, 5 s pauses, a 30 s soak in qa), same flow.
    await inBrowser({ sandbox: { tickMs: 250, pause: '1s', soak: '1s' }, viewport: { width: 1440, height: 900 }, screenshot: 'sandbox.png' }, async (p, left) => {
      await p.selectOption('#user-select', 'U0LEAD', { timeout: left() });
      await p.click('#channel-list [data-channel="C0STAGING"]', { timeout: left() });

      const stagingRoot = p.locator('#messages article.msg', { hasText: 'voting01 · staging' });
      await visible(stagingRoot.locator('.thread-link'), left()).then((link) => link.click({ timeout: left() }));
      const thread = p.locator('#thread-messages');
      await visible(thread.locator('article.msg', { hasText: 'waiting for promotion' }), left());

      await command(p, '/promote staging', left());
      // The pointer to the thread is ephemeral: shown to Lead in the channel, marked as such.
      await visible(p.locator('#messages article.msg.ephemeral', { hasText: 'waiting for confirmation' }), left());
      await visible(thread.locator('article.msg', { hasText: 'Promote voting01 staging?' }), left());

      // One press on the broadcast's Promote button plus its confirm dialog promotes (issue 13, point 4).
      const broadcast = thread.locator('article.msg.reply', { hasText: 'Preview ready', hasNotText: 'Promote voting01' });
      await visible(broadcast.locator('button.block-button', { hasText: 'Promote' }), left()).then((b) => b.click({ timeout: left() }));
      await visible(p.locator('#confirm-dialog'), left());
      await p.click('#confirm-ok', { timeout: left() });
      await visible(thread.locator('article.msg.reply', { hasText: '🚀 Promoted by' }).locator('.mention', { hasText: '@Lead' }), left());
      // The confirmation card still waiting changes in place: its buttons give way to who promoted it.
      const card = thread.locator('article.msg.reply', { hasText: 'Promote voting01 staging?' });
      await visible(card.filter({ hasText: 'Done: promoted by' }), left());
      await expect.poll(() => card.first().locator('button.block-button').count(), { timeout: left() }).toBe(0);
      await visible(thread.locator('article.msg.reply', { hasText: /Completed/ }), left());
      // The GitHub panel shows what the bot told GitHub: each environment's deployment of the push, and its commit status.
      for (const env of ['dev', 'qa', 'staging']) {
        const panel = p.locator(`#github-list li[data-env="${env}"]`);
        await expect.poll(() => panel.locator('.state').innerText({ timeout: left() }), { timeout: left() }).toBe('success');
        await expect.poll(() => panel.locator('.commit-state').innerText({ timeout: left() }), { timeout: left() }).toBe('success');
        expect(await panel.locator('code').first().innerText({ timeout: left() }), `${env} deployment tag`).toMatch(/^[0-9a-f]{7}-\d{14}$/);
        await expect.poll(() => panel.locator('.gh-report .check-conclusion').innerText({ timeout: left() }), { timeout: left() }).toBe('success');
      }
      // The reports are check runs, folded; unfolded (and kept so across redraws), the Markdown timeline shows.
      const report = p.locator('#github-list li[data-env="staging"] details.gh-report');
      await report.locator('summary').click({ timeout: left() });
      await expect.poll(() => report.locator('.report-text').innerText({ timeout: left() }), { timeout: left() }).toMatch(/\| Time \| Since start \| What \| Who \|[\s\S]*promoted/);
      await visible(p.locator('#github-list li[data-chain-report]', { hasText: 'dev → qa → staging' }), left());
      // dev runs two rollouts (vote and result) from the one commit: one thread, whose card shows both (issue 17, point 1).
      await p.click('#channel-list [data-channel="C0DEV"]', { timeout: left() });
      const devRoot = await visible(p.locator('#messages article.msg', { hasText: 'voting01 · dev · deploy' }), left());
      await expect.poll(() => devRoot.innerText({ timeout: left() }), { timeout: left() }).toContain('Completed: all 2 rollouts are stable');
      const devCard = await devRoot.innerText({ timeout: left() });
      expect(devCard).toMatch(/vote\s+`?[0-9a-f]{7}-\d{14}/);
      expect(devCard).toMatch(/result\s+`?[0-9a-f]{7}-\d{14}/);
      expect(await p.locator('#messages article.msg', { hasText: 'voting01 · dev' }).count()).toBe(1);
      await visible(p.locator('#rollout-list li', { hasText: 'dev · result' }), left());
    });
  });

  it('runs /rollout drill qa typed as Lead at 1024x768: the analysis fails, the canary rolls back, the report passes, and every pane fits', { timeout: BUDGET_MS + 30_000 }, async () => {
    // A 60 s soak keeps qa's canary in progress for the whole test: the drill, not the clock, ends it.
    await inBrowser({ sandbox: { tickMs: 250, pause: '1s', soak: '60s' }, viewport: { width: 1024, height: 768 }, screenshot: 'sandbox-drill.png' }, async (p, left) => {
      await p.selectOption('#user-select', 'U0LEAD', { timeout: left() });
      await p.click('#channel-list [data-channel="C0QA"]', { timeout: left() });
      // The deploy thread opens when the push reaches qa's canary.
      const qaRoot = await visible(p.locator('#messages article.msg', { hasText: 'voting01 · qa' }), left());

      await command(p, '/errors status qa', left());
      await visible(p.locator('#messages article.msg.ephemeral', { hasText: 'Errors are off in voting01 qa' }), left());

      await command(p, '/rollout drill qa', left());
      await visible(p.locator('#messages article.msg.ephemeral', { hasText: 'Rollback drill started in voting01 qa' }), left());
      await visible(qaRoot.locator('.thread-link'), left()).then((link) => link.click({ timeout: left() }));
      const thread = p.locator('#thread-messages');
      await visible(thread.locator('article.msg.reply', { hasText: 'Rollback drill started by' }), left());
      await visible(thread.locator('article.msg.reply', { hasText: 'Background analysis phase failed' }), left());
      const report = await visible(thread.locator('article.msg.reply', { hasText: 'Rollback drill report' }), left());
      const text = await report.innerText({ timeout: left() });
      expect(text).toContain('PASSED');
      expect(text).toMatch(/Verdict: ✅ the analysis caught the errors/);
      const order = ['errors on', 'analysis failed', 'aborted', 'stable restored', 'errors off'].map((step) => text.indexOf(step));
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);

      // The drill switched errors off again.
      await command(p, '/errors status qa', left());
      await expect.poll(() => p.locator('#messages article.msg.ephemeral', { hasText: 'Errors are off in voting01 qa' }).count(), { timeout: left() }).toBe(2);

      for (const pane of ['#sidebar', '#channel-pane', '#thread-pane']) {
        const box = await p.locator(pane).boundingBox({ timeout: left() });
        expect(box, pane).not.toBeNull();
        expect(box!.x, `${pane} left edge`).toBeGreaterThanOrEqual(0);
        expect(box!.x + box!.width, `${pane} right edge`).toBeLessThanOrEqual(1024);
        expect(box!.width, `${pane} width`).toBeGreaterThan(180);
      }
      const send = await p.locator('#thread-composer button[type="submit"]').boundingBox({ timeout: left() });
      expect(send!.x + send!.width, 'thread Send button right edge').toBeLessThanOrEqual(1024);
    });
  });
});

/**
 * Starts a sandbox and a headless chromium page on it, runs `body` with a shared time budget, saves a screenshot, and
 * closes both. On failure the screenshot goes to `sandbox-failure.png` and the error carries the Slack transcript.
 */
async function inBrowser(
  o: { sandbox: Omit<SandboxOptions, 'port'>; viewport: { width: number; height: number }; screenshot: string },
  body: (page: Page, left: () => number) => Promise<void>,
): Promise<void> {
  if (!hasChromium()) throw new Error(`${missingChromium()}; or set SANDBOX_BROWSER=skip to leave this test out`);
  const deadline = Date.now() + BUDGET_MS;
  const left = () => Math.max(1, deadline - Date.now());
  const sandbox: RunningSandbox = await startSandbox({ port: 0, ...o.sandbox });
  let browser: Browser | undefined;
  let page: Page | undefined;
  try {
    browser = await launchChromium(left());
    page = await browser.newPage({ viewport: o.viewport });
    await page.goto(sandbox.url, { timeout: left() });
    await body(page, left);
    await mkdir(RESULTS, { recursive: true });
    await page.screenshot({ path: `${RESULTS}${o.screenshot}`, timeout: left() });
  } catch (err) {
    await mkdir(RESULTS, { recursive: true });
    await page?.screenshot({ path: `${RESULTS}sandbox-failure.png`, timeout: 5000 }).catch(() => undefined);
    throw new Error(`${(err as Error).message}\n(screenshot: test-results/sandbox-failure.png)\n--- slack transcript ---\n${sandbox.transcript()}`, { cause: err });
  } finally {
    await browser?.close().catch(() => undefined);
    await sandbox.close();
  }
}

/** Types a slash command in the channel box and sends it. */
async function command(p: Page, text: string, timeoutMs: number): Promise<void> {
  await p.fill('#channel-input', text, { timeout: timeoutMs });
  await p.press('#channel-input', 'Enter', { timeout: timeoutMs });
}

/** Waits until the first match is visible (re-resolved on every poll of the page), within `timeoutMs`. */
async function visible(locator: Locator, timeoutMs: number): Promise<Locator> {
  const first = locator.first();
  await first.waitFor({ state: 'visible', timeout: timeoutMs });
  return first;
}
