#!/usr/bin/env node
// `npm run screenshots`: pictures of the tablet page from a running demo (scripts/demo.mjs: the built hub,
// the demo branch, its simulated devices), so they can be refreshed whenever the page changes.
// Headless Chromium from Debian (/usr/bin/chromium, or CHROMIUM_PATH), driven by playwright-core.
// The demo runs in a fresh data dir, its clock from 08:30 (Shanghai) at 60× (SHOTS_SCALE), for SHOTS_WARMUP_SEC
// real seconds (default 120: two hours of branch day) before the pictures are taken. Nobody minds the alerts
// meanwhile, so they all escalate: the script acknowledges all but the newest few first, as a manager would.
// Chinese text needs a CJK font on the machine (Debian: fonts-wqy-microhei or fonts-noto-cjk).
// Then the analytics view of the demo's day, whole page at tablet size in both languages (analytics-<locale>.png),
// SHOTS_ANALYTICS_SEC real seconds after the demo came up (default 195: about 3¼ hours of branch day, so the day's
// charts have four hours to show, the lunch dip included); the older alerts are acknowledged again before it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const OUT = 'docs/screenshots';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCALE = Number(process.env.SHOTS_SCALE ?? 60);
const WARMUP_SEC = Number(process.env.SHOTS_WARMUP_SEC ?? 120);
const ANALYTICS_SEC = Number(process.env.SHOTS_ANALYTICS_SEC ?? 195);
const ALERTS_LEFT = 4;
const ZONE = 'Asia/Shanghai';
const SIZES = { tablet: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
const LOCALES = ['zh-CN', 'en'];

if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
if (!existsSync('dist/web/index.html')) throw new Error('dist/web is missing: run `npm run build` first (npm run screenshots does)');

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (line) => console.log(`screenshots: ${line}`);

/** Today at 08:30 in Shanghai. */
function morning() {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  return `${day}T08:30:00+08:00`;
}

const [httpPort, mqttPort] = [await freePort(), await freePort()];
const base = `http://127.0.0.1:${httpPort}`;
const dataDir = mkdtempSync(join(tmpdir(), 'hub-shots-'));
const env = { ...process.env, HUB_HTTP_PORT: String(httpPort), HUB_MQTT_PORT: String(mqttPort), HUB_DATA_DIR: dataDir, HUB_TIME_SCALE: String(SCALE), HUB_CLOCK_START: morning(), HUB_LOG_LEVEL: 'warn' };
const demo = spawn(process.execPath, ['scripts/demo.mjs'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
const demoExited = new Promise((r) => demo.once('exit', r));
let browser;

async function health() {
  try {
    return await (await fetch(`${base}/api/health`)).json();
  } catch {
    return null;
  }
}

async function waitForDemo() {
  for (let i = 0; i < 600; i++) {
    const h = await health();
    if (h?.status === 'ok' && h.connectedDevices >= 10) return h;
    if (demo.exitCode !== null) throw new Error(`the demo exited (${demo.exitCode})`);
    await sleep(100);
  }
  throw new Error('the demo did not start within 60 s');
}

async function api(method, path, token) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: method === 'POST' && !token ? JSON.stringify({ username: 'lobby', password: 'lobby-demo' }) : undefined,
  });
  return res.json();
}

/** The manager has seen to the older alerts: all but the newest few are acknowledged (event alerts close). */
async function acknowledgeOlderAlerts() {
  const { token } = await api('POST', '/api/auth/login');
  const branches = await api('GET', '/api/branches', token);
  for (const b of branches) {
    const open = await api('GET', `/api/branches/${b.id}/alerts?state=open`, token);
    for (const a of open.slice(ALERTS_LEFT)) await api('POST', `/api/alerts/${a.id}/ack`, token);
  }
}

async function logIn(page) {
  await page.getByTestId('login-username').fill('lobby');
  await page.getByTestId('login-password').fill('lobby-demo');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('dashboard').waitFor();
  // A moment with work under way (the robots are busy most of the time), then ECharts' entry animation.
  await page.locator('li.task').first().waitFor({ timeout: 30_000 }).catch(() => log('no open task to show'));
  await page.waitForTimeout(1500);
}

