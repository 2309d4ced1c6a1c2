import { PROMOTION_PRIORITY, type TaskType } from '../contracts/tasks.js';
import type { Availability, Candidate, Decision, DeviceView } from '../contracts/views.js';

/** Kinds the hub dispatches to; a device also needs the task type among its capabilities. */
const DISPATCH_KINDS = ['robot', 'screen', 'kiosk'];
/** Below this a robot should be charging, not walking customers around. */
export const LOW_BATTERY = 15;

export interface SelectionTask {
  type: TaskType;
  priority: number;
  zone: string | null;
  pinnedDeviceId: string | null;
  triedDevices: string[];
}

/** An open task a device holds, as selection needs to see it. */
export interface HeldTask {
  id: string;
  priority: number;
}

export interface Selection {
  deviceId: string;
  availability: Availability;
  /** Lower-priority tasks the chosen device must drop first. */
  preempt: HeldTask[];
  decision: Decision;
}

export function canDo(device: Pick<DeviceView, 'kind' | 'capabilities'>, type: TaskType): boolean {
  return DISPATCH_KINDS.includes(device.kind) && device.capabilities.includes(type);
}

/**
 * Picks the device for a task. Excludes offline, faulty, charging, low-battery and already-tried
 * devices, and those holding a task of ours they cannot drop for this one (none left: the task waits
 * until a device comes free); then prefers idle over pre-emptible (holding only lower-priority work)
 * over busy (so reported by the device itself, with no task of ours), the
 * task's zone over others, more battery, and — among equals — the device that was given work
 * longest ago, so work spreads over the fleet. Pure: the same inputs give the same answer.
 */
export function selectDevice(
  task: SelectionTask,
  devices: DeviceView[],
  held: (deviceId: string) => HeldTask[],
  lastAssignedAt: (deviceId: string) => number,
): Selection | null {
  const excluded: Decision['excluded'] = [];
  const candidates: Candidate[] = [];
  for (const d of devices) {
    const reason = exclusion(task, d);
    if (reason) {
      excluded.push({ deviceId: d.id, reason });
      continue;
    }
    const tasks = held(d.id);
    // Work of ours it cannot drop: it would only refuse, so the task waits for a device to come free.
    const holding = tasks.find((t) => !canPreempt(t, task));
    if (holding) {
      excluded.push({ deviceId: d.id, reason: `busy with task ${holding.id}` });
      continue;
    }
    const availability: Availability = tasks.length > 0 ? 'preemptible' : d.status === 'busy' ? 'busy' : 'idle';
    candidates.push({ deviceId: d.id, availability, sameZone: !!task.zone && d.zone === task.zone, battery: d.battery, lastAssignedAt: lastAssignedAt(d.id) });
  }
  if (candidates.length === 0) return null;
  candidates.sort(compare);
  const [best, next] = candidates;
  return {
    deviceId: best.deviceId,
    availability: best.availability,
    preempt: best.availability === 'preemptible' ? held(best.deviceId) : [],
    decision: { rule: next ? decidingRule(best, next) : 'only candidate', candidates, excluded },
  };
}

/**
 * Only promotion-level work gives way (contract section 5: "greet and guide pre-empt it"); a guide or
 * an announcement a manager started is never cancelled for something else.
 */
function canPreempt(held: HeldTask, incoming: SelectionTask): boolean {
  return held.priority <= PROMOTION_PRIORITY && held.priority < incoming.priority;
}

/** Why this device cannot take a task of this type now, whatever it holds; null when it can. */
export function unfit(d: DeviceView, type: TaskType): string | null {
  if (!canDo(d, type)) return `cannot ${type}`;
  if (!d.online) return 'offline';
  if (d.status === 'fault') return 'fault';
  if (d.status === 'charging') return 'charging';
  if (d.kind === 'robot' && d.battery !== null && d.battery < LOW_BATTERY) return `battery ${d.battery}% < ${LOW_BATTERY}%`;
  return null;
}

function exclusion(task: SelectionTask, d: DeviceView): string | null {
  if (task.pinnedDeviceId && d.id !== task.pinnedDeviceId) return 'not the requested device';
  const reason = unfit(d, task.type);
  if (reason) return reason;
  if (!task.pinnedDeviceId && task.triedDevices.includes(d.id)) return 'already tried for this task';
  return null;
}

const RANK: Record<Availability, number> = { idle: 0, preemptible: 1, busy: 2 };
/** Battery compared in bands (0-19, 20-39, 40-59, 60-79, 80-100), so 95 % vs 85 % does not override fairness. */
const band = (b: number | null) => Math.min(4, Math.floor((b ?? 100) / 20));

function compare(a: Candidate, b: Candidate): number {
  return (
    RANK[a.availability] - RANK[b.availability] ||
    Number(b.sameZone) - Number(a.sameZone) ||
    band(b.battery) - band(a.battery) ||
    a.lastAssignedAt - b.lastAssignedAt ||
    a.deviceId.localeCompare(b.deviceId)
  );
}

function decidingRule(a: Candidate, b: Candidate): string {
  if (a.availability !== b.availability) return `${a.availability} before ${b.availability}`;
  if (a.sameZone !== b.sameZone) return 'same zone before others';
  if (band(a.battery) !== band(b.battery)) return 'more battery';
  if (a.lastAssignedAt !== b.lastAssignedAt) return 'longest without work (fair spread)';
  return 'tie, by id';
}
