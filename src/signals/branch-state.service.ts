import { Inject, Injectable } from '@nestjs/common';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { HubEvents, type HubEventMap } from '../hub-events.js';

export interface QueueState {
  /** Tickets issued and not yet called, served or abandoned, oldest first. */
  waiting: { ticket: string; issuedAt: string }[];
  /** Open counters, once the queue system has said. */
  openCounters: number | null;
}

/** What the branch looks like now: tickets waiting per service and people per zone. */
@Injectable()
export class BranchStateService {
  private readonly queueState = new Map<string, Map<string, QueueState>>();
  private readonly occupancyState = new Map<string, Map<string, number>>();

  constructor(@Inject(HUB_CONFIG) config: HubConfig, events: HubEvents) {
    for (const b of config.branches) {
      this.queueState.set(b.id, new Map(b.services.map((s) => [s.id, { waiting: [], openCounters: null }])));
      this.occupancyState.set(b.id, new Map());
    }
    events.on('queue', (e) => this.onQueue(e));
    events.on('occupancy', (e) => void this.occupancyState.get(e.branchId)?.set(e.zone, e.count));
  }

  queues(branchId: string): Record<string, QueueState> {
    return Object.fromEntries(this.queueState.get(branchId) ?? []);
  }

  occupancy(branchId: string): Record<string, number> {
    return Object.fromEntries(this.occupancyState.get(branchId) ?? []);
  }

  private onQueue(e: HubEventMap['queue']): void {
    const q = this.queueState.get(e.branchId)?.get(e.service);
    if (!q) return;
    if (e.event === 'counters') {
      q.openCounters = e.open;
      return;
    }
    q.waiting = q.waiting.filter((w) => w.ticket !== e.ticket);
    if (e.event === 'issued') q.waiting.push({ ticket: e.ticket, issuedAt: e.at.toISOString() });
  }
}
