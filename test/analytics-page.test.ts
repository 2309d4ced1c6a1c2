import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { z } from 'zod';
import type { Fleet } from '../device-sims/fleet.js';
import type { SensorSim } from '../device-sims/sensor.js';
import type { AnalyticsReport } from '../src/contracts/analytics.js';
import type { queuePayload } from '../src/contracts/payloads.js';
import { fleetOn, taskReaches } from './support/fleet.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';
import { inPage, launchChromium, logIn, openTablet, type TabletPage } from './support/page.js';

/**
 * The analytics view of the tablet page (issue 10, "seen by people"): one branch day fed through the
 * simulated camera and ticketing system, then read the way a manager reads it, in headless Chromium.
 * The hub's clock stands at 17:00 of that day in Shanghai, where the tablet is too; devices stamp what
 * they saw earlier that day (`ts`), as cameras and queue systems that batch their events do.
 */
const zh = JSON.parse(readFileSync(new URL('../web/src/locales/zh-CN.json', import.meta.url), 'utf8'));
const en = JSON.parse(readFileSync(new URL('../web/src/locales/en.json', import.meta.url), 'utf8'));
/** A locale string with its `{placeholders}` filled, as vue-i18n does. */
const say = (message: string, vars: Record<string, string | number>) => message.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k]));

const DAY = '2026-03-10';
const TZ = 'Asia/Shanghai';
const at = (hhmm: string) => new Date(`${DAY}T${hhmm}:00+08:00`).toISOString();
const after = (hhmm: string, minutes: number) => new Date(Date.parse(at(hhmm)) + minutes * 60_000).toISOString();
const FROM = at('00:00');
const TO = new Date(`2026-03-11T00:00:00+08:00`).toISOString();

/** Three people's walks through the branch: [zone, entered, left]; the second goes back to waiting (a cycle). */
const WALKS: Record<string, [string, string, string][]> = {
  'trk-a81f': [['entrance', '09:00', '09:02'], ['waiting', '09:02', '09:20'], ['counters', '09:20', '09:30']],
  'trk-b72e': [['entrance', '09:05', '09:06'], ['waiting', '09:06', '09:12'], ['counters', '09:12', '09:16'], ['waiting', '09:16', '09:21']],
  'trk-c63d': [['entrance', '09:10', '09:13'], ['self-service', '09:13', '09:18']],
};
const LATE_WALK: [string, string, string][] = [['entrance', '12:00', '12:01'], ['waiting', '12:01', '12:03']];
const TRACK_IDS = [...Object.keys(WALKS), 'trk-d54c'];

async function walk(cam: SensorSim, track: string, visits: [string, string, string][]): Promise<void> {
  for (const [zone, entered, left] of visits) {
    await cam.publish('track', { track, zone, event: 'enter', ts: at(entered) });
    await cam.publish('track', { track, zone, event: 'exit', ts: at(left) });
  }
  await cam.publish('track', { track, zone: 'outside', event: 'enter', ts: at(visits.at(-1)![2]) });
}

/**
 * Cash, one counter open from 08:55: ten tickets between 09:00 and 09:54; nine are called after 2, 4 … 18
 * minutes (median 10) and served in 10 minutes each, the tenth walks away. Far more than one counter can serve.
 */
function cashMorning(): (z.input<typeof queuePayload> & { ts: string })[] {
  const events: (z.input<typeof queuePayload> & { ts: string })[] = [{ event: 'counters', service: 'cash', open: 1, ts: at('08:55') }];
  for (let i = 1; i <= 9; i++) {
    const ticket = `A${String(i).padStart(3, '0')}`;
    const issued = after('09:00', 6 * (i - 1));
    const called = new Date(Date.parse(issued) + 2 * i * 60_000).toISOString();
    events.push({ event: 'issued', ticket, service: 'cash', ts: issued });
    events.push({ event: 'called', ticket, service: 'cash', counter: '1', ts: called });
    events.push({ event: 'served', ticket, service: 'cash', counter: '1', ts: new Date(Date.parse(called) + 10 * 60_000).toISOString() });
  }
  events.push({ event: 'issued', ticket: 'A010', service: 'cash', ts: at('09:54') });
  events.push({ event: 'abandoned', ticket: 'A010', service: 'cash', ts: at('10:05') });
  return events.sort((a, b) => a.ts.localeCompare(b.ts));
}

let browser: Browser;
let hub: TestHub;
let fleet: Fleet;
let cam: SensorSim;

