import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
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
