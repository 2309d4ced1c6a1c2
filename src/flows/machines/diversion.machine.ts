import { assign, emit, enqueueActions, setup } from 'xstate';
import type { FlowDef, FlowEffect } from '../flow-host.js';

export interface DiversionInput {
  service: string;
  thresholdMin: number;
}

interface DiversionContext extends DiversionInput {
  /** The zone of an online idle kiosk serving the service, while diverting. */
  kioskZone: string | null;
  /** Tickets already guided (the latest 100): nobody is asked twice. */
  guided: string[];
}

export type DiversionEvent =
  /**
   * The service's estimated wait, where a free kiosk for it is (null: none) and how many are free, and
   * the waiting tickets the counters will not reach within the threshold, newest first — after anything
   * that may change them.
   */
  | { type: 'ESTIMATE'; waitMin: number; kioskZone: string | null; kiosks: number; excess: string[]; at: number }
  | { type: 'TICKET'; ticket: string; at: number };

const worth = (c: DiversionContext, e: DiversionEvent) => e.type === 'ESTIMATE' && e.waitMin > c.thresholdMin && e.kioskZone !== null;
/** Guides per free kiosk when a diversion starts: one customer at it, one walking there. */
const GUIDES_PER_KIOSK = 2;
const KEEP_GUIDED = 100;

/**
 * Diversion of one kiosk-capable service (contract section 5): while its estimated wait is over
 * `divertWhenWaitMin` and an online idle kiosk serves it, robots guide customers to the kiosk's zone and
 * waiting-area screens show a self-service notice. Whom: when a diversion starts, the newest waiting
 * tickets the counters would not reach within the threshold (they have the longest wait ahead), two per
 * free kiosk; then each new ticket for the service while it lasts. Every guide names its ticket, and no
 * ticket is guided twice. Estimates while diverting only follow the kiosk (one notice per diversion);
 * when the wait falls back to the threshold or no kiosk is free, it stops, and a later rise starts anew.
 */
export const diversionMachine = setup({
  types: { context: {} as DiversionContext, input: {} as DiversionInput, events: {} as DiversionEvent, emitted: {} as FlowEffect },
  actions: {
    followKiosk: assign({ kioskZone: ({ event }) => (event.type === 'ESTIMATE' ? event.kioskZone : null) }),
    forgetKiosk: assign({ kioskZone: null }),
    notice: emit(({ context, event }) => ({ type: 'notice' as const, service: context.service, toZone: context.kioskZone!, at: event.at })),
    guide: enqueueActions(({ context, event, enqueue }) => {
      const tickets = event.type === 'TICKET' ? [event.ticket] : event.type === 'ESTIMATE' ? event.excess.slice(0, Math.max(1, event.kiosks) * GUIDES_PER_KIOSK) : [];
      const fresh = tickets.filter((t) => !context.guided.includes(t));
      for (const ticket of fresh) enqueue.emit({ type: 'guide', service: context.service, toZone: context.kioskZone!, ticket, at: event.at });
      enqueue.assign({ guided: [...context.guided, ...fresh].slice(-KEEP_GUIDED) });
    }),
  },
  guards: {
    worthDiverting: ({ context, event }) => worth(context, event),
    notWorthDiverting: ({ context, event }) => !worth(context, event),
  },
}).createMachine({
  id: 'diversion',
  context: ({ input }) => ({ ...input, kioskZone: null, guided: [] }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        ESTIMATE: { guard: 'worthDiverting', target: 'diverting', actions: ['followKiosk', 'notice', 'guide'] },
      },
    },
    diverting: {
      on: {
        ESTIMATE: [{ guard: 'notWorthDiverting', target: 'idle', actions: 'forgetKiosk' }, { actions: 'followKiosk' }],
        TICKET: { actions: 'guide' },
      },
    },
  },
});

/** v2: guides name the tickets the counters will not reach in time, and remember whom they asked. */
export const diversionFlow: FlowDef = { name: 'diversion', version: 2, machine: diversionMachine };
