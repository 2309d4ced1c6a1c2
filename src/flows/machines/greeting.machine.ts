import { assign, enqueueActions, fromPromise, setup } from 'xstate';

/** One arrival at an entry zone, as the footfall sensor saw it. */
export interface Arrival {
  segment?: string;
  /** Epoch ms the signal arrived, for latency. */
  at: number;
}

export interface GreetingInput {
  branchId: string;
  zone: string;
  cooldownMs: number;
}

export interface GreetingContext extends GreetingInput {
  arrival: Arrival | null;
}

export type GreetingEvent = { type: 'ARRIVAL' } & Arrival;

/** What the `greet` actor did: a robot got the task, or none was free. */
export type GreetOutcome = 'greeted' | 'no-robot';

export interface GreetInput extends Arrival {
  branchId: string;
  zone: string;
}

const notProvided = () => {
  throw new Error('provide this actor with machine.provide()');
};

/**
 * Greeting at one entry zone (contract section 5): an arrival gets a robot's `greet`; when no robot
 * is free, a `welcome` on a screen of the zone instead. A VIP arrival also alerts the manager, even
 * during cooldown. After a greeting the zone rests for `greetCooldownSec`, so a group walking in is
 * greeted once. Pure: the three side effects are actors the host provides.
 */
export const greetingMachine = setup({
  types: {
    context: {} as GreetingContext,
    input: {} as GreetingInput,
    events: {} as GreetingEvent,
  },
  actors: {
    greet: fromPromise<GreetOutcome, GreetInput>(notProvided),
    showWelcome: fromPromise<void, GreetInput>(notProvided),
    alertVip: fromPromise<void, GreetInput>(notProvided),
  },
  delays: {
    cooldown: ({ context }) => context.cooldownMs,
  },
  actions: {
    rememberArrival: assign({ arrival: ({ event }) => ({ segment: event.segment, at: event.at }) }),
    alertIfVip: enqueueActions(({ context, event, enqueue }) => {
      if (event.type === 'ARRIVAL' && event.segment === 'vip') {
        enqueue.spawnChild('alertVip', { input: { branchId: context.branchId, zone: context.zone, segment: event.segment, at: event.at } });
      }
    }),
  },
  guards: {
    robotGreeted: (_, outcome: GreetOutcome) => outcome === 'greeted',
  },
}).createMachine({
  id: 'greeting',
  context: ({ input }) => ({ ...input, arrival: null }),
  initial: 'ready',
  // A VIP alert is a spawned, fire-and-forget child: when it fails, XState sends its error event
  // here, and an error event no transition takes would put the whole actor in status 'error', so
  // the zone would never greet again. Events no state takes (in practice only the alerts' done and
  // error events; the invoked actors' ones are taken by their states) are ignored here.
  on: { '*': {} },
  states: {
    ready: {
      on: { ARRIVAL: { target: 'greeting', actions: ['rememberArrival', 'alertIfVip'] } },
    },
    greeting: {
      invoke: {
        src: 'greet',
        input: ({ context }) => ({ branchId: context.branchId, zone: context.zone, ...context.arrival! }),
        onDone: [{ guard: { type: 'robotGreeted', params: ({ event }) => event.output }, target: 'cooldown' }, { target: 'welcoming' }],
        onError: 'welcoming',
      },
      on: { ARRIVAL: { actions: 'alertIfVip' } },
    },
    welcoming: {
      invoke: {
        src: 'showWelcome',
        input: ({ context }) => ({ branchId: context.branchId, zone: context.zone, ...context.arrival! }),
        onDone: 'cooldown',
        onError: 'cooldown',
      },
      on: { ARRIVAL: { actions: 'alertIfVip' } },
    },
    cooldown: {
      after: { cooldown: 'ready' },
      on: { ARRIVAL: { actions: 'alertIfVip' } },
    },
  },
});
