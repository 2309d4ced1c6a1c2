import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { planAppointments, type DayPlan } from './hq-booker.js';

/** One message HQ received from a hub (contract section 8), in arrival order. */
export interface HqMessage {
  branch: string;
  channel: 'status' | 'kpi' | 'events';
  payload: any;
  /** Delivered from the broker's retained store (on subscribe), not live. */
  retained: boolean;
  /** Epoch ms of arrival, on this process's clock. */
  at: number;
}

export interface HqEvent {
  seq: number;
  ts: string;
  kind: string;
  [field: string]: unknown;
}

export interface BranchSeen {
  status?: { online: boolean; since: string };
  kpi?: Record<string, unknown>;
  /** Every delivery, duplicates included: events are at least once. */
  events: HqEvent[];
}

export interface SeqReport {
  received: number;
  distinct: number;
  duplicates: number;
  /** Missing seqs between 1 and the highest received, as inclusive ranges. */
  gaps: [number, number][];
  /** Seqs whose first delivery came after a higher seq's first delivery. */
  outOfOrder: number[];
}

export interface Booking {
  ref: string;
  service: string;
  /** ISO time of the appointment. */
  at: string;
  segment?: string;
  note?: string;
  /** Default: a fresh UUID. The same id again is a redelivery, which changes nothing at the hub. */
  requestId?: string;
}

export interface HqOptions {
  /** Fixed, so that the broker keeps this session (and queues for it) while HQ is away. */
  clientId?: string;
  username?: string;
  password?: string;
  mqtt?: IClientOptions;
}

export type BranchSummary = { online?: boolean; kpiTs?: unknown; booked: number } & SeqReport;

const CHANNELS = ['status', 'kpi', 'events'] as const;

/**
 * Simulated headquarters: a persistent-session MQTT client of HQ's broker that records what the hubs
 * report (contract section 8) and books appointments at their branches.
 */
export class HqSim {
  readonly branches = new Map<string, BranchSeen>();
  /** Everything received, in arrival order. */
  readonly messages: HqMessage[] = [];
  /** Payloads that were not JSON objects (events: without a seq ≥ 1): a hub bug to show, not to crash on. */
  readonly malformed: { topic: string; payload: string }[] = [];
  /** requestId → branch, of every booking sent. */
  readonly booked = new Map<string, string>();
  client!: MqttClient;
  /** The connection's last error, e.g. while the broker was down. */
  lastError: Error | undefined;
  private readonly waiters = new Set<(m: HqMessage) => void>();

  private constructor(
    readonly url: string,
    private readonly opts: HqOptions,
  ) {}

  static async connect(url: string, opts: HqOptions = {}): Promise<HqSim> {
    const hq = new HqSim(url, opts);
    await hq.reconnect();
    return hq;
  }

  /** Connects again under the same clientId: the broker delivers what it queued meanwhile. */
  async reconnect(): Promise<void> {
    // Two live clients under one clientId would take the session from each other, reconnecting in turn.
    if (this.client) await this.client.endAsync(true);
    // connect, not connectAsync: queued messages can come in the same read as CONNACK, so the handler goes first.
    const client = mqtt.connect(this.url, {
      clientId: this.opts.clientId ?? 'hq-sim',
      clean: false,
      username: this.opts.username,
      password: this.opts.password,
      reconnectPeriod: 100,
      connectTimeout: 5000,
      ...this.opts.mqtt,
    });
    client.on('message', (topic, payload, packet) => this.receive(topic, payload, packet.retain));
    await new Promise<void>((resolve, reject) => {
      let connected = false;
      client.once('connect', () => {
        connected = true;
        resolve();
      });
      // Once connected, errors (the broker gone for a while) are for MQTT.js's reconnect to ride out.
      client.on('error', (e) => {
        this.lastError = e;
        if (connected) return;
        client.end(true);
        reject(e);
      });
    });
    this.client = client;
    // Also with a session present: a broker that lost its store has lost the subscriptions with it.
    await client.subscribeAsync(CHANNELS.map((c) => `hq/+/${c}`), { qos: 1 });
  }

  /** Leaves without ending the session: the broker queues QoS 1 messages for HQ until it comes back. */
  async disconnect(): Promise<void> {
    await this.client.endAsync();
  }

  /** Drops the connection without DISCONNECT, as a crash or a cut line would. */
  async drop(): Promise<void> {
    await this.client.endAsync(true);
  }

  seen(branch: string): BranchSeen {
    let b = this.branches.get(branch);
    if (!b) this.branches.set(branch, (b = { events: [] }));
    return b;
  }

