import { SimulatedClock } from 'xstate';
import { FlowHost, type FlowDef, type FlowEffect } from './flow-host.js';
import type { FlowStateRepository, StoredFlow } from './flow-state.repository.js';
import { longWaitFlow } from './machines/long-wait.machine.js';

const input = { service: 'card', ticket: 'A1', issuedAt: 0, longWaitMs: 60_000 };

function setup(stored: StoredFlow[] = []) {
  const rows = new Map(stored.map((f) => [f.actor, f]));
  let writes = 0;
  const repo = {
    all: async () => [...rows.values()],
    save: async (_b: string, f: StoredFlow) => void (writes++, rows.set(f.actor, JSON.parse(JSON.stringify(f)))),
    remove: async (_b: string, actor: string) => void rows.delete(actor),
  } as unknown as FlowStateRepository;
  const effects: FlowEffect[] = [];
  const host = new FlowHost('b1', [longWaitFlow], { clock: new SimulatedClock(), repo, effect: async (e) => void effects.push(e) });
  return { host, rows, effects, writes: () => writes };
}

describe('FlowHost', () => {
  it('carries out what an actor emits, then stores {machine, version, snapshot}; an event that changes nothing is not written again', async () => {
    const { host, rows, effects, writes } = setup();
    await host.load();
    await host.ensure('long-wait:card:A1', longWaitFlow, input);
    expect(effects.map((e) => e.type)).toEqual(['schedule']);
    expect(rows.get('long-wait:card:A1')).toMatchObject({ machine: 'long-wait', version: 1, snapshot: expect.objectContaining({ value: 'waiting' }) });
    const before = writes();
    await host.send('long-wait:card:A1', longWaitFlow, input, { type: 'NOTHING' });
    expect(writes()).toBe(before);
    await host.send('long-wait:card:A1', longWaitFlow, input, { type: 'DUE' });
    expect(effects.map((e) => e.type)).toEqual(['schedule', 'raise']);
    expect(rows.get('long-wait:card:A1')?.snapshot).toMatchObject({ value: 'overdue' });
  });

  it('restores an actor from its snapshot without replaying entry actions, and forgets it when it is done', async () => {
    const first = setup();
    await first.host.ensure('long-wait:card:A1', longWaitFlow, input);
    const { host, rows, effects } = setup([...first.rows.values()]);
    await host.load();
    await host.sendIfExists('long-wait:card:A1', longWaitFlow, { type: 'DUE' });
    expect(effects.map((e) => e.type)).toEqual(['raise']); // no second `schedule`
    await host.sendIfExists('long-wait:card:A1', longWaitFlow, { type: 'GONE', at: 1 });
    expect(effects.map((e) => e.type)).toEqual(['raise', 'clear']);
    expect(rows.has('long-wait:card:A1')).toBe(false);
    await host.sendIfExists('long-wait:card:A1', longWaitFlow, { type: 'DUE' }); // gone: nothing
    expect(effects).toHaveLength(2);
  });

  it('drops a snapshot of another machine version and starts the actor afresh from its input', async () => {
    const old: StoredFlow = { actor: 'long-wait:card:A1', machine: 'long-wait', version: 0, snapshot: { status: 'active', value: 'no-such-state', context: {} } };
    const { host, effects, rows } = setup([old]);
    await host.load();
    const v2: FlowDef = { ...longWaitFlow };
    await host.send('long-wait:card:A1', v2, input, { type: 'DUE' });
    expect(effects.map((e) => e.type)).toEqual(['schedule', 'raise']);
    expect(rows.get('long-wait:card:A1')).toMatchObject({ version: 1, snapshot: expect.objectContaining({ value: 'overdue' }) });
  });
});
