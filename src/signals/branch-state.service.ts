import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { BrokerService } from '../broker/broker.service.js';
import { SettingRecord } from '../persistence/entities.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { topics } from '../contracts/topics.js';
import { HubEvents, type HubEventMap } from '../hub-events.js';
import { KeyedQueue } from '../keyed-queue.js';
import { ServiceTimes, estimatedWaitMin } from './wait-estimate.js';

export interface QueueState {
  /** Tickets issued and not yet called, served or abandoned, oldest first. */
  waiting: { ticket: string; issuedAt: string }[];
  /** Open counters, once the queue system has said. */
  openCounters: number | null;
  /** Minutes per customer used for the estimate (configured, or observed once enough were served). */
  minutesPerCustomer: number;
  /** Called→served durations observed so far (up to the window). */
  observedServices: number;
  estimatedWaitMin: number;
}

/** What screens show (contract section 3, `branch/{b}/summary`). */
export interface BranchSummary {
  waiting: Record<string, number>;
  estimatedWaitMin: Record<string, number>;
  occupancy: Record<string, number>;
  ts: string;
}

const storeKey = (branchId: string) => `queues:${branchId}`;

interface ServiceQueue {
  waiting: { ticket: string; issuedAt: string }[];
  called: Map<string, number>;
  openCounters: number | null;
  times: ServiceTimes;
}

/** What survives a restart: tickets are facts the queue system will not announce again. Occupancy is not kept (cameras refresh it). */
interface StoredQueues {
  [service: string]: { waiting: ServiceQueue['waiting']; called: [string, number][]; openCounters: number | null; samples: number[] };
}

/**
 * What the branch looks like now: tickets waiting per service with their estimated wait, and people per
 * zone. Publishes the retained summary whenever what it says changes. Queues are stored after every
 * change and restored at start-up.
 */
@Injectable()
export class BranchStateService implements OnApplicationBootstrap {
  private readonly queueState = new Map<string, Map<string, ServiceQueue>>();
  private readonly occupancyState = new Map<string, Map<string, number>>();
  private readonly lastSummary = new Map<string, string>();
  private readonly publishes = new KeyedQueue();

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @InjectRepository(SettingRecord) private readonly settings: Repository<SettingRecord>,
    private readonly broker: BrokerService,
    private readonly events: HubEvents,
  ) {
    for (const b of config.branches) {
      this.queueState.set(b.id, new Map(b.services.map((s) => [s.id, { waiting: [], called: new Map(), openCounters: null, times: new ServiceTimes(s.avgServiceMin) }])));
      this.occupancyState.set(b.id, new Map());
    }
    events.on('queue', (e) => this.onQueue(e));
    events.on('occupancy', (e) => {
      this.occupancyState.get(e.branchId)?.set(e.zone, e.count);
      return this.publishIfChanged(e.branchId);
    });
  }

  /** Queues as they were before the restart; screens find a summary from the start. */
  async onApplicationBootstrap(): Promise<void> {
    for (const b of this.config.branches) {
      const row = await this.settings.findOneBy({ key: storeKey(b.id) });
      const stored: StoredQueues = row ? JSON.parse(row.value) : {};
      for (const [service, q] of this.queueState.get(b.id)!) {
        const s = stored[service];
        if (!s) continue;
        q.waiting = s.waiting;
        q.called = new Map(s.called);
        q.openCounters = s.openCounters;
        q.times = new ServiceTimes(b.services.find((x) => x.id === service)!.avgServiceMin, s.samples);
      }
      await this.publishIfChanged(b.id);
    }
  }

  queues(branchId: string): Record<string, QueueState> {
    return Object.fromEntries(
      [...(this.queueState.get(branchId) ?? [])].map(([service, q]) => [
        service,
        {
          waiting: [...q.waiting],
          openCounters: q.openCounters,
          minutesPerCustomer: q.times.minutesPerCustomer,
          observedServices: q.times.observed,
          estimatedWaitMin: estimatedWaitMin(q.waiting.length, q.times.minutesPerCustomer, q.openCounters),
        },
      ]),
    );
  }

  occupancy(branchId: string): Record<string, number> {
    return Object.fromEntries(this.occupancyState.get(branchId) ?? []);
  }

  summary(branchId: string): BranchSummary {
    const queues = Object.entries(this.queues(branchId));
    return {
      waiting: Object.fromEntries(queues.map(([s, q]) => [s, q.waiting.length])),
      estimatedWaitMin: Object.fromEntries(queues.map(([s, q]) => [s, q.estimatedWaitMin])),
      occupancy: this.occupancy(branchId),
      ts: new Date().toISOString(),
    };
  }

  private async onQueue(e: HubEventMap['queue']): Promise<void> {
    const q = this.queueState.get(e.branchId)?.get(e.service);
    if (!q) return;
    if (e.event === 'counters') q.openCounters = e.open;
    else {
      q.waiting = q.waiting.filter((w) => w.ticket !== e.ticket);
      if (e.event === 'issued') q.waiting.push({ ticket: e.ticket, issuedAt: e.at.toISOString() });
      if (e.event === 'called') q.called.set(e.ticket, e.at.getTime());
      if (e.event === 'served' || e.event === 'abandoned') {
        const calledAt = q.called.get(e.ticket);
        q.called.delete(e.ticket);
        if (e.event === 'served' && calledAt !== undefined) q.times.observe((e.at.getTime() - calledAt) / 60_000);
      }
    }
    await this.publishes.run(e.branchId, () => this.store(e.branchId));
    await this.publishIfChanged(e.branchId);
  }

  private store(branchId: string): Promise<unknown> {
    const stored: StoredQueues = Object.fromEntries(
      [...this.queueState.get(branchId)!].map(([service, q]) => [service, { waiting: q.waiting, called: [...q.called], openCounters: q.openCounters, samples: q.times.samples }]),
    );
    return this.settings.save({ key: storeKey(branchId), value: JSON.stringify(stored) });
  }

  /** Computed when its turn comes, so a later change is never overwritten by an earlier summary. */
  private publishIfChanged(branchId: string): Promise<void> {
    return this.publishes.run(branchId, () => this.publishNow(branchId));
  }

  private async publishNow(branchId: string): Promise<void> {
    const summary = this.summary(branchId);
    const key = JSON.stringify({ ...summary, ts: undefined });
    if (this.lastSummary.get(branchId) === key) return;
    this.lastSummary.set(branchId, key);
    await this.broker.publish(topics.summary(branchId), summary, { qos: 1, retain: true });
    await this.events.emit('summary', { branchId, summary });
  }
}
