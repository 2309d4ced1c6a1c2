import { emit, setup } from 'xstate';
import type { ConductPayload } from '../../contracts/payloads.js';
import type { FlowDef, FlowEffect } from '../flow-host.js';

export type ConductEvent = { type: 'CONDUCT'; finding: ConductPayload['type']; zone?: string; post?: string; detail?: string; at: number };

const where = (e: ConductEvent) => e.post ?? e.zone ?? 'branch';

/**
 * Staff conduct (contract section 5): each finding of video analytics raises a `conduct` alert naming
 * type, zone and post, closed once a manager acknowledges it. Re-triggering: the same finding at the same
 * place while its alert is still open is that alert (the subject is type and place), not a second one.
 */
export const conductMachine = setup({
  types: { events: {} as ConductEvent, emitted: {} as FlowEffect },
  actions: {
    raise: emit(({ event }) => ({
      type: 'raise' as const,
      alert: 'conduct' as const,
      subject: `${event.finding}@${where(event)}`,
      message: `staff conduct: ${event.finding} at ${where(event)}${event.detail ? `: ${event.detail}` : ''}`,
      data: { finding: event.finding, zone: event.zone ?? null, post: event.post ?? null, detail: event.detail ?? null, at: new Date(event.at).toISOString() },
    })),
  },
}).createMachine({
  id: 'conduct',
  initial: 'watching',
  states: {
    watching: {
      on: { CONDUCT: { actions: 'raise' } },
    },
  },
});

export const conductFlow: FlowDef = { name: 'conduct', version: 1, machine: conductMachine };
