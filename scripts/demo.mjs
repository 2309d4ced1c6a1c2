#!/usr/bin/env node
// `npm run demo`: the built hub with the demo branch (config/hub.yaml) and a simulated branch day against it,
// and headquarters: its broker (aedes, in this process) and a simulated HQ on it that books a few appointments
// and reports what the branch tells it (contract section 8), one `[HQ]` line per happening.
// Port 1883 or 3000 may already be taken on the machine (a system Mosquitto, say): then a free port is
// used and printed. HUB_MQTT_PORT / HUB_HTTP_PORT still choose explicitly.
import { Aedes } from 'aedes';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setInterval } from 'node:timers';
import { loadScenario } from '../dist/device-sims/day/scenario.js';
import { HqSim } from '../dist/device-sims/hq.js';
import { planAppointments } from '../dist/device-sims/hq-booker.js';
import { loadConfig } from '../dist/src/config/load-config.js';
import { HUB_ENTRY, HUB_NODE_FLAGS } from '../dist/src/node-flags.js';

const free = (port) =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, () => s.close(() => resolve(true)));
  });
const anyPort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
async function pick(envName, preferred) {
  if (process.env[envName]) return Number(process.env[envName]);
  if (await free(preferred)) return preferred;
  const port = await anyPort();
  console.log(`demo: port ${preferred} is taken on this machine, using ${port} (set ${envName} to choose)`);
  return port;
}

const mqttPort = await pick('HUB_MQTT_PORT', 1883);
const httpPort = await pick('HUB_HTTP_PORT', 3000);
// Hub and simulators share one clock (contract section 9): 20× real time from 10:00 (Shanghai) of the peak day,
// so the first real minute holds twenty branch minutes of the busiest hour. A fresh data dir each time: the
// clock starts over, and old tasks must not fall due. HUB_TIME_SCALE, HUB_CLOCK_START and HUB_DATA_DIR choose others.
const SCENARIO = process.env.DEMO_SCENARIO ?? 'peak-day';
const scenario = loadScenario(SCENARIO);
const branch = scenario.branch ?? loadConfig({ HUB_CONFIG: scenario.configPath }).branches[0].id;
const dataDir = process.env.HUB_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'branch-hub-demo-'));
const scratch = mkdtempSync(join(tmpdir(), 'branch-hub-demo-hq-'));

// Headquarters' broker, which the hub's uplink connects to (HUB_UPLINK_URL): the demo's own, whatever the
// environment says, so that the simulated HQ below is the only one booking at the branch.
const hqBroker = await Aedes.createBroker();
const hqServer = createServer(hqBroker.handle);
await new Promise((resolve) => hqServer.listen(0, '127.0.0.1', resolve));
const hqUrl = `mqtt://127.0.0.1:${hqServer.address().port}`;
const requests = `hq/${branch}/requests`;
// Requests are for the hub's session: booking before it first subscribed would reach nobody.
const hubListens = new Promise((resolve) => hqBroker.on('subscribe', (subs) => subs.some((s) => s.topic === requests) && resolve()));
const hq = await HqSim.connect(hqUrl, { clientId: 'hq-demo' });

const env = {
  HUB_TIME_SCALE: '20',
  HUB_CLOCK_START: '2026-12-30T10:00:00+08:00',
  // The hub reads "today" and local times in its own time zone, as an edge box in the Shanghai branch would.
  TZ: 'Asia/Shanghai',
  ...process.env,
  HUB_DATA_DIR: dataDir,
  HUB_MQTT_PORT: String(mqttPort),
  HUB_HTTP_PORT: String(httpPort),
  HUB_UPLINK_URL: hqUrl,
};
// The day is played from 10:00, which is the hub's clock start; the branch's times are printed in its zone.
const FROM = 10 * 60;
const clockStart = Date.parse(env.HUB_CLOCK_START);
const [, sign = '+', oh = '0', om = '0'] = /([+-])(\d\d):?(\d\d)$/.exec(env.HUB_CLOCK_START) ?? [];
const zoneMs = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
const hhmm = (iso) => new Date(Date.parse(iso) + zoneMs).toISOString().slice(11, 16);
const pad = (n) => String(n).padStart(2, '0');

/** A handful of appointments over the rest of the day, by HQ's seeded booker (device-sims/hq.ts) from the scenario's seed and service mix. */
const APPOINTMENTS = 6;
function bookings(hubStartedAt) {
  // From 10:05, or a few branch minutes after the hub's time now if that is later (a fast clock, a slow start).
  const now = FROM + ((Date.now() - hubStartedAt) * Number(env.HUB_TIME_SCALE)) / 60_000;
  const from = Math.max(FROM + 5, Math.ceil(now) + 3);
  const plan = planAppointments({ seed: scenario.seed, date: scenario.date, open: scenario.open, close: scenario.close, services: scenario.mix, count: APPOINTMENTS, from: `${pad(Math.floor(from / 60))}:${pad(from % 60)}` });
  // Its times are wall-clock times in this machine's zone; the demo's day is on the hub's clock, 10:00 = HUB_CLOCK_START.
  return plan.map((b) => {
    const d = new Date(b.at);
    return { ...b, at: new Date(clockStart + (d.getHours() * 60 + d.getMinutes() - FROM) * 60_000).toISOString() };
  });
}

/**
 * What HQ hears, one quiet line each: the branch going online or offline, each appointment's status, and every
 * `KPI_EVERY_MIN` branch minutes its busyness and whether every event so far came (`seq` 1…n, no gaps).
 */
