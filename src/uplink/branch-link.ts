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

  constructor(
    readonly branchId: string,
    config: UplinkConfig,
    private readonly p: LinkPorts,
  ) {
    const since = p.now();
    this.client = mqtt.connect(config.url, {
      protocolVersion: 4,
      clientId: `${config.clientId}-${branchId}`,
      clean: false,
      username: config.username,
      password: config.password,
      ca: config.caFile ? readFileSync(config.caFile) : undefined,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      will: { topic: hqTopics.status(branchId), payload: Buffer.from(JSON.stringify({ online: false, since })), qos: 1, retain: true },
    });
    // A request is acknowledged to HQ's broker only once it is stored: a hub that dies first gets it again.
    this.client.handleMessage = (packet: IPublishPacket, done: (e?: Error) => void) => {
      if (packet.topic !== hqTopics.requests(branchId)) return done();
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      p.request(branchId, payload).then(() => done(), (e: Error) => done(e));
    };
    this.client.on('connect', () => void this.connected());
    this.client.on('close', () => !this.ending && p.changed(branchId, false));
    this.client.on('error', (e) => {
      if (!this.failing) p.error(`uplink ${branchId}: ${e.message}; retrying every second`);
      this.failing = true;
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
    if (this.client.connected) await this.publish(hqTopics.status(this.branchId), { online: false, since: this.p.now() }, true).catch(() => undefined);
    await this.client.endAsync();
  }

  private async connected(): Promise<void> {
    try {
      await this.publish(hqTopics.status(this.branchId), { online: true, since: this.p.now() }, true);
      await this.client.subscribeAsync(hqTopics.requests(this.branchId), { qos: 1 });
      if (this.failing) this.p.error(`uplink ${this.branchId}: connected again`);
      this.failing = false;
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
      // The connection went while a round was in flight, or the database failed: the next connect or event tries again.
      if (!this.ending) this.p.error(`uplink ${this.branchId}: ${(e as Error).message}`);
    } finally {
      this.pumping = false;
    }
  }
}
