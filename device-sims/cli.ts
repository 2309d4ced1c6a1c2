#!/usr/bin/env node
import { SingleBar } from 'cli-progress';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Clock } from '../src/clock/clock.js';
import type { AppointmentBooking } from './day/arrivals.js';
import { outcomes, type Outcomes } from './day/outcomes.js';
import { chartSvg, table } from './day/report.js';
import { runDay, type RunOptions } from './day/run.js';
import { loadScenario, minuteOf, type Scenario } from './day/scenario.js';

const USAGE = `branch-hub branch-day simulator
usage: npm run sims -- [--scenario peak-day] [--compare | --baseline] [--scale 60] [--from HH:MM] [--to HH:MM]
                      [--url mqtt://host:1883 --http http://host:3000 [--login user:password]] [--appointments file.json]
                      [--out reports] [--quiet]
Plays a scenario's branch day (device-sims/scenarios/<name>.yaml, or a file path): customers, tickets,
counters, cameras, robots, screens and kiosks, all through MQTT on the hub's clock.
  --scenario  normal-weekday | peak-day | device-failure | crowding | a .yaml file (default normal-weekday)
  --compare   plays the day twice, each against a hub of its own: coordinating, then only observing
              (rules.autoDispatch: false, the no-coordination baseline), and reports them side by side
  --baseline  only the baseline run
  --scale     hub and devices run this many times real time (default 60: an 8-hour day in 8 minutes)
  --from/--to only part of the day
  --url       play against a running hub (its config must be the scenario's; its own time scale is given
              with --scale) instead of starting one; --http is its HTTP address, for its alerts
  --appointments  headquarters' bookings at the branch, a JSON array of {"ref", "service", "at": ISO}:
              each one's customer comes around its time and takes a ticket carrying its ref
  --out       where the report goes: <scenario>.json (outcomes and every customer) and <scenario>.svg (hourly chart)`;

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'normal-weekday' },
      compare: { type: 'boolean', default: false },
      baseline: { type: 'boolean', default: false },
      scale: { type: 'string', default: process.env.HUB_TIME_SCALE ?? '60' },
      from: { type: 'string' },
      to: { type: 'string' },
      url: { type: 'string' },
      http: { type: 'string' },
      login: { type: 'string' },
      appointments: { type: 'string' },
      out: { type: 'string', default: 'reports' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (v.help) return console.log(USAGE);
  const scenario = loadScenario(v.scenario!);
  const scale = Number(v.scale);
  if (!(scale > 0)) throw new Error(`--scale must be a number > 0, not "${v.scale}"`);
  if (v.url && (v.compare || v.baseline)) throw new Error('--compare and --baseline start hubs of their own: leave out --url');
  if (v.url && !v.http) throw new Error('--url needs --http (the HTTP address of the hub, for its alerts)');
  const from = minuteOf(v.from ?? scenario.open);
  const to = minuteOf(v.to ?? scenario.close);
  for (const [name, value] of [['--from', v.from], ['--to', v.to]] as const) {
    if (value !== undefined && !/^([01]\d|2[0-3]):[0-5]\d$/.test(value)) throw new Error(`${name} must be HH:MM, not "${value}"`);
  }
  if (from < minuteOf(scenario.open) || to > minuteOf(scenario.close) || from >= to) {
    throw new Error(`--from/--to must lie within the scenario's day (${scenario.open}–${scenario.close}), --from before --to`);
  }
  // The password may itself hold a colon: only the first one separates.
  const colon = v.login?.indexOf(':') ?? -1;
  const [username, password] = v.login ? (colon < 0 ? [v.login, ''] : [v.login.slice(0, colon), v.login.slice(colon + 1)]) : [];
  const base: Omit<RunOptions, 'coordinated'> = {
    scenario,
    scale,
    from: v.from,
    to: v.to,
    ...(v.url ? { hub: { mqttUrl: v.url, httpUrl: v.http! } } : {}),
    ...(username ? { login: { username, password: password ?? '' } } : {}),
    ...(v.appointments ? { appointments: readAppointments(v.appointments) } : {}),
  };
  const stopped = new AbortController();
  process.once('SIGINT', () => stopped.abort());
  process.once('SIGTERM', () => stopped.abort());
  const modes = v.compare ? [true, false] : [!v.baseline];
  const runs: Outcomes[] = [];
  const records = [];
  for (const coordinated of modes) {
    if (stopped.signal.aborted) break;
    const bar = v.quiet ? undefined : progress(scenario, v.from, v.to, coordinated);
    const record = await runDay({ ...base, coordinated, signal: stopped.signal, onStart: bar?.start }).finally(() => bar?.stop());
    records.push(record);
    runs.push(outcomes(record));
  }
  console.log(table(runs));
  mkdirSync(v.out!, { recursive: true });
  writeFileSync(join(v.out!, `${scenario.name}.json`), JSON.stringify({ outcomes: runs, runs: records }, null, 1));
  writeFileSync(join(v.out!, `${scenario.name}.svg`), chartSvg(runs));
  console.log(`report: ${join(v.out!, `${scenario.name}.json`)}, chart: ${join(v.out!, `${scenario.name}.svg`)}`);
  process.exit(0);
}

/** Headquarters' bookings from a JSON file: one clear error naming the file and what is wrong with it. */
function readAppointments(file: string): AppointmentBooking[] {
  let list: unknown;
  try {
    list = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`--appointments ${file}: ${(e as Error).message}`, { cause: e });
  }
  const ok = (b: any) => typeof b?.ref === 'string' && typeof b.service === 'string' && typeof b.at === 'string' && !Number.isNaN(Date.parse(b.at));
  if (!Array.isArray(list) || !list.every(ok)) throw new Error(`--appointments ${file}: must be a JSON array of {"ref", "service", "at": ISO time}`);
  return list as AppointmentBooking[];
}

/** A progress bar over the played minutes of the day, redrawn twice a second from the day's clock. */
function progress(s: Scenario, from: string | undefined, to: string | undefined, coordinated: boolean) {
  const first = minuteOf(from ?? s.open);
  const minutes = minuteOf(to ?? s.close) - first;
  const bar = new SingleBar({ format: `${coordinated ? 'with hub ' : 'baseline '} {bar} {time} {percentage}%`, hideCursor: true });
  let timer: NodeJS.Timeout | undefined;
  return {
    start: (clock: Clock) => {
      const t0 = clock.now();
      const at = () => Math.min(minutes, Math.floor((clock.now() - t0) / 60_000));
      const time = () => `${String(Math.floor((first + at()) / 60)).padStart(2, '0')}:${String((first + at()) % 60).padStart(2, '0')}`;
      bar.start(minutes, 0, { time: time() });
      // Redrawn in real time (a terminal's pace), showing the day's clock.
      timer = setInterval(() => bar.update(at(), { time: time() }), 500);
    },
    stop: () => {
      clearInterval(timer);
      bar.stop();
    },
  };
}

main().catch((e: unknown) => {
  console.error(`device-sims: ${(e as Error).message}`);
  process.exit(1);
});
