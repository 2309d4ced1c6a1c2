import { Injectable } from '@nestjs/common';
import { CustomTransportStrategy, MqttContext, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import type { AedesPublishPacket } from 'aedes';
import { topicMatches } from '../contracts/topics.js';
import { BrokerService } from './broker.service.js';

/**
 * Nest microservice transport fed in-process by the embedded broker: device publishes reach
 * `@EventPattern('branch/+/devices/+/…')` handlers with no extra network hop. The raw payload Buffer
 * is passed on; parsing and validation belong to the handlers' service (signals).
 */
@Injectable()
export class BrokerTransport extends Server implements CustomTransportStrategy {
  private readonly byTopic = new Map<string, ReturnType<Server['getHandlerByPattern']>>();

  constructor(private readonly broker: BrokerService) {
    super();
  }

  listen(callback: () => void): void {
    this.broker.setDevicePublishHandler((packet) => this.deliver(packet));
    callback();
  }

  /** Resolves once the handler is done: a promise awaited, a stream (none of ours returns one) run to its end. */
  private async deliver(packet: AedesPublishPacket): Promise<void> {
    const handler = this.getHandlerByPattern(packet.topic);
    if (!handler) return;
    const result = await handler(packet.payload, new MqttContext([packet.topic, packet as never]));
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }

  /**
   * MQTT wildcard patterns, as Nest's own MQTT transport matches them; remembered per topic (the broker's ACL lets
   * through only the devices' own topics, a bounded set), so a message does not test every pattern.
   */
  override getHandlerByPattern(topic: string) {
    let handler = this.byTopic.get(topic);
    if (handler === undefined) {
      handler = [...this.messageHandlers].find(([pattern]) => topicMatches(pattern, topic))?.[1] ?? null;
      this.byTopic.set(topic, handler);
    }
    return handler;
  }

  close(): void {
    this.broker.setDevicePublishHandler(async () => {});
  }

  on(): never {
    throw new Error('BrokerTransport has no events to listen to');
  }

  unwrap<T>(): T {
    return this.broker as T;
  }
}
