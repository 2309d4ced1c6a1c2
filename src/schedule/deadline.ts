/** What a deadline is about; the branch owner knows what to do with each. */
export const DEADLINE_KINDS = ['task-ack', 'task-expiry', 'device-return', 'flow', 'alert-escalate', 'analytics-retention', 'appointment-due', 'appointment-missed'] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];

/** "At `dueAt`, tell the owner of branch `branchId` about `kind` / `data`." */
export interface Deadline {
  /** Unique per subject (`task:<id>:ack`): setting the same key again moves the deadline. */
  key: string;
  branchId: string;
  kind: DeadlineKind;
  /** ISO time on the hub's clock. */
  dueAt: string;
  data: Record<string, unknown>;
}

/** Changes to durable deadlines that travel with a state change, stored in its transaction. */
export interface DeadlineChanges {
  set: Deadline[];
  clear: string[];
}
