import { ScaledClock, type Clock } from '../src/clock/clock.js';
import type { HubConfig } from '../src/config/config.schema.js';
import { hubClock } from './clock-sync.js';
import type { ConnectOptions, DeviceIdentity, SimDevice } from './device.js';
import { KioskSim } from './kiosk.js';
import { QueueSim } from './queue.js';
import { SensorSim } from './sensor.js';
import { WorkerSim, type ProfileOverride } from './worker.js';

export interface Fleet {
  all: SimDevice[];
  workers: Map<string, WorkerSim>;
  sensors: Map<string, SensorSim>;
  queues: Map<string, QueueSim>;
  /** The one clock every device of the fleet runs on. */
  clock: Clock;
  disconnect(): Promise<void>;
}

export interface FleetOptions extends Omit<ConnectOptions, 'clock'> {
  /** The fleet's clock (default: synced to the hub's, see `connectFleet`). */
  clock?: Clock;
  /** Only these device ids (default: every device of the config). */
  only?: string[];
  /** Behaviour per device id, over the kind's defaults. */
  profiles?: Record<string, ProfileOverride>;
  /** Behaviour of every robot and screen, under `profiles`. */
  profile?: ProfileOverride;
  /** Without `clock`: the time scale of the clock synced to the hub's (default 1); set it to the hub's `HUB_TIME_SCALE`. */
  scale?: number;
}

/** The simulator for a configured device, by its kind. */
export function simFor(identity: DeviceIdentity, profile: ProfileOverride = {}): SimDevice {
  if (identity.kind === 'sensor') return new SensorSim(identity);
  if (identity.kind === 'queue') return new QueueSim(identity);
  if (identity.kind === 'kiosk') return new KioskSim(identity, profile);
  return new WorkerSim(identity, profile);
}

/**
 * Connects every device of a hub config (or `only` some) with its real credentials, all on one clock:
 * `clock` if given, else one that starts at the hub's own time, read from the first device's presence.
 */
export async function connectFleet(config: HubConfig, opts: FleetOptions): Promise<Fleet> {
  const fleet: Fleet = {
    all: [],
    workers: new Map(),
    sensors: new Map(),
    queues: new Map(),
    clock: opts.clock ?? new ScaledClock(opts.scale), // until the first device brings the hub's time
    disconnect: async () => void (await Promise.all(fleet.all.map((d) => d.disconnect()))),
  };
  for (const branch of config.branches) {
    for (const d of branch.devices) {
      if (opts.only && !opts.only.includes(d.id)) continue;
      const sim = simFor({ branchId: branch.id, id: d.id, secret: d.secret, kind: d.kind, zone: d.zone }, { ...opts.profile, ...opts.profiles?.[d.id] });
      fleet.all.push(sim);
      if (sim instanceof WorkerSim) fleet.workers.set(d.id, sim);
      else if (sim instanceof SensorSim) fleet.sensors.set(d.id, sim);
      else if (sim instanceof QueueSim) fleet.queues.set(d.id, sim);
    }
  }
  const [first, ...rest] = fleet.all;
  if (first) {
    await first.connect({ ...opts, clock: opts.clock ?? ((d) => hubClock(d, opts.scale)) });
    fleet.clock = first.clock;
    await Promise.all(rest.map((d) => d.connect({ ...opts, clock: fleet.clock })));
  }
  return fleet;
}
