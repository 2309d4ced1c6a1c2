import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { analyticsTruth } from './analytics-truth.js';
import { drawArrivals } from './arrivals.js';
import { outcomes } from './outcomes.js';
import type { CustomerRecord, DayRecord } from './records.js';
import { checkScenario, loadScenario } from './scenario.js';

const MIN = 60_000;
const T0 = Date.parse('2026-12-30T10:00:00Z');
const customer = (c: Partial<CustomerRecord> & { id: string }): CustomerRecord => ({ arrivedAt: T0, kind: 'ticket', kioskCapable: false, diverted: false, promotionsSeen: 0, ...c });
const day = (d: Partial<DayRecord>): DayRecord => ({
  scenario: 't',
  coordinated: true,
  scale: 60,
  seed: 1,
  start: T0,
  end: T0 + 60 * MIN,
  startMinute: 600,
  closedAt: T0 + 60 * MIN,
  customers: [],
  expectedAlerts: [],
  raisedAlerts: [],
  devices: [],
  tasksStarted: {},
  tasksEnded: {},
  visits: [],
  moves: [],
  tracks: {},
  ...d,
});

describe('scenario files', () => {
  it.each(['normal-weekday', 'peak-day', 'device-failure', 'crowding'])('%s loads', (name) => {
    const s = loadScenario(name);
    expect(s.name).toBe(name);
    expect(Object.keys(s.arrivals).length).toBeGreaterThan(0);
  });

  it('refuses a bad file with the field that is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
    const base = loadScenario('normal-weekday');
    const { name: _n, configPath: _c, ...raw } = base;
    writeFileSync(join(dir, 'bad.yaml'), JSON.stringify({ ...raw, open: '9am' }));
    expect(() => loadScenario(join(dir, 'bad.yaml'))).toThrow(/bad\.yaml: open: must be HH:MM/);
    writeFileSync(join(dir, 'late.yaml'), JSON.stringify({ ...raw, close: '08:00' }));
    expect(() => loadScenario(join(dir, 'late.yaml'))).toThrow(/close must be after open/);
  });
});

describe('a scenario against its branch', () => {
  it('is refused, before the day starts, when it names a service, device, post or zone the branch does not have', () => {
    const s = loadScenario('device-failure');
    const branch = loadConfig({ HUB_CONFIG: s.configPath }).branches[0];
    const devices = new Set(branch.devices.map((d) => d.id));
    expect(() => checkScenario(s, branch, devices)).not.toThrow();
    expect(() => checkScenario({ ...s, failures: [{ device: 'robot-9', at: '11:00', kind: 'offline' }] }, branch, devices)).toThrow('scenario device-failure: failures: no robot, screen or kiosk "robot-9" in branch sh-lujiazui');
    expect(() => checkScenario({ ...s, mix: { ...s.mix, gold: 1 } }, branch, devices)).toThrow(/mix: no service "gold"/);
    expect(() => checkScenario({ ...s, counters: { '09:00': { gold: 1 } } }, branch, devices)).toThrow(/counters: no service "gold"/);
    expect(() => checkScenario({ ...s, unattended: [{ post: 'counter-9', service: 'cash', at: '11:00', minutes: 5 }] }, branch, devices)).toThrow(/no post "counter-9"/);
    expect(() => checkScenario({ ...s, crowds: [{ zone: 'roof', at: '11:00', people: 5, minutes: 5 }] }, branch, devices)).toThrow(/no zone "roof"/);
  });
});

describe('arrivals', () => {
  const s = loadScenario('peak-day');
  const kiosk = new Set(['card', 'transfer']);

  it('replays the same customers for the same seed, others for another', () => {
    const a = drawArrivals(s, kiosk, 540, 1020);
    expect(drawArrivals(s, kiosk, 540, 1020)).toEqual(a);
    expect(drawArrivals({ ...s, seed: s.seed + 1 }, kiosk, 540, 1020)).not.toEqual(a);
  });

  it('follows the hourly profile: each hour near its rate, none outside the window', () => {
    const all = drawArrivals(s, kiosk, 540, 1020);
    for (const [hhmm, perHour] of Object.entries(s.arrivals)) {
      const h = Number(hhmm.slice(0, 2));
      const n = all.filter((a) => Math.floor(a.minute / 60) === h).length;
      // A Poisson count: within 4 standard deviations of its mean.
      expect(Math.abs(n - perHour)).toBeLessThan(4 * Math.sqrt(perHour));
    }
    expect(all.every((a) => a.minute >= 540 && a.minute < 1020)).toBe(true);
    expect(all.filter((a) => a.kind === 'self-serve').every((a) => a.kioskCapable)).toBe(true);
  });
});

