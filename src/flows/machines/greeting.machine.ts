import { assign, enqueueActions, fromPromise, setup } from 'xstate';

/** One arrival at an entry zone, as the footfall sensor saw it. */
export interface Arrival {
  segment?: string;
  /** Hub-clock ms of the signal: groups arrivals and measures latency. */
  at: number;
}

export interface GreetingInput {
  branchId: string;
  zone: string;
  cooldownMs: number;
}

export interface GreetingContext extends GreetingInput {
  /** The arrival being (or last) greeted. */
  arrival: Arrival | null;
  /** Arrivals of a new group that came while a greeting was being dispatched: greeted next, in order. */
  pending: Arrival[];
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

/** The latest arrival that is (or will be) greeted: a group is measured from it. */
const lastGreeted = (c: GreetingContext) => c.pending.at(-1) ?? c.arrival;

/**
 * Greeting at one entry zone (contract section 5): an arrival gets a robot's `greet`; when no robot
 * is free, a `welcome` on a screen of the zone instead. A VIP arrival also alerts the manager, always.
 *
 * Re-triggering: arrivals less than `greetCooldownSec` after the last greeted one are its group and are
 * not greeted again (a family walking in gets one robot). A later arrival is a new group: greeted at
 * once from `ready` or `cooldown`, and queued when it comes while a greeting is being dispatched, so none
 * is lost (with a cooldown of 0, every arrival is greeted). Pure: the side effects are actors the host provides.
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
    queueArrival: assign({ pending: ({ context, event }) => [...context.pending, { segment: event.segment, at: event.at }] }),
    takePending: assign({ arrival: ({ context }) => context.pending[0], pending: ({ context }) => context.pending.slice(1) }),
    alertIfVip: enqueueActions(({ context, event, enqueue }) => {
      if (event.type === 'ARRIVAL' && event.segment === 'vip') {
        enqueue.spawnChild('alertVip', { input: { branchId: context.branchId, zone: context.zone, segment: event.segment, at: event.at } });
      }
    }),
  },
  guards: {
    robotGreeted: (_, outcome: GreetOutcome) => outcome === 'greeted',
    greetedWithMorePending: ({ context }, outcome: GreetOutcome) => outcome === 'greeted' && context.pending.length > 0,
    newGroup: ({ context, event }) => {
      const last = lastGreeted(context);
      return !last || event.at - last.at >= context.cooldownMs;
    },
    hasPending: ({ context }) => context.pending.length > 0,
  },
}).createMachine({
  id: 'greeting',
  context: ({ input }) => ({ ...input, arrival: null, pending: [] }),
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
        onDone: [
          { guard: { type: 'greetedWithMorePending', params: ({ event }) => event.output }, target: 'greeting', reenter: true, actions: 'takePending' },
          { guard: { type: 'robotGreeted', params: ({ event }) => event.output }, target: 'cooldown' },
          { target: 'welcoming' },
        ],
        onError: 'welcoming',
      },
      on: { ARRIVAL: [{ guard: 'newGroup', actions: ['queueArrival', 'alertIfVip'] }, { actions: 'alertIfVip' }] },
    },
    welcoming: {
      invoke: {
        src: 'showWelcome',
        input: ({ context }) => ({ branchId: context.branchId, zone: context.zone, ...context.arrival! }),
        onDone: [{ guard: 'hasPending', target: 'greeting', actions: 'takePending' }, { target: 'cooldown' }],
        onError: [{ guard: 'hasPending', target: 'greeting', actions: 'takePending' }, { target: 'cooldown' }],
      },
      on: { ARRIVAL: [{ guard: 'newGroup', actions: ['queueArrival', 'alertIfVip'] }, { actions: 'alertIfVip' }] },
    },
    cooldown: {
      after: { cooldown: 'ready' },
      on: { ARRIVAL: [{ guard: 'newGroup', target: 'greeting', actions: ['rememberArrival', 'alertIfVip'] }, { actions: 'alertIfVip' }] },
    },
  },
});
