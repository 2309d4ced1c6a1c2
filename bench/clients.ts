/**
 * A client process of the bench (`fork`ed by harness.ts): holds many MQTT.js connections with their device
 * credentials, each subscribed to its own `cmd` and `error` as a device is, and answers over IPC.
 * Ten thousand MQTT.js clients in one Node process would make the clients the bottleneck on 2 cores.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { BenchDevice } from './harness.js';

const clients: MqttClient[] = [];

function connectOne(url: string, d: BenchDevice): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { clientId: d.id, username: d.id, password: d.secret, reconnectPeriod: 0, connectTimeout: 60_000, keepalive: 120 });
    clients.push(c);
    c.once('error', reject);
    c.once('connect', () => {
      (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      const base = `branch/${d.branchId}/devices/${d.id}`;
      c.subscribe([`${base}/cmd`, `${base}/error`], { qos: 1 }, (err) => (err ? reject(err) : resolve()));
    });
  });
}

async function connectAll(url: string, devices: BenchDevice[], concurrency: number) {
  const t0 = performance.now();
  let next = 0;
  let connected = 0;
  let failed = 0;
  let firstError: string | undefined;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < devices.length) {
        const d = devices[next++];
        try {
          await connectOne(url, d);
          connected++;
        } catch (e) {
          failed++;
          firstError ??= `${d.id}: ${(e as Error).message}`;
        }
      }
    }),
  );
  return { connected, failed, firstError, ms: performance.now() - t0 };
}

process.on('message', (m: { cmd: string; url?: string; devices?: BenchDevice[]; concurrency?: number }) => {
  if (m.cmd === 'connect') {
    connectAll(m.url!, m.devices!, m.concurrency ?? 50).then(
      (r) => process.send!({ cmd: 'connect', ...r }),
      (e) => process.send!({ cmd: 'connect', error: String(e) }),
    );
  } else if (m.cmd === 'count') {
    process.send!({ cmd: 'count', connected: clients.filter((c) => c.connected).length });
  } else if (m.cmd === 'close') {
    for (const c of clients) c.end(true);
    clients.length = 0;
    process.send!({ cmd: 'close' });
  }
});
process.once('disconnect', () => process.exit(0));
process.once('SIGTERM', () => process.exit(0));
process.send!({ cmd: 'ready' });
