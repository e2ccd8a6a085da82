/**
 * What every browser test starts from: a real Parley server (in-process, fresh database and
 * data dir, free port, the built widget and agent app) and Debian's Chromium.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestParley } from '../apps/server/test/test-parley.ts';
import type { Config } from '../apps/server/src/config.ts';

export async function startParley(config?: Partial<Config>) {
  const parley = await startTestParley({ config });
  return {
    baseUrl: parley.baseUrl,
    /** The SMTP listener's port, when `config.smtpPort` asked for one. */
    smtpPort: parley.parley.email.smtpPort,
    db: parley.db,
    createTenant: parley.createTenant,
    stop: parley.stop,
  };
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu'],
  });
}

const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));

/**
 * Takes a test's screenshots (`screenshots/<prefix>-<name>.png`), to be looked at. Transitions
 * still running (a panel opening) are finished first, so a picture shows the screen as it
 * settles, not a frame of its animation.
 */
export function screenshots(prefix: string): (page: Page, name: string) => Promise<Buffer> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return (page, name) => page.screenshot({ path: `${SCREENSHOTS}${prefix}-${name}.png`, animations: 'disabled' });
}

/** The page's uncaught errors and what its Content-Security-Policy refused (a page working only because nothing is refused is what the policy must allow). */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && m.text().includes('Content Security Policy')) errors.push(m.text());
  });
  return errors;
}

/** A fresh browser context (1440×900, English) and page for one person, collecting the page's errors. */
export async function newAgentPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  return { context, page, errors: pageErrors(page) };
}

/** Signs in to the agent app and waits for the conversation list. */
export async function signIn(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/app/`);
  await page.locator('input[name=email]').fill(email);
  await page.locator('input[name=password]').fill(password);
  await page.locator('button[type=submit]').click();
  await page.locator('.list-pane').waitFor();
}

/**
 * The customer's own web site: a little server on loopback under the other host name than
 * Parley's, so the widget runs cross-origin as it does in production. (It stays on loopback:
 * Chromium's Private Network Access rules block a public page from loading scripts from it.)
 */
export async function startHostSite(parleyBaseUrl: string) {
  const pages = new Map<string, string>();
  const server = createServer((req, res) => {
    const html = pages.get(new URL(req.url ?? '/', 'http://x').pathname);
    res.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const parleyHost = new URL(parleyBaseUrl).hostname;
  const origin = `http://${parleyHost === 'localhost' ? '127.0.0.1' : 'localhost'}:${(server.address() as { port: number }).port}`;
  return {
    origin,
    /** Serves `html` at `path`; returns the page's URL. */
    page(path: string, html: string): string {
      pages.set(path, html);
      return `${origin}${path}`;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
