import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { AlertRepository } from './alerts/alert.repository.js';
import { AnalyticsRepository } from './analytics/analytics.repository.js';
import { AnalyticsService } from './analytics/analytics.service.js';
import { Outbox } from './uplink/outbox.js';
import { AppointmentRepository } from './appointments/appointment.repository.js';
import { UplinkService } from './uplink/uplink.service.js';
import { AlertsService } from './alerts/alerts.service.js';
import { Branches } from './branch/branches.service.js';
import { BrokerService } from './broker/broker.service.js';
import { CLOCK, ScaledClock, type Clock } from './clock/clock.js';
import { ConfigModule } from './config/config.module.js';
import type { HubConfig } from './config/config.schema.js';
import { ApiController } from './dashboard/api.controller.js';
import { AuthService } from './dashboard/auth.service.js';
import { DashboardGateway } from './dashboard/dashboard.gateway.js';
import { DeviceRepository } from './devices/device.repository.js';
import { DevicesService } from './devices/devices.service.js';
import { HubEvents } from './hub-events.js';
import { HealthController } from './observability/health.controller.js';
import { MetricsService } from './observability/metrics.service.js';
import { PersistenceModule } from './persistence/persistence.module.js';
import { SettingRepository } from './persistence/setting.repository.js';
import { GroupCommit } from './persistence/group-commit.js';
import { Store } from './persistence/store.js';
import { DeadlineRepository } from './schedule/deadline.repository.js';
import { Scheduler } from './schedule/scheduler.service.js';
import { IngestService } from './signals/ingest.service.js';
import { QueueRepository } from './signals/queue.repository.js';
import { SiteRepository } from './signals/site.repository.js';
import { FlowStateRepository } from './flows/flow-state.repository.js';
import { CommandPort } from './tasks/command-port.js';
import { TaskRepository } from './tasks/task.repository.js';
import { TasksService } from './tasks/tasks.service.js';

/** The hub's clock from config (HUB_TIME_SCALE, HUB_CLOCK_START). */
export function clockFor(server: HubConfig['server']): Clock {
  return new ScaledClock(server.timeScale, server.clockStart ? Date.parse(server.clockStart) : undefined);
}

/** The hub: one module, its parts in their folders (see README "Architecture"). */
@Global()
@Module({})
export class AppModule {
  static forRoot(config: HubConfig, dataSource: DataSource, clock: Clock): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), PersistenceModule.forRoot(dataSource)],
      controllers: [ApiController, HealthController],
      providers: [
        { provide: CLOCK, useValue: clock },
        HubEvents,
        MetricsService,
        Store,
        GroupCommit,
        DeviceRepository,
        TaskRepository,
        AlertRepository,
        QueueRepository,
        SiteRepository,
        AnalyticsRepository,
        AnalyticsService,
        Outbox,
        AppointmentRepository,
        UplinkService,
        FlowStateRepository,
        DeadlineRepository,
        SettingRepository,
        Scheduler,
        BrokerService,
        CommandPort,
        DevicesService,
        AlertsService,
        Branches,
        TasksService,
        IngestService,
        AuthService,
        DashboardGateway,
      ],
    };
  }
}
