import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { z } from 'zod';
import { isoOf, ScaledClock, type Clock } from '../src/clock/clock.js';
import type { uplinkSchemas } from '../src/contracts/payloads.js';
import { topics, type UplinkKind } from '../src/contracts/topics.js';

export interface DeviceIdentity {
  branchId: string;
  id: string;
  secret: string;
  kind: string;
  zone?: string;
}

export interface Received {
  topic: string;
  payload: Record<string, unknown>;
  /** Epoch ms on the device's clock. */
  at: number;
}

export interface ConnectOptions {
  /** `mqtt://host:port` or `ws://host:port/mqtt`. */
  url: string;
  mqtt?: IClientOptions;
  /**
   * The device's clock (contract section 9; default: real time). Or how to get it once connected, before
   * the device says anything: `connectFleet` reads the hub's time from the device's presence this way.
   */
  clock?: Clock | ((device: SimDevice) => Promise<Clock>);
}

/**
 * One simulated device on a real MQTT connection, with its real credentials: clientId = username =
 * device id, password = its secret. Subclasses add behaviour; this class only speaks the protocol.
 */
export class SimDevice {
  client!: MqttClient;
  /** Stamps what the device publishes and receives, and times what it does. Set by `connect`. */
  clock!: Clock;
  /** Everything the hub sent on `cmd` and `error`, newest last: what tests assert on. */
  readonly received: Received[] = [];
  private readonly waiters = new Set<(m: Received) => void>();
  /** How it last connected, its clock settled: `reconnect` comes back the same way. */
  private connectedWith: ConnectOptions | undefined;

  constructor(readonly identity: DeviceIdentity) {}

  get id(): string {
    return this.identity.id;
  }

  async connect(opts: ConnectOptions): Promise<this> {
    this.client = await mqtt.connectAsync(opts.url, {
      clientId: this.identity.id,
      username: this.identity.id,
      password: this.identity.secret,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...opts.mqtt,
    });
    // As the hub's side does: small packets go out at once (MQTT.js leaves Nagle on).
    (this.client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    try {
      this.clock = typeof opts.clock === 'function' ? await opts.clock(this) : (opts.clock ?? new ScaledClock());
    } catch (e) {
      this.client.end(true);
      throw e;
    }
    this.connectedWith = { ...opts, clock: this.clock };
    this.client.on('message', (topic, payload) => this.onMessage(topic, payload));
    await this.client.subscribeAsync([this.topic('cmd'), this.topic('error')], { qos: 1 });
    await this.onConnected();
    return this;
  }

  /** Publishes on one of the device's own uplink topics, typed by the hub's own schema; `ts` is the device's clock unless given. */
  async publish<K extends UplinkKind>(kind: K, payload: z.input<(typeof uplinkSchemas)[K]>): Promise<void> {
    const ts = (payload as { ts?: string | number }).ts ?? isoOf(this.clock);
    await this.client.publishAsync(this.topic(kind), JSON.stringify({ ...payload, ts }), { qos: 1 });
  }

  /** Where `received` ends now: pass it to `waitFor` to look only at what comes after. */
  mark(): number {
    return this.received.length;
  }

  /** Resolves with the first message on `cmd`/`error` (from index `after`) that satisfies `match`; rejects after `timeoutMs`. */
  waitFor(match: (m: Received) => boolean, opts: { after?: number; timeoutMs?: number } = {}): Promise<Received> {
    const from = opts.after ?? 0;
    const hit = this.received.slice(from).find(match);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const waiter = (m: Received) => {
        if (!match(m)) return;
        globalThis.clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(m);
      };
      // A guard for tests, in real ms: a stalled or hand-driven clock must not stall the test with it.
      const timer = globalThis.setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.id}: no matching message within ${opts.timeoutMs ?? 5000} ms`));
      }, opts.timeoutMs ?? 5000);
      this.waiters.add(waiter);
    });
  }

  /** Connects again as it last did (after `kill`, say): a device back from a power cut. */
  async reconnect(): Promise<this> {
    if (!this.connectedWith) throw new Error(`${this.id}: never connected`);
    return this.connect(this.connectedWith);
  }

  get online(): boolean {
    return this.client?.connected ?? false;
  }

  async disconnect(): Promise<void> {
    await this.client?.endAsync();
  }

  /** Drops the connection without DISCONNECT, as a device losing power or network would. */
  kill(): void {
    this.client?.stream.destroy();
    this.client?.end(true);
  }

  protected topic(kind: UplinkKind | 'cmd' | 'error'): string {
    return topics.device(this.identity.branchId, this.identity.id, kind);
  }

  protected async onConnected(): Promise<void> {}

  protected async onCommand(_cmd: Record<string, unknown>): Promise<void> {}

  private onMessage(topic: string, payload: Buffer): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString());
    } catch {
      return;
    }
    const m = { topic, payload: body, at: this.clock.now() };
    this.received.push(m);
    for (const waiter of [...this.waiters]) waiter(m);
    if (topic === this.topic('cmd')) this.onCommand(body).catch(() => undefined);
  }
}
