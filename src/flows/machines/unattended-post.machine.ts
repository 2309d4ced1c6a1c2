import { assign, emit, setup } from 'xstate';
import type { FlowDef, FlowEffect } from '../flow-host.js';

export interface PostInput {
  post: string;
  emptyMs: number;
}

interface PostContext extends PostInput {
  /** As the post's sensor last said; null before it said anything. */
  staffed: boolean | null;
  ticketsWaiting: boolean;
}

export type PostEvent = { type: 'POST'; staffed: boolean; at: number } | { type: 'WAITING'; count: number; at: number } | { type: 'DUE' };

/** All this machine reads of a WAITING: whether any ticket waits. A WAITING saying what the one before said changes nothing. */
export const ticketsWaiting = (count: number) => count > 0;

/** The context after the event: who is at the post, whether tickets wait. */
const after = (c: PostContext, e: PostEvent) => ({
  staffed: e.type === 'POST' ? e.staffed : c.staffed,
  ticketsWaiting: e.type === 'WAITING' ? ticketsWaiting(e.count) : c.ticketsWaiting,
});
const unattendedWhileWaiting = (c: { staffed: boolean | null; ticketsWaiting: boolean }) => c.staffed === false && c.ticketsWaiting;
const at = (e: PostEvent) => ('at' in e ? e.at : 0);

/**
 * Unattended post (contract section 5): a staff post left unstaffed while tickets wait, for `postEmptyMin`,
 * raises a `post-unattended` alert naming it; cleared when someone is back or no ticket waits. The
 * condition starts when both hold; the deadline is durable. Re-triggering: the post being left again
 * after it cleared starts a new wait and a new alert.
 */
export const unattendedPostMachine = setup({
  types: { context: {} as PostContext, input: {} as PostInput, events: {} as PostEvent, emitted: {} as FlowEffect },
  actions: {
    update: assign(({ context, event }) => after(context, event)),
    scheduleDue: emit(({ context, event }) => ({ type: 'schedule' as const, timer: 'due', at: at(event) + context.emptyMs, event: { type: 'DUE' } })),
    unscheduleDue: emit({ type: 'unschedule' as const, timer: 'due' }),
    raise: emit(({ context }) => ({
      type: 'raise' as const,
      alert: 'post-unattended' as const,
      subject: context.post,
      message: `post ${context.post} unattended for over ${Math.round(context.emptyMs / 60_000)} min while tickets wait`,
      data: { post: context.post },
    })),
    clear: emit(({ context }) => ({ type: 'clear' as const, alert: 'post-unattended' as const, subject: context.post })),
  },
  guards: {
    becomesUnattended: ({ context, event }) => unattendedWhileWaiting(after(context, event)),
    endsUnattended: ({ context, event }) => !unattendedWhileWaiting(after(context, event)),
  },
}).createMachine({
  id: 'unattended-post',
  context: ({ input }) => ({ ...input, staffed: null, ticketsWaiting: false }),
  initial: 'attended',
  states: {
    attended: {
      on: {
        POST: [{ guard: 'becomesUnattended', target: 'pending', actions: ['update', 'scheduleDue'] }, { actions: 'update' }],
        WAITING: [{ guard: 'becomesUnattended', target: 'pending', actions: ['update', 'scheduleDue'] }, { actions: 'update' }],
      },
    },
    pending: {
      on: {
        POST: [{ guard: 'endsUnattended', target: 'attended', actions: ['update', 'unscheduleDue'] }, { actions: 'update' }],
        WAITING: [{ guard: 'endsUnattended', target: 'attended', actions: ['update', 'unscheduleDue'] }, { actions: 'update' }],
        DUE: 'unattended',
      },
    },
    unattended: {
      entry: 'raise',
      on: {
        POST: [{ guard: 'endsUnattended', target: 'attended', actions: ['update', 'clear'] }, { actions: 'update' }],
        WAITING: [{ guard: 'endsUnattended', target: 'attended', actions: ['update', 'clear'] }, { actions: 'update' }],
      },
    },
  },
});

export const unattendedPostFlow: FlowDef = {
  name: 'unattended-post',
  version: 1,
  machine: unattendedPostMachine,
  alertOf: (actor) => ({ alert: 'post-unattended', subject: actor.slice('unattended-post:'.length) }),
};
