import { emit, setup } from 'xstate';
import type { FlowDef, FlowEffect } from '../flow-host.js';

/** Cleared only below this share of capacity: a count hovering at capacity raises once, not on every reading. */
export const CLEAR_RATIO = 0.9;

export interface CrowdingInput {
  zone: string;
  capacity: number;
}

export type CrowdingEvent = { type: 'OCCUPANCY'; count: number; at: number };

/**
 * What a count means to this machine: at capacity, below the clear level, or in between. Two readings in the same band
 * lead to the same state, so a reading in the band of the last one changes nothing (`FlowHost.sendChanged`).
 */
export function crowdingBand(count: number, capacity: number): 'full' | 'between' | 'clear' {
  return count >= capacity ? 'full' : count < capacity * CLEAR_RATIO ? 'clear' : 'between';
}

/**
 * Crowding of one zone with a capacity (contract section 5): a `crowding` alert when the people in it reach
 * capacity, cleared when they fall below 90 % of it. Re-triggering: readings while crowded change nothing
 * until the count drops below the clear level; a new crowding after that is a new alert.
 */
export const crowdingMachine = setup({
  types: { context: {} as CrowdingInput, input: {} as CrowdingInput, events: {} as CrowdingEvent, emitted: {} as FlowEffect },
  actions: {
    raise: emit(({ context, event }) => ({
      type: 'raise' as const,
      alert: 'crowding' as const,
      subject: context.zone,
      message: `${context.zone} is crowded: ${event.count} people, capacity ${context.capacity}`,
      data: { zone: context.zone, count: event.count, capacity: context.capacity },
    })),
    clear: emit(({ context }) => ({ type: 'clear' as const, alert: 'crowding' as const, subject: context.zone })),
  },
  guards: {
    atCapacity: ({ context, event }) => crowdingBand(event.count, context.capacity) === 'full',
    belowClearLevel: ({ context, event }) => crowdingBand(event.count, context.capacity) === 'clear',
  },
}).createMachine({
  id: 'crowding',
  context: ({ input }) => input,
  initial: 'normal',
  states: {
    normal: {
      on: {
        OCCUPANCY: { guard: 'atCapacity', target: 'crowded', actions: 'raise' },
      },
    },
    crowded: {
      on: {
        OCCUPANCY: { guard: 'belowClearLevel', target: 'normal', actions: 'clear' },
      },
    },
  },
});

export const crowdingFlow: FlowDef = { name: 'crowding', version: 1, machine: crowdingMachine, alertOf: (actor) => ({ alert: 'crowding', subject: actor.slice('crowding:'.length) }) };
