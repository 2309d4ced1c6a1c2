import { Injectable } from '@nestjs/common';
import { BrokerService } from '../broker/broker.service.js';
import type { CancelCommand, TaskCommand } from '../contracts/tasks.js';
import { topics } from '../contracts/topics.js';

/** The one way commands reach devices: a task or a cancel on the device's `cmd` topic, QoS 1. */
@Injectable()
export class CommandPort {
  constructor(private readonly broker: BrokerService) {}

  send(branchId: string, deviceId: string, cmd: TaskCommand): Promise<void> {
    return this.broker.publish(topics.device(branchId, deviceId, 'cmd'), cmd, { qos: 1 });
  }

  /** Only to a connected device: an offline one is told when it is back (see `owedCancels`). */
  async cancel(branchId: string, deviceId: string, taskId: string): Promise<void> {
    if (!this.broker.isOnline(deviceId)) return;
    const cmd: CancelCommand = { taskId, type: 'cancel' };
    await this.broker.publish(topics.device(branchId, deviceId, 'cmd'), cmd, { qos: 1 });
  }

  isOnline(deviceId: string): boolean {
    return this.broker.isOnline(deviceId);
  }
}