beforeAll(async () => {
  browser = await launchChromium();
  hub = await startTestHub(testConfig({ server: { clockStart: `${DAY}T17:00:00+08:00` } }));
  fleet = await fleetOn(hub);
  cam = fleet.sensors.get('cam-1')!;
  const qms = fleet.queues.get('qms-1')!;
  // Three came in at 09:00 and left at noon; twelve waited from 10:00, four from 11:00.
  await cam.publish('footfall', { direction: 'in', count: 3, ts: at('09:00') });
  await cam.publish('occupancy', { zone: 'waiting', count: 12, ts: at('10:00') });
  await cam.publish('occupancy', { zone: 'waiting', count: 4, ts: at('11:00') });
  await cam.publish('footfall', { direction: 'out', count: 3, ts: at('12:00') });
  for (const [track, visits] of Object.entries(WALKS)) await walk(cam, track, visits);
  for (const e of cashMorning()) await qms.publish('queue', e);
  const task = (await hub.api('POST', '/api/branches/br-1/tasks', { type: 'announce', deviceId: 'robot-1', params: { text: '欢迎光临', lang: 'zh' } })).body;
  await taskReaches(hub, task.id, 'completed');
  await hub.settle();
});
afterAll(async () => {
  await fleet?.disconnect();
  await hub?.close();
  await browser?.close();
});

