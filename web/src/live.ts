import { io, type Socket } from 'socket.io-client';
import { reactive } from 'vue';
import type { BranchSnapshot, ClientToServerEvents, CommandAnswer, ServerToClientEvents } from '../../src/contracts/api.js';
import type { AlertView, AppointmentView, BranchSummary, DeviceView, Task, UplinkView } from '../../src/contracts/views.js';
import { fetchBranches, Unauthorized, type BranchInfo } from './api.js';
import { session, signOut } from './session.js';

/**
 * The page's one view of the hub: a `snapshot` on every (re)connect replaces everything, then `device`,
 * `task`, `alert`, `summary`, `appointment` and `uplink` events keep it live. Socket.IO reconnects by
 * itself; the hub sends a fresh snapshot each time, so after a reconnect the page is whole again without a
 * reload.
 */

/** `connecting` until the first snapshot, `live` while connected, `lost` while Socket.IO tries again. */
export type Connection = 'connecting' | 'live' | 'lost';

/** A branch as the page holds it: the snapshot plus the live waiting counts of `summary` events. */
export interface LiveBranch extends BranchSnapshot {
  waiting: Record<string, number>;
}

/** An answer the page makes itself when the hub gave none (disconnected, or no ack in time). */
export type Answer = CommandAnswer | { ok: false; noAnswer: true };

export const live = reactive({
  connection: 'connecting' as Connection,
  branches: [] as LiveBranch[],
  /** Zones (with capacities) and service names per branch, from `GET /api/branches`. */
  info: {} as Record<string, BranchInfo>,
  selected: null as string | null,
  /** Snapshots received: 1 after the first connect, +1 after each reconnect. */
  snapshots: 0,
});

const OPEN_TASK = new Set<string>(['created', 'dispatched', 'accepted', 'started']);
const COMMAND_TIMEOUT_MS = 8000;

let socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;

export const findBranch = (id: string): LiveBranch | undefined => live.branches.find((b) => b.id === id);

/** Replaces the record with the same `key` (an id), or adds it. */
function upsert<T, K extends keyof T>(list: T[], item: T, key: K): void {
  const i = list.findIndex((x) => x[key] === item[key]);
  if (i >= 0) list.splice(i, 1, item);
  else list.push(item);
}
function remove<T extends { id: string }>(list: T[], id: string): void {
  const i = list.findIndex((x) => x.id === id);
  if (i >= 0) list.splice(i, 1);
}

function fromSnapshot(b: BranchSnapshot): LiveBranch {
  const waiting = Object.fromEntries(Object.entries(b.queues).map(([service, q]) => [service, q.waiting.length]));
  return { ...b, waiting };
}

function applySummary(s: BranchSummary & { branchId: string }): void {
  const b = findBranch(s.branchId);
  if (!b) return;
  b.waiting = { ...b.waiting, ...s.waiting };
  for (const [service, minutes] of Object.entries(s.estimatedWaitMin)) {
    const q = b.queues[service];
    if (q) q.estimatedWaitMin = minutes;
  }
  b.occupancy = { ...s.occupancy };
}

function applyTask(t: Task): void {
  const b = findBranch(t.branchId);
  if (!b) return;
  if (OPEN_TASK.has(t.state)) upsert(b.tasks, t, 'id');
  else remove(b.tasks, t.id);
}

function applyAlert(a: AlertView): void {
  const b = findBranch(a.branchId);
  if (!b) return;
  if (a.open) upsert(b.alerts, a, 'id');
  else remove(b.alerts, a.id);
}

function applyDevice(d: DeviceView): void {
  const b = findBranch(d.branchId);
  if (b) upsert(b.devices, d, 'id');
}

/** Every status of the day's appointments is kept: the panel shows the ones that ended apart. */
function applyAppointment(a: AppointmentView): void {
  const b = findBranch(a.branchId);
  if (b) upsert(b.appointments, a, 'requestId');
}

function applyUplink({ branchId, ...uplink }: UplinkView & { branchId: string }): void {
  const b = findBranch(branchId);
  if (b) b.uplink = uplink;
}

async function loadInfo(token: string): Promise<void> {
  try {
    const list = await fetchBranches(token);
    live.info = Object.fromEntries(list.map((b) => [b.id, b]));
  } catch (e) {
    if (e instanceof Unauthorized) expire();
    // Otherwise the hub is unreachable: the socket's banner says so, and the next snapshot tries again.
  }
}

/** The token is no good any more: back to the login form. */
export function expire(): void {
  stop();
  signOut(true);
}

/** Connects to `/dashboard` with the session's token (after login, or on a page load with a token kept). */
export function start(): void {
  const token = session.token;
  if (!token || socket) return;
  live.connection = 'connecting';
  const s: Socket<ServerToClientEvents, ClientToServerEvents> = io('/dashboard', {
    auth: { token },
    // A lobby tablet should be back within a couple of seconds of the hub.
    reconnectionDelay: 500,
    reconnectionDelayMax: 2000,
  });
  socket = s;
  s.on('snapshot', (snap) => {
    live.branches = snap.branches.map(fromSnapshot);
    if (!live.selected || !findBranch(live.selected)) live.selected = live.branches[0]?.id ?? null;
    live.connection = 'live';
    live.snapshots += 1;
    // Zones and service names too: the hub may have come back with another config.
    void loadInfo(token);
  });
  s.on('device', applyDevice);
  s.on('task', applyTask);
  s.on('alert', applyAlert);
  s.on('summary', applySummary);
  s.on('appointment', applyAppointment);
  s.on('uplink', applyUplink);
  s.on('disconnect', (reason) => {
    live.connection = 'lost';
    // The hub ends a socket itself only when its token expired; try once more, and a refusal logs out.
    if (reason === 'io server disconnect') s.connect();
  });
  s.on('connect_error', (e) => {
    if (e.message.startsWith('unauthorized')) return expire();
    live.connection = 'lost';
  });
}

export function stop(): void {
  socket?.removeAllListeners();
  socket?.disconnect();
  socket = null;
  live.branches = [];
  live.info = {};
  live.snapshots = 0;
  live.connection = 'connecting';
}

/** Sends a command and waits for the hub's answer; an expired token logs out. */
export async function command(name: keyof ClientToServerEvents, body: Record<string, unknown>): Promise<Answer> {
  if (!socket?.connected) return { ok: false, noAnswer: true };
  let answer: CommandAnswer;
  try {
    answer = await socket.timeout(COMMAND_TIMEOUT_MS).emitWithAck(name, body);
  } catch {
    return { ok: false, noAnswer: true };
  }
  if (!answer.ok && answer.error.startsWith('unauthorized')) expire();
  return answer;
}
