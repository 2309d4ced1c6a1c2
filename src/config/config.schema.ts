import { z } from 'zod';

/** Section 5 of the contract: every rule and its default. Minutes and seconds may be fractional. */
export const RULE_DEFAULTS = {
  greetCooldownSec: 5,
  divertWhenWaitMin: 15,
  promoteWhenWaiting: 8,
  promoteCooldownSec: 120,
  longWaitMin: 20,
  postEmptyMin: 3,
  ackTimeoutSec: 5,
  maxAttempts: 3,
  alertEscalateMin: 5,
  /** Extension: after a hub restart, a device that was connected before and is not back by then is `device-down`. */
  deviceReturnSec: 60,
  /** Extension: false = observe only: flows send devices no tasks (alerts and managers' dispatches go on). */
  autoDispatch: true as boolean,
  /** Days raw `track` events are kept (contract section 6); aggregates are kept longer. */
  retentionDays: 30,
  /** Staffing advice: the wait 80 % of customers should stay under (issue 10, docs/analytics.md). */
  targetWaitMin: 10,
  /** Appointments (contract section 5): `appointment-due` this long before, `missed` this long after with no ticket. */
  appointmentLeadMin: 10,
  appointmentGraceMin: 15,
  /** A device's messages a second, on the hub's clock (contract section 3); up to 5 s of it at once (signals/rate-limit.ts). */
  maxMsgPerSec: 50,
} as const;

const id = (max: number) =>
  z.string().regex(new RegExp(`^[a-z0-9-]{1,${max}}$`), `must match [a-z0-9-]{1,${max}}`);
const positive = z.number().positive();

const rulesSchema = z
  .strictObject({
    greetCooldownSec: z.number().nonnegative(),
    divertWhenWaitMin: positive,
    promoteWhenWaiting: z.number().int().positive(),
    promoteCooldownSec: z.number().nonnegative(),
    longWaitMin: positive,
    postEmptyMin: positive,
    ackTimeoutSec: positive,
    maxAttempts: z.number().int().min(1).max(20),
    alertEscalateMin: positive,
    deviceReturnSec: positive,
    autoDispatch: z.boolean(),
    retentionDays: positive,
    targetWaitMin: positive,
    appointmentLeadMin: z.number().nonnegative(),
    appointmentGraceMin: positive,
    maxMsgPerSec: positive,
  })
  .partial()
  .default({})
  .transform((r) => ({ ...RULE_DEFAULTS, ...r }));

const zoneSchema = z.object({
  id: id(32),
  capacity: z.number().int().positive().optional(),
  entry: z.boolean().optional(),
});

const serviceSchema = z.object({
  id: id(32),
  name: z.string().min(1),
  kiosk: z.boolean().default(false),
  avgServiceMin: positive,
  /** Where it is served (contract section 2); default `counters`. */
  zone: z.string().optional(),
});

const deviceSchema = z.object({
  id: id(64),
  // Unknown kinds are registered but never dispatched to (contract section 2).
  kind: z.string().regex(/^[a-z0-9-]{1,32}$/, 'must match [a-z0-9-]{1,32}'),
  secret: z.string().min(1),
  zone: z.string().optional(),
  capabilities: z.array(z.string().min(1)).default([]),
  services: z.array(z.string()).default([]),
});

const campaignSchema = z.object({
  id: id(64),
  title: z.string().min(1),
  content: z.record(z.string(), z.unknown()).default({}),
  services: z.array(z.string()).default([]),
});

const branchSchema = z.strictObject({
  id: id(32),
  name: z.string().min(1),
  zones: z.array(zoneSchema).min(1),
  services: z.array(serviceSchema).default([]),
  devices: z.array(deviceSchema).default([]),
  campaigns: z.array(campaignSchema).default([]),
  /** Staff posts watched by sensors. Optional: when listed, a `post` message naming another is rejected. */
  posts: z.array(id(64)).optional(),
  rules: rulesSchema,
});

const managerSchema = z
  .object({
    username: z.string().min(1),
    password: z.string().min(1).optional(),
    passwordHash: z
      .string()
      .regex(/^(scrypt:[0-9a-f]{32}:[0-9a-f]{128}|\$2[aby]\$\d\d\$[./A-Za-z0-9]{53})$/, 'must be scrypt:<salt hex>:<key hex> (npm run hash-password) or a bcrypt hash')
      .optional(),
    /** Only these branches (contract v2); without it, all. */
    branches: z.array(id(32)).min(1).optional(),
  })
  .refine((m) => (m.password === undefined) !== (m.passwordHash === undefined), {
    message: 'give exactly one of password or passwordHash',
  });

const port = z.coerce.number().int().min(0).max(65535);

/** Where the hub listens and stores; every key here may be overridden by its HUB_* env var. */
const serverSchema = z
  .strictObject({
    mqttPort: port.default(1883),
    httpPort: port.default(3000),
    dataDir: z.string().min(1).default('./data'),
    dbUrl: z.string().min(1).optional(),
    /** Hub seconds per real second (contract section 9). */
    timeScale: z.coerce.number().positive().max(100_000).default(1),
    /** What the hub's clock shows at start-up; default the real time. */
    clockStart: z.iso.datetime({ offset: true }).optional(),
    /** PEM files (contract section 1): with both, MQTT over TLS on `mqttsPort` and HTTPS instead of HTTP. */
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    mqttsPort: port.default(8883),
  })
  .refine((s) => (s.tlsCert === undefined) === (s.tlsKey === undefined), { message: 'give both tlsCert and tlsKey (HUB_TLS_CERT, HUB_TLS_KEY), or neither', path: ['tlsCert'] })
  .prefault({});

