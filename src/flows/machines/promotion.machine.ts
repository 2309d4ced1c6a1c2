import { assign, emit, enqueueActions, setup } from 'xstate';
import type { FlowDef, FlowEffect } from '../flow-host.js';

export interface PromotionInput {
  threshold: number;
  cooldownMs: number;
  campaigns: { id: string; services: string[] }[];
}

interface PromotionContext extends PromotionInput {
  /** Tickets waiting, all services, and the services that have any, as last told (see `waitingNews`). */
  waiting: number;
  waitingServices: string[];
  /** The campaign shown last: rotation goes on from it. */
  last: string | null;
  /** When the running cooldown ends (hub ms); null when none runs. A pause does not shorten it. */
  cooldownUntil: number | null;
}

export type PromotionEvent =
  | { type: 'WAITING'; total: number; services: string[]; at: number }
  | { type: 'COOLDOWN_OVER'; at: number }
  | { type: 'PAUSE'; until: number; at: number }
  | { type: 'RESUME'; at: number };

/**
 * What a WAITING says that this machine acts on: whether enough tickets wait, and while they do, which services have
 * them (the campaign is chosen from those). A WAITING whose news is that of the one before changes nothing it does:
 * the host sends it only when the news changed (`FlowHost.sendChanged`).
 */
export function waitingNews(total: number, services: string[], threshold: number): string {
  return total >= threshold ? `enough|${services.join(',')}` : 'few';
}

/**
 * The next campaign: after the last one shown, in config order, the first whose `services` has tickets
 * waiting (a campaign for everyone counts); if none fits, simply the next one.
 */
export function nextCampaign(c: Pick<PromotionContext, 'campaigns' | 'waitingServices' | 'last'>): string | null {
  if (!c.campaigns.length) return null;
  const start = c.last === null ? 0 : (c.campaigns.findIndex((x) => x.id === c.last) + 1) % c.campaigns.length;
  const order = [...c.campaigns.slice(start), ...c.campaigns.slice(0, start)];
  const fits = order.find((x) => !x.services.length || x.services.some((s) => c.waitingServices.includes(s)));
  return (fits ?? order[0]).id;
}

/**
 * Promotion for one branch (contract section 5): when tickets waiting reach `promoteWhenWaiting`, the next
 * campaign goes to waiting-area screens and idle robots, then it rests `promoteCooldownSec`; greet and guide
 * pre-empt it (task priorities). A manager may pause it for N minutes. Re-triggering: changes in the queue
 * during the cooldown or a pause are remembered, not acted on; when the cooldown or pause ends, a round
 * follows at once if enough tickets still wait — a pause never shortens a running cooldown. Both timers are
 * durable deadlines.
 */
export const promotionMachine = setup({
  types: { context: {} as PromotionContext, input: {} as PromotionInput, events: {} as PromotionEvent, emitted: {} as FlowEffect },
  actions: {
    remember: assign(({ event }) => (event.type === 'WAITING' ? { waiting: event.total, waitingServices: event.services } : {})),
    promote: emit(({ context, event }) => ({ type: 'promote' as const, campaign: nextCampaign(context)!, at: 'at' in event ? event.at : 0 })),
    advance: assign({ last: ({ context }) => nextCampaign(context) }),
    scheduleCooldown: enqueueActions(({ context, event, enqueue }) => {
      const until = event.at + context.cooldownMs;
      enqueue.assign({ cooldownUntil: until });
      enqueue.emit({ type: 'schedule' as const, timer: 'cooldown', at: until, event: { type: 'COOLDOWN_OVER', at: until } });
    }),
    cooldownOver: assign({ cooldownUntil: null }),
    scheduleResume: emit(({ event }) => {
      const until = event.type === 'PAUSE' ? event.until : 0;
      return { type: 'schedule' as const, timer: 'resume', at: until, event: { type: 'RESUME', at: until } };
    }),
  },
  guards: {
    enoughWaiting: ({ context, event }) => context.campaigns.length > 0 && (event.type === 'WAITING' ? event.total : context.waiting) >= context.threshold,
    coolingDown: ({ context }) => context.cooldownUntil !== null,
  },
}).createMachine({
  id: 'promotion',
  context: ({ input }) => ({ ...input, waiting: 0, waitingServices: [], last: null, cooldownUntil: null }),
  initial: 'idle',
  on: { PAUSE: { target: '.paused', actions: 'scheduleResume' } },
  states: {
    idle: {
      on: { WAITING: [{ guard: 'enoughWaiting', target: 'cooling', actions: ['remember', 'promote', 'advance', 'scheduleCooldown'] }, { actions: 'remember' }] },
    },
    cooling: {
      on: {
        WAITING: { actions: 'remember' },
        COOLDOWN_OVER: [
          { guard: 'enoughWaiting', target: 'cooling', reenter: true, actions: ['cooldownOver', 'promote', 'advance', 'scheduleCooldown'] },
          { target: 'idle', actions: 'cooldownOver' },
        ],
      },
    },
    paused: {
      on: {
        WAITING: { actions: 'remember' },
        COOLDOWN_OVER: { actions: 'cooldownOver' },
        // The cooldown keeps running through a pause: a short pause does not bring the next round forward.
        RESUME: [{ guard: 'coolingDown', target: 'cooling' }, { guard: 'enoughWaiting', target: 'cooling', actions: ['promote', 'advance', 'scheduleCooldown'] }, { target: 'idle' }],
      },
    },
  },
});

/** v2: the cooldown runs through a pause (`cooldownUntil`). */
export const promotionFlow: FlowDef = { name: 'promotion', version: 2, machine: promotionMachine };
