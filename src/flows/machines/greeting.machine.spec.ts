import { assign, setup } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { greetingMachine, type GreetOutcome, type GreetingEvent } from './greeting.machine.js';
import { flush, input, startSut } from './greeting.harness.js';

// The event types the SUT uses for its actors and its delay (read off its adjacency map / state nodes).
const E = {
  greetDone: 'xstate.done.actor.0.greeting.greeting',
  greetError: 'xstate.error.actor.0.greeting.greeting',
  welcomeDone: 'xstate.done.actor.0.greeting.welcoming',
  welcomeError: 'xstate.error.actor.0.greeting.welcoming',
  cooldownOver: 'xstate.after.cooldown.greeting.cooldown',
} as const;

type ModelEvent =
  | GreetingEvent
  | { type: typeof E.greetDone; output: GreetOutcome }
  | { type: typeof E.greetError; error: string }
  | { type: typeof E.welcomeError; error: string }
  | { type: typeof E.welcomeDone }
  | { type: typeof E.cooldownOver };

const vipArrival = ({ event }: { event: ModelEvent }) => event.type === 'ARRIVAL' && event.segment === 'vip';

type ModelContext = { alerts: number; greets: number; lastAt: number; pending: number };
const arrivalAt = (event: ModelEvent) => (event.type === 'ARRIVAL' ? event.at : 0);
/** An arrival at least a cooldown after the last greeted (or queued) one starts a new group. */
const newGroup = ({ context, event }: { context: ModelContext; event: ModelEvent }) => arrivalAt(event) - context.lastAt >= input.cooldownMs;

/**
 * The abstract model, written from contract section 5 and the documented re-trigger rule (createTestModel
 * accepts no invoke/after, so actor completions and the delay are plain events here). It counts the VIP
 * alerts and greetings expected, and the arrivals queued while a greeting is being dispatched.
 */
const model = setup({
  types: {} as { context: ModelContext; events: ModelEvent },
  guards: { newGroup, hasPending: ({ context }) => context.pending > 0 },
  actions: {
    countVip: assign({ alerts: ({ context, event }) => context.alerts + (vipArrival({ event }) ? 1 : 0) }),
    greet: assign({ greets: ({ context }) => context.greets + 1, lastAt: ({ event }) => arrivalAt(event) }),
    queue: assign({ pending: ({ context }) => context.pending + 1, lastAt: ({ event }) => arrivalAt(event) }),
    next: assign({ pending: ({ context }) => context.pending - 1, greets: ({ context }) => context.greets + 1 }),
  },
}).createMachine({
  id: 'greeting',
  context: { alerts: 0, greets: 0, lastAt: -Infinity, pending: 0 },
  initial: 'ready',
  states: {
    ready: { on: { ARRIVAL: { target: 'greeting', actions: ['countVip', 'greet'] } } },
    greeting: {
      on: {
        ARRIVAL: [{ guard: 'newGroup', actions: ['countVip', 'queue'] }, { actions: 'countVip' }],
        [E.greetDone]: [
          { guard: ({ context, event }) => event.output === 'greeted' && context.pending > 0, target: 'greeting', reenter: true, actions: 'next' },
          { guard: ({ event }) => event.output === 'greeted', target: 'cooldown' },
          { target: 'welcoming' },
        ],
        [E.greetError]: 'welcoming',
      },
    },
    welcoming: {
      on: {
        ARRIVAL: [{ guard: 'newGroup', actions: ['countVip', 'queue'] }, { actions: 'countVip' }],
        [E.welcomeDone]: [{ guard: 'hasPending', target: 'greeting', actions: 'next' }, { target: 'cooldown' }],
        [E.welcomeError]: [{ guard: 'hasPending', target: 'greeting', actions: 'next' }, { target: 'cooldown' }],
      },
    },
    cooldown: { on: { ARRIVAL: [{ guard: 'newGroup', target: 'greeting', actions: ['countVip', 'greet'] }, { actions: 'countVip' }], [E.cooldownOver]: 'ready' } },
  },
});

const testModel = createTestModel(model, {
  events: [
    { type: 'ARRIVAL', at: 1_000 },
    { type: 'ARRIVAL', segment: 'vip', at: 2_000 },
    { type: 'ARRIVAL', at: 7_000 }, // a new group after the one at 1 000 or 2 000
    { type: E.greetDone, output: 'greeted' },
    { type: E.greetDone, output: 'no-robot' },
    { type: E.greetError, error: 'fleet unreachable' },
    { type: E.welcomeDone },
    { type: E.welcomeError, error: 'screen offline' },
    { type: E.cooldownOver },
  ],
  // Time does not run backwards; at most two VIP alerts, three greetings and one queued arrival per path keep the model finite.
  filterEvents: (snapshot, event) =>
    !(vipArrival({ event }) && snapshot.context.alerts >= 2) &&
    !(event.type === 'ARRIVAL' && snapshot.context.greets >= 3) &&
    !(event.type === 'ARRIVAL' && event.at < snapshot.context.lastAt) &&
    !(event.type === 'ARRIVAL' && snapshot.context.pending >= 1 && newGroup({ context: snapshot.context, event })),
});

