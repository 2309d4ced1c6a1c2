import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';

const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';

export interface MosquittoOptions {
  /** username → password, written with mosquitto_passwd: these credentials are checked, wrong ones refused. */
  users?: Record<string, string>;
  /** Whether a client without username may connect (default true). */
  allowAnonymous?: boolean;
  /** More mosquitto.conf lines, e.g. `max_queued_messages 10`. */
  extraConfig?: string[];
  /** How long to wait for the broker to accept an MQTT connection (default 5 s). */
  startTimeoutMs?: number;
}

export interface Mosquitto {
  /** `mqtt://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** Its config, persistence file (mosquitto.db) and log (mosquitto.log). */
  dir: string;
  /** SIGTERM: mosquitto saves its database on the way out. */
  stop(): Promise<void>;
  /**
   * SIGKILL: no save on the way out, what survives is what autosave wrote. Mosquitto 2.0.11 counts as
   * "changes" only (un)subscriptions, persistent-session connects and acknowledged deliveries, not a
   * retained update nor a message queued for an offline client: `flush()` first to keep those.
   */
  kill(): Promise<void>;
  /** Resolves once mosquitto has written everything it acknowledged so far to its database. */
  flush(): Promise<void>;
  /** Stops it if it runs, then starts it again on the same port and persistence dir. */
  restart(): Promise<void>;
  /** Stops it and removes its dir. */
  close(): Promise<void>;
  /** The broker's log so far: what to print when a test fails. */
  log(): string;
}

/** A free TCP port on 127.0.0.1: bound on port 0, then released for mosquitto to take. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function writeConfig(dir: string, port: number, opts: MosquittoOptions): string {
  const lines = [
    `listener ${port} 127.0.0.1`,
    `allow_anonymous ${opts.allowAnonymous ?? true}`,
    'persistence true',
    `persistence_location ${dir}/`,
    // Save on changes, not every N seconds: what survives a SIGKILL then depends on what happened (see
    // `kill` and `flush`), not on timing.
    'autosave_on_changes true',
    'autosave_interval 1',
    `log_dest file ${join(dir, 'mosquitto.log')}`,
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    // Started as root, mosquitto drops to the `mosquitto` user, which cannot write this root-owned temp dir.
    'user root',
  ];
  if (opts.users) {
    const file = join(dir, 'passwd');
    writeFileSync(file, '', { mode: 0o600 });
    for (const [user, password] of Object.entries(opts.users)) execFileSync(MOSQUITTO_PASSWD, ['-b', file, user, password]);
    lines.push(`password_file ${file}`);
  }
  lines.push(...(opts.extraConfig ?? []));
  const path = join(dir, 'mosquitto.conf');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** Resolves once the broker answers an MQTT CONNECT; rejects if the process exits first or time runs out. */
async function untilAccepting(url: string, child: ChildProcess, exited: Promise<unknown>, opts: MosquittoOptions, log: () => string): Promise<void> {
  const deadline = Date.now() + (opts.startTimeoutMs ?? 5000);
  let gone = false;
  void exited.then(() => (gone = true));
  const [username, password] = Object.entries(opts.users ?? {})[0] ?? [];
  for (;;) {
    if (gone) throw new Error(`mosquitto exited (code ${child.exitCode}) before accepting connections:\n${log()}`);
    try {
      // allowRetries false: a refused or closed socket rejects instead of leaving the promise pending.
      const probe = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 1000, clean: true, username, password }, false);
      await probe.endAsync();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`mosquitto on ${url} not accepting connections: ${(e as Error).message}\n${log()}`, { cause: e });
      // Refused: the listener is not bound yet. Try again on the next exit event or shortly after.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20))]);
    }
  }
}

/**
 * Our own Mosquitto, never the system one on 1883: a fresh temp dir with its config, persistence and
 * log, a listener on a free port on 127.0.0.1. Resolves once it accepts MQTT connections.
 */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stderr = '';
  const log = () => {
    let file = '';
    try {
      file = readFileSync(join(dir, 'mosquitto.log'), 'utf8');
    } catch {
      /* not written yet */
    }
    return file + stderr;
  };
  // A jest worker that dies mid-test must not leave a broker behind.
  const killOnExit = () => child?.kill('SIGKILL');

  const launch = async () => {
    const config = writeConfig(dir, port, opts);
    const proc = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    child = proc;
    process.once('exit', killOnExit);
    try {
      await untilAccepting(`mqtt://127.0.0.1:${port}`, proc, exited, opts, log);
    } catch (e) {
      await end('SIGKILL');
      throw e;
    }
  };

  const end = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    process.removeListener('exit', killOnExit);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };

  try {
    // The port could be taken between freePort() and mosquitto binding it: then draw another one.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      stderr = '';
      try {
        await launch();
        break;
      } catch (e) {
        if (attempt >= 3 || !/address already in use/i.test(log())) throw e;
      }
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    flush: async () => {
      // SUBSCRIBE counts as a change, so it is saved at the end of the loop turn that handled it; the
      // UNSUBSCRIBE is read in a later turn, so its UNSUBACK comes after that save.
      const [username, password] = Object.entries(opts.users ?? {})[0] ?? [];
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, username, password }, false);
      await c.subscribeAsync('harness/flush');
      await c.unsubscribeAsync('harness/flush');
      await c.endAsync();
    },
    restart: async () => {
      await end('SIGTERM');
      await launch();
    },
    close: async () => {
      await end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    log,
  };
}
