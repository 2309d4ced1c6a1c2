import { entryZones, type BranchConfig } from '../../src/config/config.schema.js';
import type { Fleet } from '../fleet.js';
import { Random } from '../random.js';

export interface BranchDayOptions {
  /** Simulated seconds per real second. */
  speed: number;
  /** Customers per hour at the door. */
  arrivalsPerHour: number;
  /** Real-time length; 0 runs until stopped. */
  durationMs: number;
  seed: number;
  log?: (line: string) => void;
}

/**
 * A first cut of a branch day: customers arrive (a few of them VIP), most take a ticket for a
 * service, counters call and serve them, cameras report occupancy. Seeded, so a day can be replayed.
 */
export async function branchDay(branch: BranchConfig, fleet: Fleet, opts: BranchDayOptions): Promise<{ arrivals: number; tickets: number }> {
  const random = new Random(opts.seed);
  const log = opts.log ?? (() => undefined);
  const entry = entryZones(branch);
  const entrySensors = [...fleet.sensors.values()].filter((s) => s.identity.zone !== undefined && entry.includes(s.identity.zone));
  const queue = [...fleet.queues.values()][0];
  const waiting: { ticket: string; service: string }[] = [];
  let arrivals = 0;
  let tickets = 0;
  let inside = 0;
  const end = opts.durationMs ? Date.now() + opts.durationMs : Infinity;
  const counters = new Map(branch.services.map((s) => [s.id, s.kiosk ? 1 : 2]));
  if (queue) for (const [service, open] of counters) await queue.openCounters(service, open);

  let nextServeAt = Date.now();
  while (Date.now() < end) {
    // Exponential inter-arrival times make a Poisson stream of customers.
    const gapMs = (-Math.log(1 - random.next()) * 3600_000) / opts.arrivalsPerHour / opts.speed;
    await new Promise((r) => setTimeout(r, Math.min(gapMs, end - Date.now())));
    if (Date.now() >= end) break;
    arrivals += 1;
    inside += 1;
    const segment = random.chance(0.05) ? 'vip' : random.chance(0.15) ? 'senior' : undefined;
    const sensor = entrySensors.length ? random.pick(entrySensors) : undefined;
    await sensor?.arrive(segment ? { segment } : {});
    log(`arrival #${arrivals}${segment ? ` (${segment})` : ''}`);
    if (queue && branch.services.length && random.chance(0.8)) {
      const service = random.pick(branch.services).id;
      waiting.push({ ticket: await queue.issue(service), service });
      tickets += 1;
    }
    // Counters serve roughly one customer per average service time, shared over open counters.
    if (queue && waiting.length && Date.now() >= nextServeAt) {
      const served = waiting.shift()!;
      await queue.call(served.ticket, served.service, String(1 + Math.floor(random.next() * 4)));
      await queue.serve(served.ticket, served.service);
      inside = Math.max(0, inside - 1);
      const avg = branch.services.find((s) => s.id === served.service)?.avgServiceMin ?? 5;
      nextServeAt = Date.now() + (avg * 60_000) / 3 / opts.speed;
    }
    for (const s of fleet.sensors.values()) if (s.identity.zone === 'waiting') await s.occupancy('waiting', waiting.length);
  }
  return { arrivals, tickets };
}
