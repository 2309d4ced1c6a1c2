import type { Clock } from '../../src/clock/clock.js';
import { entryZones, type BranchConfig } from '../../src/config/config.schema.js';
import type { Fleet } from '../fleet.js';
import { Random } from '../random.js';
import { Counters } from './counters.js';

export interface BranchDayOptions {
  /** What the day runs on (default: the fleet's clock): arrival gaps, service times and `durationMs` are its ms. */
  clock?: Clock;
  /** Customers per hour (of the clock) at the door. */
  arrivalsPerHour: number;
  /** Length of the day on the clock (hub time); 0 runs until `signal` aborts. */
  durationMs: number;
  /** Ends the day early; the promise then resolves with what happened so far. */
  signal?: AbortSignal;
  seed: number;
  log?: (line: string) => void;
}

export interface BranchDayResult {
  arrivals: number;
  tickets: number;
  served: number;
}

/**
 * A branch day: customers arrive (a few of them VIP), most take a ticket for a service, counters call
 * and serve them in real service times, cameras report waiting-zone occupancy. Seeded: the same seed
 * replays the same customers, services and service times.
 */
export async function branchDay(branch: BranchConfig, fleet: Fleet, opts: BranchDayOptions): Promise<BranchDayResult> {
  const clock = opts.clock ?? fleet.clock;
  const random = new Random(opts.seed);
  const log = opts.log ?? (() => undefined);
  const entry = entryZones(branch);
  const entrySensors = [...fleet.sensors.values()].filter((s) => s.identity.zone !== undefined && entry.includes(s.identity.zone));
  const queue = [...fleet.queues.values()][0];
  // Enough counters for the expected load (80 % take a ticket, spread over the services), with 20 % to spare.
  const perService = (opts.arrivalsPerHour * 0.8) / Math.max(1, branch.services.length);
  const services = branch.services.map((s) => ({ id: s.id, avgServiceMin: s.avgServiceMin, open: Math.max(1, Math.ceil(((perService * s.avgServiceMin) / 60) * 1.2)) }));
  const counters = queue && new Counters(queue, clock, services, opts.seed);
  let arrivals = 0;
  let tickets = 0;
  const start = clock.now();
  const end = opts.durationMs ? start + opts.durationMs : Infinity;
  await counters?.open();

  // Arrivals are scheduled on the clock's timeline, so slow publishing delays them without shifting the rest of the day.
  let next = start;
  try {
    while (!opts.signal?.aborted) {
      // Exponential inter-arrival times make a Poisson stream of customers.
      next += (-Math.log(1 - random.next()) * 3600_000) / opts.arrivalsPerHour;
      await sleepUntil(clock, Math.min(next, end), opts.signal);
      if (next >= end || opts.signal?.aborted) break;
      arrivals += 1;
      const segment = random.chance(0.05) ? 'vip' : random.chance(0.15) ? 'senior' : undefined;
      const sensor = entrySensors.length ? random.pick(entrySensors) : undefined;
      await sensor?.arrive(segment ? { segment } : {});
      log(`arrival #${arrivals}${segment ? ` (${segment})` : ''}`);
      if (queue && services.length && random.chance(0.8)) {
        const service = random.pick(services).id;
        counters?.join(await queue.issue(service), service);
        tickets += 1;
      }
      for (const s of fleet.sensors.values()) if (s.identity.zone === 'waiting') await s.occupancy('waiting', counters?.waiting ?? 0);
    }
  } finally {
    counters?.close();
  }
  if (counters?.error) throw counters.error;
  return { arrivals, tickets, served: counters?.served ?? 0 };
}

/** Resolves at `at` on the clock, or as soon as `signal` aborts. */
function sleepUntil(clock: Clock, at: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, at - clock.now());
    signal?.addEventListener('abort', done);
  });
}
