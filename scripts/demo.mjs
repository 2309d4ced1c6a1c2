#!/usr/bin/env node
// `npm run demo`: the built hub with the demo branch (config/hub.yaml) and its simulated devices.
// Port 1883 or 3000 may already be taken on the machine (a system Mosquitto, say): then a free port is
// used and printed. HUB_MQTT_PORT / HUB_HTTP_PORT still choose explicitly.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

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
// Hub and simulators share one clock running 10× real time (contract section 9); HUB_TIME_SCALE chooses another.
const env = { HUB_TIME_SCALE: '10', ...process.env, HUB_MQTT_PORT: String(mqttPort), HUB_HTTP_PORT: String(httpPort) };

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
  process.exit(code ?? 0);
});

hub.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (sims || !chunk.toString().includes('branch-hub ready')) return;
  sims = spawn(process.execPath, ['dist/device-sims/cli.js', '--url', `mqtt://127.0.0.1:${mqttPort}`, '--quiet'], { env, stdio: 'inherit' });
  const base = `http://localhost:${httpPort}`;
  console.log(`
  branch-hub demo is running: branch sh-lujiazui with 10 simulated devices, hub and devices on one clock at ${env.HUB_TIME_SCALE}x.
    health     curl ${base}/api/health
    metrics    curl ${base}/metrics
    login      TOKEN=$(curl -s -XPOST ${base}/api/auth/login -H 'content-type: application/json' -d '{"username":"lobby","password":"lobby-demo"}' | sed 's/.*"token":"\\([^"]*\\)".*/\\1/')
    devices    curl -H "Authorization: Bearer $TOKEN" ${base}/api/branches/sh-lujiazui/devices
    tasks      curl -H "Authorization: Bearer $TOKEN" ${base}/api/branches/sh-lujiazui/tasks
    alerts     curl -H "Authorization: Bearer $TOKEN" ${base}/api/branches/sh-lujiazui/alerts
    MQTT       tcp://localhost:${mqttPort}  ws://localhost:${httpPort}/mqtt  (device credentials in config/hub.yaml)
  Ctrl-C stops hub and devices.
`);
});
