import type { Clock } from '../clock/clock.js';
import { waitingZones, type BranchConfig } from '../config/config.schema.js';
import type { DevicesService } from '../devices/devices.service.js';
import type { FlowEffect, FlowHost } from '../flows/flow-host.js';
import { conductFlow } from '../flows/machines/conduct.machine.js';
import { crowdingBand, crowdingFlow } from '../flows/machines/crowding.machine.js';
import { deviceHealthFlow } from '../flows/machines/device-health.machine.js';
import { diversionFlow } from '../flows/machines/diversion.machine.js';
import { longWaitDue, longWaitFlow } from '../flows/machines/long-wait.machine.js';
import { promotionFlow, waitingNews } from '../flows/machines/promotion.machine.js';
import { ticketsWaiting, unattendedPostFlow } from '../flows/machines/unattended-post.machine.js';
import type { HubEventMap, HubEvents } from '../hub-events.js';
import type { Scheduler } from '../schedule/scheduler.service.js';
import type { BranchModel } from '../signals/branch-model.js';
import type { TaskBook } from '../tasks/task-book.js';

/** Every durable flow machine, by name: what a stored snapshot or a deadline names. */
export const FLOWS = [deviceHealthFlow, crowdingFlow, longWaitFlow, unattendedPostFlow, conductFlow, diversionFlow, promotionFlow];

export interface BranchFlowPorts {
  clock: Clock;
  devices: DevicesService;
  events: HubEvents;
  scheduler: Scheduler;
}

/**
 * Which flow actor hears which signal, and what their effects become in this branch: alerts, durable
 * deadlines, guides, notices and promotions. Called by the branch's owner inside its turns, after the
 * live model has taken the signal.
 */
export class BranchFlows {
  /** Zones stored as crowded whose count the hub lost in a restart: footfall cannot tell them apart from empty until a camera's reading. */
  private readonly countUnknown = new Set<string>();

  constructor(
    private readonly branch: BranchConfig,
    private readonly model: BranchModel,
    private readonly tasks: TaskBook,
    private readonly host: FlowHost,
    private readonly p: BranchFlowPorts,
  ) {}

  /**
   * After the model and the stored actors are back: each waiting ticket whose long-wait has not started has its start
   * set (again: the same time, or a new one if `longWaitMin` changed; written with the start-up's one transaction).
   */
  async reconcile(): Promise<void> {
    for (const q of this.model.services.values()) {
      for (const w of q.waiting) await this.startLongWait(q.service, w.ticket, Date.parse(w.issuedAt));
    }
    for (const z of this.branch.zones) if (this.host.stateOf(`crowding:${z.id}`) === 'crowded') this.countUnknown.add(z.id);
  }

  /** The zone's count changed: by a camera's `reading`, or by footfall (not trusted for a zone whose count was lost). */
  async occupancy(zone: string, at: number, reading: boolean): Promise<void> {
    const capacity = this.branch.zones.find((z) => z.id === zone)?.capacity;
    if (!capacity) return;
    if (reading) this.countUnknown.delete(zone);
    else if (this.countUnknown.has(zone)) return;
    const count = this.model.peopleIn(zone);
    // Sent after every camera message: only when the count moved into another band.
    await this.host.sendChanged(`crowding:${zone}`, crowdingFlow, { zone, capacity }, { type: 'OCCUPANCY', count, at }, crowdingBand(count, capacity));
  }

  async queue(e: HubEventMap['queue']): Promise<void> {
    const at = e.at.getTime();
    // Timers run from the hub's own time: a queue system whose clock lags (or that flushes a backlog) must not make them fall due at once.
    const now = this.p.clock.now();
    if (e.event !== 'counters') {
      const key = `long-wait:${e.service}:${e.ticket}`;
      if (e.event === 'issued') await this.startLongWait(e.service, e.ticket, at);
      else await this.host.sendOrCancelStart(key, longWaitFlow, { type: 'GONE', at });
    }
    // Sent after every ticket event, most of them telling these machines what they heard last: sent only when that changed.
    const count = this.model.waitingTotal;
    for (const post of this.host.keys(unattendedPostFlow.name)) await this.host.sendChanged(post, unattendedPostFlow, undefined, { type: 'WAITING', count, at: now }, String(ticketsWaiting(count)));
    await this.estimates(at, e.event === 'issued' ? e : undefined);
    const waitingServices = [...this.model.services.values()].filter((q) => q.waiting.length).map((q) => q.service);
    const news = waitingNews(count, waitingServices, this.branch.rules.promoteWhenWaiting);
    await this.host.sendChanged('promotion', promotionFlow, this.promotionInput(), { type: 'WAITING', total: count, services: waitingServices, at: now }, news);
  }

  async post(e: HubEventMap['post']): Promise<void> {
    const input = { post: e.post, emptyMs: this.branch.rules.postEmptyMin * 60_000 };
    const key = `unattended-post:${e.post}`;
    const now = this.p.clock.now();
    await this.host.ensure(key, unattendedPostFlow, input);
    await this.host.send(key, unattendedPostFlow, input, { type: 'WAITING', count: this.model.waitingTotal, at: now });
    await this.host.send(key, unattendedPostFlow, input, { type: 'POST', staffed: e.staffed, at: now });
  }

  conduct(e: HubEventMap['conduct']): Promise<void> {
    return this.host.send('conduct', conductFlow, undefined, { type: 'CONDUCT', finding: e.type, zone: e.zone, post: e.post, detail: e.detail, at: e.at.getTime() });
  }

  /** A device changed: a kiosk coming free or going away changes what diversion can do. */
  async deviceChanged(at: number): Promise<void> {
    await this.estimates(at);
  }

