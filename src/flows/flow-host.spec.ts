import { jest } from '@jest/globals';
import { Actor, emit, setup as machineSetup, SimulatedClock } from 'xstate';
import type { Deadline, DeadlineChanges } from '../schedule/deadline.js';
import type { Scheduler } from '../schedule/scheduler.service.js';
import { FlowHost, type FlowDef, type FlowEffect } from './flow-host.js';
import type { FlowStateRepository, StoredFlow } from './flow-state.repository.js';
import { longWaitFlow } from './machines/long-wait.machine.js';
import { unattendedPostFlow } from './machines/unattended-post.machine.js';

/** A machine that sets a deadline on entry, raises when it falls due and clears when its subject is gone. */
const timerMachine = machineSetup({
  types: { context: {} as { subject: string; dueAt: number }, input: {} as { subject: string; dueAt: number }, emitted: {} as FlowEffect },
}).createMachine({
  context: ({ input }) => input,
  initial: 'waiting',
  states: {
    waiting: {
      entry: emit(({ context }) => ({ type: 'schedule' as const, timer: 'due', at: context.dueAt, event: { type: 'DUE' } })),
      on: { DUE: 'overdue', GONE: { target: 'done', actions: emit({ type: 'unschedule' as const, timer: 'due' }) } },
    },
    overdue: {
      entry: emit(({ context }) => ({ type: 'raise' as const, alert: 'long-wait' as const, subject: context.subject, message: 'overdue', data: {} })),
      on: { GONE: { target: 'done', actions: emit(({ context }) => ({ type: 'clear' as const, alert: 'long-wait' as const, subject: context.subject })) } },
    },
    done: { type: 'final' },
  },
});
const timerFlow: FlowDef = { name: 'timer', version: 1, machine: timerMachine, alertOf: () => ({ alert: 'long-wait', subject: 'card/A1' }) };
const input = { subject: 'card/A1', dueAt: 60_000 };
const KEY = 'timer:A1';

/** The flow_state and deadline tables as maps; every write is one call, like one transaction. */
function setup(stored: StoredFlow[] = [], failOn?: FlowEffect['type'], held?: ((fail?: Error) => void)[]) {
  const behind: Promise<unknown>[] = [];
  const rows = new Map(stored.map((f) => [f.actor, f]));
  const deadlines = new Map<string, Deadline>();
  let writes = 0;
  const repo = {
    save: async (_b: string, actor: string, f: StoredFlow | null | undefined, _at: string, changes: DeadlineChanges) => {
      if (held) await new Promise<void>((go, fail) => held.push((e) => (e ? fail(e) : go()))); // the group commit, when the test lets it through
      writes++;
      if (f) rows.set(actor, JSON.parse(JSON.stringify(f)));
      else if (f === null) rows.delete(actor);
      for (const d of changes.set) deadlines.set(d.key, d);
      for (const k of changes.clear) deadlines.delete(k);
    },
    find: async (_b: string, actor: string) => rows.get(actor) ?? null,
  } as unknown as FlowStateRepository;
  const armed: DeadlineChanges[] = [];
  const scheduler = { applied: (c: DeadlineChanges) => void armed.push(c), dueAt: (k: string) => deadlines.get(k)?.dueAt } as unknown as Scheduler;
  const effects: FlowEffect[] = [];
  const effect = async (e: FlowEffect) => {
    if (e.type === failOn) throw new Error('alerts store down');
    effects.push(e);
  };
  const leaveBehind = (w: Promise<unknown>) => void behind.push(w);
  const host = new FlowHost('b1', [timerFlow, longWaitFlow, unattendedPostFlow], { clock: new SimulatedClock(), repo, scheduler, effect, leaveBehind });
  return { host, load: () => host.load(stored), rows, deadlines, armed, effects, behind, scheduler, writes: () => writes };
}

