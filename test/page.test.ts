import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { Fleet } from '../device-sims/fleet.js';
import { Branches } from '../src/branch/branches.service.js';
import { fleetOn, workTakes } from './support/fleet.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';
import { confirmAndAnswer, inPage, launchChromium, logIn, openTablet, startAgain, type TabletPage } from './support/page.js';

/** The lobby manager's tablet page (issue 8) in headless Chromium, against real hubs and simulated devices. */
const locale = (name: string) => JSON.parse(readFileSync(new URL(`../web/src/locales/${name}.json`, import.meta.url), 'utf8'));
const zh = locale('zh-CN');
const en = locale('en');

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

describe('the tablet page', () => {
  let hub: TestHub;
  let fleet: Fleet;
  let tab: TabletPage;

  beforeAll(async () => {
    hub = await startTestHub(testConfig());
    // robot-1 stays on a task long enough to be seen and cancelled.
    fleet = await fleetOn(hub, { profiles: { 'robot-1': workTakes(60_000) } });
  });
  afterAll(async () => {
    await fleet.disconnect();
    await hub.close();
  });
  beforeEach(async () => {
    tab = await openTablet(browser, hub);
  });
  afterEach(async () => {
    await tab.context.close();
    expect(tab.errors.map((e) => e.message)).toEqual([]);
  });

  it('is served at / by the hub, logs in (a wrong password refused), keeps the token for the tab, and a bad token goes back to login', async () => {
    const { page } = tab;
    await logIn(page, 'wrong');
    await expect(page.getByTestId('login-error').innerText()).resolves.toBe(zh.login.badCredentials);
    await logIn(page);
    await expect(page.getByTestId('branch-name').innerText()).resolves.toBe('Test branch');
    expect(await page.getByTestId('devices-panel').locator('li.device').count()).toBe(7);
    expect(await page.getByTestId('zone-waiting').getByTestId('people').innerText()).toBe('0 / 20 人');
    // No uplink configured: no headquarters badge, and no appointments.
    expect(await page.getByTestId('uplink').count()).toBe(0);
    expect(await page.getByTestId('no-appointments').innerText()).toBe(zh.appointments.empty);
    const token = await inPage<string | null>(page, "sessionStorage.getItem('branch-hub.token')");
    expect((await hub.api('GET', '/api/branches', undefined, token)).status).toBe(200);
    // A reload keeps the session; the API beside the page is untouched.
    await page.reload();
    await page.getByTestId('dashboard').waitFor();
    expect((await hub.api('GET', '/api/nope')).body.statusCode).toBe(404);
    expect((await fetch(`${hub.httpUrl}/metrics`)).status).toBe(200);
    // A token the hub does not take (expired, or a new database): 401 → the login form, saying why.
    await inPage(page, "sessionStorage.setItem('branch-hub.token', 'not-a-token')");
    await page.reload();
    await page.getByTestId('login-expired').waitFor();
    expect(await inPage(page, "sessionStorage.getItem('branch-hub.token')")).toBeNull();
  });

  it('changes live as devices act: tickets and waits, occupancy, a robot going offline', async () => {
    const { page } = tab;
    await logIn(page);
    // Cash: no kiosk serves it, so no diversion flow takes a robot away for these tickets.
    const waiting = page.getByTestId('queue-cash').getByTestId('waiting');
    const before = Number(await waiting.innerText());
    const qms = fleet.queues.get('qms-1')!;
    for (let i = 0; i < 3; i++) await qms.issue('cash');
    await eventually(async () => Number(await waiting.innerText()) === before + 3, 5000, 'three more waiting for cash');
    // The wait chart (ECharts, its aria description) follows the estimate.
    const estimate = parseInt(await page.getByTestId('queue-cash').getByTestId('estimate').innerText(), 10);
    expect(estimate).toBeGreaterThan(0);
    const waitChart = page.getByTestId('wait-chart').locator('[aria-label]').first();
    const shows = new RegExp(`预计等候的柱状图.*Cash的数据是\\d+，${estimate}；`);
    await eventually(async () => shows.test((await waitChart.getAttribute('aria-label')) ?? ''), 5000, 'the estimate in the wait chart');
    await fleet.sensors.get('cam-1')!.occupancy('waiting', 19);
    await eventually(async () => (await page.getByTestId('zone-waiting').getByTestId('people').innerText()) === '19 / 20 人', 5000, 'waiting zone at 19');
    expect(await page.getByTestId('zone-waiting').getAttribute('class')).toContain('high');

    const robot2 = page.getByTestId('device-robot-2');
    expect(await robot2.getByTestId('presence').innerText()).toBe(zh.devices.online);
    fleet.workers.get('robot-2')!.kill();
    await eventually(async () => (await robot2.getByTestId('presence').innerText()) === zh.devices.offline, 5000, 'robot-2 offline');
    expect(await robot2.getByTestId('since').innerText()).toMatch(/^自 \d\d:\d\d$/);
    // …and its device-down alert arrives with it, as a warning.
    await page.locator('[data-type="device-down"][data-level="warning"]').waitFor();
  });

  it('acknowledges an alert with one tap: confirmed first, answered, and it leaves the open list', async () => {
    const { page } = tab;
    await logIn(page);
    await fleet.sensors.get('cam-1')!.publish('conduct', { type: 'other', zone: 'waiting' });
    const alert = page.locator('[data-type="conduct"]');
    await alert.waitFor();
    expect(await alert.innerText()).toContain(`${zh.alertTypes.conduct} · ${zh.zoneNames.waiting}`);
    // "No" changes nothing.
    await alert.getByTestId('ack-alert').click();
    await page.getByTestId('confirm-no').click();
    expect(await alert.count()).toBe(1);

    await alert.getByTestId('ack-alert').click();
    expect(await page.getByTestId('confirm-message').innerText()).toContain(zh.alertTypes.conduct);
    const answer = await confirmAndAnswer(page);
    expect(answer).toMatchObject({ ok: true });
    expect(answer.text).toContain(zh.alertTypes.conduct);
    await alert.waitFor({ state: 'detached' });
    const stored = (await hub.api('GET', '/api/branches/br-1/alerts')).body.find((a: { type: string }) => a.type === 'conduct');
    expect(stored).toMatchObject({ open: false, ackedBy: 'lobby' });
  });

  it('sends a robot to greet, shows why that device, and cancels the task; a refused command shows the hub\'s error', async () => {
    const { page } = tab;
    await logIn(page);
    await page.getByTestId('action-robot').selectOption('robot-1');
    await page.getByTestId('action-zone').selectOption('waiting');
    await page.getByTestId('action-greet').click();
    expect(await page.getByTestId('confirm-message').innerText()).toBe('派 robot-1 到「等候区」迎宾？');
    const sent = await confirmAndAnswer(page);
    expect(sent).toEqual({ ok: true, text: expect.stringContaining('迎宾 · 等候区 → robot-1') });

    const card = page.locator('li.task[data-type="greet"]');
    await card.waitFor();
    const taskId = (await card.getAttribute('data-testid'))!.replace('task-', '');
    expect(await card.getByTestId('task-device').innerText()).toBe('设备：robot-1');
    expect(await card.getByTestId('task-why').innerText()).toContain('候选：robot-1');
    await eventually(async () => (await card.getAttribute('data-state')) === 'started', 5000, 'task started');
    expect(await page.getByTestId('device-robot-1').getByTestId('device-task').innerText()).toBe('任务：迎宾 · 等候区');

    await card.getByTestId('cancel-task').click();
    expect(await confirmAndAnswer(page)).toMatchObject({ ok: true });
    await card.waitFor({ state: 'detached' });
    expect((await hub.api('GET', `/api/tasks/${taskId}`)).body.state).toBe('cancelled');

    // An announcement, then a cancel that the hub refuses: the task closed while the dialog was open.
    await page.getByTestId('action-text').fill('请 A001 号到 1 号窗口');
    await page.getByTestId('action-speaker').selectOption('robot-1');
    await page.getByTestId('action-announce').click();
    expect(await confirmAndAnswer(page)).toMatchObject({ ok: true });
    const announce = page.locator('li.task[data-type="announce"]');
    await announce.waitFor();
    const announceId = (await announce.getAttribute('data-testid'))!.replace('task-', '');
    await announce.getByTestId('cancel-task').click();
    await hub.api('POST', `/api/tasks/${announceId}/cancel`);
    const refused = await confirmAndAnswer(page);
    expect(refused.ok).toBe(false);
    expect(refused.text).toMatch(/^网点中枢拒绝：conflict: task .+ is already cancelled$/);
  });

  it('pauses promotions for N minutes: confirmed, sent to the hub, answered with until when', async () => {
    const { page } = tab;
    await logIn(page);
    // The command as the hub's branch owner receives it.
    const runtime = hub.running.app.get(Branches).get('br-1');
    const pausePromotions = runtime.pausePromotions.bind(runtime);
    const calls: { minutes: number; until: Promise<string> }[] = [];
    runtime.pausePromotions = (minutes) => {
      const until = pausePromotions(minutes);
      calls.push({ minutes, until });
      return until;
    };
    try {
      await page.getByTestId('action-minutes').fill('30');
      await page.getByTestId('action-pause').click();
      expect(await page.getByTestId('confirm-message').innerText()).toBe('暂停营销推广 30 分钟？');
      const answer = await confirmAndAnswer(page);
      expect(answer).toEqual({ ok: true, text: expect.stringMatching(/^营销推广暂停至 \d\d:\d\d$/) });
      expect(calls.map((c) => c.minutes)).toEqual([30]);
      const until = new Date(await calls[0].until);
      expect(until.getTime() - hub.running.clock.now()).toBeGreaterThan(29 * 60_000);
      const shown = await page.evaluate((iso) => new Date(iso).toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false }), until.toISOString());
      expect(answer.text).toBe(`营销推广暂停至 ${shown}`);
    } finally {
      runtime.pausePromotions = pausePromotions;
    }
  });

  it('switches between Chinese and English with one tap, and remembers the choice', async () => {
    const { page } = tab;
    await logIn(page);
    const queues = page.getByTestId('queues-panel').locator('h2');
    expect(await queues.innerText()).toBe(zh.panels.queues);
    expect(await page.getByTestId('lang-toggle').innerText()).toBe('English');
    await page.getByTestId('lang-toggle').click();
    expect(await queues.innerText()).toBe(en.panels.queues);
    expect(await page.getByTestId('device-robot-1').getByTestId('presence').innerText()).toBe(en.devices.online);
    expect(await page.getByTestId('zone-entrance').innerText()).toContain(en.zoneNames.entrance);
    expect(await inPage(page, 'document.documentElement.lang')).toBe('en');
    await page.reload();
    expect(await page.getByTestId('queues-panel').locator('h2').innerText()).toBe(en.panels.queues);
    await page.getByTestId('lang-toggle').click();
    expect(await queues.innerText()).toBe(zh.panels.queues);
  });
});

