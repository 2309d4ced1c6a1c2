import type { Fleet } from '../device-sims/fleet.js';
import { HqSim } from '../device-sims/hq.js';
import type { HubConfig } from '../src/config/config.schema.js';
import { fleetOn } from './support/fleet.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';
import { startMosquitto, type Mosquitto } from './support/mosquitto.js';

/**
 * Issue 11: appointments booked by headquarters (contract sections 5 and 8), every path, through a real
 * Mosquitto playing HQ's broker. The hub's clock runs 120× (a hub minute is half a real second).
 */
const SCALE = 120;
const config = (url: string, clockStart?: string): HubConfig => ({
  ...testConfig({ rules: { ackTimeoutSec: 30, appointmentLeadMin: 1, appointmentGraceMin: 0.5 }, server: { timeScale: SCALE, ...(clockStart ? { clockStart } : {}) } }),
  uplink: { url, clientId: 'hub-appt', kpiIntervalSec: 3600, maxBacklog: 100_000 },
});

describe('appointments from headquarters', () => {
  let broker: Mosquitto;
  let hq: HqSim;
  let hub: TestHub;
  let fleet: Fleet;
  const inMin = (min: number) => new Date(hub.running.clock.now() + min * 60_000).toISOString();
  const statuses = (requestId: string) => hq.statusesOf(requestId);
  const reaches = (requestId: string, state: string, timeoutMs = 5000) => hq.waitFor(() => statuses(requestId).includes(state), timeoutMs, `${requestId} ${state}`);
  const listed = async (requestId: string) =>
    ((await hub.api('GET', '/api/branches/br-1/appointments')).body as { requestId: string; state: string; ticket: string | null }[]).find((a) => a.requestId === requestId);
  const openAlert = async (ref: string) =>
    ((await hub.api('GET', '/api/branches/br-1/alerts?state=open')).body as { type: string; subject: string }[]).find((a) => a.type === 'appointment-due' && a.subject === ref);

  beforeAll(async () => {
    broker = await startMosquitto();
    hq = await HqSim.connect(broker.url, { clientId: 'hq-appt' });
    hub = await startTestHub(config(broker.url));
    fleet = await fleetOn(hub);
    await hq.waitFor(() => hq.seen('br-1').status?.online, 5000, 'hub online');
  });
  afterAll(async () => {
    await fleet?.disconnect();
    await hub?.close();
    await hq?.disconnect();
    await broker?.close();
  });

  it('accepts, makes due with an alert, guides the customer whose ticket carries the ref, then served', async () => {
    const id = await hq.bookAppointment('br-1', { ref: 'APT-1', service: 'card', at: inMin(3), segment: 'vip', note: 'new card' });
    await reaches(id, 'accepted');
    expect(await listed(id)).toMatchObject({ state: 'accepted', ticket: null });
    // appointmentLeadMin 1: due two hub minutes (a real second) from now, with an alert for the lobby manager.
    await reaches(id, 'due');
    await eventually(() => openAlert('APT-1'), 3000, 'appointment-due alert');
    await fleet.queues.get('qms-1')!.publish('queue', { event: 'issued', ticket: 'A901', service: 'card', appointment: 'APT-1' });
    await reaches(id, 'arrived');
    expect(await listed(id)).toMatchObject({ state: 'arrived', ticket: 'A901' });
    await eventually(async () => !(await openAlert('APT-1')), 3000, 'due alert cleared');
    const guide = await eventually(async () => ((await hub.api('GET', '/api/branches/br-1/tasks')).body as { type: string; origin: string; params: Record<string, unknown> }[]).find((t) => t.origin === 'flow:appointment'), 3000, 'a guide task');
    expect(guide).toMatchObject({ type: 'guide', params: { toZone: 'counters', service: 'card', ticket: 'A901' } });
    await fleet.queues.get('qms-1')!.publish('queue', { event: 'served', ticket: 'A901', service: 'card', counter: '2' });
    await reaches(id, 'served');
    expect(statuses(id)).toEqual(['accepted', 'due', 'arrived', 'served']);
  });

  it('marks an appointment missed when no ticket came within the grace, and clears its alert', async () => {
    const id = await hq.bookAppointment('br-1', { ref: 'APT-2', service: 'cash', at: inMin(1.5) });
    await reaches(id, 'due');
    await eventually(() => openAlert('APT-2'), 3000, 'appointment-due alert');
    // Its time + 0.5 hub minutes: a real second from now.
    await reaches(id, 'missed', 5000);
    expect(statuses(id)).toEqual(['accepted', 'due', 'missed']);
    await eventually(async () => !(await openAlert('APT-2')), 3000, 'due alert cleared');
    // A ticket with its ref after that changes nothing.
    await fleet.queues.get('qms-1')!.publish('queue', { event: 'issued', ticket: 'C901', service: 'cash', appointment: 'APT-2' });
    await hub.settle();
    expect(await listed(id)).toMatchObject({ state: 'missed', ticket: null });
  });

  it('marks an arrived appointment missed when its customer leaves the line', async () => {
    const id = await hq.bookAppointment('br-1', { ref: 'APT-8', service: 'cash', at: inMin(30) });
    await reaches(id, 'accepted');
    await fleet.queues.get('qms-1')!.publish('queue', { event: 'issued', ticket: 'C950', service: 'cash', appointment: 'APT-8' });
    await reaches(id, 'arrived');
    await fleet.queues.get('qms-1')!.publish('queue', { event: 'abandoned', ticket: 'C950', service: 'cash' });
    await reaches(id, 'missed');
    expect(await listed(id)).toMatchObject({ state: 'missed', ticket: 'C950', reason: 'the customer left the line' });
    // Its ref is free again for a new booking.
    await reaches(await hq.bookAppointment('br-1', { ref: 'APT-8', service: 'cash', at: inMin(60) }), 'accepted');
  });

  it('rejects with a reason: unknown service, a time that has passed, a malformed request, a ref already booked', async () => {
    const unknown = await hq.bookAppointment('br-1', { ref: 'APT-3', service: 'mortgage', at: inMin(60) });
    const past = await hq.bookAppointment('br-1', { ref: 'APT-4', service: 'card', at: inMin(-5) });
    const live = await hq.bookAppointment('br-1', { ref: 'APT-5', service: 'card', at: inMin(120) });
    const twice = await hq.bookAppointment('br-1', { ref: 'APT-5', service: 'cash', at: inMin(130) });
    const bad = 'bad-1';
    await hq.client.publishAsync('hq/br-1/requests', JSON.stringify({ requestId: bad, type: 'appointment', service: 'card', at: 'tomorrow' }), { qos: 1 });
    for (const id of [unknown, past, twice, bad]) await reaches(id, 'rejected');
    await reaches(live, 'accepted');
    const reason = (id: string) => hq.seen('br-1').events.find((e) => e.kind === 'request-status' && e.requestId === id)?.reason;
    expect(reason(unknown)).toBe('unknown service "mortgage"');
    expect(reason(past)).toMatch(/^its time .* has passed$/);
    expect(reason(twice)).toBe('ref APT-5 is already booked');
    expect(reason(bad)).toMatch(/ref: .*; at: /);
  });

  it('answers a redelivered request with its last status and changes nothing', async () => {
    const id = await hq.bookAppointment('br-1', { ref: 'APT-6', service: 'cash', at: inMin(200) });
    await reaches(id, 'accepted');
    const before = hq.seen('br-1').events.filter((e) => e.requestId === id).length;
    await hq.bookAppointment('br-1', { requestId: id, ref: 'APT-6-other', service: 'card', at: inMin(300) });
    await hq.waitFor(() => hq.seen('br-1').events.filter((e) => e.requestId === id).length > before, 5000, 'the repeated status');
    expect(hq.seen('br-1').events.filter((e) => e.requestId === id).map((e) => e.state)).toEqual(['accepted', 'accepted']);
    expect(await listed(id)).toMatchObject({ state: 'accepted' });
    expect(((await hub.api('GET', '/api/branches/br-1/appointments')).body as { ref: string }[]).filter((a) => a.ref.startsWith('APT-6'))).toHaveLength(1);
  });

  it('keeps an appointment and its deadlines across a hub restart, and knows whose ticket an arrived customer holds', async () => {
    const id = await hq.bookAppointment('br-1', { ref: 'APT-7', service: 'card', at: inMin(4) });
    const arrived = await hq.bookAppointment('br-1', { ref: 'APT-9', service: 'card', at: inMin(20) });
    await reaches(id, 'accepted');
    await reaches(arrived, 'accepted');
    await fleet.queues.get('qms-1')!.publish('queue', { event: 'issued', ticket: 'A908', service: 'card', appointment: 'APT-9' });
    await reaches(arrived, 'arrived');
    await fleet.disconnect();
    // The restarted hub's clock goes on from where this one is (a scaled clock starts at HUB_CLOCK_START).
    const now = new Date(hub.running.clock.now()).toISOString();
    await hub.stop();
    hub = await startTestHub(config(broker.url, now), hub.dataDir);
    fleet = await fleetOn(hub);
    await reaches(id, 'due', 8000);
    await fleet.queues.get('qms-1')!.publish('queue', { event: 'served', ticket: 'A908', service: 'card', counter: '1' });
    await reaches(arrived, 'served');
    expect(hq.seqReport('br-1')).toMatchObject({ gaps: [], outOfOrder: [] });
  });
});
