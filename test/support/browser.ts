import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { TestPortal } from './portal';
import { usePortal } from './portal-stack';


export const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Debian's Chromium, headless, with the flags that keep it off the (closed) network. */
export async function launchBrowser(): Promise<Browser> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export function artifact(name: string): string {
  return path.join(ARTIFACTS, name);
}

/**
 * A portal listening on a random port and a headless Chromium, for one
 * describe block: both start before its tests and stop after them.
 */
export function useBrowserPortal(env: Record<string, string> = {}): { portal: TestPortal; browser: Browser; base: string } {
  return usePortal({ env, browser: true });
}

/** Japanese on a desktop and English on a phone: the two screens a one-off browser check looks at. */
export const JA_DESKTOP_EN_PHONE = [
  ['ja', 'desktop', { width: 1280, height: 800 }],
  ['en', 'phone', { width: 390, height: 844 }],
] as const;

/**
 * Runs `check` on a fresh page for each of JA_DESKTOP_EN_PHONE (browser locale ja-JP or en-US), in a headless
 * Chromium launched for this call and closed afterwards, whatever happens.
 */
export async function onEachScreen(check: (page: Page, lang: 'ja' | 'en', device: 'desktop' | 'phone') => Promise<void>): Promise<void> {
  const browser = await launchBrowser();
  try {
    for (const [lang, device, viewport] of JA_DESKTOP_EN_PHONE) {
      const page = await browser.newPage({ locale: lang === 'ja' ? 'ja-JP' : 'en-US', viewport });
      await check(page, lang, device);
      await page.close();
    }
  } finally {
    await browser.close();
  }
}
