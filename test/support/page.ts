import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { WEB_ROOT } from '../../src/hub.js';
import { startTestHub, type TestHub } from './hub.js';

/**
 * The tablet page in Debian's headless Chromium (never a downloaded browser): `.ci/run` installs the
 * `chromium` package when it is missing; CHROMIUM_PATH points elsewhere.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`);
  if (!existsSync(join(WEB_ROOT, 'index.html'))) throw new Error(`${WEB_ROOT}/index.html is missing: run \`npm run build\` first (npm test does)`);
  return chromium.launch({ executablePath: CHROMIUM });
}

export interface TabletPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors of the page (`pageerror`): every test expects none. */
  errors: Error[];
}

/**
 * A fresh browser context (its own sessionStorage and localStorage) at the size of a 10-inch tablet in
 * landscape; `options` for another size or the tablet's time zone.
 */
export async function openTablet(browser: Browser, hub: TestHub, options: BrowserContextOptions = {}): Promise<TabletPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: hub.httpUrl, locale: 'zh-CN', ...options });
  // Fail on the locator that is missing, well inside the test's own timeout.
  context.setDefaultTimeout(5000);
  const page = await context.newPage();
  const errors: Error[] = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto('/');
  return { context, page, errors };
}

/** Logs in through the form, as the test config's manager, and waits for the live dashboard. */
export async function logIn(page: Page, password = 'lobby-test'): Promise<void> {
  await page.getByTestId('login-username').fill('lobby');
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  if (password === 'lobby-test') await page.getByTestId('dashboard').waitFor();
}

/** Evaluates a browser expression in the page (a string: the tests compile without the DOM's types). */
export const inPage = <T = unknown>(page: Page, expression: string): Promise<T> => page.evaluate(expression) as Promise<T>;

/** Confirms the open dialog and returns the answer the page shows: the hub's ok (worded) or its error. */
export async function confirmAndAnswer(page: Page): Promise<{ ok: boolean; text: string }> {
  await page.getByTestId('confirm-yes').click();
  await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
  const answer = page.getByTestId('answer');
  await answer.waitFor();
  return { ok: (await answer.getAttribute('data-ok')) === 'true', text: (await answer.getByTestId('answer-text').innerText()).trim() };
}

/**
 * Starts a hub again after `hub.stop()`, on the same data dir and the same ports (what `restart()` does
 * in one step): between the two, the page sees the hub gone.
 */
export function startAgain(hub: TestHub): Promise<TestHub> {
  const { mqttPort, httpPort } = hub.running;
  return startTestHub({ ...hub.config, server: { ...hub.config.server, mqttPort, httpPort } }, hub.dataDir);
}
