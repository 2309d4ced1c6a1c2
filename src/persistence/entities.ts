import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/*
 * Times are stored as ISO 8601 UTC strings: portable between SQLite and PostgreSQL, sortable as text,
 * readable in a SQL shell.
 */

@Entity('device')
export class DeviceRecord {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id: string;
  @Column({ type: 'varchar', length: 32 }) branchId: string;
  @Column({ type: 'varchar', length: 32 }) kind: string;
  /** Last zone the device reported, else its configured zone. */
  @Column({ type: 'varchar', length: 64, nullable: true }) zone: string | null;
  @Column({ type: 'varchar', length: 16, nullable: true }) status: string | null;
  @Column({ type: 'real', nullable: true }) battery: number | null;
  @Column({ type: 'boolean', default: false }) online: boolean;
  /** When `online` last changed. */
  @Column({ type: 'varchar', length: 30, nullable: true }) since: string | null;
  @Column({ type: 'varchar', length: 30, nullable: true }) lastSeen: string | null;
  /** Tasks moved away from the device while it was offline: it hears `cancel` for each when it is back. */
  @Column({ type: 'simple-json', nullable: true }) owedCancels: string[] | null;
}

@Entity('task')
@Index(['branchId', 'state'])
export class TaskRecord {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id: string;
  @Column({ type: 'varchar', length: 32 }) branchId: string;
  @Column({ type: 'varchar', length: 16 }) type: string;
  @Column({ type: 'simple-json' }) params: Record<string, unknown>;
  @Column({ type: 'integer' }) priority: number;
  @Column({ type: 'varchar', length: 16 }) state: string;
  /** Who asked: a flow (`flow:greeting`) or a manager (`manager:lobby`). */
  @Column({ type: 'varchar', length: 64 }) origin: string;
  /** Set when a manager pinned the task to one device: it is never moved to another. */
  @Column({ type: 'varchar', length: 64, nullable: true }) pinnedDeviceId: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) deviceId: string | null;
  @Column({ type: 'integer', default: 0 }) attempts: number;
  /** Devices that already had this task and gave it back (rejected, timed out, went away). */
  @Column({ type: 'simple-json' }) triedDevices: string[];
  /** The zone the task is about, for "same zone first". */
  @Column({ type: 'varchar', length: 64, nullable: true }) zone: string | null;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
  @Column({ type: 'varchar', length: 30 }) expiresAt: string;
  /** When the current device must have accepted (shown to managers; the timer itself is a `deadline` row). */
  @Column({ type: 'varchar', length: 30, nullable: true }) ackDeadline: string | null;
  /** Why the current device was chosen: the candidates and the deciding rule. */
  @Column({ type: 'simple-json', nullable: true }) decision: unknown;
}

@Entity('task_transition')
@Index(['taskId'])
export class TaskTransitionRecord {
  @PrimaryGeneratedColumn() seq: number;
  @Column({ type: 'varchar', length: 64 }) taskId: string;
  @Column({ type: 'varchar', length: 16, nullable: true }) fromState: string | null;
  @Column({ type: 'varchar', length: 16 }) toState: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) deviceId: string | null;
  @Column({ type: 'varchar', length: 500 }) cause: string;
  @Column({ type: 'varchar', length: 30 }) at: string;
}

@Entity('alert')
@Index(['branchId', 'open'])
/** One open alert per condition: the database refuses a second one, whoever raises it. */
@Index('alert_open_condition', ['branchId', 'type', 'subject'], { unique: true, where: '"open" = TRUE' })
export class AlertRecord {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id: string;
  @Column({ type: 'varchar', length: 32 }) branchId: string;
  @Column({ type: 'varchar', length: 32 }) type: string;
  /** Identifies the condition, so the same condition is raised once and cleared once. */
  @Column({ type: 'varchar', length: 128 }) subject: string;
  @Column({ type: 'varchar', length: 500 }) message: string;
  @Column({ type: 'simple-json' }) data: Record<string, unknown>;
  /** `info`, `warning` or `critical`: rises while nobody acknowledges it. */
  @Column({ type: 'varchar', length: 16, default: 'warning' }) level: string;
  @Column({ type: 'varchar', length: 30, nullable: true }) escalatedAt: string | null;
  @Column({ type: 'boolean' }) open: boolean;
  @Column({ type: 'varchar', length: 30 }) raisedAt: string;
  @Column({ type: 'varchar', length: 30, nullable: true }) clearedAt: string | null;
  @Column({ type: 'varchar', length: 30, nullable: true }) ackedAt: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) ackedBy: string | null;
}

