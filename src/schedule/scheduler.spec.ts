import { SimulatedClock } from 'xstate';
import type { Store } from '../persistence/store.js';
import type { Deadline } from './deadline.js';
import type { DeadlineRepository } from './deadline.repository.js';
import { Scheduler } from './scheduler.service.js';

const at = (ms: number) => new Date(ms).toISOString();
const deadline = (key: string, ms: number): Deadline => ({ key, branchId: 'b1', kind: 'task-ack', dueAt: at(ms), data: { key } });
const flush = () => new Promise<void>((r) => setImmediate(r));

/** The table as a map, so the scheduler's own logic is tested on the clock alone. */
function setup(stored: Deadline[] = []) {
  const rows = new Map(stored.map((d) => [d.key, d]));
  const repo = {
    all: async () => [...rows.values()],
    put: async (_em: unknown, d: Deadline) => void rows.set(d.key, d),
    remove: async (_em: unknown, key: string) => void rows.delete(key),
    removeFired: async (d: Deadline) => void (rows.get(d.key)?.dueAt === d.dueAt && rows.delete(d.key)),
  } as unknown as DeadlineRepository;
  const store = { transaction: (work: (em: unknown) => Promise<unknown>) => work({}) } as unknown as Store;
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const scheduler = new Scheduler(clock, repo, store);
  const told: string[] = [];
  scheduler.onDue(async (d) => void told.push(d.key));
  return { scheduler, clock, rows, told };
}

describe('Scheduler', () => {
  it('tells the owner each deadline when it is due on the clock, in time order', async () => {
    const { scheduler, clock, told, rows } = setup();
    await scheduler.schedule(deadline('c', 1_003_000));
    await scheduler.schedule(deadline('a', 1_001_000));
    await scheduler.schedule(deadline('b', 1_002_000));
    clock.increment(999);
    expect(told).toEqual([]);
    clock.increment(1);
    expect(told).toEqual(['a']);
    clock.increment(2000);
    expect(told).toEqual(['a', 'b', 'c']);
    await flush();
    expect(rows.size).toBe(0); // removed once handled
  });

  it('moves a deadline set again under the same key, and forgets a cancelled one', async () => {
    const { scheduler, clock, told, rows } = setup();
    await scheduler.schedule(deadline('x', 1_001_000));
    await scheduler.schedule(deadline('x', 1_005_000));
    await scheduler.schedule(deadline('y', 1_002_000));
    await scheduler.cancel('y');
    clock.increment(4000);
    expect(told).toEqual([]);
    expect([...rows.keys()]).toEqual(['x']);
    clock.increment(1000);
    expect(told).toEqual(['x']);
  });

  it('re-arms stored deadlines at start-up; those that fell due while the hub was down fire at once', async () => {
    const { scheduler, clock, told } = setup([deadline('late', 990_000), deadline('later', 1_010_000)]);
    await scheduler.load();
    clock.increment(0);
    expect(told).toEqual(['late']);
    clock.increment(10_000);
    expect(told).toEqual(['late', 'later']);
  });

  it('keeps a deadline whose handling failed, and tries it again after a backoff on the clock', async () => {
    const { scheduler, clock, rows } = setup();
    let calls = 0;
    scheduler.onDue(async () => {
      calls += 1;
      if (calls === 1) throw new Error('database down');
    });
    await scheduler.schedule(deadline('x', 1_001_000));
    clock.increment(1000);
    await flush();
    expect(calls).toBe(1);
    expect([...rows.keys()]).toEqual(['x']);
    clock.increment(5000);
    await flush();
    expect(calls).toBe(2);
    await flush();
    expect(rows.size).toBe(0);
  });

  it('does not remove a deadline its owner moved while handling it', async () => {
    const { scheduler, clock, rows } = setup();
    scheduler.onDue(async (d) => scheduler.schedule({ ...d, dueAt: at(1_009_000) }));
    await scheduler.schedule(deadline('x', 1_001_000));
    clock.increment(1000);
    await flush();
    await flush();
    expect(rows.get('x')?.dueAt).toBe(at(1_009_000));
  });

  it('says whether a deadline handed to its owner still stands: not if it was moved or dropped while it waited for the turn', async () => {
    const { scheduler, clock } = setup();
    const waiting: Deadline[] = [];
    let release!: () => void;
    const turn = new Promise<void>((r) => (release = r));
    scheduler.onDue(async (d) => {
      waiting.push(d);
      await turn;
    });
    for (const key of ['kept', 'moved', 'dropped']) await scheduler.schedule(deadline(key, 1_001_000));
    clock.increment(1000);
    const [kept, moved, dropped] = ['kept', 'moved', 'dropped'].map((k) => waiting.find((d) => d.key === k)!);
    scheduler.applied({ set: [deadline('moved', 1_009_000)], clear: ['dropped'] });
    expect([scheduler.stillDue(kept), scheduler.stillDue(moved), scheduler.stillDue(dropped)]).toEqual([true, false, false]);
    release();
    await flush();
    expect(scheduler.stillDue(kept)).toBe(false); // handled
  });

  it('does not try again a failed deadline that was dropped meanwhile', async () => {
    const { scheduler, clock } = setup();
    let calls = 0;
    scheduler.onDue(async () => {
      calls += 1;
      throw new Error('database down');
    });
    await scheduler.schedule(deadline('x', 1_001_000));
    clock.increment(1000);
    await flush();
    scheduler.applied({ set: [], clear: ['x'] });
    clock.increment(5000);
    await flush();
    expect(calls).toBe(1);
  });

  it('fires nothing after it stopped', async () => {
    const { scheduler, clock, told } = setup();
    await scheduler.schedule(deadline('x', 1_001_000));
    await scheduler.onModuleDestroy();
    clock.increment(5000);
    expect(told).toEqual([]);
  });
});
