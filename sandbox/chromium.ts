/**
 * The headless chromium that drives the sandbox page: test/integration/sandbox-browser.test.ts and
 * `npm run screenshot` (sandbox/screenshot.ts) launch it the same way.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`); playwright-core brings no browser of its own. SANDBOX_CHROMIUM points elsewhere (e.g. on a Mac). */
export const CHROMIUM = process.env.SANDBOX_CHROMIUM ?? '/usr/bin/chromium';

/** Whether {@link CHROMIUM} exists; when it does not, {@link missingChromium} says how to get it. */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM);
}

/** How to get the browser when {@link hasChromium} is false. */
export function missingChromium(): string {
  return `${CHROMIUM} not found: install it with \`apt-get update && apt-get install -y chromium\`, or set SANDBOX_CHROMIUM to another chromium`;
}

/** Launches {@link CHROMIUM} headless, without its sandbox (containers), GPU, QUIC or any background network traffic. */
export async function launchChromium(timeoutMs: number): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: timeoutMs,
  });
}
