import { z } from 'zod';

/** Lobby-manager API bodies and socket commands (contract section 6). */
export const loginRequest = z.object({ username: z.string().min(1), password: z.string().min(1) });
export const taskStateFilter = z.enum(['created', 'dispatched', 'accepted', 'started', 'completed', 'rejected', 'failed', 'expired', 'cancelled']).optional();
export const alertStateFilter = z.enum(['open', 'closed']).optional();
export const cancelCommand = z.object({ taskId: z.string().min(1) });
export const ackAlertCommand = z.object({ alertId: z.string().min(1) });