describe('outcomes', () => {
  it('counts a robot greeting within 10 s of arrival, not later, and a screen welcome only as a welcome', () => {
    const o = outcomes(
      day({
        customers: [
          customer({ id: 'a', greetedAt: T0 + 9_000 }),
          customer({ id: 'b', greetedAt: T0 + 11_000 }),
          customer({ id: 'c', welcomedAt: T0 + 2_000 }),
          customer({ id: 'd' }),
        ],
      }),
    );
    expect(o.greetedWithin10s).toBe(0.25);
    expect(o.welcomedWithin10s).toBe(0.5);
  });

  it('measures waits from joining a line to service, at counters and kiosks, per service', () => {
    const waits = [2, 4, 6, 8, 30];
    const cs = waits.map((w, i) => customer({ id: `c${i}`, service: 'card', kioskCapable: true, queuedAt: T0, serviceAt: T0 + w * MIN, servedBy: i === 4 ? 'counter' : 'kiosk', diverted: i < 2, servedAt: T0 + (w + 5) * MIN }));
    const o = outcomes(day({ customers: [...cs, customer({ id: 'gone', service: 'card', queuedAt: T0, abandonedAt: T0 + 40 * MIN })] }));
    expect(o.waits.card).toEqual({ count: 5, meanMin: 10, p95Min: 30 });
    expect(o.kioskCapableWait.p95Min).toBe(30);
    expect(o.diverted).toBe(2);
    expect(o.abandoned).toBe(1);
  });

  it('matches each due alert to the hub alert of its subject, and reports how late it came', () => {
    const o = outcomes(
      day({
        expectedAlerts: [
          { type: 'crowding', subject: 'waiting', at: T0 },
          { type: 'crowding', subject: 'waiting', at: T0 + 30 * MIN },
          { type: 'device-down', subject: 'robot-2', at: T0 },
        ],
        raisedAlerts: [
          { type: 'crowding', subject: 'waiting', raisedAt: new Date(T0 + 2_000).toISOString() },
          { type: 'crowding', subject: 'entrance', raisedAt: new Date(T0 + 31 * MIN).toISOString() },
          { type: 'task-failed', subject: 'x', raisedAt: new Date(T0).toISOString() },
        ],
      }),
    );
    expect(o.alerts.crowding).toEqual({ expected: 2, raised: 2, matched: 1, medianDelaySec: 2, maxDelaySec: 2 });
    expect(o.alerts['device-down']).toMatchObject({ expected: 1, raised: 0, matched: 0 });
    expect(o.alerts['task-failed']).toMatchObject({ expected: 0, raised: 1 });
  });

  it('spreads busy time per kind over the open hours', () => {
    const o = outcomes(
      day({
        devices: [
          { id: 'robot-1', kind: 'robot', statusLog: [{ at: T0, status: 'busy' }, { at: T0 + 30 * MIN, status: 'idle' }] },
          { id: 'robot-2', kind: 'robot', statusLog: [{ at: T0, status: 'idle' }] },
          { id: 'kiosk-1', kind: 'kiosk', statusLog: [{ at: T0 + 45 * MIN, status: 'busy' }] },
        ],
      }),
    );
    expect(o.utilisation.robot).toEqual({ devices: 2, min: 0, mean: 0.25, max: 0.5 });
    expect(o.kioskUtilisation).toBe(0.25);
  });
});