describe('greeting machine: model-based paths', () => {
  const paths = testModel.getShortestPaths();

  it('the model handles, in each state, exactly the events the machine handles', () => {
    for (const [key, node] of Object.entries(greetingMachine.states)) {
      expect([key, ...[...model.states[key].transitions.keys()].sort()]).toEqual([key, ...[...node.transitions.keys()].sort()]);
    }
  });

  it('the paths cover every state of the machine', () => {
    const reached = new Set(paths.flatMap((p) => p.steps.map((s) => s.state.value)));
    expect([...reached].sort()).toEqual(Object.keys(greetingMachine.states).sort());
  });

  it.each(paths.map((p) => [p.description, p] as const))('%s', async (_, path) => {
    const sut = startSut();
    const ev = <T extends ModelEvent['type']>(step: { event: { type: T } }) => step.event as Extract<ModelEvent, { type: T }>;
    await path.test({
      states: {
        '*': (state) => {
          expect(sut.value()).toBe(state.value);
          expect(sut.alertVip.calls).toHaveLength(state.context.alerts);
          expect(sut.greet.calls).toHaveLength(state.context.greets);
        },
      },
      events: {
        ARRIVAL: (step) => void sut.actor.send(ev(step)),
        [E.greetDone]: async (step) => (sut.greet.pending().resolve(ev(step).output), flush()),
        [E.greetError]: async (step) => (sut.greet.pending().reject(new Error(ev(step).error)), flush()),
        [E.welcomeDone]: async () => (sut.showWelcome.pending().resolve(), flush()),
        [E.welcomeError]: async (step) => (sut.showWelcome.pending().reject(new Error(ev(step).error)), flush()),
        [E.cooldownOver]: () => sut.clock.increment(input.cooldownMs),
      },
    });
    expect(sut.errors).toEqual([]);
    sut.actor.stop();
  });
});

describe('greeting machine: cooldown timing (SimulatedClock)', () => {
  it.each([5000, 2500])('rests exactly %i ms after a greeting', async (cooldownMs) => {
    const sut = startSut(cooldownMs);
    sut.actor.send({ type: 'ARRIVAL', at: 1 });
    sut.greet.pending().resolve('greeted');
    await flush();
    expect(sut.value()).toBe('cooldown');

    sut.clock.increment(cooldownMs - 1);
    sut.actor.send({ type: 'ARRIVAL', at: 2 });
    expect(sut.value()).toBe('cooldown');
    expect(sut.greet.calls).toHaveLength(1);

    sut.clock.increment(1);
    expect(sut.value()).toBe('ready');
    expect(sut.greet.calls).toHaveLength(1); // an arrival during cooldown is not greeted later either
    sut.actor.send({ type: 'ARRIVAL', at: 3 });
    expect(sut.value()).toBe('greeting');
    expect(sut.greet.inputs().map((i) => i.at)).toEqual([1, 3]);
  });

  it('rests the same cooldown after a welcome screen', async () => {
    const sut = startSut(2500);
    sut.actor.send({ type: 'ARRIVAL', at: 1 });
    sut.greet.pending().resolve('no-robot');
    await flush();
    sut.showWelcome.pending().resolve();
    await flush();
    sut.clock.increment(2499);
    expect(sut.value()).toBe('cooldown');
    sut.clock.increment(1);
    expect(sut.value()).toBe('ready');
  });
});

