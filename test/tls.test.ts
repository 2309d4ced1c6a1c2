import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:net';
import mqtt from 'mqtt';
import { io } from 'socket.io-client';
import { StartupError } from '../src/config/load-config.js';
import { makeCerts, type TestCerts } from './support/certs.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';

/**
 * The hub over TLS (contract section 1): with HUB_TLS_CERT and HUB_TLS_KEY, MQTT over TLS on HUB_MQTTS_PORT, and HTTP
 * becomes HTTPS — REST, Socket.IO and MQTT over `wss://…/mqtt`. A certificate signed by a private CA made here with
 * openssl; clients trust that CA, and one that does not is refused.
 */
describe('TLS: mqtts, https, wss and Socket.IO over TLS with the hub certificate', () => {
  let certs: TestCerts;
  let ca: Buffer;
  let hub: TestHub;
  let https: string;

  /** A REST call over HTTPS trusting the test CA. */
  const api = (method: string, path: string, body?: object, token?: string) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = request(`${https}${path}`, { method, ca, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end(body && JSON.stringify(body));
    });

  beforeAll(async () => {
    certs = makeCerts('hub-tls-');
    ca = readFileSync(certs.ca);
    hub = await startTestHub(testConfig({ server: { tlsCert: certs.cert, tlsKey: certs.key, mqttsPort: 0 } }));
    https = `https://127.0.0.1:${hub.running.httpPort}`;
  });
  afterAll(async () => {
    await hub.close();
    certs.remove();
  });

  it('takes a device over mqtts:// and a manager over https://', async () => {
    const robot = await mqtt.connectAsync(`mqtts://127.0.0.1:${hub.running.mqttsPort}`, { ca, clientId: 'robot-1', username: 'robot-1', password: 's-robot-1', reconnectPeriod: 0 });
    try {
      await robot.publishAsync('branch/br-1/devices/robot-1/state', JSON.stringify({ status: 'busy', battery: 55 }), { qos: 1 });
      const { token } = (await api('POST', '/api/auth/login', { username: 'lobby', password: 'lobby-test' })).body;
      await eventually(async () => (await api('GET', '/api/branches/br-1/devices', undefined, token)).body.find((d: { id: string }) => d.id === 'robot-1')?.battery === 55, 3000, 'state over mqtts');
    } finally {
      await robot.endAsync();
    }
  });

  it('serves MQTT over wss://…/mqtt and Socket.IO over TLS on the same HTTPS port', async () => {
    const screen = await mqtt.connectAsync(`wss://127.0.0.1:${hub.running.httpPort}/mqtt`, { ca, clientId: 'screen-1', username: 'screen-1', password: 's-screen-1', reconnectPeriod: 0 });
    await screen.endAsync();
    const { token } = (await api('POST', '/api/auth/login', { username: 'lobby', password: 'lobby-test' })).body;
    const s = io(`${https}/dashboard`, { auth: { token }, ca: ca.toString(), transports: ['websocket'], reconnection: false, forceNew: true });
    try {
      const snapshot = await new Promise<{ branches?: { id: string }[] }>((resolve, reject) => {
        s.once('snapshot', resolve);
        s.once('connect_error', reject);
      });
      expect(snapshot.branches?.map((b) => b.id)).toEqual(['br-1']);
    } finally {
      s.close();
    }
  });

  it('refuses a client that does not trust the certificate, and closes plain MQTT on the TLS port', async () => {
    await expect(mqtt.connectAsync(`mqtts://127.0.0.1:${hub.running.mqttsPort}`, { clientId: 'robot-2', username: 'robot-2', password: 's-robot-2', reconnectPeriod: 0 })).rejects.toThrow(
      /unable to verify the first certificate/,
    );
    // Plain MQTT (a CONNECT packet) on the TLS port: the handshake fails and the hub closes the socket.
    const plain = connect({ host: '127.0.0.1', port: hub.running.mqttsPort! });
    plain.on('error', () => undefined);
    plain.write(Buffer.from('101000044d5154540402003c0004726f6274', 'hex'));
    await new Promise((r) => plain.once('close', r));
    expect((await api('GET', '/api/health')).status).toBe(200); // still serving
  });

  it('will not start with half a certificate, or one it cannot read or use: one clear reason', async () => {
    expect(() => testConfig({ server: { tlsCert: certs.cert } })).toThrow(/give both tlsCert and tlsKey/);
    await expect(startTestHub(testConfig({ server: { tlsCert: `${certs.cert}.missing`, tlsKey: certs.key } }))).rejects.toThrow(new StartupError(`HUB_TLS_CERT ${certs.cert}.missing: cannot read (ENOENT)`));
    await expect(startTestHub(testConfig({ server: { tlsCert: certs.notACert, tlsKey: certs.key } }))).rejects.toThrow(/not a usable certificate and key/);
  });
});
