import type { DeviceView } from '../contracts/views.js';
import { type HeldTask, LOW_BATTERY, type SelectionTask, selectDevice } from './selection.js';

const device = (id: string, over: Partial<DeviceView> = {}): DeviceView => ({
  id,
  branchId: 'sh-1',
  kind: 'robot',
  zone: 'entrance',
  homeZone: 'entrance',
  capabilities: ['greet', 'guide', 'promote'],
  services: [],
  status: 'idle',
  battery: 90,
  online: true,
  since: null,
  lastSeen: null,
  ...over,
});
const task = (over: Partial<SelectionTask> = {}): SelectionTask => ({
  type: 'greet',
  priority: 7,
  zone: 'entrance',
  pinnedDeviceId: null,
  triedDevices: [],
  ...over,
});
const noneHeld = () => [] as HeldTask[];
const heldBy = (map: Record<string, HeldTask[]>) => (id: string) => map[id] ?? [];
const never = () => 0;
const at = (map: Record<string, number>) => (id: string) => map[id] ?? 0;

describe('selectDevice', () => {
  describe('exclusions', () => {
    it('excludes unfit devices with their reasons and picks the one that fits', () => {
      const devices = [
        device('off', { online: false }),
        device('broken', { status: 'fault' }),
        device('plugged', { status: 'charging' }),
        device('flat', { battery: LOW_BATTERY - 1 }),
        device('sensor', { kind: 'sensor', capabilities: ['greet'] }),
        device('queue', { kind: 'queue', capabilities: ['greet'] }),
        device('weird', { kind: 'toaster', capabilities: ['greet'] }),
        device('screen', { kind: 'screen', capabilities: ['display'] }),
        device('ok'),
      ];
      const s = selectDevice(task(), devices, noneHeld, never)!;
      expect(s.deviceId).toBe('ok');
      expect(s.decision.rule).toBe('only candidate');
      expect(s.decision.candidates.map((c) => c.deviceId)).toEqual(['ok']);
      expect(s.decision.excluded).toEqual([
        { deviceId: 'off', reason: 'offline' },
        { deviceId: 'broken', reason: 'fault' },
        { deviceId: 'plugged', reason: 'charging' },
        { deviceId: 'flat', reason: `battery ${LOW_BATTERY - 1}% < ${LOW_BATTERY}%` },
        { deviceId: 'sensor', reason: 'cannot greet' },
        { deviceId: 'queue', reason: 'cannot greet' },
        { deviceId: 'weird', reason: 'cannot greet' },
        { deviceId: 'screen', reason: 'cannot greet' },
      ]);
    });

    it('keeps a robot at exactly LOW_BATTERY and ignores battery of non-robots', () => {
      const devices = [device('r', { battery: LOW_BATTERY }), device('k', { kind: 'kiosk', battery: 1 })];
      const s = selectDevice(task(), devices, noneHeld, never)!;
      expect(s.decision.excluded).toEqual([]);
      expect(s.decision.candidates).toHaveLength(2);
    });

    it('excludes devices already tried for the task', () => {
      const s = selectDevice(task({ triedDevices: ['a'] }), [device('a'), device('b')], noneHeld, never)!;
      expect(s.deviceId).toBe('b');
      expect(s.decision.excluded).toEqual([{ deviceId: 'a', reason: 'already tried for this task' }]);
    });

    it('considers only the pinned device, even if it was tried before', () => {
      const t = task({ pinnedDeviceId: 'b', triedDevices: ['b'] });
      const s = selectDevice(t, [device('a'), device('b'), device('c')], noneHeld, never)!;
      expect(s.deviceId).toBe('b');
      expect(s.decision.rule).toBe('only candidate');
      expect(s.decision.excluded).toEqual([
        { deviceId: 'a', reason: 'not the requested device' },
        { deviceId: 'c', reason: 'not the requested device' },
      ]);
    });

    it('returns null when nobody qualifies (pinned device offline, or no devices at all)', () => {
      expect(selectDevice(task({ pinnedDeviceId: 'a' }), [device('a', { online: false }), device('b')], noneHeld, never)).toBeNull();
      expect(selectDevice(task(), [device('s', { kind: 'sensor' })], noneHeld, never)).toBeNull();
      expect(selectDevice(task(), [], noneHeld, never)).toBeNull();
    });
  });

  describe('preference order', () => {
    it('prefers idle over preemptible over busy, even against zone, battery and fairness', () => {
      const devices = [
        device('holding', { battery: 100 }),
        device('reported-busy', { status: 'busy' }),
        device('pre', { battery: 100 }),
        device('idle', { zone: 'lounge', battery: 30 }),
      ];
      const held = heldBy({ holding: [{ id: 't1', priority: 7 }], pre: [{ id: 't2', priority: 2 }] });
      const s = selectDevice(task(), devices, held, at({ idle: 999 }))!;
      expect(s.deviceId).toBe('idle');
      expect(s.decision.rule).toBe('idle before preemptible');
      expect(s.decision.candidates.map((c) => [c.deviceId, c.availability])).toEqual([
        ['idle', 'idle'],
        ['pre', 'preemptible'],
        ['reported-busy', 'busy'],
      ]);
      // Holding work of ours it cannot drop, it would only refuse: not a candidate at all.
      expect(s.decision.excluded).toContainEqual({ deviceId: 'holding', reason: 'busy with task t1' });
    });

    it('names "idle before busy" when no preemptible device exists', () => {
      const s = selectDevice(task(), [device('b', { status: 'busy' }), device('i', { zone: 'lounge' })], noneHeld, never)!;
      expect([s.deviceId, s.decision.rule]).toEqual(['i', 'idle before busy']);
    });

    it('prefers the task zone over others, before battery and fairness', () => {
      const devices = [device('far', { zone: 'lounge', battery: 100 }), device('near', { battery: 20 })];
      const s = selectDevice(task(), devices, noneHeld, at({ near: 500 }))!;
      expect([s.deviceId, s.decision.rule]).toEqual(['near', 'same zone before others']);
      expect(s.decision.candidates.map((c) => c.sameZone)).toEqual([true, false]);
    });

    it('treats no device as same-zone when the task has no zone', () => {
      const s = selectDevice(task({ zone: null }), [device('a', { zone: null }), device('b')], noneHeld, never)!;
      expect(s.decision.candidates.every((c) => !c.sameZone)).toBe(true);
    });

    it('compares battery in 20-point bands before fairness', () => {
      const differentBand = selectDevice(task(), [device('low', { battery: 50 }), device('high', { battery: 70 })], noneHeld, at({ high: 100 }))!;
      expect([differentBand.deviceId, differentBand.decision.rule]).toEqual(['high', 'more battery']);
      const sameBand = selectDevice(task(), [device('a', { battery: 61 }), device('b', { battery: 78 })], noneHeld, at({ b: 100 }))!;
      expect([sameBand.deviceId, sameBand.decision.rule]).toEqual(['a', 'longest without work (fair spread)']);
    });

    it('among equals picks the oldest lastAssignedAt, then the lowest id', () => {
      const devices = [device('c'), device('a'), device('b')];
      const fair = selectDevice(task(), devices, noneHeld, at({ a: 300, b: 100, c: 200 }))!;
      expect(fair.decision.candidates.map((c) => c.deviceId)).toEqual(['b', 'c', 'a']);
      expect(fair.decision.rule).toBe('longest without work (fair spread)');
      const tie = selectDevice(task(), devices, noneHeld, never)!;
      expect(tie.decision.candidates.map((c) => c.deviceId)).toEqual(['a', 'b', 'c']);
      expect(tie.decision.rule).toBe('tie, by id');
      expect(selectDevice(task(), [...devices].reverse(), noneHeld, never)!.deviceId).toBe('a');
    });
  });

  describe('pre-emption', () => {
    it('pre-empts exactly the promotion-level tasks of a preemptible device', () => {
      const lower = [{ id: 'p1', priority: 2 }, { id: 'p2', priority: 1 }];
      const s = selectDevice(task(), [device('r', { status: 'busy' })], heldBy({ r: lower }), never)!;
      expect(s.availability).toBe('preemptible');
      expect(s.preempt).toEqual(lower);
    });

    it('never pre-empts a guide, an announcement or a display, even for a higher-priority greet: the task waits', () => {
      for (const p of [3, 5, 6]) {
        const held = heldBy({ r: [{ id: 'promo', priority: 2 }, { id: 'work', priority: p }] });
        expect(selectDevice(task(), [device('r', { status: 'busy' })], held, never)).toBeNull();
      }
    });

    it('never sends a task to a device holding an equal-or-higher priority task of ours', () => {
      for (const p of [7, 9]) {
        const held = heldBy({ r: [{ id: 'low', priority: 2 }, { id: 'hi', priority: p }] });
        expect(selectDevice(task(), [device('r', { status: 'busy' })], held, never)).toBeNull();
        const other = selectDevice(task(), [device('r', { status: 'busy' }), device('s', { status: 'busy' })], held, never)!;
        expect([other.deviceId, other.availability]).toEqual(['s', 'busy']);
      }
    });

    it('does not pre-empt anything on an idle pick', () => {
      const s = selectDevice(task(), [device('r')], noneHeld, never)!;
      expect([s.availability, s.preempt]).toEqual(['idle', []]);
    });
  });

  it('spreads 30 greetings over 5 identical idle robots evenly (6 each)', () => {
    const robots = ['r1', 'r2', 'r3', 'r4', 'r5'].map((id) => device(id));
    const last = new Map<string, number>();
    const count = new Map<string, number>();
    for (let t = 1; t <= 30; t++) {
      const s = selectDevice(task(), robots, noneHeld, (id) => last.get(id) ?? 0)!;
      last.set(s.deviceId, t);
      count.set(s.deviceId, (count.get(s.deviceId) ?? 0) + 1);
    }
    expect(Object.fromEntries(count)).toEqual({ r1: 6, r2: 6, r3: 6, r4: 6, r5: 6 });
  });
});
