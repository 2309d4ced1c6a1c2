import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { Fleet } from '../device-sims/fleet.js';
import { HqSim } from '../device-sims/hq.js';
import { fleetOn } from './support/fleet.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';
import { startMosquitto, type Mosquitto } from './support/mosquitto.js';
import { launchChromium, logIn, openTablet, type TabletPage } from './support/page.js';

/**
 * Issue 11 on the tablet page: headquarters books appointments through a real Mosquitto, the manager sees
 * them come, fall due, arrive and end; and the top bar shows the link to headquarters, down with its backlog
 * while the broker is gone, back with none. The hub's clock is the real one (appointmentLeadMin 10: an
 * appointment five minutes away is due at once); the tablet sits in Shanghai, the time zone it shows times in.
 */
const zh = JSON.parse(readFileSync(new URL('../web/src/locales/zh-CN.json', import.meta.url), 'utf8'));
const en = JSON.parse(readFileSync(new URL('../web/src/locales/en.json', import.meta.url), 'utf8'));
/** A locale string with its `{placeholders}` filled, as vue-i18n does. */
const say = (message: string, vars: Record<string, string | number>) => message.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k]));
const TZ = 'Asia/Shanghai';
/** The time of day in the tablet's time zone, 24 h, as the page shows it. */
const local = (iso: string) => new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
const inMin = (min: number) => new Date(Date.now() + min * 60_000).toISOString();

let browser: Browser;
let broker: Mosquitto;
let hq: HqSim;
let hub: TestHub;
let fleet: Fleet;
let tab: TabletPage;
/** requestIds: an upcoming VIP, one due at once (then arrived and served), one HQ's request gets rejected. */
let later: string;
let soon: string;
let refused: string;
const laterAt = inMin(120);

beforeAll(async () => {
  broker = await startMosquitto();
  [browser, hq] = await Promise.all([launchChromium(), HqSim.connect(broker.url, { clientId: 'hq-page' })]);
  hub = await startTestHub({ ...testConfig(), uplink: { url: broker.url, clientId: 'hub-page', kpiIntervalSec: 3600, maxBacklog: 100_000 } });
  fleet = await fleetOn(hub, { only: ['qms-1', 'cam-1', 'robot-1'] });
  await hq.waitFor(() => hq.seen('br-1').status?.online, 5000, 'hub online');
});
afterAll(async () => {
  await browser?.close();
  await fleet?.disconnect();
  await hub?.close();
  await hq?.disconnect();
  await broker?.close();
});
beforeEach(async () => {
  tab = await openTablet(browser, hub, { timezoneId: TZ });
  await logIn(tab.page);
});
afterEach(async () => {
  await tab.context.close();
  expect(tab.errors.map((e) => e.message)).toEqual([]);
});

it('shows HQ\'s appointments live: upcoming, due (highlighted, with its alert), arrived with its ticket, ended folded away', async () => {
  const { page } = tab;
  const panel = page.getByTestId('appointments-panel');
  expect(await panel.getByTestId('no-appointments').innerText()).toBe(zh.appointments.empty);

  later = await hq.bookAppointment('br-1', { ref: 'APT-P1', service: 'card', at: laterAt, segment: 'vip', note: '需要轮椅' });
  soon = await hq.bookAppointment('br-1', { ref: 'APT-P2', service: 'cash', at: inMin(5) });
  refused = await hq.bookAppointment('br-1', { ref: 'APT-P3', service: 'mortgage', at: inMin(60) });
  const upcoming = page.getByTestId(`appointment-${later}`);
  const due = page.getByTestId(`appointment-${soon}`);
  await upcoming.waitFor();
  expect(await upcoming.getAttribute('data-state')).toBe('accepted');
  expect(await upcoming.getByTestId('appt-time').innerText()).toContain(local(laterAt));
  expect(await upcoming.getByTestId('appt-service').innerText()).toBe('Cards');
  expect(await upcoming.getByTestId('appt-vip').innerText()).toBe(zh.appointments.vip);
  expect(await upcoming.getByTestId('appt-note').innerText()).toBe('需要轮椅');
  expect(await upcoming.getByTestId('appt-state').innerText()).toBe(zh.appointmentStates.accepted);
  // Ten minutes' lead: the one five minutes away is due at once, highlighted, and the alerts panel says so.
  await eventually(async () => (await due.getAttribute('data-state')) === 'due', 5000, 'APT-P2 due');
  expect(await due.getAttribute('class')).toContain('appt-due');
  expect(await due.getByTestId('appt-state').innerText()).toBe(zh.appointmentStates.due);
  expect(await due.getByTestId('appt-service').innerText()).toBe('Cash');
  expect(await due.getByTestId('appt-vip').count()).toBe(0);
  const alert = page.locator('[data-type="appointment-due"]');
  await alert.waitFor();
  expect(await alert.innerText()).toContain(`${zh.alertTypes['appointment-due']} · APT-P2`);
  // By time: the due one first; the rejected one is not among them.
  const open = page.getByTestId('appointments-upcoming').locator('li');
  expect(await open.evaluateAll((li) => li.map((x) => x.getAttribute('data-ref')))).toEqual(['APT-P2', 'APT-P1']);
  expect(await panel.getByTestId('appointments-open').innerText()).toBe('2');

  // The customer takes a ticket with the ref: arrived, with that ticket, and the due alert goes.
  const qms = fleet.queues.get('qms-1')!;
  await qms.publish('queue', { event: 'issued', ticket: 'C901', service: 'cash', appointment: 'APT-P2' });
  await eventually(async () => (await due.getAttribute('data-state')) === 'arrived', 5000, 'APT-P2 arrived');
  expect(await due.getByTestId('appt-ticket').innerText()).toBe(say(zh.appointments.ticket, { ticket: 'C901' }));
  expect(await due.getByTestId('appt-state').innerText()).toBe(zh.appointmentStates.arrived);
  await alert.waitFor({ state: 'detached' });

  // Served: it joins the rejected one among the day's ended, folded until tapped.
  await qms.publish('queue', { event: 'served', ticket: 'C901', service: 'cash', counter: '2' });
  const ended = panel.getByTestId('appointments-ended');
  await eventually(async () => (await ended.locator('summary').innerText()) === say(zh.appointments.done, { n: 2 }), 5000, 'two ended');
  expect(await panel.getByTestId('appointments-open').innerText()).toBe('1');
  const served = ended.getByTestId(`appointment-${soon}`);
  expect(await served.isVisible()).toBe(false);
  await ended.locator('summary').click();
  expect(await served.getByTestId('appt-state').innerText()).toBe(zh.appointmentStates.served);
  expect(await served.getByTestId('appt-ticket').innerText()).toBe(say(zh.appointments.ticket, { ticket: 'C901' }));
  const rejected = ended.getByTestId(`appointment-${refused}`);
  expect(await rejected.getByTestId('appt-state').innerText()).toBe(zh.appointmentStates.rejected);
  expect(await rejected.getByTestId('appt-reason').innerText()).toBe('unknown service "mortgage"');
});