describe('FlowHost', () => {
  it('stores an actor and the deadlines it set in one write, then arms them; an event that changes nothing writes nothing', async () => {
    const { host, load, rows, deadlines, armed, writes } = setup();
    await load();
    await host.ensure(KEY, timerFlow, input);
    expect(writes()).toBe(1);
    expect(rows.get(KEY)).toMatchObject({ machine: 'timer', version: 1, snapshot: expect.objectContaining({ value: 'waiting' }) });
    expect([...deadlines.values()]).toEqual([{ key: `flow:b1:${KEY}:due`, branchId: 'b1', kind: 'flow', dueAt: new Date(60_000).toISOString(), data: { actor: KEY, machine: 'timer', event: { type: 'DUE' } } }]);
    expect(armed).toHaveLength(1);
    await host.send(KEY, timerFlow, input, { type: 'NOTHING' });
    expect(writes()).toBe(1);
  });

  it('drops an event sent with sendChanged when the actor\'s last event was the same one', async () => {
    const { host, load } = setup();
    await load();
    const sent = jest.spyOn(Actor.prototype, 'send'); // before the actor exists: XState binds `send` to each actor
    try {
      await host.ensure(KEY, timerFlow, input);
      await host.sendChanged(KEY, timerFlow, input, { type: 'NOTHING', n: 1 }, '1');
      await host.sendChanged(KEY, timerFlow, input, { type: 'NOTHING', n: 1 }, '1');
      expect(sent).toHaveBeenCalledTimes(1);
      await host.send(KEY, timerFlow, input, { type: 'OTHER' }); // another event in between: the same one is news again
      await host.sendChanged(KEY, timerFlow, input, { type: 'NOTHING', n: 1 }, '1');
      await host.sendChanged(KEY, timerFlow, input, { type: 'NOTHING', n: 2 }, '2');
      expect(sent.mock.calls.map(([e]) => e)).toEqual([{ type: 'NOTHING', n: 1 }, { type: 'OTHER' }, { type: 'NOTHING', n: 1 }, { type: 'NOTHING', n: 2 }]);
    } finally {
      sent.mockRestore();
    }
  });

  it('leaves its state and deadlines behind the turn, and arms the deadlines only once they are stored with it', async () => {
    const held: ((fail?: Error) => void)[] = [];
    const { host, rows, armed, behind } = setup([], undefined, held);
    await host.ensure(KEY, timerFlow, input); // sets its `due` deadline; the turn does not wait for the write
    await new Promise((r) => setImmediate(r));
    expect({ armed: armed.length, stored: rows.has(KEY), behind: behind.length }).toEqual({ armed: 0, stored: false, behind: 1 });
    held.shift()!();
    await behind[0];
    expect(armed).toHaveLength(1);
    await host.send(KEY, timerFlow, input, { type: 'DUE' }); // overdue: a new snapshot, no deadline change
    expect(rows.get(KEY)?.snapshot).toMatchObject({ value: 'waiting' }); // not waited for, but handed to the owner
    expect(behind).toHaveLength(2);
    held.shift()!();
    await behind[1];
    expect(rows.get(KEY)?.snapshot).toMatchObject({ value: 'overdue' });
    expect(armed).toHaveLength(1);
  });

  it('restores an actor from its snapshot without replaying entry actions, and forgets it (and its deadline) when it is done', async () => {
    const first = setup();
    await first.host.ensure(KEY, timerFlow, input);
    const { host, load, rows, effects, deadlines } = setup([...first.rows.values()]);
    for (const [k, d] of first.deadlines) deadlines.set(k, d);
    await load();
    await host.sendIfExists(KEY, timerFlow, { type: 'GONE', at: 1 });
    expect(effects).toEqual([]); // no second `schedule`, nothing raised
    expect(rows.has(KEY)).toBe(false);
    expect(deadlines.size).toBe(0);
    await host.sendIfExists(KEY, timerFlow, { type: 'DUE' }); // gone: nothing
    expect(effects).toEqual([]);
  });

  it('drops a snapshot of another machine version at load, closes the alert it may hold, and never restarts it without its input', async () => {
    const old = (actor: string, machine: string): StoredFlow => ({ actor, machine, version: 0, snapshot: { status: 'active', value: 'no-such-state', context: {} } });
    const { host, load, effects, rows } = setup([old(KEY, 'timer'), old('unattended-post:counter-1', 'unattended-post')]);
    await load();
    expect(rows.size).toBe(0);
    expect(effects).toEqual([
      { type: 'clear', alert: 'long-wait', subject: 'card/A1' },
      { type: 'clear', alert: 'post-unattended', subject: 'counter-1' },
    ]);
    await host.sendIfExists('unattended-post:counter-1', unattendedPostFlow, { type: 'WAITING', count: 3, at: 5 });
    expect(rows.size).toBe(0); // no input, no actor
    await host.send(KEY, timerFlow, input, { type: 'DUE' });
    expect(effects.at(-1)).toMatchObject({ type: 'raise', alert: 'long-wait', subject: 'card/A1' });
    expect(rows.get(KEY)).toMatchObject({ version: 1, snapshot: expect.objectContaining({ value: 'overdue' }) });
  });

  it('when an effect fails, stores nothing and forgets the actor in memory: it comes back from its stored state', async () => {
    const { host, rows, deadlines } = setup([], 'raise');
    await host.ensure(KEY, timerFlow, input);
    await expect(host.send(KEY, timerFlow, input, { type: 'DUE' })).rejects.toThrow(/alerts store down/);
    expect(rows.get(KEY)?.snapshot).toMatchObject({ value: 'waiting' });
    expect(deadlines.size).toBe(1);
    await expect(host.sendIfExists(KEY, timerFlow, { type: 'DUE' })).rejects.toThrow(/alerts store down/); // tried again from `waiting`
  });

  it('ignores a timer at the time a turn moved away from while that turn is still being stored', async () => {
    const held: ((fail?: Error) => void)[] = [];
    const { host, effects, behind } = setup([], undefined, held);
    const post = 'unattended-post:counter-1';
    const postInput = { post: 'counter-1', emptyMs: 60_000 };
    const release = () => Promise.all(held.splice(0).map((go) => go()) && behind);
    const due = (at: number): Deadline => ({ key: `flow:b1:${post}:due`, branchId: 'b1', kind: 'flow', dueAt: new Date(at).toISOString(), data: { actor: post, machine: 'unattended-post', event: { type: 'DUE' } } });
    await host.send(post, unattendedPostFlow, postInput, { type: 'POST', staffed: false, at: 0 });
    await host.send(post, unattendedPostFlow, postInput, { type: 'WAITING', count: 3, at: 0 }); // due at 60 s
    await release();
    await host.send(post, unattendedPostFlow, postInput, { type: 'POST', staffed: true, at: 10_000 });
    await host.send(post, unattendedPostFlow, postInput, { type: 'POST', staffed: false, at: 20_000 }); // due at 80 s, not stored yet
    await host.deadline(due(60_000)); // the old timer, still armed
    expect({ state: host.stateOf(post), raised: effects.filter((e) => e.type === 'raise') }).toEqual({ state: 'pending', raised: [] });
    await release();
    await host.deadline(due(80_000));
    expect({ state: host.stateOf(post), raised: effects.filter((e) => e.type === 'raise').length }).toEqual({ state: 'unattended', raised: 1 });
  });

  it('when its write fails, reads the actor back from the database before its next event', async () => {
    const held: ((fail?: Error) => void)[] = [];
    const { host, rows, effects, behind } = setup([], undefined, held);
    await host.ensure(KEY, timerFlow, input);
    held.shift()!();
    await behind[0];
    await host.send(KEY, timerFlow, input, { type: 'DUE' }); // overdue in memory, raised
    held.shift()!(new Error('disk full'));
    await expect(behind[1]).rejects.toThrow(/disk full/);
    expect(rows.get(KEY)?.snapshot).toMatchObject({ value: 'waiting' });
    const next = host.send(KEY, timerFlow, input, { type: 'DUE' }); // from `waiting` again, as stored: raised again
    await new Promise((r) => setImmediate(r));
    held.shift()!();
    await next;
    await behind[2];
    expect({ raised: effects.filter((e) => e.type === 'raise').length, stored: rows.get(KEY)?.snapshot }).toEqual({ raised: 2, stored: expect.objectContaining({ value: 'overdue' }) });
  });

  it('sendChanged without input never makes an actor the database does not hold (its first write failed)', async () => {
    const held: ((fail?: Error) => void)[] = [];
    const { host, rows, behind } = setup([], undefined, held);
    await host.ensure(KEY, timerFlow, input);
    held.shift()!(new Error('disk full'));
    await expect(behind[0]).rejects.toThrow(/disk full/);
    await host.sendChanged(KEY, timerFlow, undefined, { type: 'DUE' }, 'due'); // read back: not there, so not sent
    expect({ state: host.stateOf(KEY), rows: rows.size, writes: behind.length }).toEqual({ state: undefined, rows: 0, writes: 1 });
  });

  describe('an actor started by its deadline (startAt)', () => {
    const LW = 'long-wait:card:A1';
    const lwInput = { service: 'card', ticket: 'A1', issuedAt: 0, longWaitMs: 60_000 };
    const start = () => ({ key: `flow:b1:${LW}:start`, branchId: 'b1', kind: 'flow' as const, dueAt: new Date(60_000).toISOString(), data: { actor: LW, machine: 'long-wait', event: { type: 'DUE' }, input: lwInput } });

    it('is only a stored deadline carrying its input until then; ended before it, it never starts and its deadline goes', async () => {
      const { host, rows, deadlines, armed, effects } = setup();
      await host.startAt(LW, longWaitFlow, lwInput, 60_000, { type: 'DUE' });
      expect({ rows: rows.size, deadlines: [...deadlines.values()], state: host.stateOf(LW) }).toEqual({ rows: 0, deadlines: [start()], state: undefined });
      expect(armed).toEqual([{ set: [start()], clear: [] }]);
      await host.sendOrCancelStart(LW, longWaitFlow, { type: 'GONE', at: 5 });
      expect({ rows: rows.size, deadlines: deadlines.size, effects, armed: armed.at(-1) }).toEqual({ rows: 0, deadlines: 0, effects: [], armed: { set: [], clear: [start().key] } });
    });

    it('starts with its input when the deadline falls due, then lives as any actor: stored, ended, forgotten', async () => {
      const { host, rows, deadlines, effects } = setup();
      await host.startAt(LW, longWaitFlow, lwInput, 60_000, { type: 'DUE' });
      await host.deadline(start());
      expect(effects).toEqual([expect.objectContaining({ type: 'raise', alert: 'long-wait', subject: 'card/A1' })]);
      expect(rows.get(LW)).toMatchObject({ machine: 'long-wait', version: 2, snapshot: expect.objectContaining({ value: 'overdue' }) });
      await host.startAt(LW, longWaitFlow, lwInput, 90_000, { type: 'DUE' }); // started already: nothing
      expect(deadlines.size).toBe(1); // the fired one, which the scheduler removes once handled
      await host.sendOrCancelStart(LW, longWaitFlow, { type: 'GONE', at: 70_000 });
      expect(effects.at(-1)).toEqual({ type: 'clear', alert: 'long-wait', subject: 'card/A1' });
      expect({ rows: rows.size, state: host.stateOf(LW) }).toEqual({ rows: 0, state: undefined });
    });

    it('a start falling due while its subject ends (handed over, waiting for the turn) does nothing', async () => {
      const held: ((fail?: Error) => void)[] = [];
      const { host, effects, behind, scheduler } = setup([], undefined, held);
      await host.startAt(LW, longWaitFlow, lwInput, 60_000, { type: 'DUE' });
      held.shift()!();
      await behind[0];
      // The scheduler has taken it off its timer to hand it over: no longer pending. Dropping it still counts: while
      // the drop is being stored the host skips it, and once stored the scheduler no longer calls it due (stillDue).
      Object.assign(scheduler, { dueAt: () => undefined });
      await host.sendOrCancelStart(LW, longWaitFlow, { type: 'GONE', at: 60_000 });
      await host.deadline(start());
      expect({ effects, state: host.stateOf(LW), asked: behind.length }).toEqual({ effects: [], state: undefined, asked: 2 });
    });

    it('a start that a later turn dropped, still armed when it fires, does nothing', async () => {
      const held: ((fail?: Error) => void)[] = [];
      const { host, effects, behind } = setup([], undefined, held);
      await host.startAt(LW, longWaitFlow, lwInput, 60_000, { type: 'DUE' });
      held.shift()!();
      await behind[0];
      await host.sendOrCancelStart(LW, longWaitFlow, { type: 'GONE', at: 5 }); // not stored yet
      await host.deadline(start());
      expect({ effects, state: host.stateOf(LW) }).toEqual({ effects: [], state: undefined });
    });
  });
});
