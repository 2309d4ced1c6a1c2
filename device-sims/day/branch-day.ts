import type { Clock } from '../../src/clock/clock.js';
import { entryZones, waitingZones, type BranchConfig } from '../../src/config/config.schema.js';
import type { TaskCommand } from '../../src/contracts/tasks.js';
import type { Fleet } from '../fleet.js';
import { KioskSim } from '../kiosk.js';
import type { WorkerSim } from '../worker.js';
import { appointmentArrival, drawArrivals, type AppointmentBooking, type Arrival } from './arrivals.js';
import { Counters } from './counters.js';
import { Floor } from './floor.js';
import { Incidents } from './incidents.js';
import { KioskLine } from './kiosk-line.js';
import type { CustomerRecord, DayRecord, ExpectedAlert } from './records.js';
import { atMinute, checkScenario, minuteOf, type Scenario } from './scenario.js';
import { countTaskEnds, type TaskEnds } from './task-ends.js';
import { DayTimeline } from './timeline.js';

export interface DayOptions {
  /** Only part of the day, HH:MM (default: open to close). */
  from?: string;
  to?: string;
  /** Recorded with the outcomes: whether the hub was coordinating (`autoDispatch`). */
  coordinated: boolean;
  scale: number;
  signal?: AbortSignal;
  /** After the doors close, customers still inside are served for at most this long (hub ms, default 2 h). */
  drainMs?: number;
  /** Headquarters' bookings: each one's customer comes around its time and takes a ticket carrying its ref. */
  appointments?: readonly AppointmentBooking[];
}

type Customer = CustomerRecord & { draw: Arrival };

/**
 * Plays a scenario's branch day against the hub through the fleet's real MQTT connections: customers
 * come through the door, take tickets, wait, are called and served or give up; cameras see it all;
 * robots, screens and kiosks obey the hub, and customers react to them (greeted at the entrance, guided
 * to a kiosk and served there, shown promotions while they wait). Failures, unattended posts and crowds
 * happen when the scenario says. Resolves with what happened, once the last customer has left.
 */
export async function playDay(scenario: Scenario, branch: BranchConfig, fleet: Fleet, opts: DayOptions): Promise<Omit<DayRecord, 'raisedAlerts'>> {
  return new BranchDay(scenario, branch, fleet, opts).play();
}

class BranchDay {
  private readonly clock: Clock;
  private readonly customers: Customer[] = [];
  private readonly expected: ExpectedAlert[] = [];
  private readonly tasksStarted: Record<string, number> = {};
  private readonly tasksEnded: TaskEnds;
  /** Entry zones where a robot is greeting (or a screen showing the welcome) right now. */
  private readonly greeting = new Map<string, number>();
  private readonly welcoming = new Map<string, number>();
  private readonly floor: Floor;
  private readonly counters: Counters<Customer>;
  private readonly kiosks: KioskLine<Customer>;
  private readonly incidents: Incidents;
  private readonly time: DayTimeline;
  private inside = 0;
  /** Tickets the queue system shows waiting (issued, not called, served or given up): what the hub's rules count. */
  private ticketsWaiting = 0;
  /** Told the time of the next ticket issued (a post left while nobody waited: its condition begins then). */
  private readonly emptyPosts: ((at: number) => void)[] = [];
  private arrivalsDone = false;
  private finished!: () => void;
  private error: Error | undefined;

  constructor(
    private readonly s: Scenario,
    private readonly branch: BranchConfig,
    private readonly fleet: Fleet,
    private readonly opts: DayOptions,
  ) {
    this.clock = fleet.clock;
    this.time = new DayTimeline(this.clock, minuteOf(opts.from ?? s.open), minuteOf(opts.to ?? s.close), opts.signal);
    const sensors = [...fleet.sensors.values()];
    const entry = entryZones(branch);
    this.floor = new Floor(branch, sensors, sensors.find((x) => entry.includes(x.identity.zone ?? '')) ?? sensors[0], this.clock, s.seed, (e) => {
      if (e.edge === 'start') this.expected.push({ type: 'crowding', subject: e.zone, at: e.at });
    });
    const queue = [...fleet.queues.values()][0];
    if (!queue) throw new Error(`branch ${branch.id} has no queue system to simulate`);
    const maxOpen = (id: string) => Math.max(0, ...Object.values(s.counters).map((c) => c[id] ?? 0));
    this.counters = new Counters<Customer>(queue, this.clock, branch.services.map((x) => ({ id: x.id, avgServiceMin: x.avgServiceMin, maxOpen: maxOpen(x.id) })), s.seed, {
      called: (c) => this.startService(c, 'counter', branch.services.find((x) => x.id === c.service)?.zone ?? 'counters'),
      served: (c) => this.served(c, 'counter'),
    });
    const kiosks = [...fleet.workers.values()].filter((w): w is KioskSim => w instanceof KioskSim);
    this.kiosks = new KioskLine<Customer>(
      kiosks.map((k) => ({ sim: k, services: branch.devices.find((d) => d.id === k.id)?.services ?? [] })),
      (c, kiosk) => this.startService(c, 'kiosk', kiosk.identity.zone),
      (c, kiosk) => {
        if (c.ticket) {
          this.ticketsWaiting -= 1;
          this.send(queue.serve(c.ticket, c.service!, kiosk.id));
        }
        this.served(c, 'kiosk');
      },
      (e) => (this.error ??= e),
    );
    checkScenario(s, branch, new Set(fleet.workers.keys()));
    this.incidents = new Incidents({
      clock: this.clock,
      branch,
      fleet,
      floor: this.floor,
      counters: this.counters,
      kiosks: this.kiosks,
      expect: (a) => this.expected.push(a),
      later: (fn, ms) => this.time.later(fn, ms),
      send: (p) => this.send(p),
      ticketsWaiting: () => this.ticketsWaiting,
      nextTicket: (fn) => this.emptyPosts.push(fn),
    });
    for (const w of fleet.workers.values()) w.onWork = (cmd, phase) => this.onWork(w, cmd, phase);
    this.tasksEnded = countTaskEnds(fleet.workers.values());
  }

