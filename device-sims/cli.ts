#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load-config.js';
import { connectFleet } from './fleet.js';
import { branchDay } from './scenarios/branch-day.js';

const USAGE = `branch-hub device simulators
usage: node dist/device-sims/cli.js [--url mqtt://localhost:1883] [--config config/hub.yaml]
         [--speed 10] [--arrivals 120] [--minutes 0] [--seed 1] [--quiet]
Connects every device of the config with its real credentials and plays a branch day:
arrivals (--arrivals per simulated hour), tickets, counters, occupancy; robots and screens obey commands.
--speed N runs N simulated seconds per real second; --minutes 0 runs until Ctrl-C.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: process.env.SIM_URL ?? `mqtt://localhost:${process.env.HUB_MQTT_PORT ?? 1883}` },
      config: { type: 'string', default: process.env.HUB_CONFIG ?? 'config/hub.yaml' },
      speed: { type: 'string', default: '10' },
      arrivals: { type: 'string', default: '120' },
      minutes: { type: 'string', default: '0' },
      seed: { type: 'string', default: '1' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  const config = loadConfig({ HUB_CONFIG: values.config });
  const speed = Number(values.speed);
  const fleet = await connectFleet(config, { url: values.url!, profile: { speed, seed: Number(values.seed) } });
  console.log(`device-sims: ${fleet.all.length} devices connected to ${values.url}`);
  const stop = async () => {
    await fleet.disconnect();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const results = await Promise.all(
    config.branches.map((branch) =>
      branchDay(branch, fleet, {
        speed,
        arrivalsPerHour: Number(values.arrivals),
        durationMs: Number(values.minutes) * 60_000,
        seed: Number(values.seed),
        log: values.quiet ? undefined : (line) => console.log(`[${branch.id}] ${line}`),
      }),
    ),
  );
  console.log(`device-sims: done: ${JSON.stringify(results)}`);
  await stop();
}

main().catch((e: unknown) => {
  console.error(`device-sims: ${(e as Error).message}`);
  process.exit(1);
});
