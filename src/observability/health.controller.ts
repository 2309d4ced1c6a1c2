import { Controller, Get, Header, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import type { DataSource } from 'typeorm';
import { BrokerService } from '../broker/broker.service.js';
import { MetricsService } from './metrics.service.js';

/** What branch IT reads: `/api/health` (200 once MQTT, HTTP and the database are up, else 503) and `/metrics`. */
@Controller()
export class HealthController {
  private readonly started = Date.now();

  constructor(
    private readonly broker: BrokerService,
    private readonly metrics: MetricsService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Get('api/health')
  async health(@Res() res: Response) {
    const database = await this.db.query('SELECT 1').then(() => true, () => false);
    const mqtt = this.broker.ready;
    const ok = mqtt && database;
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : 'degraded',
      mqtt,
      database,
      databaseType: this.db.options.type,
      connectedDevices: this.broker.connectedCount,
      uptimeSec: Math.round((Date.now() - this.started) / 1000),
    });
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText() {
    return this.metrics.registry.metrics();
  }
}