describe('the analytics view', () => {
  let tab: TabletPage;

  beforeEach(async () => {
    tab = await openTablet(browser, hub, { viewport: { width: 1024, height: 768 }, timezoneId: TZ });
    await logIn(tab.page);
  });
  afterEach(async () => {
    await tab.context.close();
    expect(tab.errors.map((e) => e.message)).toEqual([]);
  });

  /** The analytics view of DAY, loaded. */
  async function openDay(page: Page): Promise<void> {
    await page.getByTestId('view-analytics').click();
    await page.getByTestId('analytics-day').fill(DAY);
    await eventually(async () => (await page.getByTestId('analytics').getAttribute('data-state')) === 'ready', 5000, 'the day loaded');
  }
  const ariaOf = async (page: Page, panel: string) => (await page.getByTestId(panel).locator('[aria-label]').first().getAttribute('aria-label')) ?? '';

  it('opens on today (nothing yet), then shows the day picked: density, dwell, paths, waits, staffing and tasks, at tablet width', async () => {
    const { page } = tab;
    const report: AnalyticsReport = (await hub.api('GET', `/api/branches/br-1/analytics?from=${FROM}&to=${TO}`)).body;
    await page.getByTestId('view-analytics').click();
    expect(await page.getByTestId('view-analytics').getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByTestId('analytics-day').inputValue()).toBe(new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date()));
    expect(await page.getByTestId('analytics-empty').innerText()).toBe(zh.analytics.empty);
    await openDay(page);
    expect(await page.getByTestId('analytics-empty').count()).toBe(0);

    // Heat map: waiting at 60 % of its 20 places from 10:00, 20 % from 11:00; three at the entrance (of 10) from 09:00.
    const density = await ariaOf(page, 'density-panel');
    const share = (hour: string, pct: number, people: number, max: number) => say(zh.analytics.density.share, { hour, pct, people, max });
    expect(density).toContain(`${zh.zoneNames.waiting}：${share('10:00', 60, 12, 12)}，${share('11:00', 20, 4, 4)}`);
    expect(density).toContain(`${zh.zoneNames.entrance}：${share('09:00', 30, 3, 3)}`);
    expect(density).toContain(`${zh.zoneNames.counters}：${zh.analytics.density.nobody}`);

    // Dwell: visits per zone, the median as the hub computed it (its histogram is within 5 %).
    const dwell = page.getByTestId('dwell-panel');
    const visits = { entrance: 3, waiting: 3, counters: 2, 'self-service': 1 };
    for (const [zone, n] of Object.entries(visits)) expect(await dwell.getByTestId(`dwell-${zone}`).getByTestId('visits').innerText()).toBe(String(n));
    expect(Math.abs(report.dwell.waiting.p50Sec! - 360)).toBeLessThan(18);
    expect(await dwell.getByTestId('dwell-waiting').getByTestId('p50').innerText()).toBe(say(zh.analytics.minutes, { n: (Math.round(report.dwell.waiting.p50Sec! / 6) / 10).toFixed(1) }));
    const dwellAria = await ariaOf(page, 'dwell-panel');
    for (const zone of Object.keys(visits)) expect(dwellAria).toContain(`${zh.zoneNames[zone]}的数据是`);

    // Paths, the way back from the counters to waiting included.
    const paths = await ariaOf(page, 'paths-panel');
    const path = (from: string, to: string, n: number) => say(zh.analytics.paths.path, { from, to, n });
    const { entrance, waiting, counters } = zh.zoneNames;
    const outside = zh.analytics.paths.outside;
    for (const p of [path(entrance, waiting, 2), path(waiting, counters, 2), path(counters, waiting, 1), path(counters, outside, 1), path(waiting, outside, 1), path(zh.zoneNames['self-service'], outside, 1)]) {
      expect(paths).toContain(p);
    }

    // Waits: ten issued, nine called after a median of 10 minutes, one walked away.
    const cash = page.getByTestId('waits-cash');
    expect([await cash.getByTestId('issued').innerText(), await cash.getByTestId('called').innerText(), await cash.getByTestId('abandoned').innerText()]).toEqual(['10', '9', '1']);
    expect(Math.abs(report.waits.cash.p50Sec! - 600)).toBeLessThan(30);

    // Staffing: one counter open at 09:00 against the advice, which the title states the target of.
    const nine = report.staffing.byService.cash.find((h) => h.hour === at('09:00'))!;
    expect(nine).toMatchObject({ arrivals: 10, openCounters: 1 });
    expect(nine.neededCounters).toBeGreaterThan(1);
    const staffing = page.getByTestId('staffing-panel');
    expect(await staffing.locator('h2').innerText()).toBe(say(zh.analytics.staffing.title, { pct: 80, min: 10 }));
    expect(await staffing.getByTestId('staffing-cash').getByTestId('short').innerText()).toContain(say(zh.analytics.staffing.short, { hour: '09:00', open: 1, need: nine.neededCounters }));
    const staffingAria = (await staffing.getByTestId('staffing-cash').locator('[aria-label]').first().getAttribute('aria-label')) ?? '';
    // ECharts says each point as "category index, value".
    expect(staffingAria).toMatch(new RegExp(`${zh.analytics.staffing.needed}的柱状图.*09:00的数据是\\d+，${nine.neededCounters}，.*${zh.analytics.staffing.open}的折线图.*09:00的数据是\\d+，1`));

    // Tasks: the announcement made this afternoon.
    const announce = page.getByTestId('tasks-announce');
    expect([await announce.getByTestId('count').innerText(), await announce.getByTestId('completed').innerText()]).toEqual(['1', '1']);

    // Footfall by hour, and everything fits a 1024 px tablet.
    expect(await ariaOf(page, 'day-footfall-panel')).toMatch(new RegExp(`${zh.charts.in}的柱状图.*09:00的数据是\\d+，3`));
    expect(await inPage<number>(page, 'document.documentElement.scrollWidth')).toBeLessThanOrEqual(1024);

    // In English too; and back to the live view, whole.
    await page.getByTestId('lang-toggle').click();
    await eventually(async () => (await ariaOf(page, 'paths-panel')).includes(say(en.analytics.paths.path, { from: en.zoneNames.counters, to: en.zoneNames.waiting, n: 1 })), 5000, 'paths in English');
    await page.getByTestId('view-live').click();
    await page.getByTestId('dashboard').waitFor();
    expect(await page.getByTestId('analytics').count()).toBe(0);
  });

  it('exports the day as CSV, a tidy table without a single track id', async () => {
    const { page } = tab;
    await openDay(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('analytics-csv').click()]);
    expect(download.suggestedFilename()).toBe(`br-1-analytics-${DAY}.csv`);
    const csv = readFileSync((await download.path())!, 'utf8');
    const rows = csv.trim().split('\r\n');
    expect(rows[0]).toBe('section,start,end,subject,measure,value');
    expect(rows).toEqual(
      expect.arrayContaining([
        `dwell,${FROM},${TO},waiting,count,3`,
        `transition,${FROM},${TO},counters>waiting,count,1`,
        `waits,${FROM},${TO},cash,issued,10`,
        `waits,${FROM},${TO},cash,abandoned,1`,
        `density,${at('10:00')},${at('10:05')},waiting,avg,12`,
        `footfall,${at('09:00')},${at('10:00')},entry,in,3`,
      ]),
    );
    // Privacy: no track id in the file, on the page, or in what the charts tell a screen reader.
    const shown = await inPage<string>(page, "document.body.innerText + [...document.querySelectorAll('[aria-label]')].map((e) => e.getAttribute('aria-label')).join(' ')");
    for (const id of TRACK_IDS) {
      expect(csv).not.toContain(id);
      expect(shown).not.toContain(id);
    }
  });

  it('refreshes on request (a later walk appears), and shows the hub\'s refusal of a day it cannot take', async () => {
    const { page } = tab;
    await openDay(page);
    const third = say(zh.analytics.paths.path, { from: zh.zoneNames.entrance, to: zh.zoneNames.waiting, n: 3 });
    expect(await ariaOf(page, 'paths-panel')).not.toContain(third);
    await walk(cam, 'trk-d54c', LATE_WALK);
    await hub.settle();
    await page.getByTestId('analytics-refresh').click();
    await eventually(async () => (await ariaOf(page, 'paths-panel')).includes(third), 5000, 'the later walk after a refresh');

    // Year 10000 is a date to the browser, not to the hub: it answers 400, and the page says why.
    const refused = page.waitForResponse((r) => r.url().includes('/api/branches/br-1/analytics?'));
    await inPage(page, "(() => { const i = document.querySelector('[data-testid=analytics-day]'); i.value = '10000-03-10'; i.dispatchEvent(new Event('input', { bubbles: true })); })()");
    const res = await refused;
    expect(res.status()).toBe(400);
    const { message } = (await res.json()) as { message: string };
    await expect(page.getByTestId('analytics-error').innerText()).resolves.toBe(say(zh.analytics.error, { error: message }));
    expect(await page.getByTestId('paths-panel').count()).toBe(0);

    // Back to a real day: the error goes, the figures come back.
    await page.getByTestId('analytics-day').fill(DAY);
    await page.getByTestId('paths-panel').waitFor();
    expect(await page.getByTestId('analytics-error').count()).toBe(0);
  });
});
