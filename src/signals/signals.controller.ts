import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MqttContext, Payload } from '@nestjs/microservices';
import { IngestService } from './ingest.service.js';

/** Device uplink topics, the Nest way. Thin: each hands the raw message to ingest. */
@Controller()
export class SignalsController {
  constructor(private readonly ingest: IngestService) {}

  @EventPattern<string>('branch/+/devices/+/state')
  state(@Payload() raw: Buffer, @Ctx() ctx: MqttContext) {
    return this.ingest.handle('state', ctx.getTopic(), raw);
  }

  @EventPattern<string>('branch/+/devices/+/footfall')
  footfall(@Payload() raw: Buffer, @Ctx() ctx: MqttContext) {
    return this.ingest.handle('footfall', ctx.getTopic(), raw);
  }

  @EventPattern<string>('branch/+/devices/+/occupancy')
  occupancy(@Payload() raw: Buffer, @Ctx() ctx: MqttContext) {
    return this.ingest.handle('occupancy', ctx.getTopic(), raw);
  }

  @EventPattern<string>('branch/+/devices/+/post')
  post(@Payload() raw: Buffer, @Ctx() ctx: MqttContext) {
    return this.ingest.handle('post', ctx.getTopic(), raw);
  }

  @EventPattern<string>('branch/+/devices/+/track')
  track(@Payload() raw: Buffer, @Ctx() ctx: MqttContext) {
    return this.ingest.handle('track', ctx.getTopic(), raw);
  }

  @EventPattern<string>('branch/+/devices/+/conduct')
  conduct(@Payload() raw: Buffer, @Ctx() ctx: MqttContext) {
    return this.ingest.handle('conduct', ctx.getTopic(), raw);
  }

  @EventPattern<string>('branch/+/devices/+/queue')
  queue(@Payload() raw: Buffer, @Ctx() ctx: MqttContext) {
    return this.ingest.handle('queue', ctx.getTopic(), raw);
  }

  @EventPattern<string>('branch/+/devices/+/ack')
  ack(@Payload() raw: Buffer, @Ctx() ctx: MqttContext) {
    return this.ingest.handle('ack', ctx.getTopic(), raw);
  }

  @EventPattern<string>('branch/+/devices/+/event')
  event(@Payload() raw: Buffer, @Ctx() ctx: MqttContext) {
    return this.ingest.handle('event', ctx.getTopic(), raw);
  }
}
