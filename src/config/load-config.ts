import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { formatIssues } from '../contracts/validate.js';
import { crossReferenceIssues, hubConfigSchema, type HubConfig } from './config.schema.js';

/** A problem that must stop start-up: printed as one line, exit code 1. */
export class StartupError extends Error {}

/** Env vars of contract section 1 and the `server` key each one overrides. */
const ENV_OVERRIDES = {
  HUB_MQTT_PORT: 'mqttPort',
  HUB_HTTP_PORT: 'httpPort',
  HUB_DATA_DIR: 'dataDir',
  HUB_DB_URL: 'dbUrl',
  HUB_TIME_SCALE: 'timeScale',
  HUB_CLOCK_START: 'clockStart',
  HUB_TLS_CERT: 'tlsCert',
  HUB_TLS_KEY: 'tlsKey',
  HUB_MQTTS_PORT: 'mqttsPort',
} as const;

/** Reads the YAML file named by HUB_CONFIG (default config/hub.yaml), applies env overrides, validates once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const file = env.HUB_CONFIG || 'config/hub.yaml';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new StartupError(`config ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseConfig(text, file, env);
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = {}): HubConfig {
  const raw = parseJson(text) ?? parseYaml(text, file);
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new StartupError(`config ${file}: must be a YAML mapping`);
  const server = { ...(raw.server ?? {}) };
  for (const [name, key] of Object.entries(ENV_OVERRIDES)) {
    if (env[name] !== undefined && env[name] !== '') server[key] = env[name];
  }
  const uplink = env.HUB_UPLINK_URL ? { ...(raw.uplink ?? {}), url: env.HUB_UPLINK_URL } : raw.uplink;
  return validateConfig({ ...raw, server, ...(uplink ? { uplink } : {}) }, file);
}

function parseYaml(text: string, file: string) {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new StartupError(`config ${file}: invalid YAML: ${doc.errors.map((e) => e.message.split('\n')[0]).join('; ')}`);
  }
  return doc.toJS() ?? {};
}

/**
 * A config written as JSON (a generated one; YAML 1.2 reads JSON as JSON) by JSON.parse: a thousand branches
 * took the YAML parser 0.6–0.9 s, JSON.parse 10 ms. Anything else — not a JSON object, or one repeating a key,
 * which YAML refuses where JSON.parse keeps the last — goes the YAML way, with its messages.
 */
function parseJson(text: string): object | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  let value: object;
  try {
    value = JSON.parse(text) as object;
  } catch {
    return undefined;
  }
  return keysIn(value) === keyTokens(text) ? value : undefined;
}

/** Keys of the objects in a parsed JSON value. */
function keysIn(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + keysIn(x), 0);
  if (v === null || typeof v !== 'object') return 0;
  return Object.values(v).reduce((n: number, x) => n + 1 + keysIn(x), 0);
}

/** Keys written in valid JSON text: strings followed by a colon. */
function keyTokens(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '"') continue;
    for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    let j = i + 1;
    while (' \t\r\n'.includes(text[j])) j++;
    if (text[j] === ':') n++;
  }
  return n;
}

/** The whole config, schema and cross-references: every problem in one line, or the typed config. */
export function validateConfig(raw: unknown, file = 'config'): HubConfig {
  const result = hubConfigSchema.safeParse(raw);
  const issues = [...(result.success ? [] : result.error.issues), ...crossReferenceIssues(raw)];
  if (issues.length > 0 || !result.success) throw new StartupError(`config ${file} is invalid: ${formatIssues(issues)}`);
  return result.data;
}