  /** A manager pauses promotions until `until` (hub ms). */
  pausePromotions(until: number, at: number): Promise<void> {
    return this.host.send('promotion', promotionFlow, this.promotionInput(), { type: 'PAUSE', until, at });
  }

  /** Carries out what a flow machine emitted (its deadlines are stored by the host, with its state). */
  async effect(effect: Exclude<FlowEffect, { type: 'schedule' | 'unschedule' }>): Promise<void> {
    const branchId = this.branch.id;
    switch (effect.type) {
      case 'raise':
        return this.p.events.emit('alertRaise', { branchId, type: effect.alert, subject: effect.subject, message: effect.message, data: effect.data });
      case 'clear':
        return this.p.events.emit('alertClear', { branchId, type: effect.alert, subject: effect.subject });
      case 'guide':
        // Every ticket gets its guide (contract section 5): with no robot free now, it waits for one (until it expires).
        await this.tasks.create({ type: 'guide', params: { toZone: effect.toZone, service: effect.service, ...(effect.ticket ? { ticket: effect.ticket } : {}) }, origin: 'flow:diversion', triggeredAt: effect.at });
        return;
      case 'notice':
        for (const screen of this.freeIn(waitingZones(this.branch), 'display')) {
          const content = { service: effect.service, toZone: effect.toZone, text: 'self-service' };
          await this.tasks.create({ type: 'display', deviceId: screen, zone: undefined, params: { view: 'notice', content }, origin: 'flow:diversion', triggeredAt: effect.at });
        }
        return;
      case 'promote':
        return this.promote(effect.campaign, effect.at);
    }
  }

  /** A campaign on waiting-area screens and on idle robots: each a promotion-priority task that greet and guide pre-empt. */
  private async promote(campaignId: string, at: number): Promise<void> {
    const campaign = this.branch.campaigns.find((c) => c.id === campaignId);
    if (!campaign) return;
    const screens = this.freeIn(waitingZones(this.branch), 'promote').filter((id) => this.p.devices.get(id)?.kind === 'screen');
    const robots = this.tasks
      .freeDevices('promote')
      .filter((d) => d.kind === 'robot' && d.status === 'idle' && this.tasks.openTasks().every((t) => t.deviceId !== d.id))
      .map((d) => d.id);
    for (const deviceId of [...screens, ...robots]) {
      await this.tasks.create({ type: 'promote', deviceId, params: { campaign: campaign.id, content: { title: campaign.title, ...campaign.content } }, origin: 'flow:promotion', triggeredAt: at });
    }
  }

  /** Diversion hears each kiosk-capable service's estimate, and each new ticket while it diverts. */
  private async estimates(at: number, issued?: { service: string; ticket: string; appointment?: string }): Promise<void> {
    const threshold = this.branch.rules.divertWhenWaitMin;
    for (const s of this.branch.services.filter((x) => x.kiosk)) {
      const q = this.model.services.get(s.id)!;
      const kiosks = this.p.devices.list(this.branch.id).filter((d) => d.kind === 'kiosk' && d.online && d.status === 'idle' && d.services.includes(s.id));
      const key = `diversion:${s.id}`;
      const input = { service: s.id, thresholdMin: threshold };
      // The new ticket first: one that arrives while diverting is guided; one that makes the wait cross the threshold is among the excess.
      // An appointment's customer is expected at the counters (a robot guides them there): never diverted.
      if (issued?.service === s.id && !issued.appointment) await this.host.sendIfExists(key, diversionFlow, { type: 'TICKET', ticket: issued.ticket, at });
      const waitMin = q.estimatedWaitMin;
      const booked = new Set(q.waiting.filter((w) => w.appointment).map((w) => w.ticket));
      const excess = excessTickets(q.waiting, waitMin, threshold).filter((t) => !booked.has(t));
      // Sent after every device state and ticket: only when it says something new.
      const estimate = { waitMin, kioskZone: kiosks[0]?.zone ?? null, kiosks: kiosks.length, excess };
      await this.host.sendChanged(key, diversionFlow, input, { type: 'ESTIMATE', ...estimate, at }, `${waitMin}|${estimate.kioskZone}|${kiosks.length}|${excess.join(',')}`);
    }
  }

  private freeIn(zones: string[], type: 'display' | 'promote'): string[] {
    return this.tasks
      .freeDevices(type)
      .filter((d) => d.zone !== null && zones.includes(d.zone))
      .map((d) => d.id);
  }

  private startLongWait(service: string, ticket: string, issuedAt: number): Promise<void> {
    const input = { service, ticket, issuedAt, longWaitMs: this.branch.rules.longWaitMin * 60_000 };
    return this.host.startAt(`long-wait:${service}:${ticket}`, longWaitFlow, input, longWaitDue(input), { type: 'DUE' });
  }

  private promotionInput() {
    const r = this.branch.rules;
    return { threshold: r.promoteWhenWaiting, cooldownMs: r.promoteCooldownSec * 1000, campaigns: this.branch.campaigns.map((c) => ({ id: c.id, services: c.services })) };
  }
}

/**
 * The waiting tickets the counters will not call within `thresholdMin` at the estimated pace (minutes per
 * ticket = the wait over the number waiting), newest first: they have the longest wait ahead.
 */
export function excessTickets(waiting: readonly { ticket: string; issuedAt: string }[], waitMin: number, thresholdMin: number): string[] {
  if (!waiting.length || waitMin <= thresholdMin) return [];
  const reached = Math.floor(thresholdMin / (waitMin / waiting.length));
  return [...waiting]
    .sort((a, b) => b.issuedAt.localeCompare(a.issuedAt))
    .slice(0, waiting.length - reached)
    .map((w) => w.ticket);
}