  seqReport(branch: string): SeqReport {
    const events = this.seen(branch).events;
    const firsts: number[] = [];
    const distinct = new Set<number>();
    for (const e of events) {
      if (distinct.has(e.seq)) continue;
      distinct.add(e.seq);
      firsts.push(e.seq);
    }
    const outOfOrder: number[] = [];
    let highest = 0;
    for (const seq of firsts) {
      if (seq < highest) outOfOrder.push(seq);
      highest = Math.max(highest, seq);
    }
    const gaps: [number, number][] = [];
    let expected = 1;
    for (const seq of [...distinct].sort((a, b) => a - b)) {
      if (seq > expected) gaps.push([expected, seq - 1]);
      expected = seq + 1;
    }
    return { received: events.length, distinct: distinct.size, duplicates: events.length - distinct.size, gaps, outOfOrder };
  }

  /** Sends an appointment request (QoS 1); resolves with its requestId once the broker has it. */
  async bookAppointment(branch: string, booking: Booking): Promise<string> {
    const requestId = booking.requestId ?? randomUUID();
    const { ref, service, at, segment, note } = booking;
    this.booked.set(requestId, branch);
    await this.client.publishAsync(`hq/${branch}/requests`, JSON.stringify({ requestId, type: 'appointment', ref, service, at, segment, note }), { qos: 1 });
    return requestId;
  }

  /** Books a planned day's appointments (see `planAppointments`) in order; resolves with their requestIds. */
  async bookDay(branch: string, plan: DayPlan): Promise<string[]> {
    const ids: string[] = [];
    for (const booking of planAppointments(plan)) ids.push(await this.bookAppointment(branch, booking));
    return ids;
  }

  /** The states a request went through, a redelivered event (same branch and seq) counted once. */
  statusesOf(requestId: string): string[] {
    const branch = this.booked.get(requestId);
    const branches = branch ? [branch] : [...this.branches.keys()];
    const states: string[] = [];
    for (const b of branches) {
      const seen = new Set<number>();
      for (const e of this.seen(b).events) {
        if (e.kind !== 'request-status' || e.requestId !== requestId || seen.has(e.seq)) continue;
        seen.add(e.seq);
        states.push(e.state as string);
      }
    }
    return states;
  }

  /**
   * Resolves with `probe`'s first truthy value: a condition on what HQ has seen (tried now, with no
   * message) or on a message (each received from index `since` on, default all: a message that came
   * before the call counts, else awaiting it would race its delivery; `hq.messages.length` for new ones).
   */
  waitFor<T>(probe: (message?: HqMessage) => T, timeoutMs = 5000, what = 'condition', since = 0): Promise<NonNullable<T>> {
    return new Promise((resolve, reject) => {
      const check = (m?: HqMessage) => {
        let v: T;
        try {
          v = probe(m);
        } catch (e) {
          done();
          return reject(e as Error);
        }
        if (!v) return false;
        done();
        resolve(v as NonNullable<T>);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`HQ timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      if (!check() && !this.messages.slice(since).some(check)) this.waiters.add(check);
    });
  }

  /** What the demo prints per branch: is the hub online, and did every event come, in order. */
  summary(): Record<string, BranchSummary> {
    const out: Record<string, BranchSummary> = {};
    for (const [branch, seen] of this.branches) {
      const booked = [...this.booked.values()].filter((b) => b === branch).length;
      out[branch] = { online: seen.status?.online, kpiTs: seen.kpi?.ts, booked, ...this.seqReport(branch) };
    }
    return out;
  }

  private receive(topic: string, raw: Buffer, retained: boolean): void {
    const [, branch, channel] = topic.split('/');
    if (!CHANNELS.includes(channel as HqMessage['channel'])) return;
    let payload: unknown;
    try {
      payload = raw.length ? JSON.parse(raw.toString()) : null;
    } catch {
      payload = undefined;
    }
    // An empty retained payload clears the topic: the hub forgot its status, not a malformed one.
    if (payload === null && channel !== 'events') payload = undefined;
    else if (typeof payload !== 'object' || payload === null || (channel === 'events' && !((payload as HqEvent).seq >= 1 && Number.isInteger((payload as HqEvent).seq)))) {
      this.malformed.push({ topic, payload: raw.toString() });
      return;
    }
    const seen = this.seen(branch);
    if (channel === 'status') seen.status = payload as BranchSeen['status'];
    else if (channel === 'kpi') seen.kpi = payload as BranchSeen['kpi'];
    else seen.events.push(payload as HqEvent);
    const m: HqMessage = { branch, channel: channel as HqMessage['channel'], payload, retained, at: Date.now() };
    this.messages.push(m);
    for (const w of [...this.waiters]) w(m);
  }
}