describe('the tablet page when the hub goes away', () => {
  it('shows "connection lost — reconnecting", and once the hub is back it is whole again from the fresh snapshot, without a reload', async () => {
    let hub = await startTestHub(testConfig());
    const fleet = await fleetOn(hub, { only: ['robot-1', 'qms-1', 'cam-1'], profiles: { 'robot-1': workTakes(60_000) } });
    const tab = await openTablet(browser, hub);
    const { page } = tab;
    try {
      await logIn(page);
      const task = (await hub.api('POST', '/api/branches/br-1/tasks', { type: 'announce', deviceId: 'robot-1', params: { text: 'hello', lang: 'en' } })).body;
      await page.getByTestId(`task-${task.id}`).waitFor();
      await fleet.queues.get('qms-1')!.issue('cash');
      await eventually(async () => (await page.getByTestId('queue-cash').getByTestId('waiting').innerText()) === '1', 5000, 'one waiting for cash');
      expect(await page.getByTestId('device-robot-1').getByTestId('presence').innerText()).toBe(zh.devices.online);
      const footfall = page.getByTestId('footfall-chart');
      expect(await footfall.getAttribute('data-hours')).toBe('0');
      // People leaving through the entrance: footfall reaches the page with the next snapshot only.
      await fleet.sensors.get('cam-1')!.leave({ count: 3 });
      await hub.settle();
      await inPage(page, "window.marker = 'same page'");

      await hub.stop();
      await page.getByTestId('connection-banner').waitFor();
      expect(await page.getByTestId('connection-banner').innerText()).toBe(zh.connection.lost);

      // The hub comes back while the tablet's network is still down: what changes then reaches the page
      // only through the snapshot it gets when it reconnects.
      await page.route('**/socket.io/**', (route) => route.abort());
      hub = await startAgain(hub);
      await hub.api('POST', `/api/tasks/${task.id}/cancel`);
      await page.unroute('**/socket.io/**');

      await page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 10_000 });
      await page.getByTestId(`task-${task.id}`).waitFor({ state: 'detached' });
      expect(await page.getByTestId('no-tasks').isVisible()).toBe(true);
      // The devices did not come back with the hub: the snapshot says so.
      expect(await page.getByTestId('device-robot-1').getByTestId('presence').innerText()).toBe(zh.devices.offline);
      // Footfall and queues survive a restart; the footfall chart now has its first hour.
      expect(await footfall.getAttribute('data-hours')).toBe('1');
      expect(await footfall.locator('[aria-label]').first().getAttribute('aria-label')).toMatch(/离店的柱状图.*的数据是\d+，3/);
      expect(await page.getByTestId('queue-cash').getByTestId('waiting').innerText()).toBe('1');
      expect(await inPage(page, 'window.marker')).toBe('same page');
      expect(tab.errors.map((e) => e.message)).toEqual([]);
    } finally {
      await tab.context.close();
      await fleet.disconnect().catch(() => undefined);
      await hub.close();
    }
  });
});
