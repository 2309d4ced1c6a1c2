import { assign, emit, setup } from 'xstate';
import type { FlowDef, FlowEffect } from '../flow-host.js';

export interface DiversionInput {
  service: string;
  thresholdMin: number;
}

interface DiversionContext extends DiversionInput {
  /** The zone of an online idle kiosk serving the service, while diverting. */
  kioskZone: string | null;
}

export type DiversionEvent =
  /** The service's estimated wait and where a free kiosk for it is (null: none), after anything that may change them. */
  | { type: 'ESTIMATE'; waitMin: number; kioskZone: string | null; at: number }
  | { type: 'TICKET'; ticket: string; at: number };

const worth = (c: DiversionContext, e: DiversionEvent) => e.type === 'ESTIMATE' && e.waitMin > c.thresholdMin && e.kioskZone !== null;

/**
 * Diversion of one kiosk-capable service (contract section 5): while its estimated wait is over
 * `divertWhenWaitMin` and an online idle kiosk serves it, a robot guides customers to the kiosk's zone and
 * waiting-area screens show a self-service notice. Re-triggering: each new ticket for the service while
 * diverting gets its own guide; estimates while diverting only follow the kiosk (a notice is shown once
 * per diversion); when the wait falls back to the threshold or no kiosk is free, it stops, and a later
 * rise starts a new diversion.
 */
export const diversionMachine = setup({
  types: { context: {} as DiversionContext, input: {} as DiversionInput, events: {} as DiversionEvent, emitted: {} as FlowEffect },
  actions: {
    followKiosk: assign({ kioskZone: ({ event }) => (event.type === 'ESTIMATE' ? event.kioskZone : null) }),
    forgetKiosk: assign({ kioskZone: null }),
    notice: emit(({ context, event }) => ({ type: 'notice' as const, service: context.service, toZone: context.kioskZone!, at: event.at })),
    guide: emit(({ context, event }) => ({
      type: 'guide' as const,
      service: context.service,
      toZone: context.kioskZone!,
      ticket: event.type === 'TICKET' ? event.ticket : undefined,
      at: event.at,
    })),
  },
  guards: {
    worthDiverting: ({ context, event }) => worth(context, event),
    notWorthDiverting: ({ context, event }) => !worth(context, event),
  },
}).createMachine({
  id: 'diversion',
  context: ({ input }) => ({ ...input, kioskZone: null }),
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

export const diversionFlow: FlowDef = { name: 'diversion', version: 1, machine: diversionMachine };
