import { Global, Module, type DynamicModule } from '@nestjs/common';
import { AlertsService } from './alerts/alerts.service.js';
import { BrokerService } from './broker/broker.service.js';
import { BrokerTransport } from './broker/broker.transport.js';
import { ConfigModule } from './config/config.module.js';
import type { HubConfig } from './config/config.schema.js';
import type { DataSource } from 'typeorm';
import { ApiController } from './dashboard/api.controller.js';
import { AuthService } from './dashboard/auth.service.js';
import { DashboardGateway } from './dashboard/dashboard.gateway.js';
import { DevicesService } from './devices/devices.service.js';
import { DeviceHealthFlow } from './flows/device-health.flow.js';
import { GreetingFlow } from './flows/greeting.flow.js';
import { HubEvents } from './hub-events.js';
import { HealthController } from './observability/health.controller.js';
import { MetricsService } from './observability/metrics.service.js';
import { PersistenceModule } from './persistence/persistence.module.js';
import { BranchStateService } from './signals/branch-state.service.js';
import { IngestService } from './signals/ingest.service.js';
import { SignalsController } from './signals/signals.controller.js';
import { TasksService } from './tasks/tasks.service.js';

/** The hub: one module, its parts in their folders (see README "Architecture"). */
@Global()
@Module({})
export class AppModule {
  static forRoot(config: HubConfig, dataSource: DataSource): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), PersistenceModule.forRoot(dataSource)],
      controllers: [SignalsController, ApiController, HealthController],
      providers: [
        HubEvents,
        MetricsService,
        BrokerService,
        BrokerTransport,
        DevicesService,
        BranchStateService,
        AlertsService,
        TasksService,
        IngestService,
        GreetingFlow,
        DeviceHealthFlow,
        AuthService,
        DashboardGateway,
      ],
    };
  }
}