  async play(): Promise<Omit<DayRecord, 'raisedAlerts'>> {
    const done = new Promise<void>((resolve) => (this.finished = resolve));
    this.opts.signal?.addEventListener('abort', () => this.finished());
    this.schedule();
    await done;
    const closedAt = this.time.timeOf(this.time.toMin);
    this.time.clear();
    this.counters.close();
    this.floor.close();
    for (const w of this.fleet.workers.values()) w.onWork = undefined;
    const error = this.error ?? this.floor.error ?? this.counters.error;
    if (error) throw error;
    return {
      scenario: this.s.name,
      coordinated: this.opts.coordinated,
      scale: this.opts.scale,
      seed: this.s.seed,
      start: this.time.start,
      end: this.clock.now(),
      startMinute: this.time.fromMin,
      closedAt,
      customers: this.customers.map(({ draw: _, ...c }) => c),
      expectedAlerts: this.expected,
      devices: [...this.fleet.workers.values()].map((w) => ({ id: w.id, kind: w.identity.kind, statusLog: w.statusLog })),
      tasksStarted: this.tasksStarted,
      tasksEnded: this.tasksEnded,
      visits: this.floor.visits,
      moves: this.floor.moves,
      tracks: Object.fromEntries(this.floor.tracks),
    };
  }

  private schedule(): void {
    const s = this.s;
    const kioskServices = new Set(this.branch.services.filter((x) => x.kiosk && this.kiosks.zoneFor(x.id)).map((x) => x.id));
    const arrivals = drawArrivals(s, kioskServices, this.time.fromMin, this.time.toMin);
    for (const a of arrivals) this.time.at(a.minute, () => this.arrive(a));
    for (const booking of this.opts.appointments ?? []) {
      const a = appointmentArrival(s, booking, this.time.fromMin + (Date.parse(booking.at) - this.time.start) / 60_000, kioskServices);
      this.time.at(a.minute, () => this.arrive(a));
    }
    // Counters in force when the played part begins, then each change.
    for (const [hhmm, open] of Object.entries(s.counters)) this.time.at(Math.max(minuteOf(hhmm), this.time.fromMin), () => this.openCounters(open));
    const initial = atMinute(s.counters, this.time.fromMin);
    if (initial) this.openCounters(initial);
    for (const u of s.unattended) this.time.at(minuteOf(u.at), () => this.incidents.unattended(u));
    for (const f of s.failures) this.time.at(minuteOf(f.at), () => this.incidents.fail(f));
    for (const c of s.crowds) this.time.at(minuteOf(c.at), () => this.incidents.crowd(c));
    this.time.later(() => {
      this.arrivalsDone = true;
      this.time.later(() => this.finished(), this.opts.drainMs ?? 2 * 3600_000);
      this.checkDone();
    }, this.time.timeOf(this.time.toMin) - this.clock.now());
  }

  private openCounters(open: Record<string, number>): void {
    for (const service of this.branch.services) this.counters.setOpen(service.id, open[service.id] ?? 0);
  }

  private arrive(a: Arrival): void {
    const now = this.clock.now();
    const c: Customer = { id: a.id, arrivedAt: now, kind: a.kind, kioskCapable: a.kioskCapable, diverted: false, promotionsSeen: 0, draw: a };
    if (a.segment) c.segment = a.segment;
    if (a.service) c.service = a.service;
    if (a.appointment) c.appointment = a.appointment;
    this.customers.push(c);
    this.inside += 1;
    const zone = entryZones(this.branch)[0];
    this.floor.arrive(c.id, zone, a.segment);
    if (this.greeting.get(zone)) c.greetedAt = now;
    if (this.welcoming.get(zone)) c.welcomedAt = now;
    if (a.segment === 'vip') this.expected.push({ type: 'vip-arrival', subject: `${zone}@`, at: now });
    this.time.later(() => void this.afterEntrance(c).catch((e: Error) => (this.error ??= e)), a.entranceMs);
  }

