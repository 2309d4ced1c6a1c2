import mqtt, { type MqttClient } from 'mqtt';
import { planAppointments, type DayPlan } from '../device-sims/hq-booker.js';
import { HqSim } from '../device-sims/hq.js';
import { startMosquitto, type Mosquitto } from './support/mosquitto.js';

/** Plays a hub on HQ's broker: publishes what contract section 8 says a hub publishes. */
async function fakeHub(url: string, opts: { clientId?: string; username?: string; password?: string } = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId: opts.clientId ?? 'hub-br-1', clean: false, reconnectPeriod: 0, username: opts.username, password: opts.password }, false);
}

/** Events with these seqs, as given (repeats and disorder included), each acknowledged before the next. */
async function publishEvents(hub: MqttClient, seqs: number[]): Promise<void> {
  for (const seq of seqs) {
    await hub.publishAsync('hq/br-1/events', JSON.stringify({ seq, ts: new Date(Date.UTC(2026, 11, 1, 9, 0, seq)).toISOString(), kind: 'alert-raised' }), { qos: 1 });
  }
}

/** What a fresh subscriber reads retained on `topic`, `undefined` if nothing is retained. */
async function retainedOn(url: string, topic: string): Promise<string | undefined> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 }, false);
  let value: string | undefined;
  c.on('message', (_t, payload) => (value = payload.toString()));
  await c.subscribeAsync(topic, { qos: 1 });
  // Mosquitto sends the retained messages while handling the SUBSCRIBE: they are on the wire before the
  // UNSUBACK, so once it is back they have arrived (a barrier, not a sleep).
  await c.unsubscribeAsync(topic);
  await c.endAsync();
  return value;
}