/** The hub's day (Shanghai) as the day input takes it: the browser's today may be another if the run crosses midnight. */
async function hubDay() {
  const { clock } = await health();
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(clock.now));
}

/** The analytics view of the demo's day, loaded and drawn; then back to the live view. */
async function analytics(page, locale, day) {
  await page.getByTestId('view-analytics').click();
  await page.getByTestId('analytics').waitFor();
  if ((await page.getByTestId('analytics-day').inputValue()) !== day) await page.getByTestId('analytics-day').fill(day);
  await page.locator('[data-testid=analytics][data-state=ready]').waitFor({ timeout: 15_000 });
  if (await page.getByTestId('analytics-empty').count()) log(`analytics of ${day} are empty (${locale})`);
  await page.waitForTimeout(1500);
  await shot(page, `analytics-${locale}`, true);
  await page.getByTestId('view-live').click();
  await page.getByTestId('dashboard').waitFor();
}

async function tablet(size, locale) {
  const context = await browser.newContext({ viewport: SIZES[size], locale, timezoneId: ZONE, baseURL: base });
  await context.addInitScript(`localStorage.setItem('branch-hub.locale', ${JSON.stringify(locale)})`);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`screenshots: page error (${size}, ${locale}): ${e.message}`));
  await page.goto('/');
  return { context, page };
}

const shot = async (page, name, fullPage = false) => {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage });
  log(`${OUT}/${name}.png`);
};

try {
  const start = await waitForDemo();
  log(`demo up at ${base} (hub time ${start.clock.now}, ${SCALE}×); letting the branch day run ${WARMUP_SEC} s`);
  const upAt = Date.now();
  await sleep(WARMUP_SEC * 1000);
  await acknowledgeOlderAlerts();
  mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM });
  const pages = [];
  for (const size of Object.keys(SIZES)) {
    for (const locale of LOCALES) {
      const { context, page } = await tablet(size, locale);
      pages.push({ size, locale, page, context });
      if (locale === LOCALES[size === 'tablet' ? 0 : 1]) await shot(page, `login-${size}-${locale}`);
      await logIn(page);
      await shot(page, `${size}-${locale}`);
      if (size === 'tablet' || locale === 'zh-CN') await shot(page, `${size}-${locale}-full`, true);
    }
  }
  // A one-tap action waits for its confirmation.
  const { page } = pages.find((p) => p.size === 'tablet' && p.locale === 'zh-CN');
  await page.getByTestId('action-robot').selectOption('robot-1');
  await page.getByTestId('action-greet').click();
  await page.getByTestId('confirm-dialog').waitFor();
  await shot(page, 'tablet-zh-CN-confirm');
  await page.getByTestId('confirm-no').click();
  // The analytics view of the demo's day so far, in both languages, once the day has a few hours in it.
  const left = upAt + ANALYTICS_SEC * 1000 - Date.now();
  if (left > 0) {
    log(`letting the branch day run another ${Math.round(left / 1000)} s for the analytics view`);
    await sleep(left);
  }
  await acknowledgeOlderAlerts();
  const day = await hubDay();
  for (const p of pages.filter((x) => x.size === 'tablet')) await analytics(p.page, p.locale, day);
  // The hub goes away: every open page says so, and keeps trying.
  demo.kill('SIGTERM');
  await demoExited;
  for (const p of pages.filter((x) => x.locale === 'zh-CN' || x.size === 'tablet')) {
    await p.page.getByTestId('connection-banner').waitFor();
    await p.page.evaluate('window.scrollTo(0, 0)');
    await shot(p.page, `${p.size}-${p.locale}-connection-lost`);
  }
} finally {
  await browser?.close();
  if (demo.exitCode === null) {
    demo.kill('SIGTERM');
    await demoExited;
  }
  rmSync(dataDir, { recursive: true, force: true });
}
