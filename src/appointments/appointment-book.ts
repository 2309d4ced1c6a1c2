import type { Clock } from '../clock/clock.js';
import { serviceZone, type BranchConfig } from '../config/config.schema.js';
import { appointmentRequest } from '../contracts/uplink.js';
import { formatIssues } from '../contracts/validate.js';
import type { AppointmentState, AppointmentView, Task } from '../contracts/views.js';
import type { HubEventMap, HubEvents } from '../hub-events.js';
import type { Deadline, DeadlineChanges } from '../schedule/deadline.js';
import type { Scheduler } from '../schedule/scheduler.service.js';
import type { CreateTask } from '../tasks/task-book.js';
import { LIVE_STATES, type AppointmentRepository } from './appointment.repository.js';

export interface AppointmentPorts {
  clock: Clock;
  appointments: AppointmentRepository;
  scheduler: Scheduler;
  events: HubEvents;
  logger: { warn(m: string): void };
}

const key = (a: AppointmentView, what: 'due' | 'missed') => `appointment:${a.branchId}:${a.requestId}:${what}`;
const none: DeadlineChanges = { set: [], clear: [] };

/**
 * One branch's appointments (contract section 5): a request from headquarters is accepted or rejected with a
 * reason, once per `requestId` (a redelivery repeats the last status); `due` raises `appointment-due`
 * `appointmentLeadMin` before its time; a ticket issued with its `ref` makes it `arrived` and sends a robot to
 * guide the customer to the service's zone; its ticket served makes it `served`; no ticket by
 * `appointmentGraceMin` after its time makes it `missed`. Every status is stored with its deadlines and
 * headquarters' event in one transaction. Called only by the branch's owner, one event at a time.
 *
 * The live ones (booked, due, arrived) are kept in memory, taken over from the database, so a ticket event looks
 * its appointment up without a query (every `served` asks: it is on the hot path of the queue system).
 */
export class AppointmentBook {
  /** Live appointments by ref. */
  private readonly live = new Map<string, AppointmentView>();

  constructor(
    private readonly branch: BranchConfig,
    private readonly p: AppointmentPorts,
    private readonly createTask: (req: CreateTask) => Promise<Task | null>,
  ) {}

  /** The live appointments as stored, oldest change first. */
  load(live: AppointmentView[]): void {
    this.live.clear();
    for (const a of live) this.live.set(a.ref, a);
  }

