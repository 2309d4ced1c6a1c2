import { z } from 'zod';
import type { AlertView, AppointmentView, BranchSummary, DeviceView, FootfallHour, PostView, QueueView, Task, UplinkView } from './views.js';

/** Lobby-manager API bodies and socket commands (contract section 6). */
export const loginRequest = z.object({ username: z.string().min(1), password: z.string().min(1) });
export const taskStateFilter = z.enum(['created', 'dispatched', 'accepted', 'started', 'completed', 'rejected', 'failed', 'expired', 'cancelled']).optional();
export const alertStateFilter = z.enum(['open', 'closed']).optional();
export const cancelCommand = z.object({ taskId: z.string().min(1) });
export const ackAlertCommand = z.object({ alertId: z.string().min(1) });
/** Up to a day; 0 ends a pause at once. */
export const pausePromotionsCommand = z.object({ branchId: z.string().min(1), minutes: z.number().min(0).max(24 * 60) });

/** A socket command's answer, through the Socket.IO ack callback. */
export type CommandAnswer = ({ ok: true } & Record<string, unknown>) | { ok: false; error: string };
type Command = (body: unknown, answer: (a: CommandAnswer) => void) => void;

export interface BranchSnapshot {
  id: string;
  name: string;
  devices: DeviceView[];
  queues: Record<string, QueueView>;
  occupancy: Record<string, number>;
  /** Extension: staff posts and footfall at the entry zones per hour (last 48 h). */
  posts: Record<string, PostView>;
  footfall: FootfallHour[];
  tasks: Task[];
  alerts: AlertView[];
  /** Extension: today's appointments and every live one (contract section 5), by time. */
  appointments: AppointmentView[];
  /** Extension: the link to headquarters; null without an uplink. */
  uplink: UplinkView | null;
}

/** Socket.IO `/dashboard`, hub → tablet (contract section 6). Every live event carries its `branchId`. */
export interface ServerToClientEvents {
  snapshot: (s: { branches: BranchSnapshot[] }) => void;
  device: (d: DeviceView) => void;
  task: (t: Task) => void;
  alert: (a: AlertView) => void;
  summary: (s: BranchSummary & { branchId: string }) => void;
  appointment: (a: AppointmentView) => void;
  uplink: (u: UplinkView & { branchId: string }) => void;
}

/** Socket.IO `/dashboard`, tablet → hub: commands answered through the ack callback. */
export interface ClientToServerEvents {
  dispatch: Command;
  cancel: Command;
  ackAlert: Command;
  pausePromotions: Command;
}
