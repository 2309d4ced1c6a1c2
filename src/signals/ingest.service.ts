import { Inject, Injectable, Logger } from '@nestjs/common';
import { BrokerService } from '../broker/broker.service.js';
import { CLOCK, dateOf, type Clock } from '../clock/clock.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { indexDevices, type DeviceEntry } from '../config/directory.js';
import { parseOrReject } from '../contracts/validate.js';
import { MAX_PAYLOAD_BYTES, uplinkSchemas, type ErrorCode, type ErrorPayload } from '../contracts/payloads.js';
import { isUplinkKind, parseDeviceTopic, topics, type UplinkKind } from '../contracts/topics.js';
import { HubEvents, type HubEventMap } from '../hub-events.js';
import { MetricsService } from '../observability/metrics.service.js';
import { Rejection } from '../contracts/rejection.js';
import { RateLimiter } from './rate-limit.js';

/**
 * Where every device message enters: parse, validate against its schema and the branch config, then
 * one typed event. A bad message changes nothing, is answered on the device's `error` topic and counted.
 * The broker hands each device publish straight here, not through a Nest microservice transport and
 * `@EventPattern` controllers: Nest's RPC pipeline (guards, interceptors, pipes, filters — none used here)
 * wraps every call in some ten promises and cost ~12 µs of the ~70 µs a message took (BENCHMARKS.md, part 7).
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);
  private readonly devices: Map<string, DeviceEntry>;
  private readonly limiter: RateLimiter;
  /** When each device over its rate was last told so (hub ms): once a second, not once per dropped message. */
  private readonly toldLimited = new Map<string, number>();

  constructor(
    @Inject(HUB_CONFIG) config: HubConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly broker: BrokerService,
    private readonly events: HubEvents,
    private readonly metrics: MetricsService,
  ) {
    this.devices = indexDevices(config);
    this.limiter = new RateLimiter(() => clock.now());
    broker.setDevicePublishHandler((packet) => this.handle(packet.topic, packet.payload as Buffer));
    // Refused later by the branch's owner (an ack for a task it does not know): answered the same way.
    events.on('signalRejected', (e) => this.answer(e));
  }

  /**
   * Validates and emits without awaiting first: `emit` hands the event to its branch's owner at once, so a device's
   * messages join the branch's turns in the order the broker handed them over (the broker relies on it). Not `async`,
   * as `accept`: what it returns is the turn's promise itself, or the answer's.
   */
  private handle(topic: string, raw: Buffer): Promise<void> | void {
    const t = parseDeviceTopic(topic);
    const entry = t && this.devices.get(t.deviceId);
    if (!t || !entry || !isUplinkKind(t.kind)) return; // the ACL lets nothing else through
    const kind = t.kind;
    this.metrics.messagesIn.inc({ kind });
    if (!this.limiter.take(t.deviceId, entry.branch.rules.maxMsgPerSec)) return this.rateLimited(entry, topic);
    try {
      return this.accept(kind, entry, topic, raw);
    } catch (e) {
      if (!(e instanceof Rejection)) throw e;
      return this.answer({ branchId: entry.branch.id, deviceId: t.deviceId, topic, code: e.code as ErrorCode, detail: e.detail });
    }
  }

  /** Over its rate: dropped and counted; answered (and logged) at most once a second of the hub's clock. */
  private rateLimited({ branch, device }: DeviceEntry, topic: string): Promise<void> | void {
    this.metrics.rejected.inc({ device: device.id, reason: 'rate-limited' });
    const now = this.clock.now();
    if (now - (this.toldLimited.get(device.id) ?? -Infinity) < 1000) return;
    this.toldLimited.set(device.id, now);
    const detail = `over ${branch.rules.maxMsgPerSec} messages a second: this one and the others over it until the rate drops are not taken`;
    return this.answer({ branchId: branch.id, deviceId: device.id, topic, code: 'rate-limited', detail }, false);
  }

  /** A refused message: counted, logged and answered on the device's `error` topic. */
  private async answer(r: HubEventMap['signalRejected'], count = true): Promise<void> {
    if (count) this.metrics.rejected.inc({ device: r.deviceId, reason: r.code });
    this.logger.warn(`rejected ${r.topic}: ${r.code}: ${r.detail}`);
    const answer: ErrorPayload = { code: r.code, detail: r.detail, topic: r.topic };
    await this.broker.publish(topics.device(r.branchId, r.deviceId, 'error'), answer, { qos: 1 });
  }

  /** A message without `ts` happened when the hub received it, on the hub's clock. */
  private received(): Date {
    return dateOf(this.clock);
  }

  private json(raw: Buffer): object {
    if (raw.length > MAX_PAYLOAD_BYTES) throw new Rejection('payload-too-large', `${raw.length} bytes, at most ${MAX_PAYLOAD_BYTES}`);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      throw new Rejection('invalid-json', (e as Error).message);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Rejection('invalid-payload', 'payload must be a JSON object');
    return json;
  }

  /**
   * Not `async`: it hands on the emit's own promise (a bad message throws before anything is emitted). An async function
   * returning that promise cost another promise and two more microtask jobs per message (BENCHMARKS.md, part 10).
   */
  private accept(kind: UplinkKind, { branch, device }: DeviceEntry, topic: string, raw: Buffer): Promise<void> | void {
    const json = this.json(raw);
    // Spelled out, not `{ ...base, … }`: in Node 20 a literal that starts by spreading a fresh one costs ~0.5–1 µs
    // against ~20 ns, on every message (BENCHMARKS.md, part 11).
    const branchId = branch.id;
    const deviceId = device.id;
    const zone = (z: string | undefined) => {
      if (z !== undefined && !branch.zones.some((bz) => bz.id === z)) throw new Rejection('invalid-payload', `zone: branch ${branch.id} has no zone "${z}"`);
      return z;
    };
    const post = (p: string | undefined) => {
      if (p !== undefined && branch.posts && !branch.posts.includes(p)) throw new Rejection('invalid-payload', `post: branch ${branch.id} has no post "${p}"`);
      return p;
    };
    switch (kind) {
      case 'state': {
        const s = parseOrReject(uplinkSchemas.state, json);
        return this.events.emit('deviceState', { branchId, deviceId, at: s.ts ?? this.received(), status: s.status, zone: zone(s.zone), battery: s.battery });
      }
      case 'footfall': {
        const f = parseOrReject(uplinkSchemas.footfall, json);
        const at = zone(f.zone) ?? device.zone;
        if (!at) throw new Rejection('invalid-payload', 'zone: required, the sensor has no configured zone');
        return this.events.emit('footfall', { branchId, deviceId, at: f.ts ?? this.received(), zone: at, direction: f.direction, count: f.count, segment: f.segment });
      }
      case 'occupancy': {
        const o = parseOrReject(uplinkSchemas.occupancy, json);
        return this.events.emit('occupancy', { branchId, deviceId, at: o.ts ?? this.received(), zone: zone(o.zone)!, count: o.count });
      }
      case 'post': {
        const o = parseOrReject(uplinkSchemas.post, json);
        return this.events.emit('post', { branchId, deviceId, at: o.ts ?? this.received(), post: post(o.post)!, staffed: o.staffed });
      }
      case 'track': {
        const t = parseOrReject(uplinkSchemas.track, json);
        return this.events.emit('track', { branchId, deviceId, at: t.ts ?? this.received(), track: t.track, zone: t.zone === 'outside' ? 'outside' : zone(t.zone)!, event: t.event });
      }
      case 'conduct': {
        const c = parseOrReject(uplinkSchemas.conduct, json);
        return this.events.emit('conduct', { branchId, deviceId, at: c.ts ?? this.received(), type: c.type, zone: zone(c.zone) ?? device.zone, post: post(c.post), detail: c.detail });
      }
      case 'queue': {
        const q = parseOrReject(uplinkSchemas.queue, json);
        if (!branch.services.some((bs) => bs.id === q.service)) throw new Rejection('invalid-payload', `service: branch ${branch.id} has no service "${q.service}"`);
        return this.events.emit('queue', { branchId, deviceId, at: q.ts ?? this.received(), ...q });
      }
      case 'ack': {
        const a = parseOrReject(uplinkSchemas.ack, json);
        return this.events.emit('ack', { branchId, deviceId, at: a.ts ?? this.received(), ...a, topic });
      }
      case 'event':
        parseOrReject(uplinkSchemas.event, json);
        this.logger.log(`device event from ${device.id}: ${JSON.stringify(json).slice(0, 500)}`);
        return;
    }
  }
}
