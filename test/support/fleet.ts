import { connectFleet, type Fleet, type FleetOptions } from '../../device-sims/fleet.js';
import type { ProfileOverride, WorkProfile } from '../../device-sims/worker.js';
import { eventually, type TestHub } from './hub.js';

/** Every task type takes `ms` to do. */
export const workTakes = (ms: number): Pick<WorkProfile, 'workMs'> => ({
  workMs: { greet: [ms, ms], guide: [ms, ms], promote: [ms, ms], announce: [ms, ms], display: [ms, ms], default: [ms, ms] },
});

/** Robots and screens that answer within milliseconds and never reject or fail unless told to. */
export const FAST: ProfileOverride = {
  acceptMs: [5, 15],
  startMs: [10, 20],
  ...workTakes(40),
  rejectRate: 0,
  failRate: 0,
};

/** Connects the test branch's devices (or `only` some) and waits until the hub sees them online. */
export async function fleetOn(hub: TestHub, opts: Partial<FleetOptions> = {}): Promise<Fleet> {
  // In-process devices share the hub's own clock: their `ts` and timers are exactly its time.
  const fleet = await connectFleet(hub.config, { url: hub.mqttUrl, profile: FAST, clock: hub.running.clock, ...opts });
  const ids = fleet.all.map((d) => d.id);
  await eventually(
    async () => {
      const devices: { id: string; online: boolean; status: string | null }[] = (await hub.api('GET', '/api/branches/br-1/devices')).body;
      return ids.every((id) => devices.find((d) => d.id === id)?.online);
    },
    5000,
    'fleet online',
  );
  return fleet;
}

export type Task = {
  id: string;
  type: string;
  state: string;
  deviceId: string | null;
  attempts: number;
  decision: { rule: string; candidates: { deviceId: string }[]; excluded: { deviceId: string; reason: string }[] } | null;
  history: { fromState: string | null; toState: string; deviceId: string | null; cause: string; at: string }[];
};

export const getTask = async (hub: TestHub, id: string): Promise<Task> => (await hub.api('GET', `/api/tasks/${id}`)).body;

/** Waits until the task reaches `state` (through REST, as a manager would see it). */
export const taskReaches = (hub: TestHub, id: string, state: string, timeoutMs = 5000) =>
  eventually(async () => {
    const t = await getTask(hub, id);
    return t.state === state ? t : null;
  }, timeoutMs, `task ${id} ${state}`);
