/**
 * Headless Chromium for the end-to-end suite: Debian's `chromium` package driven by
 * playwright-core (which downloads no browser of its own).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);
export const enableHint =
  "install Debian's chromium package (apt-get install chromium) to run the browser tests";

export const screenshotDir = join(import.meta.dirname, '..', '..', 'test-output', 'screenshots');

/**
 * Flags that work on machines without a GPU, sandbox or outside network. Playwright gives each
 * launch a fresh, empty profile directory (`--user-data-dir`) of its own.
 */
const flags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  await mkdir(screenshotDir, { recursive: true });
  return chromium.launch({ executablePath: chromiumPath, args: flags, headless: true });
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors (a CSP violation is one). */
  errors: string[];
}

/** A new browser context (its own storage), optionally already signed in as `userName`. */
export async function openPage(
  browser: Browser,
  {
    url,
    userName,
    viewport = { width: 1280, height: 800 },
    colorScheme = 'light',
  }: {
    url: string;
    userName?: string;
    viewport?: { width: number; height: number };
    colorScheme?: 'light' | 'dark';
  },
): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport, colorScheme, baseURL: url });
  if (userName !== undefined) {
    await context.addInitScript((name) => localStorage.setItem('parley.userName', name), userName);
  }
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return { context, page, errors };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
}