describe('analytics truth', () => {
  const at = (hhmm: string) => Date.parse(`2026-12-30T${hhmm}:00Z`);
  const H10 = at('10:00');
  const H11 = at('11:00');
  const H12 = at('12:00');
  // p1 goes entrance → waiting → counters and leaves at 11:05; p2 entrance → waiting → self-service and leaves at 10:55; p3 is still at the door.
  const record = day({
    visits: [
      { person: 'p1', zone: 'entrance', enteredAt: at('10:10'), leftAt: at('10:11') },
      { person: 'p1', zone: 'waiting', enteredAt: at('10:11'), leftAt: at('10:50') },
      { person: 'p1', zone: 'counters', enteredAt: at('10:50'), leftAt: at('11:05') },
      { person: 'p2', zone: 'entrance', enteredAt: at('10:20'), leftAt: at('10:20') + 30_000 },
      { person: 'p2', zone: 'waiting', enteredAt: at('10:20') + 30_000, leftAt: at('10:40') },
      { person: 'p2', zone: 'self-service', enteredAt: at('10:40'), leftAt: at('10:55') },
      { person: 'p3', zone: 'entrance', enteredAt: at('10:58') },
    ],
    moves: [
      { person: 'p1', to: 'entrance', at: at('10:10') },
      { person: 'p1', from: 'entrance', to: 'waiting', at: at('10:11') },
      { person: 'p1', from: 'waiting', to: 'counters', at: at('10:50') },
      { person: 'p1', from: 'counters', to: 'outside', at: at('11:05') },
      { person: 'p2', to: 'entrance', at: at('10:20') },
      { person: 'p2', from: 'entrance', to: 'waiting', at: at('10:20') + 30_000 },
      { person: 'p2', from: 'waiting', to: 'self-service', at: at('10:40') },
      { person: 'p2', from: 'self-service', to: 'outside', at: at('10:55') },
      { person: 'p3', to: 'entrance', at: at('10:58') },
    ],
    customers: [
      customer({ id: 'c1', service: 'card', ticket: 'B001', queuedAt: at('10:11'), serviceAt: at('10:50'), servedBy: 'counter' }),
      // Guided to a kiosk: issued, never called, so no wait.
      customer({ id: 'c2', service: 'card', ticket: 'B002', queuedAt: at('10:21'), serviceAt: at('10:40'), servedBy: 'kiosk', diverted: true }),
      customer({ id: 'c3', service: 'cash', ticket: 'A001', queuedAt: at('10:55'), serviceAt: at('11:10'), servedBy: 'counter' }),
      customer({ id: 'c4', service: 'cash', ticket: 'A002', queuedAt: at('10:30'), abandonedAt: at('11:02') }),
      customer({ id: 'c5', kind: 'self-serve', service: 'card', queuedAt: at('10:05'), serviceAt: at('10:06'), servedBy: 'kiosk' }),
      // Waits of 1 to 10 minutes: nearest-rank p50 is the 5th (300 s), p90 the 9th (540 s), not an interpolation.
      ...Array.from({ length: 10 }, (_, k) => customer({ id: `t${k}`, service: 'transfer', ticket: `C${k}`, queuedAt: H10, serviceAt: H10 + (k + 1) * MIN, servedBy: 'counter' })),
    ],
    tasksStarted: { greet: 3, guide: 1 },
    tasksEnded: { greet: { completed: 2, failed: 1 } },
  });

  it('counts footfall by the hour of the door event, every hour of the span listed', () => {
    expect(analyticsTruth(record, H10, H12).footfall.byHour).toEqual([
      { hour: '2026-12-30T10:00:00.000Z', in: 3, out: 1 },
      { hour: '2026-12-30T11:00:00.000Z', in: 0, out: 1 },
    ]);
  });

  it('counts a dwell in the hour the visit ended (open visits not at all), with nearest-rank percentiles', () => {
    expect(analyticsTruth(record, H10, H11).dwell).toEqual({
      entrance: { count: 2, p50Sec: 30, p90Sec: 60 },
      'self-service': { count: 1, p50Sec: 900, p90Sec: 900 },
      waiting: { count: 2, p50Sec: 1170, p90Sec: 2340 },
    });
    expect(analyticsTruth(record, H11, H12).dwell).toEqual({ counters: { count: 1, p50Sec: 900, p90Sec: 900 } });
  });

  it('counts transitions in the hour of the move, leaving as "outside", the first zone without one', () => {
    expect(analyticsTruth(record, H10, H11).transitions).toEqual([
      { from: 'entrance', to: 'waiting', count: 2 },
      { from: 'self-service', to: 'outside', count: 1 },
      { from: 'waiting', to: 'counters', count: 1 },
      { from: 'waiting', to: 'self-service', count: 1 },
    ]);
    expect(analyticsTruth(record, H11, H12).transitions).toEqual([{ from: 'counters', to: 'outside', count: 1 }]);
  });

  it('counts waits of called tickets at the call, issued at the issue, abandoned when given up', () => {
    expect(analyticsTruth(record, H10, H11).waits).toEqual({
      card: { count: 1, p50Sec: 2340, p90Sec: 2340, issued: 2, abandoned: 0 },
      cash: { count: 0, p50Sec: null, p90Sec: null, issued: 2, abandoned: 0 },
      transfer: { count: 10, p50Sec: 300, p90Sec: 540, issued: 10, abandoned: 0 },
    });
    expect(analyticsTruth(record, H11, H12).waits).toEqual({ cash: { count: 1, p50Sec: 900, p90Sec: 900, issued: 0, abandoned: 1 } });
  });

  it('reports what the devices did per task type, whatever the span', () => {
    expect(analyticsTruth(record, H11, H12).tasks).toEqual({ greet: { started: 3, completed: 2, failed: 1 }, guide: { started: 1, completed: 0, failed: 0 } });
  });
});