it('shows the link to HQ: offline in red with the backlog waiting and its age while the broker is down, then connected with none', async () => {
  const { page } = tab;
  const badge = page.getByTestId('uplink');
  expect(await badge.getAttribute('data-connected')).toBe('true');
  expect(await badge.innerText()).toBe(zh.uplink.online);

  await broker.stop();
  await eventually(async () => (await badge.getAttribute('data-connected')) === 'false', 5000, 'HQ offline on the page');
  expect(await badge.getAttribute('class')).toContain('bad');
  expect(await badge.innerText()).toBe(zh.uplink.offline);
  // Meanwhile an alert: the event for HQ waits in the outbox, and the badge counts it.
  await fleet.sensors.get('cam-1')!.publish('conduct', { type: 'other', zone: 'waiting' });
  await page.locator('[data-type="conduct"]').waitFor();
  const backlog = Number(await eventually(async () => Number(await badge.getAttribute('data-backlog')) > 0 && badge.getAttribute('data-backlog'), 8000, 'a backlog on the page'));
  const seconds = say(zh.uplink.seconds, { n: '\\d+' });
  expect(await badge.innerText()).toMatch(new RegExp(`^${zh.uplink.offline} · ${say(zh.uplink.backlog, { n: backlog, age: seconds })}$`));

  await broker.restart();
  await eventually(async () => (await badge.getAttribute('data-connected')) === 'true' && (await badge.getAttribute('data-backlog')) === '0', 10_000, 'HQ connected, nothing waiting');
  expect(await badge.innerText()).toBe(zh.uplink.online);
  expect(await badge.getAttribute('class')).toContain('good');
  // …and HQ did get the alert.
  await hq.waitFor(() => hq.seen('br-1').events.some((e) => e.kind === 'alert-raised' && e.type === 'conduct'), 5000, 'the conduct alert at HQ');
});

it('in English: the panel from the snapshot, the states, the VIP badge and the HQ badge', async () => {
  const { page } = tab;
  await page.getByTestId('lang-toggle').click();
  const panel = page.getByTestId('appointments-panel');
  expect(await panel.locator('h2').innerText()).toContain(en.panels.appointments);
  expect(await panel.getByTestId('appointments-open').innerText()).toBe('1');
  const upcoming = page.getByTestId(`appointment-${later}`);
  expect(await upcoming.getByTestId('appt-state').innerText()).toBe(en.appointmentStates.accepted);
  expect(await upcoming.getByTestId('appt-vip').innerText()).toBe(en.appointments.vip);
  expect(await upcoming.getByTestId('appt-time').innerText()).toContain(local(laterAt));
  expect(await panel.getByTestId('appointments-ended').locator('summary').innerText()).toBe(say(en.appointments.done, { n: 2 }));
  expect(await page.getByTestId('uplink').innerText()).toBe(en.uplink.online);
});