describe('Mosquitto harness and simulated HQ', () => {
  let broker: Mosquitto;
  const open: (MqttClient | HqSim)[] = [];
  const track = <T extends MqttClient | HqSim>(c: T): T => (open.push(c), c);

  beforeEach(async () => {
    broker = await startMosquitto();
  });

  afterEach(async () => {
    for (const c of open.splice(0)) await (c instanceof HqSim ? c.drop() : c.endAsync(true));
    await broker.close();
  });

  it('listens on its own free port, never the system broker', () => {
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    expect(broker.port).not.toBe(1883);
  });

  it('keeps a retained status across a graceful restart', async () => {
    const hub = track(await fakeHub(broker.url));
    await hub.publishAsync('hq/br-1/status', JSON.stringify({ online: true, since: '2026-12-01T09:00:00Z' }), { qos: 1, retain: true });
    hub.end(true);
    await broker.restart();
    expect(JSON.parse((await retainedOn(broker.url, 'hq/br-1/status'))!)).toEqual({ online: true, since: '2026-12-01T09:00:00Z' });
  });

  it('keeps a retained message and a queued one across kill -9, once flushed', async () => {
    const hq = track(await HqSim.connect(broker.url));
    await hq.disconnect();
    const hub = track(await fakeHub(broker.url));
    await hub.publishAsync('hq/br-1/kpi', JSON.stringify({ ts: 'k1', busyness: 0.4 }), { qos: 1, retain: true });
    await publishEvents(hub, [1]);
    // Neither a retained update nor a message queued for offline HQ triggers autosave in 2.0.11.
    await broker.flush();
    hub.end(true);
    await broker.kill();
    await broker.restart();
    expect(JSON.parse((await retainedOn(broker.url, 'hq/br-1/kpi'))!)).toEqual({ ts: 'k1', busyness: 0.4 });
    await hq.reconnect();
    await hq.waitFor(() => hq.seen('br-1').events.length === 1, 3000, 'event 1 queued before the crash');
    expect(hq.seen('br-1').kpi).toEqual({ ts: 'k1', busyness: 0.4 });
  });

  it('HQ away: the broker queues QoS 1 events in its persistent session, across a restart', async () => {
    const hq = track(await HqSim.connect(broker.url, { clientId: 'hq-test' }));
    const hub = track(await fakeHub(broker.url));
    await publishEvents(hub, [1]);
    await hq.waitFor(() => hq.seqReport('br-1').distinct === 1, 3000, 'event 1 live');
    await hq.disconnect();
    await publishEvents(hub, [2, 3]);
    hub.end(true);
    await broker.restart();
    const hub2 = track(await fakeHub(broker.url));
    await publishEvents(hub2, [4]);
    await hq.reconnect();
    await hq.waitFor(() => hq.seqReport('br-1').distinct === 4, 3000, 'events 2-4 after reconnecting');
    expect(hq.seqReport('br-1')).toEqual({ received: 4, distinct: 4, duplicates: 0, gaps: [], outOfOrder: [] });
    expect(hq.seen('br-1').events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('HQ connected while the broker restarts: it reconnects by itself and keeps receiving', async () => {
    const hq = track(await HqSim.connect(broker.url));
    await broker.restart();
    const hub = track(await fakeHub(broker.url));
    await hub.publishAsync('hq/br-1/status', JSON.stringify({ online: true, since: 'now' }), { qos: 1, retain: true });
    await publishEvents(hub, [1]);
    await hq.waitFor(() => hq.seen('br-1').status?.online && hq.seqReport('br-1').distinct === 1, 5000, 'status and event after the restart');
  });

  it('seqReport finds a gap, a duplicate and a late seq', async () => {
    const hq = track(await HqSim.connect(broker.url));
    const hub = track(await fakeHub(broker.url));
    await publishEvents(hub, [1, 2, 2, 4, 3, 6, 7, 10]);
    await hq.waitFor(() => hq.seen('br-1').events.length === 8, 3000, '8 deliveries');
    expect(hq.seqReport('br-1')).toEqual({ received: 8, distinct: 7, duplicates: 1, gaps: [[5, 5], [8, 9]], outOfOrder: [3] });
    expect(hq.seqReport('br-unknown')).toEqual({ received: 0, distinct: 0, duplicates: 0, gaps: [], outOfOrder: [] });
  });

  it('books an appointment and follows its request-status events, a redelivery counted once', async () => {
    const hq = track(await HqSim.connect(broker.url));
    const hub = track(await fakeHub(broker.url));
    const request = new Promise<any>((resolve) => hub.once('message', (_t, p) => resolve(JSON.parse(p.toString()))));
    await hub.subscribeAsync('hq/br-1/requests', { qos: 1 });
    const requestId = await hq.bookAppointment('br-1', { ref: 'APT-1', service: 'card', at: '2026-12-01T10:30:00.000Z', segment: 'vip' });
    const status = (seq: number, state: string) => ({ seq, ts: 't', kind: 'request-status', requestId, state });
    expect(await request).toEqual({ requestId, type: 'appointment', ref: 'APT-1', service: 'card', at: '2026-12-01T10:30:00.000Z', segment: 'vip' });
    for (const e of [status(1, 'accepted'), status(1, 'accepted'), status(2, 'due'), { ...status(3, 'accepted'), requestId: 'other' }]) {
      await hub.publishAsync('hq/br-1/events', JSON.stringify(e), { qos: 1 });
    }
    await hq.waitFor((m) => m?.payload.requestId === 'other', 3000, 'the last event');
    expect(hq.statusesOf(requestId)).toEqual(['accepted', 'due']);
    expect(hq.summary()['br-1']).toMatchObject({ booked: 1, received: 4, distinct: 3, duplicates: 1 });
  });

  it('records malformed payloads instead of failing', async () => {
    const hq = track(await HqSim.connect(broker.url));
    const hub = track(await fakeHub(broker.url));
    await hub.publishAsync('hq/br-1/events', 'not json', { qos: 1 });
    await hub.publishAsync('hq/br-1/events', JSON.stringify({ kind: 'alert-raised' }), { qos: 1 });
    await hub.publishAsync('hq/br-1/events', JSON.stringify({ seq: 0 }), { qos: 1 });
    await publishEvents(hub, [1]);
    await hq.waitFor(() => hq.seen('br-1').events.length === 1, 3000, 'the good event');
    expect(hq.malformed.map((m) => m.payload)).toEqual(['not json', '{"kind":"alert-raised"}', '{"seq":0}']);
  });

  it('waitFor times out naming what it waited for', async () => {
    const hq = track(await HqSim.connect(broker.url));
    await expect(hq.waitFor(() => false, 50, 'nothing')).rejects.toThrow('waiting for nothing');
  });
});

describe('Mosquitto with credentials', () => {
  it('accepts the right password, refuses a wrong one and anonymous clients', async () => {
    const broker = await startMosquitto({ users: { hub: 'hub-secret' }, allowAnonymous: false });
    try {
      const ok = await fakeHub(broker.url, { username: 'hub', password: 'hub-secret' });
      await ok.endAsync();
      await expect(fakeHub(broker.url, { username: 'hub', password: 'wrong' })).rejects.toThrow(/Not authorized|Bad username/);
      await expect(fakeHub(broker.url)).rejects.toThrow(/Not authorized|Bad username/);
    } finally {
      await broker.close();
    }
  });
});

describe('planAppointments', () => {
  const plan: DayPlan = { seed: 7, date: '2026-12-01', open: '09:00', close: '17:00', services: { cash: 0.3, card: 0.25, transfer: 0.3, wealth: 0.15, none: 0 }, count: 12, from: '10:00', vipShare: 0.3 };

  it('is the same day for the same seed, another for another seed', () => {
    expect(planAppointments(plan)).toEqual(planAppointments(plan));
    expect(planAppointments({ ...plan, seed: 8 })).not.toEqual(planAppointments(plan));
  });

  it('spreads the bookings over the bookable window, in order, with the weighted services', () => {
    const day = planAppointments(plan);
    const minutes = day.map((b) => {
      const d = new Date(b.at);
      return d.getHours() * 60 + d.getMinutes();
    });
    expect(day).toHaveLength(12);
    expect(minutes).toEqual([...minutes].sort((a, b) => a - b));
    expect(minutes[0]).toBeGreaterThanOrEqual(600);
    expect(minutes.at(-1)).toBeLessThan(16 * 60 + 30);
    // One per 32.5-minute slot of 10:00–16:30.
    minutes.forEach((m, i) => expect(Math.floor((m - 600) / 32.5)).toBe(i));
    expect(new Set(day.map((b) => b.service)).size).toBeGreaterThan(1);
    expect(day.map((b) => b.service)).not.toContain('none');
    expect(new Set(day.map((b) => b.requestId)).size).toBe(12);
    expect(day.some((b) => b.segment === 'vip')).toBe(true);
  });

  it('refuses a day with no time left', () => {
    expect(() => planAppointments({ ...plan, from: '16:45' })).toThrow('no time left');
  });
});
