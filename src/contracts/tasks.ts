import { z } from 'zod';

/** Task types, their params and priorities (contract sections 3 and 4). */

export const TASK_TYPES = ['greet', 'guide', 'promote', 'announce', 'display'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const taskParams = {
  greet: z.strictObject({ zone: z.string().min(1), segment: z.string().min(1).optional() }),
  guide: z.strictObject({ toZone: z.string().min(1), service: z.string().min(1).optional(), ticket: z.string().min(1).optional() }),
  promote: z.strictObject({ campaign: z.string().min(1), content: z.record(z.string(), z.unknown()) }),
  announce: z.strictObject({ text: z.string().min(1).max(2000), lang: z.string().min(2).max(16) }),
  display: z.strictObject({ view: z.enum(['welcome', 'queue', 'promo', 'notice']), content: z.unknown().optional() }),
} as const;

/** Default priorities: greet and guide pre-empt promotions; 0 is lowest, 9 highest. */
export const DEFAULT_PRIORITY: Record<TaskType, number> = { greet: 7, guide: 6, announce: 5, display: 3, promote: 2 };
/** A device holding a task above this priority is not "free" for greeting (contract section 5). */
export const PROMOTION_PRIORITY = DEFAULT_PRIORITY.promote;

export const TASK_STATES = ['created', 'dispatched', 'accepted', 'started', 'completed', 'rejected', 'failed', 'expired', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const OPEN_TASK_STATES: readonly TaskState[] = ['created', 'dispatched', 'accepted', 'started'];

/** A task as sent on `cmd` (QoS 1). */
export interface TaskCommand {
  taskId: string;
  type: TaskType;
  params: Record<string, unknown>;
  priority: number;
  expiresAt: string;
}
export interface CancelCommand {
  taskId: string;
  type: 'cancel';
}

/** Manual dispatch: REST body of POST /api/branches/{b}/tasks and the socket `dispatch` command. */
export const dispatchRequest = z.strictObject({
  type: z.enum(TASK_TYPES),
  deviceId: z.string().min(1).optional(),
  params: z.record(z.string(), z.unknown()).default({}),
  priority: z.number().int().min(0).max(9).optional(),
  ttlSec: z.number().positive().max(86400).optional(),
});
export type DispatchRequest = z.output<typeof dispatchRequest>;