const KPI_EVERY_MIN = 5;
function narrate(plan) {
  const booked = new Map(plan.map((b) => [b.requestId, b]));
  const say = (ts, text) => console.log(`[HQ] ${hhmm(ts)} ${branch}: ${text}`);
  const events = () => {
    const r = hq.seqReport(branch);
    const highest = hq.seen(branch).events.reduce((n, e) => Math.max(n, e.seq), 0);
    if (!highest) return 'no events yet';
    const gaps = r.gaps.map(([a, b]) => (a === b ? a : `${a}–${b}`)).join(', ');
    return `events 1–${highest} received, ${gaps ? `MISSING ${gaps}` : 'no gaps'}${r.outOfOrder.length ? `, ${r.outOfOrder.length} out of order` : ''}`;
  };
  let next = 0;
  let online;
  let lastKpi = -Infinity;
  const seen = new Set();
  setInterval(() => {
    for (; next < hq.messages.length; next++) {
      const { channel, payload } = hq.messages[next];
      if (!payload) continue;
      if (channel === 'status' && payload.online !== online) {
        online = payload.online;
        say(payload.since, online ? 'online' : 'offline');
      } else if (channel === 'kpi' && Date.parse(payload.ts) - lastKpi >= KPI_EVERY_MIN * 60_000) {
        lastKpi = Date.parse(payload.ts);
        const waiting = Object.values(payload.waiting ?? {}).reduce((n, w) => n + w, 0);
        say(payload.ts, `busyness ${payload.busyness.toFixed(2)}, ${waiting} waiting, ${payload.devices.online}/${payload.devices.total} devices online, ${payload.openAlerts} open alert${payload.openAlerts === 1 ? '' : 's'}; ${events()}`);
      } else if (channel === 'events' && payload.kind === 'request-status' && !seen.has(payload.seq)) {
        seen.add(payload.seq);
        const b = booked.get(payload.requestId);
        const what = b ? `appointment ${b.ref} (${b.service} at ${hhmm(b.at)})` : `request ${payload.requestId}`;
        say(payload.ts, `${what} ${payload.state}${payload.reason ? `: ${payload.reason}` : ''}`);
      }
    }
  }, 200).unref();
  let told = false;
  return () => {
    if (told) return;
    told = true;
    const count = new Map();
    for (const id of booked.keys()) {
      const state = hq.statusesOf(id).at(-1) ?? 'unanswered';
      count.set(state, (count.get(state) ?? 0) + 1);
    }
    const states = [...count].map(([state, n]) => `${n} ${state}`).join(', ');
    console.log(`[HQ] the day at ${branch}: ${booked.size} appointments booked, now ${states}; ${events()}`);
  };
}

const hubStartedAt = Date.now();
const hub = spawn(process.execPath, [...HUB_NODE_FLAGS, HUB_ENTRY], { env, stdio: ['ignore', 'pipe', 'inherit'] });
let sims;
const stop = () => {
  sims?.kill('SIGTERM');
  hub.kill('SIGTERM');
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
let summary;
hub.on('exit', (code) => {
  sims?.kill('SIGTERM');
  summary?.();
  if (!process.env.HUB_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
  process.exit(code ?? 0);
});

hub.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (sims || !chunk.toString().includes('branch-hub ready')) return;
  const base = `http://localhost:${httpPort}`;
  let plan = [];
  try {
    plan = bookings(hubStartedAt);
  } catch (e) {
    console.log(`[HQ] books nothing: ${e.message}`);
  }
  // One of them does not come (the second, if there are two), so the day shows `missed` as well as `arrived`.
  const noShow = plan[1];
  const appointments = join(scratch, 'appointments.json');
  writeFileSync(appointments, JSON.stringify(plan.filter((b) => b !== noShow).map(({ ref, service, at, segment }) => ({ ref, service, at, segment }))));
  const args = ['--scenario', SCENARIO, '--from', '10:00', '--scale', env.HUB_TIME_SCALE, '--url', `mqtt://127.0.0.1:${mqttPort}`, '--http', `http://127.0.0.1:${httpPort}`, '--appointments', appointments, '--quiet'];
  sims = spawn(process.execPath, ['dist/device-sims/cli.js', ...args], { env, stdio: 'inherit' });
  summary = narrate(plan);
  sims.on('exit', summary);
  console.log(`
  branch-hub demo: branch ${branch}, 10 simulated devices, the ${SCENARIO} scenario from 10:00 at ${env.HUB_TIME_SCALE}x (hub and devices on one clock).
    dashboard  ${base}/   log in as lobby / lobby-demo
    health     curl ${base}/api/health        metrics  curl ${base}/metrics
    MQTT       tcp://localhost:${mqttPort}  ws://localhost:${httpPort}/mqtt  (device credentials in config/hub.yaml)
    HQ         ${hqUrl}  (hq/${branch}/status, kpi, events, requests): a simulated headquarters books ${plan.length} appointments
  Below: one line per task outcome and alert, and [HQ] lines: what headquarters hears from the branch. When the day
  ends the simulator prints its outcome report (reports/${SCENARIO}.json and .svg); the hub stays up. Ctrl-C stops both.
`);
  hubListens.then(async () => {
    for (const b of plan) await hq.bookAppointment(branch, b);
    if (plan.length) console.log(`[HQ] booked at ${branch}: ${plan.map((b) => `${b.ref.slice(-3)} ${b.service} ${hhmm(b.at)}${b === noShow ? ' (will not come)' : ''}`).join(', ')}`);
  });
});
