#!/usr/bin/env node
// `npm run demo`: the built hub with the demo branch (config/hub.yaml) and a simulated branch day against it.
// Port 1883 or 3000 may already be taken on the machine (a system Mosquitto, say): then a free port is
// used and printed. HUB_MQTT_PORT / HUB_HTTP_PORT still choose explicitly.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
const dataDir = process.env.HUB_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'branch-hub-demo-'));
const env = {
  HUB_TIME_SCALE: '20',
  HUB_CLOCK_START: '2026-12-30T10:00:00+08:00',
  ...process.env,
  HUB_DATA_DIR: dataDir,
  HUB_MQTT_PORT: String(mqttPort),
  HUB_HTTP_PORT: String(httpPort),
};

const hub = spawn(process.execPath, ['dist/src/main.js'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
let sims;
const stop = () => {
  sims?.kill('SIGTERM');
  hub.kill('SIGTERM');
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
hub.on('exit', (code) => {
  sims?.kill('SIGTERM');
  if (!process.env.HUB_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
  process.exit(code ?? 0);
});

hub.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (sims || !chunk.toString().includes('branch-hub ready')) return;
  const base = `http://localhost:${httpPort}`;
  const args = ['--scenario', SCENARIO, '--from', '10:00', '--scale', env.HUB_TIME_SCALE, '--url', `mqtt://127.0.0.1:${mqttPort}`, '--http', `http://127.0.0.1:${httpPort}`, '--quiet'];
  sims = spawn(process.execPath, ['dist/device-sims/cli.js', ...args], { env, stdio: 'inherit' });
  console.log(`
  branch-hub demo: branch sh-lujiazui, 10 simulated devices, the ${SCENARIO} scenario from 10:00 at ${env.HUB_TIME_SCALE}x (hub and devices on one clock).
    dashboard  ${base}/   log in as lobby / lobby-demo
    health     curl ${base}/api/health        metrics  curl ${base}/metrics
    MQTT       tcp://localhost:${mqttPort}  ws://localhost:${httpPort}/mqtt  (device credentials in config/hub.yaml)
  Below: one line per task outcome and alert. When the day ends the simulator prints its outcome report
  (reports/${SCENARIO}.json and .svg); the hub stays up. Ctrl-C stops both.
`);
});
