import { z } from 'zod';

/** Payload schemas of contract section 3: one source for the hub, REST, Socket.IO and the simulators. */

export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** Device clocks can be wrong, not absurd: anything outside these years is refused. */
const TS_MIN = Date.UTC(2000, 0, 1);
const TS_MAX = Date.UTC(2100, 0, 1);

/** `ts` is ISO 8601 or epoch ms; without it the hub uses the time it received the message. */
const ts = z
  .union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()])
  .optional()
  .transform((v) => (v === undefined ? undefined : new Date(v)))
  .refine((d) => d === undefined || (d.getTime() >= TS_MIN && d.getTime() < TS_MAX), 'must be a time between 2000 and 2100');

export const DEVICE_STATUSES = ['idle', 'busy', 'charging', 'fault'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export const statePayload = z.object({
  ts,
  status: z.enum(DEVICE_STATUSES),
  zone: z.string().min(1).optional(),
  battery: z.number().min(0).max(100).optional(),
});

export const footfallPayload = z.object({
  ts,
  direction: z.enum(['in', 'out']),
  count: z.number().int().positive().max(1000).default(1),
  zone: z.string().min(1).optional(),
  segment: z.string().min(1).max(32).optional(),
});

export const occupancyPayload = z.object({
  ts,
  zone: z.string().min(1),
  count: z.number().int().nonnegative(),
});

export const postPayload = z.object({
  ts,
  post: z.string().min(1).max(64),
  staffed: z.boolean(),
});

/** One anonymous person (a video-analytics track id, never a face or a name) entering or leaving a zone; `outside` = left the branch. */
export const trackPayload = z.object({
  ts,
  track: z.string().min(1).max(64),
  zone: z.string().min(1),
  event: z.enum(['enter', 'exit']),
});

export const CONDUCT_TYPES = ['operating-for-customer', 'absent-from-post', 'other'] as const;

/** A staff-conduct finding of video analytics. */
export const conductPayload = z.object({
  ts,
  type: z.enum(CONDUCT_TYPES),
  zone: z.string().min(1).optional(),
  post: z.string().min(1).max(64).optional(),
  detail: z.string().max(500).optional(),
});

export const queuePayload = z.discriminatedUnion('event', [
  z.object({
    ts,
    event: z.enum(['issued', 'called', 'served', 'abandoned']),
    ticket: z.string().min(1).max(32),
    service: z.string().min(1),
    counter: z.string().min(1).max(32).optional(),
    /** An appointment's `ref` (contract section 5). */
    appointment: z.string().min(1).max(64).optional(),
  }),
  z.object({ ts, event: z.literal('counters'), service: z.string().min(1), open: z.number().int().nonnegative() }),
]);

export const ACK_STATES = ['accepted', 'rejected', 'started', 'completed', 'failed'] as const;
export type AckState = (typeof ACK_STATES)[number];

export const ackPayload = z.object({
  ts,
  taskId: z.string().min(1).max(64),
  state: z.enum(ACK_STATES),
  reason: z.string().max(500).optional(),
});

/** Device-defined events: any JSON object, logged and counted, never acted on. */
export const eventPayload = z.looseObject({ ts });

export const uplinkSchemas = {
  state: statePayload,
  footfall: footfallPayload,
  occupancy: occupancyPayload,
  post: postPayload,
  track: trackPayload,
  conduct: conductPayload,
  queue: queuePayload,
  ack: ackPayload,
  event: eventPayload,
} as const;

export type QueuePayload = z.output<typeof queuePayload>;
export type ConductPayload = z.output<typeof conductPayload>;
export type AckPayload = z.output<typeof ackPayload>;

/** What the hub answers on a device's `error` topic. */
export const ERROR_CODES = [
  'invalid-json',
  // wrong types, unknown enum values, and zones, services or posts the branch does not have
  'invalid-payload',
  'payload-too-large',
  'unknown-task',
  'not-task-holder',
  'invalid-transition',
  // over the branch's `maxMsgPerSec`: the message was dropped (answered at most once a second)
  'rate-limited',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorPayload {
  code: ErrorCode;
  detail: string;
  topic: string;
}
