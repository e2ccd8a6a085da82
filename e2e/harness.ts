/**
 * What every browser test starts from: a real Parley server (in-process, fresh database and
 * data dir, free port, the built widget and agent app) and Debian's Chromium.
 */
import { chromium, type Browser } from 'playwright-core';
import { startTestParley } from '../apps/server/test/test-parley.ts';

export async function startParley() {
  const parley = await startTestParley();
  return {
    baseUrl: parley.baseUrl,
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