/** Small key/value store for hub-wide facts that must survive a restart (e.g. the token secret). */
@Entity('hub_setting')
export class SettingRecord {
  @PrimaryColumn({ type: 'varchar', length: 64 }) key: string;
  @Column({ type: 'text' }) value: string;
}

/** A durable deadline: at `dueAt` (hub clock), the owner of `branchId` is told `kind` about `data`. */
@Entity('deadline')
export class DeadlineRecord {
  /** What it is about, e.g. `task:<id>:ack`: setting the same key again moves the deadline. */
  @PrimaryColumn({ type: 'varchar', length: 128 }) key: string;
  @Column({ type: 'varchar', length: 32 }) branchId: string;
  @Column({ type: 'varchar', length: 32 }) kind: string;
  @Column({ type: 'varchar', length: 30 }) dueAt: string;
  @Column({ type: 'simple-json' }) data: Record<string, unknown>;
}

/** A ticket the queue system issued and has not yet served or seen abandoned. */
@Entity('queue_ticket')
export class QueueTicketRecord {
  @PrimaryColumn({ type: 'varchar', length: 32 }) branchId: string;
  @PrimaryColumn({ type: 'varchar', length: 32 }) service: string;
  @PrimaryColumn({ type: 'varchar', length: 32 }) ticket: string;
  /** `waiting` until called to a counter, then `called`. */
  @Column({ type: 'varchar', length: 16 }) state: string;
  @Column({ type: 'varchar', length: 30 }) issuedAt: string;
  @Column({ type: 'varchar', length: 30, nullable: true }) calledAt: string | null;
  /** The ref of the appointment it was issued for: its customer is guided to the counters, never diverted. */
  @Column({ type: 'varchar', length: 64, nullable: true }) appointment: string | null;
}

/** Per service of a branch: counters open, as the queue system last said. */
@Entity('queue_service')
export class QueueServiceRecord {
  @PrimaryColumn({ type: 'varchar', length: 32 }) branchId: string;
  @PrimaryColumn({ type: 'varchar', length: 32 }) service: string;
  @Column({ type: 'integer', nullable: true }) openCounters: number | null;
}

/** One customer served: minutes from called to served, for the estimated wait. */
@Entity('service_time')
@Index(['branchId', 'service'])
export class ServiceTimeRecord {
  @PrimaryGeneratedColumn() id: number;
  @Column({ type: 'varchar', length: 32 }) branchId: string;
  @Column({ type: 'varchar', length: 32 }) service: string;
  @Column({ type: 'real' }) minutes: number;
  @Column({ type: 'varchar', length: 30 }) at: string;
}

/** A flow actor's persisted state: `{machine, version, snapshot}`, restored at start-up. */
@Entity('flow_state')
export class FlowStateRecord {
  @PrimaryColumn({ type: 'varchar', length: 32 }) branchId: string;
  /** The actor, e.g. `crowding:waiting`, `long-wait:card:A023`. */
  @PrimaryColumn({ type: 'varchar', length: 128 }) actor: string;
  @Column({ type: 'varchar', length: 32 }) machine: string;
  @Column({ type: 'integer' }) version: number;
  @Column({ type: 'simple-json' }) snapshot: unknown;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
}

/** A staff post: attended or not, since when. */
@Entity('post_state')
export class PostStateRecord {
  @PrimaryColumn({ type: 'varchar', length: 32 }) branchId: string;
  @PrimaryColumn({ type: 'varchar', length: 64 }) post: string;
  @Column({ type: 'boolean' }) staffed: boolean;
  @Column({ type: 'varchar', length: 30 }) since: string;
}

/** People in and out at the entry zones, per hour of the hub's clock. */
@Entity('footfall_hour')
export class FootfallHourRecord {
  @PrimaryColumn({ type: 'varchar', length: 32 }) branchId: string;
  /** The hour's start, ISO UTC. */
  @PrimaryColumn({ type: 'varchar', length: 30 }) hour: string;
  @Column({ type: 'integer', default: 0 }) inCount: number;
  @Column({ type: 'integer', default: 0 }) outCount: number;
}

