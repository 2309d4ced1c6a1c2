import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { BrokerService } from '../broker/broker.service.js';
import { CLOCK, type Clock } from '../clock/clock.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { Rejection } from '../contracts/rejection.js';
import { DevicesService } from '../devices/devices.service.js';
import { HubEvents } from '../hub-events.js';
import { MetricsService } from '../observability/metrics.service.js';
import { DeadlineRepository } from '../schedule/deadline.repository.js';
import { Scheduler } from '../schedule/scheduler.service.js';
import { QueueRepository } from '../signals/queue.repository.js';
import { SiteRepository } from '../signals/site.repository.js';
import { FlowStateRepository } from '../flows/flow-state.repository.js';
import { AlertRepository } from '../alerts/alert.repository.js';
import { AlertsService } from '../alerts/alerts.service.js';
import { AnalyticsRepository } from '../analytics/analytics.repository.js';
import { AppointmentRepository } from '../appointments/appointment.repository.js';
import { CommandPort } from '../tasks/command-port.js';
import { TaskRepository } from '../tasks/task.repository.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { Store } from '../persistence/store.js';
import { BRANCH_SIGNALS, BranchRuntime, type RuntimePorts } from './branch-runtime.js';
import { readBranches, TakeOverWrites, type TakeOverPorts } from './take-over.js';

/**
 * The branches this hub owns: one runtime each, fed every signal and deadline of its branch.
 * Start-up order matters and is spelled out here: the registry, then each branch from the database (read
 * for all at once, their writes stored together), then the stored deadlines (those that fell due while the
 * hub was down fire at once). No deadline is handled before every branch is loaded.
 */
@Injectable()
export class Branches implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly runtimes = new Map<string, BranchRuntime>();
  private readonly takeOver: TakeOverPorts;
  private loaded!: () => void;
  private readonly ready = new Promise<void>((resolve) => (this.loaded = resolve));

  constructor(
    @Inject(HUB_CONFIG) config: HubConfig,
    @Inject(CLOCK) clock: Clock,
    private readonly devices: DevicesService,
    private readonly scheduler: Scheduler,
    store: Store,
    events: HubEvents,
    broker: BrokerService,
    repo: TaskRepository,
    commands: CommandPort,
    metrics: MetricsService,
    deadlines: DeadlineRepository,
    queues: QueueRepository,
    site: SiteRepository,
    flowStates: FlowStateRepository,
    alerts: AlertsService,
    alertRecords: AlertRepository,
    analytics: AnalyticsRepository,
    appointments: AppointmentRepository,
    private readonly commits: GroupCommit,
  ) {
    const ports: RuntimePorts = { clock, devices, events, broker, scheduler, deadlines, queues, site, flowStates, alerts, analytics, appointments, repo, commands, metrics };
    this.takeOver = { clock, store, queues, site, analytics, repo, flowStates, deadlines, alerts: alertRecords, appointments };
    for (const branch of config.branches) this.runtimes.set(branch.id, new BranchRuntime(branch, ports));
    for (const name of BRANCH_SIGNALS) events.on(name, (e) => this.runtimes.get(e.branchId)?.signal(name, e));
    // A flow's deadline armed while loading waits for its actor's held save to be stored (its owner reads it).
    scheduler.onDue(async (d) => this.ready.then(() => this.runtimes.get(d.branchId)?.deadline(d)));
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.devices.load();
      const stored = await readBranches([...this.runtimes.keys()], this.takeOver);
      const writes = new TakeOverWrites(this.takeOver.clock.now());
      this.takeOver.flowStates.hold();
      for (const runtime of this.runtimes.values()) await runtime.load(stored(runtime.branch.id), writes);
      await writes.store(this.takeOver);
      await this.scheduler.load();
    } finally {
      this.loaded();
    }
  }

  /** After the broker stopped taking messages (onModuleDestroy): finish every branch's queued turns before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.runtimes.values()].map((r) => r.stop()));
    await this.commits.flushed();
  }

  /** Resolves when every branch has finished the turns queued so far and what they wrote is committed. */
  async settled(): Promise<void> {
    await Promise.all([...this.runtimes.values()].map((r) => r.settled()));
    await this.commits.flushed();
  }

  get(branchId: string): BranchRuntime {
    const runtime = this.runtimes.get(branchId);
    if (!runtime) throw new Rejection('not-found', `no branch ${branchId}`);
    return runtime;
  }

  all(): BranchRuntime[] {
    return [...this.runtimes.values()];
  }
}