  private async afterEntrance(c: Customer): Promise<void> {
    const waiting = waitingZones(this.branch)[0] ?? entryZones(this.branch)[0];
    if (c.kind === 'browse') {
      this.floor.move(c.id, waiting);
      return this.time.later(() => this.leave(c), c.draw.stayMs);
    }
    if (c.kind === 'self-serve') return this.toKiosks(c);
    const queue = [...this.fleet.queues.values()][0];
    // The time the ticket's `issued` carries (read as the call sends it), not its broker ack's.
    const issuedAt = this.clock.now();
    c.ticket = await queue.issue(c.service!, c.appointment);
    c.queuedAt = issuedAt;
    this.ticketsWaiting += 1;
    for (const begin of this.emptyPosts.splice(0)) begin(c.queuedAt);
    this.floor.move(c.id, waiting);
    this.counters.join(c);
    const longWaitMs = this.branch.rules.longWaitMin * 60_000;
    this.time.later(() => {
      if (this.counters.waiting(c.service).includes(c)) this.expected.push({ type: 'long-wait', subject: `${c.service}/${c.ticket}`, at: this.clock.now() });
    }, longWaitMs);
    this.time.later(() => {
      if (!this.counters.leave(c)) return;
      c.abandonedAt = this.clock.now();
      this.ticketsWaiting -= 1;
      this.send(queue.abandon(c.ticket!, c.service!));
      this.time.later(() => this.leave(c), 10_000);
    }, c.draw.stayMs);
  }

  private toKiosks(c: Customer): void {
    this.floor.move(c.id, this.kiosks.zoneFor(c.service!)!);
    c.queuedAt ??= this.clock.now();
    this.kiosks.join(c);
  }

  private startService(c: Customer, by: 'counter' | 'kiosk', zone: string | undefined): void {
    c.serviceAt = this.clock.now();
    if (by === 'counter') this.ticketsWaiting -= 1; // called
    c.servedBy = by;
    if (zone) this.floor.move(c.id, zone);
  }

  private served(c: Customer, by: 'counter' | 'kiosk'): void {
    c.servedAt = this.clock.now();
    c.servedBy = by;
    this.time.later(() => this.leave(c), 20_000);
  }

  private leave(c: Customer): void {
    this.floor.leave(c.id);
    c.leftAt = this.clock.now();
    this.inside -= 1;
    this.checkDone();
  }

  private checkDone(): void {
    if (this.arrivalsDone && this.inside === 0) this.finished();
  }

  /** Customers react to what the hub has the devices do. */
  private onWork(device: WorkerSim, cmd: TaskCommand, phase: 'started' | 'ended'): void {
    const now = this.clock.now();
    if (phase === 'started') this.tasksStarted[cmd.type] = (this.tasksStarted[cmd.type] ?? 0) + 1;
    const step = phase === 'started' ? 1 : -1;
    if (cmd.type === 'greet') {
      const zone = String(cmd.params.zone);
      this.greeting.set(zone, (this.greeting.get(zone) ?? 0) + step);
      if (phase === 'started') for (const c of this.peopleIn(zone)) c.greetedAt ??= now;
    } else if (cmd.type === 'display' && cmd.params.view === 'welcome' && device.identity.zone) {
      const zone = device.identity.zone;
      this.welcoming.set(zone, (this.welcoming.get(zone) ?? 0) + step);
      if (phase === 'started') for (const c of this.peopleIn(zone)) c.welcomedAt ??= now;
    } else if (cmd.type === 'promote' && phase === 'started') {
      for (const c of [...this.counters.waiting(), ...this.kiosks.waiting]) c.promotionsSeen += 1;
    } else if (cmd.type === 'guide' && phase === 'started') {
      this.guided(cmd.params as { toZone: string; service?: string; ticket?: string }, now);
    }
  }

  /**
   * A robot comes to guide a ticket's holder (without a ticket: whoever of the service came last and was not asked yet)
   * to the kiosks, or an appointment's customer to their service's zone, where they keep their place in line.
   */
  private guided(p: { toZone: string; service?: string; ticket?: string }, now: number): void {
    const line = p.service ? this.counters.waiting(p.service) : [];
    const c = p.ticket !== undefined ? line.find((x) => x.ticket === p.ticket) : line.findLast((x) => x.guideOfferedAt === undefined);
    if (!c) return;
    // An appointment's arrival (contract section 5): the robot takes them to their service's zone, not to the kiosks.
    if (c.appointment && p.toZone !== this.kiosks.zoneFor(c.service!)) {
      c.escortedAt ??= now;
      return;
    }
    c.guideOfferedAt = now;
    if (!c.draw.followsGuide || !this.counters.leave(c)) return;
    c.diverted = true;
    this.time.later(() => this.toKiosks(c), c.draw.walkMs);
  }

  private peopleIn(zone: string): Customer[] {
    return this.customers.filter((c) => c.leftAt === undefined && this.floor.zoneOf(c.id) === zone);
  }

  private send(p: Promise<unknown> | undefined): void {
    p?.catch((e: Error) => (this.error ??= e));
  }
}
