import { readFileSync } from 'node:fs';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { UplinkConfig } from '../config/config.schema.js';
import type { Outbox } from './outbox.js';

/** Events sent per round: MQTT.js keeps them in order and in flight together; each round waits for its PUBACKs. */
const WINDOW = 100;

export const hqTopics = {
  status: (b: string) => `hq/${b}/status`,
  kpi: (b: string) => `hq/${b}/kpi`,
  events: (b: string) => `hq/${b}/events`,
  requests: (b: string) => `hq/${b}/requests`,
};

export interface LinkPorts {
  outbox: Outbox;
  now(): string;
  /** Runs `fn` after `ms` of the hub's clock. */
  later(fn: () => void, ms: number): void;
  /** A request from HQ; resolves once it is handled and stored, then HQ's broker gets its PUBACK. */
  request(branchId: string, payload: Buffer): Promise<void>;
  /** Connected or not, backlog sent: for metrics and the dashboard. */
  changed(branchId: string, connected: boolean): void;
  error(message: string): void;
}

/**
 * One branch's connection to headquarters' broker (MQTT 3.1.1 over MQTT.js, TLS for mqtts://, a persistent
 * session): its own client, because each branch has its own will (`hq/{b}/status` offline). It sends the
 * outbox in `seq` order and deletes events only once HQ's broker acknowledged them; MQTT.js re-sends what was
 * in flight after a reconnect, and after a hub restart the outbox starts again from the oldest unacknowledged.
 */
export class BranchLink {
  private readonly client: MqttClient;
  private pumping = false;
  private again = false;
  private ending = false;
  /** An outage is logged once, and its end. */
  private failing = false;
  /** Why the last attempt failed, until it connects again: shown to managers and IT. */
  lastError: string | null = null;
  private wasConnected = false;

  constructor(
    readonly branchId: string,
    config: UplinkConfig,
    private readonly p: LinkPorts,
  ) {
    const will = (since: string) => ({ topic: hqTopics.status(branchId), payload: Buffer.from(JSON.stringify({ online: false, since })), qos: 1 as const, retain: true });
    this.client = mqtt.connect(config.url, {
      protocolVersion: 4,
      clientId: `${config.clientId}-${branchId}`,
      clean: false,
      username: config.username,
      password: config.password,
      ca: config.caFile ? readFileSync(config.caFile) : undefined,
      reconnectPeriod: 1000,
      // A refusal (HQ's broker busy, credentials being rotated) is retried too, not the end of the link.
      reconnectOnConnackError: true,
      connectTimeout: 10_000,
      will: will(p.now()),
    });
    // The will says since when this connection was up: MQTT.js sends the options' will with each CONNECT.
    this.client.on('reconnect', () => (this.client.options.will = will(p.now())));
    // A request is acknowledged to HQ's broker only once it is stored: a hub that dies first gets it again.
    this.client.handleMessage = (packet: IPublishPacket, done: (e?: Error) => void) => {
      if (packet.topic !== hqTopics.requests(branchId)) return done();
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      p.request(branchId, payload).then(
        () => done(),
        (e: Error) => {
          // Not stored: no PUBACK, and a new connection, so HQ's broker delivers it again.
          p.error(`uplink ${branchId}: request not stored, HQ will send it again: ${e.message}`);
          done(e);
          this.client.stream?.destroy();
        },
      );
    };
    this.client.on('connect', () => void this.connected());
    this.client.on('close', () => {
      if (!this.ending && this.wasConnected) p.changed(branchId, false);
      this.wasConnected = false;
    });
    this.client.on('error', (e) => {
      if (!this.failing) p.error(`uplink ${branchId}: ${e.message}; retrying every second`);
      this.failing = true;
      // Reported once per reason, not at every retry.
      if (this.lastError === e.message) return;
      this.lastError = e.message;
      p.changed(branchId, false);
    });
  }

  get isConnected(): boolean {
    return this.client.connected;
  }

  /** New events in the outbox: send them now (or after the round under way). */
  wake(): void {
    if (this.pumping) this.again = true;
    else void this.pump();
  }

  publish(topic: string, body: object, retain: boolean): Promise<unknown> {
    return this.client.publishAsync(topic, JSON.stringify(body), { qos: 1, retain });
  }

  /** Says it is going (retained status), then ends; the will is for when it cannot say so. */
  async stop(): Promise<void> {
    this.ending = true;
    if (this.client.connected) {
      const offline = this.publish(hqTopics.status(this.branchId), { online: false, since: this.p.now() }, true).catch(() => undefined);
      // Real time on purpose, not the hub's clock: shutdown must end within the contract's 5 real seconds even if HQ does not answer.
      await Promise.race([offline, new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    // Forced: whatever is still in flight is safe in the outbox and is sent after the next start.
    await this.client.endAsync(true);
  }

  private async connected(): Promise<void> {
    try {
      await this.publish(hqTopics.status(this.branchId), { online: true, since: this.p.now() }, true);
      await this.client.subscribeAsync(hqTopics.requests(this.branchId), { qos: 1 });
      if (this.failing) this.p.error(`uplink ${this.branchId}: connected again`);
      this.failing = false;
      this.wasConnected = true;
      this.lastError = null;
      this.wake();
    } catch (e) {
      this.p.error(`uplink ${this.branchId}: ${(e as Error).message}`);
    }
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (this.client.connected && !this.ending) {
          const batch = await this.p.outbox.waiting(this.branchId, WINDOW);
          if (!batch.length) break;
          await Promise.all(batch.map((e) => this.publish(hqTopics.events(this.branchId), e.body, false)));
          await this.p.outbox.delivered(this.branchId, batch[batch.length - 1].seq);
          this.p.changed(this.branchId, true);
        }
      } while (this.again && this.client.connected && !this.ending);
    } catch (e) {
      // The database failed or a publish was refused: tried again shortly (a reconnect or a new event may come first).
      if (this.ending) return;
      this.p.error(`uplink ${this.branchId}: sending stopped, trying again in 5 s: ${(e as Error).message}`);
      this.p.later(() => this.wake(), 5000);
    } finally {
      this.pumping = false;
    }
  }
}
