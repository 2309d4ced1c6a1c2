import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { BrokerService } from '../broker/broker.service.js';
import { CLOCK, isoOf, type Clock } from '../clock/clock.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { Store } from '../persistence/store.js';
import { MetricsService } from './metrics.service.js';

/** What branch IT reads: `/api/health` (200 once MQTT, HTTP and the database are up, else 503) and `/metrics`. */
@Controller()
export class HealthController {
  private readonly started: number;

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly broker: BrokerService,
    private readonly metrics: MetricsService,
    private readonly store: Store,
  ) {
    this.started = clock.now();
  }

  @Get('api/health')
  async health(@Res() res: Response) {
    const database = await this.store.ping();
    const mqtt = this.broker.ready;
    const ok = mqtt && database;
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : 'degraded',
      mqtt,
      database,
      databaseType: this.store.type,
      connectedDevices: this.broker.connectedCount,
      // On the hub's clock (contract section 9): with a time scale, hub seconds.
      uptimeSec: Math.round((this.clock.now() - this.started) / 1000),
      clock: { now: isoOf(this.clock), scale: this.config.server.timeScale },
    });
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText() {
    return this.metrics.registry.metrics();
  }
}
