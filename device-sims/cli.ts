#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load-config.js';
import { connectFleet } from './fleet.js';
import { branchDay } from './scenarios/branch-day.js';

const USAGE = `branch-hub device simulators
usage: node dist/device-sims/cli.js [--url mqtt://localhost:1883] [--config config/hub.yaml]
         [--scale 10] [--arrivals 120] [--minutes 0] [--seed 1] [--quiet]
Connects every device of the config with its real credentials and plays a branch day:
arrivals (--arrivals per hub hour), tickets, counters, occupancy; robots and screens obey commands.
The devices run on the hub's clock: it starts at the hub's time (read from their presence) and runs
--scale times faster than real time (alias --speed; default: the hub's own, HUB_TIME_SCALE or the
config's server.timeScale, else 1).
--minutes is the length of the day in hub minutes; 0 runs until Ctrl-C.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: process.env.SIM_URL ?? `mqtt://localhost:${process.env.HUB_MQTT_PORT ?? 1883}` },
      config: { type: 'string', default: process.env.HUB_CONFIG ?? 'config/hub.yaml' },
      scale: { type: 'string' },
      speed: { type: 'string' },
      arrivals: { type: 'string', default: '120' },
      minutes: { type: 'string', default: '0' },
      seed: { type: 'string', default: '1' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  // The hub's own time scale, resolved as the hub resolves it: HUB_TIME_SCALE over the file's server.timeScale.
  const config = loadConfig({ HUB_CONFIG: values.config, HUB_TIME_SCALE: process.env.HUB_TIME_SCALE });
  const scale = Number(values.scale ?? values.speed ?? config.server.timeScale);
  const fleet = await connectFleet(config, { url: values.url!, scale, profile: { seed: Number(values.seed) } });
  console.log(`device-sims: ${fleet.all.length} devices connected to ${values.url}, hub time ${new Date(fleet.clock.now()).toISOString()} at ${scale}×`);
  // The first Ctrl-C ends the day (results are printed), a second one kills the process.
  const stopped = new AbortController();
  process.once('SIGINT', () => stopped.abort());
  process.once('SIGTERM', () => stopped.abort());
  const results = await Promise.all(
    config.branches.map((branch) =>
      branchDay(branch, fleet, {
        arrivalsPerHour: Number(values.arrivals),
        durationMs: Number(values.minutes) * 60_000,
        signal: stopped.signal,
        seed: Number(values.seed),
        log: values.quiet ? undefined : (line) => console.log(`[${branch.id}] ${line}`),
      }),
    ),
  );
  console.log(`device-sims: done: ${JSON.stringify(results)}`);
  await fleet.disconnect();
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(`device-sims: ${(e as Error).message}`);
  process.exit(1);
});