describe('greeting machine: re-triggering', () => {
  it('with no cooldown, greets every arrival, even one that comes while the last greeting is being dispatched', async () => {
    const sut = startSut(0);
    sut.actor.send({ type: 'ARRIVAL', at: 1000 });
    sut.actor.send({ type: 'ARRIVAL', at: 1020 }); // 20 ms later: the first greeting is still being dispatched
    sut.greet.pending().resolve('greeted');
    await flush();
    expect(sut.value()).toBe('greeting');
    sut.greet.pending().resolve('greeted');
    await flush();
    expect(sut.greet.inputs().map((i) => i.at)).toEqual([1000, 1020]);
  });

  it('queues new groups in order, and greets none of a group twice', async () => {
    const sut = startSut(5000);
    for (const at of [0, 3000, 6000, 8000, 12000]) sut.actor.send({ type: 'ARRIVAL', at });
    // 0 is greeted; 3000 is its group; 6000 starts a group (8000 is in it); 12000 starts another.
    for (let i = 0; i < 3; i++) {
      sut.greet.pending().resolve('greeted');
      await flush();
    }
    expect(sut.greet.inputs().map((i) => i.at)).toEqual([0, 6000, 12000]);
    expect(sut.value()).toBe('cooldown');
  });

  it('a queued arrival is greeted after a welcome screen too', async () => {
    const sut = startSut(0);
    sut.actor.send({ type: 'ARRIVAL', at: 1 });
    sut.actor.send({ type: 'ARRIVAL', at: 2 });
    sut.greet.pending().resolve('no-robot');
    await flush();
    sut.showWelcome.pending().resolve();
    await flush();
    expect(sut.value()).toBe('greeting');
    expect(sut.greet.inputs().map((i) => i.at)).toEqual([1, 2]);
  });

  it('greets a new group that arrives during the cooldown at once', async () => {
    const sut = startSut(5000);
    sut.actor.send({ type: 'ARRIVAL', at: 1000 });
    sut.greet.pending().resolve('greeted');
    await flush();
    expect(sut.value()).toBe('cooldown');
    sut.actor.send({ type: 'ARRIVAL', at: 6000 }); // the cooldown timer has not run out, the group has
    expect(sut.value()).toBe('greeting');
  });
});

describe('greeting machine: behaviour', () => {
  it('passes branch, zone, segment and arrival time to greet', () => {
    const sut = startSut();
    sut.actor.send({ type: 'ARRIVAL', segment: 'vip', at: 1234 });
    expect(sut.greet.inputs()).toEqual([{ branchId: 'b1', zone: 'entrance', segment: 'vip', at: 1234 }]);
  });

  it('a robot greeting goes straight to cooldown without a welcome screen', async () => {
    const sut = startSut();
    sut.actor.send({ type: 'ARRIVAL', at: 7 });
    sut.greet.pending().resolve('greeted');
    await flush();
    expect(sut.value()).toBe('cooldown');
    expect(sut.showWelcome.calls).toHaveLength(0);
  });

  it.each([
    ['no robot is free', (sut: ReturnType<typeof startSut>) => sut.greet.pending().resolve('no-robot')],
    ['greet fails', (sut: ReturnType<typeof startSut>) => sut.greet.pending().reject(new Error('fleet unreachable'))],
  ])('shows the welcome screen when %s', async (_, settleGreet) => {
    const sut = startSut();
    sut.actor.send({ type: 'ARRIVAL', segment: 'regular', at: 42 });
    settleGreet(sut);
    await flush();
    expect(sut.value()).toBe('welcoming');
    expect(sut.showWelcome.inputs()).toEqual([{ branchId: 'b1', zone: 'entrance', segment: 'regular', at: 42 }]);
  });

  it('still rests in cooldown when the welcome screen fails', async () => {
    const sut = startSut();
    sut.actor.send({ type: 'ARRIVAL', at: 1 });
    sut.greet.pending().resolve('no-robot');
    await flush();
    sut.showWelcome.pending().reject(new Error('screen offline'));
    await flush();
    expect(sut.value()).toBe('cooldown');
    expect(sut.actor.getSnapshot().status).toBe('active');
  });

  it('alerts once per VIP arrival in every state, and never for other arrivals', async () => {
    const sut = startSut();
    const arrive = (at: number, segment?: string) => sut.actor.send({ type: 'ARRIVAL', segment, at });
    arrive(1, 'vip'); // ready
    arrive(2, 'vip'); // greeting
    arrive(3);
    sut.greet.pending().resolve('no-robot');
    await flush();
    arrive(4, 'vip'); // welcoming
    arrive(5, 'regular');
    sut.showWelcome.pending().resolve();
    await flush();
    arrive(6, 'vip'); // cooldown
    arrive(7);
    sut.clock.increment(input.cooldownMs);
    arrive(8); // ready again
    expect(sut.alertVip.inputs()).toEqual([1, 2, 4, 6].map((at) => ({ branchId: 'b1', zone: 'entrance', segment: 'vip', at })));
    expect(sut.greet.inputs().map((i) => i.at)).toEqual([1, 8]);
  });

  it('keeps greeting when a VIP alert fails or completes', async () => {
    const sut = startSut();
    sut.actor.send({ type: 'ARRIVAL', segment: 'vip', at: 1 });
    sut.actor.send({ type: 'ARRIVAL', segment: 'vip', at: 2 });
    sut.alertVip.calls[0].reject(new Error('alerts store down'));
    sut.alertVip.calls[1].resolve();
    await flush();
    expect(sut.errors).toEqual([]);
    expect(sut.actor.getSnapshot().status).toBe('active');
    sut.greet.pending().resolve('greeted');
    await flush();
    sut.clock.increment(input.cooldownMs);
    sut.actor.send({ type: 'ARRIVAL', at: 3 });
    expect(sut.greet.calls).toHaveLength(2);
  });
});
