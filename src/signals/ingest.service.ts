import { Inject, Injectable, Logger } from '@nestjs/common';
import { BrokerService } from '../broker/broker.service.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { indexDevices, type DeviceEntry } from '../config/directory.js';
import { parseOrReject } from '../contracts/validate.js';
import { MAX_PAYLOAD_BYTES, uplinkSchemas, type ErrorPayload } from '../contracts/payloads.js';
import { parseDeviceTopic, topics, type UplinkKind } from '../contracts/topics.js';
import { HubEvents } from '../hub-events.js';
import { MetricsService } from '../observability/metrics.service.js';
import { TasksService } from '../tasks/tasks.service.js';
import { Rejection } from '../contracts/rejection.js';

/**
 * Where every device message enters: parse, validate against its schema and the branch config, then
 * one typed event. A bad message changes nothing, is answered on the device's `error` topic and counted.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);
  private readonly devices: Map<string, DeviceEntry>;

  constructor(
    @Inject(HUB_CONFIG) config: HubConfig,
    private readonly broker: BrokerService,
    private readonly events: HubEvents,
    private readonly metrics: MetricsService,
    private readonly tasks: TasksService,
  ) {
    this.devices = indexDevices(config);
  }

  async handle(kind: UplinkKind, topic: string, raw: Buffer): Promise<void> {
    this.metrics.messagesIn.inc({ kind });
    const t = parseDeviceTopic(topic);
    const entry = t && this.devices.get(t.deviceId);
    if (!t || !entry) return; // the ACL lets nothing else through
    try {
      await this.accept(kind, entry, topic, raw);
    } catch (e) {
      if (!(e instanceof Rejection)) throw e;
      this.metrics.rejected.inc({ device: t.deviceId, reason: e.code });
      this.logger.warn(`rejected ${topic}: ${e.code}: ${e.detail}`);
      const answer: ErrorPayload = { code: e.code as ErrorPayload['code'], detail: e.detail, topic };
      await this.broker.publish(topics.device(entry.branch.id, t.deviceId, 'error'), answer, { qos: 1 });
    }
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

  private async accept(kind: UplinkKind, { branch, device }: DeviceEntry, topic: string, raw: Buffer): Promise<void> {
    const json = this.json(raw);
    const base = { branchId: branch.id, deviceId: device.id };
    const zone = (z: string | undefined) => {
      if (z !== undefined && !branch.zones.some((bz) => bz.id === z)) throw new Rejection('invalid-payload', `zone: branch ${branch.id} has no zone "${z}"`);
      return z;
    };
    switch (kind) {
      case 'state': {
        const s = parseOrReject(uplinkSchemas.state, json);
        return this.events.emit('deviceState', { ...base, at: s.ts ?? new Date(), status: s.status, zone: zone(s.zone), battery: s.battery });
      }
      case 'footfall': {
        const f = parseOrReject(uplinkSchemas.footfall, json);
        const at = zone(f.zone) ?? device.zone;
        if (!at) throw new Rejection('invalid-payload', 'zone: required, the sensor has no configured zone');
        return this.events.emit('footfall', { ...base, at: f.ts ?? new Date(), zone: at, direction: f.direction, count: f.count, segment: f.segment });
      }
      case 'occupancy': {
        const o = parseOrReject(uplinkSchemas.occupancy, json);
        return this.events.emit('occupancy', { ...base, at: o.ts ?? new Date(), zone: zone(o.zone)!, count: o.count });
      }
      case 'post': {
        const o = parseOrReject(uplinkSchemas.post, json);
        if (branch.posts && !branch.posts.includes(o.post)) throw new Rejection('invalid-payload', `post: branch ${branch.id} has no post "${o.post}"`);
        return this.events.emit('post', { ...base, at: o.ts ?? new Date(), post: o.post, staffed: o.staffed });
      }
      case 'queue': {
        const q = parseOrReject(uplinkSchemas.queue, json);
        if (!branch.services.some((bs) => bs.id === q.service)) throw new Rejection('invalid-payload', `service: branch ${branch.id} has no service "${q.service}"`);
        return this.events.emit('queue', { ...base, at: q.ts ?? new Date(), ...q });
      }
      case 'ack': {
        const a = parseOrReject(uplinkSchemas.ack, json);
        return this.tasks.onAck({ ...base, at: a.ts ?? new Date(), ...a, topic });
      }
      case 'event':
        parseOrReject(uplinkSchemas.event, json);
        this.logger.log(`device event from ${device.id}: ${JSON.stringify(json).slice(0, 500)}`);
        return;
    }
  }
}
