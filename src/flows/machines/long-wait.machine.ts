import { emit, setup } from 'xstate';
import type { FlowDef, FlowEffect } from '../flow-host.js';

export interface LongWaitInput {
  service: string;
  ticket: string;
  /** Hub ms the ticket was issued. */
  issuedAt: number;
  longWaitMs: number;
}

export type LongWaitEvent = { type: 'DUE' } | { type: 'GONE'; at: number };

const subject = (c: LongWaitInput) => `${c.service}/${c.ticket}`;

/**
 * Long wait of one ticket (contract section 5): `longWaitMin` after it was issued and still waiting, a
 * `long-wait` alert naming it; cleared when it is called, served or abandoned. Re-triggering: none — one ticket,
 * one alert. The actor starts when its deadline falls due (`FlowHost.startAt`, set when the ticket is issued, with
 * `DUE`): a ticket called before that never has one. The deadline is durable, so a hub that was down when it fell
 * due raises the alert as soon as it is back.
 */
export const longWaitMachine = setup({
  types: { context: {} as LongWaitInput, input: {} as LongWaitInput, events: {} as LongWaitEvent, emitted: {} as FlowEffect },
  actions: {
    raise: emit(({ context }) => ({
      type: 'raise' as const,
      alert: 'long-wait' as const,
      subject: subject(context),
      message: `ticket ${context.ticket} (${context.service}) has waited over ${Math.round(context.longWaitMs / 60_000)} min`,
      data: { service: context.service, ticket: context.ticket, issuedAt: new Date(context.issuedAt).toISOString() },
    })),
    clear: emit(({ context }) => ({ type: 'clear' as const, alert: 'long-wait' as const, subject: subject(context) })),
  },
}).createMachine({
  id: 'long-wait',
  context: ({ input }) => input,
  initial: 'waiting',
  states: {
    waiting: {
      on: { DUE: 'overdue', GONE: 'done' },
    },
    overdue: {
      entry: 'raise',
      on: { GONE: { target: 'done', actions: 'clear' } },
    },
    done: { type: 'final' },
  },
});

/** Actors are `long-wait:<service>:<ticket>`; their alert's subject is `<service>/<ticket>`. v2: started by its deadline, which v1 set on entry. */
export const longWaitFlow: FlowDef = { name: 'long-wait', version: 2, machine: longWaitMachine, alertOf: (actor) => ({ alert: 'long-wait', subject: actor.slice('long-wait:'.length).replace(':', '/') }) };

/** When a ticket issued at `issuedAt` has waited too long (hub ms). */
export const longWaitDue = (c: LongWaitInput) => c.issuedAt + c.longWaitMs;
