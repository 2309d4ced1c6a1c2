import { SimulatedClock } from 'xstate';
import { loadConfig } from '../../src/config/load-config.js';
import type { TaskCommand } from '../../src/contracts/tasks.js';
import type { SimDevice } from '../device.js';
import type { Fleet } from '../fleet.js';
import { KioskSim } from '../kiosk.js';
import { QueueSim } from '../queue.js';
import { SensorSim } from '../sensor.js';
import { WorkerSim } from '../worker.js';
import { appointmentArrival } from './arrivals.js';
import { playDay } from './branch-day.js';
import { loadScenario } from './scenario.js';

const MIN = 60_000;
/** 10:00 of the peak day, on a clock whose minutes the day counts from `from` (10:00). */
const T0 = Date.parse('2026-12-30T10:00:00+08:00');
const iso = (min: number) => new Date(T0 + min * MIN).toISOString();

/** The peak day's branch with every device simulated offline: what they would publish is kept. */
function branchDay() {
  // Nobody but headquarters' customers, and the card counter opens only at 10:40: the appointment's customer waits for it.
  const peak = loadScenario('peak-day');
  const counters = { '09:00': { ...peak.counters['09:00'], card: 0 }, '10:40': peak.counters['09:00'] };
  const scenario = { ...peak, arrivals: { '09:00': 0 }, counters, unattended: [], failures: [], crowds: [] };
  const branch = loadConfig({ HUB_CONFIG: scenario.configPath }).branches[0];
  const clock = new SimulatedClock();
  clock.set(T0);
  const sent: { device: string; kind: string; payload: Record<string, any> }[] = [];
  const offline = <T extends SimDevice>(d: T): T => {
    d.clock = clock;
    d.publish = (async (kind: string, payload: Record<string, unknown>) => void sent.push({ device: d.id, kind, payload })) as T['publish'];
    return d;
  };
  const id = (deviceId: string) => {
    const d = branch.devices.find((x) => x.id === deviceId)!;
    return { branchId: branch.id, id: d.id, secret: d.secret, kind: d.kind, zone: d.zone };
  };
  const robot = offline(new WorkerSim(id('robot-2')));
  const kiosk = offline(new KioskSim(id('kiosk-1')));
  const fleet: Fleet = {
    all: [],
    workers: new Map<string, WorkerSim>([
      ['robot-2', robot],
      ['kiosk-1', kiosk],
    ]),
    sensors: new Map(['cam-1', 'cam-2'].map((c) => [c, offline(new SensorSim(id(c)))])),
    queues: new Map([['qms-1', offline(new QueueSim(id('qms-1')))]]),
    clock,
    disconnect: async () => undefined,
  };
  /** Moves the clock on in steps, letting the day's awaited publishes settle between them. */
  const play = async (minutes: number) => {
    for (let i = 0; i < minutes * 6; i++) {
      clock.increment(10_000);
      await new Promise((r) => setImmediate(r));
    }
  };
  return { scenario, branch, clock, fleet, robot, sent, play };
}

describe('an appointment headquarters booked, in the simulated day', () => {
  it('has its customer come for the booked service around the booked time, the same each time for the same ref', () => {
    const s = loadScenario('peak-day');
    const booking = { ref: 'APT-20261230-001', service: 'wealth', at: iso(20) };
    const a = appointmentArrival(s, booking, 620, new Set(['card', 'transfer']));
    expect(a).toMatchObject({ id: 'APT-20261230-001', kind: 'ticket', service: 'wealth', kioskCapable: false, appointment: 'APT-20261230-001' });
    expect(a.minute).toBeGreaterThanOrEqual(610);
    expect(a.minute).toBeLessThanOrEqual(625);
    expect(appointmentArrival(s, booking, 620, new Set())).toEqual(a);
    const others = ['002', '003', '004', '005', '006'].map((n) => appointmentArrival(s, { ...booking, ref: `APT-20261230-${n}` }, 620, new Set()).minute);
    expect(new Set([a.minute, ...others]).size).toBe(6);
    for (const m of others) expect(Math.abs(m - 620 + 2.5)).toBeLessThanOrEqual(7.5);
    expect(appointmentArrival(s, { ...booking, service: 'card', segment: 'vip' }, 620, new Set(['card']))).toMatchObject({ kioskCapable: true, segment: 'vip' });
  });

  it('takes a ticket carrying the ref, is escorted to the counters and keeps their place in line, and is served there', async () => {
    const { scenario, branch, fleet, robot, sent, play } = branchDay();
    const stop = new AbortController();
    const booked = { ref: 'APT-20261230-001', service: 'card', at: iso(20) };
    // Booked after the played part (to 11:00): nobody comes for it.
    const later = { ref: 'APT-20261230-002', service: 'cash', at: iso(90) };
    const day = playDay(scenario, branch, fleet, { from: '10:00', to: '11:00', coordinated: true, scale: 60, signal: stop.signal, appointments: [booked, later] });

    await play(26);
    const issued = sent.filter((m) => m.kind === 'queue' && m.payload.event === 'issued');
    expect(issued).toEqual([{ device: 'qms-1', kind: 'queue', payload: { event: 'issued', ticket: 'A001', service: 'card', appointment: 'APT-20261230-001' } }]);

    // The hub's answer to the ticket: a guide to the card service's zone (the counters), not to the kiosks.
    const guide = { taskId: 't1', type: 'guide', params: { toZone: 'counters', service: 'card', ticket: 'A001' } } as unknown as TaskCommand;
    robot.onWork!(guide, 'started');
    await play(14); // 10:40: the counter opens and calls them
    expect(sent.find((m) => m.payload.event === 'called')?.payload).toMatchObject({ ticket: 'A001', service: 'card' });
    await play(20);
    stop.abort();
    const record = await day;

    expect(record.customers).toHaveLength(1);
    const [c] = record.customers;
    expect(c).toMatchObject({ id: 'APT-20261230-001', appointment: 'APT-20261230-001', ticket: 'A001', service: 'card', diverted: false, servedBy: 'counter' });
    expect(c.arrivedAt).toBeGreaterThanOrEqual(T0 + 10 * MIN);
    expect(c.arrivedAt).toBeLessThanOrEqual(T0 + 25 * MIN + 10_000);
    expect(c.escortedAt).toBeGreaterThanOrEqual(c.queuedAt!);
    expect(c.guideOfferedAt).toBeUndefined();
    expect(sent.some((m) => m.payload.event === 'served' && m.payload.ticket === 'A001' && m.payload.counter)).toBe(true);
  });
});
