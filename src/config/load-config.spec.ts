import { hashPassword } from '../dashboard/auth.service.js';
import { RULE_DEFAULTS, entryZones } from './config.schema.js';
import { parseDocument } from 'yaml';
import { StartupError, parseConfig } from './load-config.js';

const yaml = (extra = '', rules = '') => `
managers:
  - { username: lobby, password: pw }${extra}
branches:
  - id: b1
    name: Branch
    zones: [{ id: entrance }, { id: hall, entry: true }]
    services: [{ id: card, name: Card, kiosk: true, avgServiceMin: 7.5 }]
    devices: [{ id: robot-1, kind: robot, secret: s, zone: hall, capabilities: [greet] }, { id: lamp-1, kind: lamp, secret: s }]
    ${rules}
`;

describe('config', () => {
  it('applies the contract defaults and accepts fractional rules and unknown device kinds', () => {
    const c = parseConfig(yaml('', 'rules: { ackTimeoutSec: 2.5 }'), 'x.yaml');
    expect(c.server).toEqual({ mqttPort: 1883, httpPort: 3000, mqttsPort: 8883, dataDir: './data', timeScale: 1 });
    expect(c.branches[0].rules).toEqual({ ...RULE_DEFAULTS, ackTimeoutSec: 2.5 });
    expect(c.branches[0].devices[1]).toMatchObject({ id: 'lamp-1', kind: 'lamp', capabilities: [] });
    expect(entryZones(c.branches[0])).toEqual(['hall']);
  });

  it('takes the zone called entrance as entry when none is marked', () => {
    const c = parseConfig(yaml().replace('{ id: hall, entry: true }', '{ id: hall }'), 'x.yaml');
    expect(entryZones(c.branches[0])).toEqual(['entrance']);
  });

  it('lets env override the file', () => {
    const c = parseConfig(yaml(), 'x.yaml', { HUB_MQTT_PORT: '1884', HUB_HTTP_PORT: '0', HUB_DATA_DIR: '/var/hub', HUB_DB_URL: 'postgres://h/db', HUB_TLS_CERT: '/etc/hub.crt', HUB_TLS_KEY: '/etc/hub.key', HUB_MQTTS_PORT: '8884' });
    expect(c.server).toEqual({ mqttPort: 1884, httpPort: 0, mqttsPort: 8884, dataDir: '/var/hub', dbUrl: 'postgres://h/db', timeScale: 1, tlsCert: '/etc/hub.crt', tlsKey: '/etc/hub.key' });
  });

  it('lists every bad key in one message', () => {
    const bad = yaml('\n  - { username: x }', 'rules: { maxAttempts: 0, greetCoolDownSec: 3 }').replace('id: b1', 'id: B 1');
    expect(() => parseConfig(bad, 'x.yaml')).toThrow(StartupError);
    try {
      parseConfig(bad, 'x.yaml');
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg.split('\n')).toHaveLength(1);
      for (const key of ['managers.1', 'branches.0.id', 'branches.0.rules.maxAttempts', 'greetCoolDownSec']) expect(msg).toContain(key);
    }
  });

  it('reports broken references together with other problems, in one message', () => {
    const bad = yaml().replace('zone: hall, capabilities', 'zone: roof, capabilities').replace('avgServiceMin: 7.5', 'avgServiceMin: -1');
    expect(() => parseConfig(bad, 'x.yaml')).toThrow(/avgServiceMin: .*; branches\.0\.devices\.0\.zone: unknown zone "roof"/);
  });

  it('checks references and uniqueness', () => {
    const bad = yaml().replace('zone: hall, capabilities', 'zone: roof, capabilities').replace('id: lamp-1', 'id: robot-1');
    expect(() => parseConfig(bad, 'x.yaml')).toThrow(/branches\.0\.devices\.0\.zone: unknown zone "roof".*devices\.1\.id: device id "robot-1" is already used/);
  });

  it('accepts a scrypt or bcrypt passwordHash and refuses anything else at start-up', () => {
    expect(() => parseConfig(yaml(`\n  - { username: it, passwordHash: "${hashPassword('x')}" }`), 'x.yaml')).not.toThrow();
    expect(() => parseConfig(yaml('\n  - { username: it, passwordHash: "$2b$10$abcdefghijklmnopqrstuuJ0e8pPqNq6G5kTz8f6HhYB3f3VbO5Ce" }'), 'x.yaml')).not.toThrow();
    expect(() => parseConfig(yaml('\n  - { username: it, passwordHash: "md5:abc" }'), 'x.yaml')).toThrow(/managers\.1\.passwordHash: must be scrypt/);
    expect(() => parseConfig(yaml('\n  - { username: it, password: a, passwordHash: "md5:abc" }'), 'x.yaml')).toThrow(/managers\.1/);
  });

  it('reads a config written as JSON as the YAML parser would, and refuses a repeated key as YAML does', () => {
    // Names with quotes, a colon and a backslash: JSON.parse and the YAML parser must agree on every key.
    const y = yaml().replace('name: Branch', 'name: \'Say "hi": \\ here\'');
    const json = JSON.stringify(parseDocument(y).toJS(), null, 2);
    expect(parseConfig(json, 'x.json')).toEqual(parseConfig(y, 'x.yaml'));
    const twice = json.replace('"managers": [', '"managers": [], "managers": [');
    expect(() => parseConfig(twice, 'x.json')).toThrow(/^config x\.json: invalid YAML: Map keys must be unique/);
  });

  it('names the file and the YAML problem', () => {
    expect(() => parseConfig('managers: [', 'broken.yaml')).toThrow(/^config broken\.yaml: invalid YAML/);
  });
});