  async request(payload: Buffer): Promise<void> {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch (e) {
      return this.p.logger.warn(`${this.branch.id}: request from headquarters is not JSON (${(e as Error).message}): not answerable`);
    }
    const requestId = json?.requestId;
    if (typeof requestId !== 'string' || !requestId || requestId.length > 64) {
      return this.p.logger.warn(`${this.branch.id}: request from headquarters without a usable requestId: not answerable`);
    }
    const known = await this.p.appointments.get(this.branch.id, requestId);
    if (known) return this.p.appointments.repeat(known);
    const now = this.p.clock.now();
    const parsed = appointmentRequest.safeParse(json);
    const text = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : '');
    const r = parsed.success ? parsed.data : { ref: text(json.ref, 64), service: text(json.service, 32), at: text(json.at, 30), segment: undefined, note: undefined };
    const reason = !parsed.success
      ? formatIssues(parsed.error.issues).slice(0, 200)
      : !this.branch.services.some((s) => s.id === r.service)
        ? `unknown service "${r.service}"`
        : Date.parse(r.at) <= now
          ? `its time ${r.at} has passed`
          : this.live.has(r.ref)
            ? `ref ${r.ref} is already booked`
            : null;
    const iso = new Date(now).toISOString();
    const a: AppointmentView = {
      branchId: this.branch.id,
      requestId,
      ref: r.ref,
      service: r.service,
      at: parsed.success ? new Date(r.at).toISOString() : r.at,
      segment: r.segment ?? null,
      note: r.note ?? null,
      state: reason ? 'rejected' : 'accepted',
      reason,
      ticket: null,
      createdAt: iso,
      updatedAt: iso,
    };
    const rules = this.branch.rules;
    const at = Date.parse(a.at);
    const deadlines = reason ? none : { set: [this.timer(a, 'due', Math.max(now, at - rules.appointmentLeadMin * 60_000)), this.timer(a, 'missed', at + rules.appointmentGraceMin * 60_000)], clear: [] };
    await this.store(a, deadlines);
  }

  /** Idempotent: a deadline fired again after a crash raises (or clears) what the first time may not have. */
  async deadline(d: Deadline): Promise<void> {
    const a = await this.p.appointments.get(this.branch.id, String(d.data.requestId));
    if (!a) return;
    if (d.kind === 'appointment-due' && (a.state === 'accepted' || a.state === 'due')) {
      if (a.state === 'accepted') await this.store(this.next(a, 'due'), none);
      // In the hub's time zone: the branch's, on its edge box.
      const time = new Date(a.at).toTimeString().slice(0, 5);
      await this.p.events.emit('alertRaise', {
        branchId: a.branchId,
        type: 'appointment-due',
        subject: a.ref,
        message: `Appointment ${a.ref} (${a.service}) due at ${time}`,
        data: { requestId: a.requestId, ref: a.ref, service: a.service, at: a.at },
      });
    }
    if (d.kind === 'appointment-missed') {
      if (a.state === 'accepted' || a.state === 'due') await this.store(this.next(a, 'missed'), { set: [], clear: [key(a, 'due')] });
      await this.p.events.emit('alertClear', { branchId: a.branchId, type: 'appointment-due', subject: a.ref });
    }
  }

  /** A ticket event: issued with an appointment's ref (arrived); its ticket served (served) or abandoned (missed). */
  async queue(e: HubEventMap['queue']): Promise<void> {
    if (e.event === 'issued' && e.appointment) {
      const a = this.live.get(e.appointment);
      if (!a || a.state === 'arrived') return;
      await this.store({ ...this.next(a, 'arrived'), ticket: e.ticket }, { set: [], clear: [key(a, 'due'), key(a, 'missed')] });
      await this.p.events.emit('alertClear', { branchId: a.branchId, type: 'appointment-due', subject: a.ref });
      const service = this.branch.services.find((s) => s.id === a.service)!;
      await this.createTask({ type: 'guide', params: { toZone: serviceZone(service), service: a.service, ticket: e.ticket }, origin: 'flow:appointment' });
    } else if (e.event === 'served' || e.event === 'abandoned') {
      const a = this.byTicket(e.service, e.ticket);
      if (a) await this.store({ ...this.next(a, e.event === 'served' ? 'served' : 'missed'), reason: e.event === 'abandoned' ? 'the customer left the line' : null }, none);
    }
  }

  /** The arrived one holding this ticket of this service; the latest, should a number come round again. */
  private byTicket(service: string, ticket: string): AppointmentView | undefined {
    let found: AppointmentView | undefined;
    for (const a of this.live.values()) if (a.state === 'arrived' && a.service === service && a.ticket === ticket && (!found || a.updatedAt >= found.updatedAt)) found = a;
    return found;
  }

  private next(a: AppointmentView, state: AppointmentState): AppointmentView {
    return { ...a, state, updatedAt: new Date(this.p.clock.now()).toISOString() };
  }

  private timer(a: AppointmentView, what: 'due' | 'missed', at: number): Deadline {
    return { key: key(a, what), branchId: a.branchId, kind: what === 'due' ? 'appointment-due' : 'appointment-missed', dueAt: new Date(at).toISOString(), data: { requestId: a.requestId } };
  }

  private async store(a: AppointmentView, deadlines: DeadlineChanges): Promise<void> {
    await this.p.appointments.save(a, deadlines);
    if (LIVE_STATES.includes(a.state)) this.live.set(a.ref, a);
    else if (this.live.get(a.ref)?.requestId === a.requestId) this.live.delete(a.ref);
    this.p.scheduler.applied(deadlines);
    await this.p.events.emit('appointmentChanged', { branchId: a.branchId, appointment: a });
  }
}
