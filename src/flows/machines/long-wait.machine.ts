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
 * `long-wait` alert naming it; cleared when it is called, served or abandoned. The deadline is durable,
 * so a hub that was down when it fell due raises the alert as soon as it is back. Re-triggering: none —
 * one ticket, one alert.
 */
export const longWaitMachine = setup({
  types: { context: {} as LongWaitInput, input: {} as LongWaitInput, events: {} as LongWaitEvent, emitted: {} as FlowEffect },
  actions: {
    scheduleDue: emit(({ context }) => ({ type: 'schedule' as const, timer: 'due', at: context.issuedAt + context.longWaitMs, event: { type: 'DUE' } })),
    unscheduleDue: emit({ type: 'unschedule' as const, timer: 'due' }),
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
      entry: 'scheduleDue',
      on: { DUE: 'overdue', GONE: { target: 'done', actions: 'unscheduleDue' } },
    },
    overdue: {
      entry: 'raise',
      on: { GONE: { target: 'done', actions: 'clear' } },
    },
    done: { type: 'final' },
  },
});

/** Actors are `long-wait:<service>:<ticket>`; their alert's subject is `<service>/<ticket>`. */
export const longWaitFlow: FlowDef = { name: 'long-wait', version: 1, machine: longWaitMachine, alertOf: (actor) => ({ alert: 'long-wait', subject: actor.slice('long-wait:'.length).replace(':', '/') }) };