/** One anonymous track entering or leaving a zone, as the camera said: deleted after `retentionDays` (docs/analytics.md). */
@Entity('track_event')
@Index(['branchId', 'at'])
export class TrackEventRecord {
  @PrimaryGeneratedColumn() id: number;
  @Column({ type: 'varchar', length: 32 }) branchId: string;
  @Column({ type: 'varchar', length: 64 }) track: string;
  @Column({ type: 'varchar', length: 64 }) zone: string;
  @Column({ type: 'varchar', length: 8 }) event: string;
  @Column({ type: 'varchar', length: 30 }) at: string;
}

/** One aggregate of the branch's analytics: `kind` (dwell, transition, wait, task per hour; density, counters per 5 minutes) about `key` from `at`. */
@Entity('analytics_bucket')
@Index(['branchId', 'kind', 'at'])
export class AnalyticsBucketRecord {
  @PrimaryColumn({ type: 'varchar', length: 32 }) branchId: string;
  @PrimaryColumn({ type: 'varchar', length: 16 }) kind: string;
  /** The zone, service, task type, or `from>to` of a transition. */
  @PrimaryColumn({ type: 'varchar', length: 140 }) key: string;
  @PrimaryColumn({ type: 'varchar', length: 30 }) at: string;
  /** Counts, histograms (`{bin: count}`) or integrals, by kind (src/analytics/branch-analytics.ts). */
  @Column({ type: 'simple-json' }) data: object;
}

/** A level the analytics integrate over time (people in a zone, counters open) and since when it holds. */
@Entity('analytics_level')
export class AnalyticsLevelRecord {
  @PrimaryColumn({ type: 'varchar', length: 32 }) branchId: string;
  @PrimaryColumn({ type: 'varchar', length: 16 }) kind: string;
  @PrimaryColumn({ type: 'varchar', length: 64 }) key: string;
  @Column({ type: 'real' }) value: number;
  @Column({ type: 'varchar', length: 30 }) since: string;
}

/** An event for headquarters (contract section 8), kept until HQ's broker acknowledged it: the outbox. */
@Entity('uplink_event')
export class UplinkEventRecord {
  @PrimaryColumn({ type: 'varchar', length: 32 }) branchId: string;
  @PrimaryColumn({ type: 'integer' }) seq: number;
  /** The event as HQ receives it: `{seq, ts, kind, …}`. */
  @Column({ type: 'simple-json' }) body: object;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
}

/** The last `seq` a branch gave an uplink event: it rises by one per event, across restarts and acknowledged events. */
@Entity('uplink_cursor')
export class UplinkCursorRecord {
  @PrimaryColumn({ type: 'varchar', length: 32 }) branchId: string;
  @Column({ type: 'integer' }) seq: number;
}

/** An appointment headquarters booked (contract section 5): one per `requestId`, rejected ones too (a redelivery repeats their answer). */
@Entity('appointment')
@Index(['branchId', 'ref'])
export class AppointmentRecord {
  @PrimaryColumn({ type: 'varchar', length: 32 }) branchId: string;
  @PrimaryColumn({ type: 'varchar', length: 64 }) requestId: string;
  @Column({ type: 'varchar', length: 64 }) ref: string;
  @Column({ type: 'varchar', length: 32 }) service: string;
  @Column({ type: 'varchar', length: 30 }) at: string;
  @Column({ type: 'varchar', length: 32, nullable: true }) segment: string | null;
  @Column({ type: 'varchar', length: 500, nullable: true }) note: string | null;
  /** accepted, rejected, due, arrived, served, missed. */
  @Column({ type: 'varchar', length: 16 }) state: string;
  @Column({ type: 'varchar', length: 200, nullable: true }) reason: string | null;
  @Column({ type: 'varchar', length: 32, nullable: true }) ticket: string | null;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
}

export const ENTITIES = [
  AppointmentRecord,
  UplinkEventRecord,
  UplinkCursorRecord,
  TrackEventRecord,
  AnalyticsBucketRecord,
  AnalyticsLevelRecord,
  FlowStateRecord,
  PostStateRecord,
  FootfallHourRecord,
  DeviceRecord,
  TaskRecord,
  TaskTransitionRecord,
  AlertRecord,
  SettingRecord,
  DeadlineRecord,
  QueueTicketRecord,
  QueueServiceRecord,
  ServiceTimeRecord,
];
