import type { DeviceStatus } from './payloads.js';
import type { TaskState, TaskType } from './tasks.js';

/*
 * What the hub shows: REST responses, Socket.IO events and in-process events carry these plain objects,
 * never database entities. Times are ISO 8601 on the hub's clock.
 */

/** A device as the hub knows it: config plus live state. */
export interface DeviceView {
  id: string;
  branchId: string;
  kind: string;
  /** Where it is now (last reported), else its configured zone. */
  zone: string | null;
  homeZone: string | null;
  capabilities: string[];
  services: string[];
  status: DeviceStatus | null;
  battery: number | null;
  online: boolean;
  since: string | null;
  lastSeen: string | null;
}

export type Availability = 'idle' | 'preemptible' | 'busy';

export interface Candidate {
  deviceId: string;
  availability: Availability;
  sameZone: boolean;
  battery: number | null;
  lastAssignedAt: number;
}

/** Why a device was chosen for a task (see tasks/selection.ts); rule `waiting` while none is available. */
export interface Decision {
  /** The rule that separated the winner from the runner-up, in words a lobby manager reads. */
  rule: string;
  candidates: Candidate[];
  excluded: { deviceId: string; reason: string }[];
}

export interface Task {
  id: string;
  branchId: string;
  type: TaskType;
  params: Record<string, unknown>;
  priority: number;
  state: TaskState;
  /** Who asked: a flow (`flow:greeting`) or a manager (`manager:lobby`). */
  origin: string;
  /** Set when a manager pinned the task to one device: it is never moved to another. */
  pinnedDeviceId: string | null;
  deviceId: string | null;
  attempts: number;
  /** Devices that already had this task and gave it back. */
  triedDevices: string[];
  /** The zone the task is about, for "same zone first". */
  zone: string | null;
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
  /** When the current device must have accepted, else null. */
  ackDeadline: string | null;
  decision: Decision | null;
}

export interface TaskTransition {
  taskId: string;
  fromState: TaskState | null;
  toState: TaskState;
  deviceId: string | null;
  cause: string;
  at: string;
}

export type TaskView = Task & { history?: TaskTransition[] };

export interface AlertView {
  id: string;
  branchId: string;
  type: string;
  /** Identifies the condition, so the same condition is raised once and cleared once. */
  subject: string;
  message: string;
  data: Record<string, unknown>;
  /** `info`, `warning` or `critical`; rises while nobody acknowledges it (`alertEscalateMin`). */
  level: string;
  /** When it last rose, else null. */
  escalatedAt: string | null;
  open: boolean;
  raisedAt: string;
  clearedAt: string | null;
  ackedAt: string | null;
  ackedBy: string | null;
}

/** One service's queue. */
export interface QueueView {
  /** Where the service is served. */
  zone: string;
  /** Tickets issued and not yet called, served or abandoned, oldest first. */
  waiting: { ticket: string; issuedAt: string }[];
  /** Tickets at a counter now. */
  called: number;
  /** Open counters, once the queue system has said. */
  openCounters: number | null;
  /** Minutes per customer used for the estimate (configured, or observed once enough were served). */
  minutesPerCustomer: number;
  /** Called→served durations kept for the estimate. */
  observedServices: number;
  /** Median issued→called minutes of the last customers; null before the first is called. */
  observedWaitMin: number | null;
  /** Served and abandoned since the hub started. */
  served: number;
  abandoned: number;
  estimatedWaitMin: number;
}

/** A staff post, as its sensor last said. */
export interface PostView {
  staffed: boolean;
  since: string;
}

/** People in and out at the entry zones in one hour of the hub's clock. */
export interface FootfallHour {
  hour: string;
  in: number;
  out: number;
}

/** What screens show (contract section 3, `branch/{b}/summary`). */
export interface BranchSummary {
  waiting: Record<string, number>;
  estimatedWaitMin: Record<string, number>;
  occupancy: Record<string, number>;
  ts: string;
}

/** Extension: the branch's link to headquarters (contract section 8), when an uplink is configured. */
export interface UplinkView {
  connected: boolean;
  /** Events not yet acknowledged by headquarters' broker, and when the oldest was stored. */
  backlog: number;
  oldestAt: string | null;
  /** Why the last connection attempt failed (e.g. a certificate it cannot verify), until it connects. */
  error: string | null;
}

export const APPOINTMENT_STATES = ['accepted', 'rejected', 'due', 'arrived', 'served', 'missed'] as const;
export type AppointmentState = (typeof APPOINTMENT_STATES)[number];

/** An appointment headquarters booked, as `GET /api/branches/{b}/appointments` and the dashboard show it. */
export interface AppointmentView {
  branchId: string;
  requestId: string;
  ref: string;
  service: string;
  /** When the customer is expected (hub clock). */
  at: string;
  segment: string | null;
  note: string | null;
  state: AppointmentState;
  reason: string | null;
  ticket: string | null;
  createdAt: string;
  updatedAt: string;
}
