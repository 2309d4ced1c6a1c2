import { createServer } from 'node:net';
import { HqSim } from '../device-sims/hq.js';
import { UplinkService } from '../src/uplink/uplink.service.js';
import { makeCerts, type TestCerts } from './support/certs.js';
import { eventually, startTestHub, testConfig, type TestHub } from './support/hub.js';
import { startMosquitto, type Mosquitto } from './support/mosquitto.js';

/**
 * The uplink over TLS (`mqtts://`, contract section 8): Mosquitto with a certificate signed by a private CA
 * made here with openssl; the hub trusts it through `uplink.caFile`, and refuses it without.
 */
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('uplink over TLS', () => {
  let certs: TestCerts;
  let tlsPort: number;
  let broker: Mosquitto;
  let hq: HqSim;
  const hubs: TestHub[] = [];
  const hubWith = async (caFile?: string) => {
    const hub = await startTestHub({ ...testConfig(), uplink: { url: `mqtts://localhost:${tlsPort}`, clientId: `tls-${hubs.length}`, kpiIntervalSec: 3600, maxBacklog: 1000, caFile } });
    hubs.push(hub);
    return hub;
  };

  beforeAll(async () => {
    certs = makeCerts('uplink-tls-');
    tlsPort = await freePort();
    broker = await startMosquitto({
      extraConfig: [`listener ${tlsPort} 127.0.0.1`, `cafile ${certs.ca}`, `certfile ${certs.cert}`, `keyfile ${certs.key}`],
    });
    hq = await HqSim.connect(broker.url, { clientId: 'hq-tls' });
  });
  afterAll(async () => {
    for (const hub of hubs) await hub.close();
    await hq?.disconnect();
    await broker?.close();
    certs?.remove();
  });

  it('connects with the CA it is given, and HQ sees the branch online', async () => {
    await hubWith(certs.ca);
    await hq.waitFor(() => hq.seen('br-1').status?.online === true, 8000, 'online over TLS');
  });

  it('refuses a broker whose certificate it cannot verify', async () => {
    const hub = await hubWith(undefined);
    // The TLS handshake refuses it; managers and IT see why, and it keeps trying.
    const uplink = hub.running.app.get(UplinkService);
    const state = await eventually(
      async () => {
        const s = await uplink.state('br-1');
        return s?.error ? s : null;
      },
      8000,
      'a certificate error',
    );
    expect(state).toMatchObject({ connected: false, error: 'self-signed certificate in certificate chain' });
    expect(await fetch(`${hub.httpUrl}/metrics`).then((r) => r.text())).toMatch(/hub_uplink_connected\{branch="br-1"\} 0/);
  });
});
