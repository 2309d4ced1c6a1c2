import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { BranchConfig } from '../../src/config/config.schema.js';
import { packageRoot } from '../../src/package-root.js';

const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM');
const share = z.number().min(0).max(1);
const minutes = z.number().nonnegative();
/** From each time on (until the next one): a value that changes through the day. */
const byTime = <T extends z.ZodType>(value: T) => z.record(time, value).refine((r) => Object.keys(r).length > 0, 'give at least one time');

const scenarioSchema = z.strictObject({
  title: z.string().min(1),
  /** The branch's layout: a hub config file (relative to the scenario file) and which of its branches (default: the first). */
  config: z.string().default('../../config/hub.yaml'),
  branch: z.string().optional(),
  seed: z.number().int(),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'),
  open: time,
  close: time,
  /** Customers per hour through the door, from each time on. */
  arrivals: byTime(z.number().nonnegative()),
  vipShare: share,
  seniorShare: share,
  /** Who comes without business at a counter (a question, the ATM) and leaves after `browseMin`. */
  browseShare: share,
  browseMin: z.tuple([minutes, minutes]),
  /** Business of the others, by service id (weights). */
  mix: z.record(z.string(), z.number().nonnegative()),
  /** How long a customer waits for a counter at most before giving up, uniform in [min, max]. */
  patienceMin: z.tuple([minutes, minutes]),
  /** Customers with kiosk-capable business who go to a kiosk on their own (with and without the hub). */
  selfServeShare: share,
  /** A guided customer with kiosk-capable business follows the robot to the kiosk. */
  guideUptake: share,
  /** Minutes at a kiosk, by service; 0.7–1.3× at random. */
  kioskMin: z.record(z.string(), z.number().positive()),
  /** Counters open per service, from each time on. */
  counters: byTime(z.record(z.string(), z.number().int().nonnegative())),
  /** A counter's clerk away: its post reports unstaffed, the counter (of `service`) calls nobody meanwhile. */
  unattended: z.array(z.strictObject({ post: z.string(), service: z.string(), at: time, minutes: z.number().positive() })).default([]),
  /** A device drops off the network (`offline`) or reports `fault`, for `minutes` (default: the rest of the day). */
  failures: z.array(z.strictObject({ device: z.string(), at: time, kind: z.enum(['offline', 'fault']), minutes: z.number().positive().optional() })).default([]),
  /** A group that walks into a zone together and stays (a tour, a pension day). */
  crowds: z.array(z.strictObject({ zone: z.string(), at: time, people: z.number().int().positive(), minutes: z.number().positive() })).default([]),
});

export type Scenario = z.infer<typeof scenarioSchema> & {
  name: string;
  /** Absolute path of the hub config the scenario plays on. */
  configPath: string;
};

/** The scenario files that come with the simulator: device-sims/scenarios/<name>.yaml. */
export const SCENARIO_DIR = join(packageRoot(import.meta.dirname), 'device-sims', 'scenarios');

/** Reads a scenario by file path or by name (of a file in SCENARIO_DIR); a bad file is one clear error naming the field. */
export function loadScenario(nameOrPath: string): Scenario {
  const path = nameOrPath.endsWith('.yaml') ? nameOrPath : join(SCENARIO_DIR, `${nameOrPath}.yaml`);
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`scenario ${path}: ${(e as Error).message}`, { cause: e });
  }
  const r = scenarioSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`scenario ${path}: ${issue.path.join('.') || '(file)'}: ${issue.message}`);
  }
  if (minuteOf(r.data.close) <= minuteOf(r.data.open)) throw new Error(`scenario ${path}: close must be after open`);
  return { ...r.data, name: basename(path, '.yaml'), configPath: join(dirname(path), r.data.config) };
}

export const minuteOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/** The value in force at `minute` of the day (minutes after midnight) in a by-time table. */
export function atMinute<T>(table: Record<string, T>, minute: number): T | undefined {
  let found: T | undefined;
  for (const [at, value] of Object.entries(table).sort(([a], [b]) => a.localeCompare(b))) if (minuteOf(at) <= minute) found = value;
  return found;
}

/**
 * Every service, device, post and zone the scenario names exists in the branch (`devices`: the robots,
 * screens and kiosks simulated): else one clear error, before the day starts.
 */
export function checkScenario(s: Scenario, branch: BranchConfig, devices: ReadonlySet<string>): void {
  const fail = (what: string) => {
    throw new Error(`scenario ${s.name}: ${what} in branch ${branch.id}`);
  };
  const services = new Set(branch.services.map((x) => x.id));
  for (const [field, ids] of [['mix', Object.keys(s.mix)], ['kioskMin', Object.keys(s.kioskMin)], ['counters', Object.values(s.counters).flatMap(Object.keys)]] as const) {
    for (const id of ids) if (!services.has(id)) fail(`${field}: no service "${id}"`);
  }
  for (const f of s.failures) if (!devices.has(f.device)) fail(`failures: no robot, screen or kiosk "${f.device}"`);
  for (const u of s.unattended) {
    if (!(branch.posts ?? []).includes(u.post)) fail(`unattended: no post "${u.post}"`);
    if (!services.has(u.service)) fail(`unattended: no service "${u.service}"`);
  }
  for (const c of s.crowds) if (!branch.zones.some((z) => z.id === c.zone)) fail(`crowds: no zone "${c.zone}"`);
}
