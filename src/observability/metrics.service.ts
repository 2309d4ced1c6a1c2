import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one hub. Its own registry, so several hubs in one process (tests) never collide. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly connectedDevices = new Gauge({
    name: 'hub_connected_devices',
    help: 'Devices connected to the embedded broker',
    labelNames: ['branch'],
    registers: [this.registry],
  });
  readonly messagesIn = new Counter({
    name: 'hub_mqtt_messages_in_total',
    help: 'MQTT messages received from devices, by topic kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'hub_mqtt_rejected_total',
    help: 'Device messages rejected, by device and reason',
    labelNames: ['device', 'reason'],
    registers: [this.registry],
  });
  readonly refusedConnections = new Counter({
    name: 'hub_mqtt_refused_connections_total',
    help: 'MQTT connections refused by authentication',
    registers: [this.registry],
  });
  readonly aclDenied = new Counter({
    name: 'hub_mqtt_acl_denied_total',
    help: 'Publishes and subscriptions refused by the ACL',
    labelNames: ['action'],
    registers: [this.registry],
  });
  readonly tasks = new Counter({
    name: 'hub_task_transitions_total',
    help: 'Task state transitions, by task type and new state',
    labelNames: ['type', 'state'],
    registers: [this.registry],
  });
  readonly dispatchLatency = new Histogram({
    name: 'hub_dispatch_latency_seconds',
    help: 'From the triggering signal to the command leaving the hub',
    labelNames: ['type'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly alertsRaised = new Counter({
    name: 'hub_alerts_raised_total',
    help: 'Alerts raised, by type',
    labelNames: ['type'],
    registers: [this.registry],
  });

  readonly deadlinesPending = new Gauge({
    name: 'hub_deadlines_pending',
    help: 'Durable deadlines armed (task acks and expiries, device returns)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'hub_' });
  }
}