/** Headquarters' broker (contract section 8); `HUB_UPLINK_URL` overrides `url`. */
const uplinkSchema = z.strictObject({
  url: z.string().regex(/^mqtts?:\/\/[^/\s]+/, 'must be mqtt://host[:port] or mqtts://host[:port]'),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  /** Extension: the MQTT client id prefix (each branch connects as `<clientId>-<branch>`); default `branch-hub`. */
  clientId: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'must match [A-Za-z0-9_-]{1,40}').default('branch-hub'),
  /** Extension: a PEM file of the CA that signed HQ's certificate, for `mqtts://` with a private CA. */
  caFile: z.string().min(1).optional(),
  kpiIntervalSec: z.number().positive().default(60),
  maxBacklog: z.number().int().min(2).default(100_000),
});

export const hubConfigSchema = z.strictObject({
  server: serverSchema,
  uplink: uplinkSchema.optional(),
  managers: z.array(managerSchema).min(1),
  branches: z.array(branchSchema).min(1),
});

export type HubConfig = z.output<typeof hubConfigSchema>;
export type BranchConfig = HubConfig['branches'][number];
export type DeviceConfig = BranchConfig['devices'][number];
export type Rules = BranchConfig['rules'];
export type ManagerConfig = HubConfig['managers'][number];
export type UplinkConfig = NonNullable<HubConfig['uplink']>;

export interface ConfigIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * Checks across keys (unique ids, references to zones and services) on the raw file, so they are reported
 * together with the schema's own problems even when other keys are wrong.
 */
export function crossReferenceIssues(raw: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'object' && x !== null) : []);
  const ids = (v: unknown) => list(v).map((x) => x.id);
  const unique = (values: unknown[], path: PropertyKey[], what: string) =>
    values.forEach((v, i) => {
      if (typeof v === 'string' && values.indexOf(v) !== i) issues.push({ path: [...path, i, 'id'], message: `duplicate ${what} id "${v}"` });
    });
  const refs = (values: unknown, known: unknown[], path: PropertyKey[], what: string) =>
    (Array.isArray(values) ? values : []).forEach((v, j) => {
      if (typeof v === 'string' && !known.includes(v)) issues.push({ path: [...path, j], message: `unknown ${what} "${v}"` });
    });
  const devicesSeen = new Map<string, string>();
  const branches = list((raw as { branches?: unknown })?.branches);
  unique(branches.map((b) => b.id), ['branches'], 'branch');
  list((raw as { managers?: unknown })?.managers).forEach((m, i) => refs(m.branches, branches.map((b) => b.id), ['managers', i, 'branches'], 'branch'));
  branches.forEach((b, i) => {
    const at = (...p: PropertyKey[]) => ['branches', i, ...p];
    const zones = ids(b.zones);
    const services = ids(b.services);
    unique(zones, at('zones'), 'zone');
    unique(services, at('services'), 'service');
    unique(ids(b.campaigns), at('campaigns'), 'campaign');
    list(b.devices).forEach((d, j) => {
      if (typeof d.zone === 'string' && !zones.includes(d.zone)) issues.push({ path: at('devices', j, 'zone'), message: `unknown zone "${d.zone}"` });
      refs(d.services, services, at('devices', j, 'services'), 'service');
      if (typeof d.id !== 'string') return;
      const other = devicesSeen.get(d.id);
      if (other !== undefined) issues.push({ path: at('devices', j, 'id'), message: `device id "${d.id}" is already used in branch "${other}"` });
      devicesSeen.set(d.id, String(b.id));
    });
    list(b.campaigns).forEach((c, j) => refs(c.services, services, at('campaigns', j, 'services'), 'service'));
    list(b.services).forEach((s, j) => {
      if (typeof s.zone === 'string' && !zones.includes(s.zone)) issues.push({ path: at('services', j, 'zone'), message: `unknown zone "${s.zone}"` });
    });
  });
  return issues;
}

/** Where a service is served: its `zone`, else `counters` (contract section 2). */
export function serviceZone(service: BranchConfig['services'][number]): string {
  return service.zone ?? 'counters';
}

/** Waiting-area screens: those in the zone called `waiting`, else those outside the entry zones. */
export function waitingZones(branch: BranchConfig): string[] {
  if (branch.zones.some((z) => z.id === 'waiting')) return ['waiting'];
  const entry = entryZones(branch);
  return branch.zones.map((z) => z.id).filter((z) => !entry.includes(z));
}

/** The entry zones of a branch: those marked `entry: true`, else the zone called `entrance`. */
export function entryZones(branch: BranchConfig): string[] {
  const marked = branch.zones.filter((z) => z.entry).map((z) => z.id);
  return marked.length > 0 ? marked : ['entrance'];
}
