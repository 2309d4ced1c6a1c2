import { Logger } from '@nestjs/common';
import { createActor, type Actor, type AnyStateMachine, type EventObject } from 'xstate';
import type { AlertType } from '../alerts/alert-types.js';
import { isoAt, isoOf, type Clock } from '../clock/clock.js';
import type { Deadline, DeadlineChanges } from '../schedule/deadline.js';
import type { Scheduler } from '../schedule/scheduler.service.js';
import type { FlowStateRepository, StoredFlow } from './flow-state.repository.js';

/** An event for a flow actor: a type and its fields. */
export type FlowEvent = EventObject & Record<string, unknown>;

/** A flow machine as the host knows it: its name and version are stored with every snapshot. */
export interface FlowDef {
  name: string;
  /** Raise it when the machine's states or context change shape: stored snapshots of another version are dropped. */
  version: number;
  machine: AnyStateMachine;
  /** The condition alert an actor of this machine may hold open: closed when a stale actor is dropped (its new one raises it again if the condition holds). */
  alertOf?: (actor: string) => { alert: AlertType; subject: string };
}

/** What flow machines emit (XState `emit`): the host carries it out. Machines do no I/O themselves. */
export type FlowEffect =
  | { type: 'raise'; alert: AlertType; subject: string; message: string; data: Record<string, unknown> }
  | { type: 'clear'; alert: AlertType; subject: string }
  /** A durable deadline: at `at` (hub ms), `event` comes back to this actor, across restarts (stored with the actor's state). */
  | { type: 'schedule'; timer: string; at: number; event: FlowEvent }
  | { type: 'unschedule'; timer: string }
  /** Dispatching work goes to the branch's own handler. */
  | { type: 'guide'; toZone: string; service: string; ticket?: string; at: number }
  | { type: 'notice'; service: string; toZone: string; at: number }
  | { type: 'promote'; campaign: string; at: number };

export interface FlowPorts {
  clock: Clock;
  repo: FlowStateRepository;
  scheduler: Scheduler;
  /** Carries out one effect other than a deadline, in the owner's turn. */
  effect(effect: Exclude<FlowEffect, { type: 'schedule' | 'unschedule' }>, actor: { key: string; machine: string }): Promise<void>;
  /** A write the turn does not wait for: the owner logs it if it fails. */
  leaveBehind(written: Promise<unknown>): void;
}

/** The deadline key of an actor's timer. */
export const flowTimerKey = (branchId: string, actor: string, timer: string) => `flow:${branchId}:${actor}:${timer}`;
/** The timer of an actor's start (`startAt`). */
const START_TIMER = 'start';

interface Live {
  def: FlowDef;
  actor: Actor<AnyStateMachine>;
  emitted: FlowEffect[];
  /** The snapshot last stored: an event that changed nothing is not written again (the hot path). */
  saved: string | null;
  /** The actor's snapshot object `saved` was taken from: XState keeps the same object when an event changes nothing. */
  savedFrom: unknown;
  /** What `sendChanged` last delivered, if it was the actor's last event. */
  lastRepeatable?: string;
}

/**
 * Runs a branch's durable flow actors (one per zone, ticket, post, service or branch): each event is sent,
 * what the machine emitted is carried out, then its snapshot is stored as `{machine, version, snapshot}`.
 * At start-up actors come back from their snapshots (entry actions are not replayed); a snapshot of
 * another machine version is dropped and the actor starts afresh from the live model. Timers that matter
 * are durable deadlines (`schedule` effects), never XState delays, so a restart keeps them.
 */
export class FlowHost {
  private readonly logger: Logger;
  private readonly live = new Map<string, Live>();
  private stored = new Map<string, StoredFlow>();
  /** Deadline changes asked but not yet stored (key → new due time, null: dropped): a timer at the old time is stale. */
  private readonly unstored = new Map<string, string | null>();
  /** Actors whose write failed: memory may be ahead of the database, so they are read back before their next event. */
  private readonly unsure = new Set<string>();

  constructor(
    private readonly branchId: string,
    private readonly defs: FlowDef[],
    private readonly p: FlowPorts,
  ) {
    this.logger = new Logger(`Flows ${branchId}`);
  }

  /**
   * The stored actors. One stored by another version of its machine is dropped now — its alert closed, its row
   * deleted — and starts afresh from the live model when the next signal about it comes with its input.
   */
  async load(stored: StoredFlow[]): Promise<void> {
    this.stored.clear();
    for (const f of stored) {
      const def = this.defs.find((d) => d.name === f.machine);
      if (def?.version === f.version) {
        this.stored.set(f.actor, f);
        continue;
      }
      this.logger.warn(`${f.actor}: stored state of ${f.machine} v${f.version} dropped (now v${def?.version ?? 'none'}); it starts afresh`);
      const held = def?.alertOf?.(f.actor);
      if (held) await this.p.effect({ type: 'clear', ...held }, { key: f.actor, machine: f.machine });
      await this.p.repo.save(this.branchId, f.actor, null, isoOf(this.p.clock), { set: [], clear: [] });
    }
  }

  /** Actors with a stored or live state, of one machine. */
  keys(machine: string): string[] {
    const keys: string[] = [];
    for (const [key, live] of this.live) if (live.def.name === machine) keys.push(key);
    for (const [key, stored] of this.stored) if (stored.machine === machine && !this.live.has(key)) keys.push(key);
    return keys;
  }

  /** Sends `event` to actor `key`, creating it with `input` when it has no state yet. */
  async send(key: string, def: FlowDef, input: unknown, event: FlowEvent): Promise<void> {
    await this.reloadIfUnsure(key);
    await this.deliver(this.actor(key, def, input), key, event);
  }

  /**
   * Like `send`, for an event that is sent again and again with the same content (`content`, a text of the fields that
   * matter): dropped when the actor's last event was that same one. Only for events that, repeated, change nothing in
   * their machine — the diversion's estimate after every device state, the waiting count after every ticket event:
   * an XState transition that does nothing was a fifth of such a message's cost (BENCHMARKS.md, part 10). Without
   * `input`, only to an actor that exists, as `sendIfExists`.
   */
  async sendChanged(key: string, def: FlowDef, input: unknown, event: FlowEvent, content: string): Promise<void> {
    await this.reloadIfUnsure(key);
    if (input === undefined && !this.exists(key, def)) return;
    const live = this.actor(key, def, input);
    if (live.lastRepeatable === content) return;
    await this.deliver(live, key, event);
    live.lastRepeatable = content;
  }

  /** Creates actor `key` if it has no state yet (its entry effects are carried out and it is stored). */
  async ensure(key: string, def: FlowDef, input: unknown): Promise<void> {
    await this.reloadIfUnsure(key);
    if (this.live.has(key)) return;
    await this.deliver(this.actor(key, def, input), key, null);
  }

  /**
   * Actor `key` starts only when `event` comes, at `at` (hub ms): until then it is nothing but a stored deadline that
   * carries its input (set again, it moves). For a flow most of whose subjects end before it has anything to do — a
   * ticket's long wait: most tickets are called first — an actor created, stored and deleted for each was ~12 % of a
   * queue message (BENCHMARKS.md, part 11). Nothing happens if the actor exists already.
   */
  async startAt(key: string, def: FlowDef, input: unknown, at: number, event: FlowEvent): Promise<void> {
    await this.reloadIfUnsure(key);
    if (this.exists(key, def)) return;
    const d: Deadline = { key: flowTimerKey(this.branchId, key, START_TIMER), branchId: this.branchId, kind: 'flow', dueAt: isoAt(at), data: { actor: key, machine: def.name, event, input } };
    this.store(key, undefined, { set: [d], clear: [] });
  }

  /**
   * Sends `event` to actor `key` if it has started (as `sendIfExists`); one that has not never will: its start is
   * dropped — also one that is falling due right now and waits for this branch's turn (it then finds itself dropped).
   */
  async sendOrCancelStart(key: string, def: FlowDef, event: FlowEvent): Promise<void> {
    await this.reloadIfUnsure(key);
    if (this.exists(key, def)) return this.deliver(this.actor(key, def, undefined), key, event);
    this.store(key, undefined, { set: [], clear: [flowTimerKey(this.branchId, key, START_TIMER)] });
  }

  /** Sends only to an actor that exists (live or stored): signals about something no flow is following are dropped. */
  async sendIfExists(key: string, def: FlowDef, event: FlowEvent): Promise<void> {
    await this.reloadIfUnsure(key);
    if (this.exists(key, def)) await this.deliver(this.actor(key, def, undefined), key, event);
  }

  private exists(key: string, def: FlowDef): boolean {
    return this.live.has(key) || this.stored.get(key)?.machine === def.name;
  }

  /** A flow deadline fell due: its event goes back to the actor that scheduled it. */
  async deadline(d: Deadline): Promise<void> {
    if (this.unstored.has(d.key) && this.unstored.get(d.key) !== d.dueAt) return; // moved or dropped by a turn whose write is under way
    const def = this.defs.find((f) => f.name === d.data.machine);
    if (!def) return;
    if (d.data.input !== undefined) await this.send(String(d.data.actor), def, d.data.input, d.data.event as FlowEvent); // its start (`startAt`)
    else await this.sendIfExists(String(d.data.actor), def, d.data.event as FlowEvent);
  }

  stop(): void {
    for (const { actor } of this.live.values()) actor.stop();
    this.live.clear();
  }

  /** The state an actor is in (live, else as stored), if it exists. */
  stateOf(key: string): unknown {
    return this.live.get(key)?.actor.getSnapshot().value ?? (this.stored.get(key)?.snapshot as { value?: unknown } | undefined)?.value;
  }

  private actor(key: string, def: FlowDef, input: unknown): Live {
    const existing = this.live.get(key);
    if (existing) return existing;
    const stored = this.stored.get(key);
    this.stored.delete(key);
    const actor = createActor(def.machine, { clock: this.p.clock, ...(stored ? { snapshot: stored.snapshot as never } : { input }) });
    const live: Live = { def, actor, emitted: [], saved: stored ? JSON.stringify(stored.snapshot) : null, savedFrom: undefined };
    actor.on('*', (e) => live.emitted.push(e as FlowEffect));
    actor.subscribe({ error: (e) => this.logger.error(`${key}: ${String(e)}`) });
    actor.start();
    this.live.set(key, live);
    return live;
  }

  /**
   * Sends the event, carries out what the actor emitted (alerts, work), then stores its state together with the
   * deadlines it set or dropped, behind the turn: nothing that leaves the hub waits for that write, and a timer
   * runs only once its row is stored. If an effect fails, nothing is stored and the actor is forgotten in memory:
   * it comes back from its stored state next time; if the write fails, it is read back from the database.
   */
  private async deliver(live: Live, key: string, event: FlowEvent | null): Promise<void> {
    live.lastRepeatable = undefined;
    if (event) live.actor.send(event);
    const current = live.actor.getSnapshot();
    if (current === live.savedFrom && !live.emitted.length) return; // nothing changed, without serialising it to see
    const changes: DeadlineChanges = { set: [], clear: [] };
    try {
      for (const effect of live.emitted.splice(0)) {
        if (effect.type === 'schedule') {
          const d: Deadline = { key: flowTimerKey(this.branchId, key, effect.timer), branchId: this.branchId, kind: 'flow', dueAt: isoAt(effect.at), data: { actor: key, machine: live.def.name, event: effect.event } };
          changes.set = [...changes.set.filter((x) => x.key !== d.key), d];
          changes.clear = changes.clear.filter((k) => k !== d.key);
        } else if (effect.type === 'unschedule') {
          const k = flowTimerKey(this.branchId, key, effect.timer);
          changes.set = changes.set.filter((x) => x.key !== k);
          changes.clear.push(k);
        } else await this.p.effect(effect, { key, machine: live.def.name });
      }
      const done = current.status === 'done';
      const snapshot = done ? null : live.actor.getPersistedSnapshot();
      const text = JSON.stringify(snapshot);
      if (!done && text === live.saved && !changes.set.length && !changes.clear.length) return void (live.savedFrom = current);
      this.store(key, snapshot === null ? null : { actor: key, machine: live.def.name, version: live.def.version, snapshot }, changes);
      live.saved = text;
      live.savedFrom = current;
      if (done) this.forget(key);
    } catch (e) {
      this.forget(key);
      if (live.saved !== null) this.stored.set(key, { actor: key, machine: live.def.name, version: live.def.version, snapshot: JSON.parse(live.saved) });
      throw e;
    }
  }

  /**
   * Stores the actor's state (`undefined`: its row stays as it is) and the deadlines it set or dropped, group-committed
   * in order and left behind the turn (the latest wins); deadlines are armed only once stored with the state that set
   * them. Commits resolve in order, so a later turn's change is armed after this one.
   */
  private store(key: string, flow: StoredFlow | null | undefined, changes: DeadlineChanges): void {
    const asked = [...changes.set.map((d) => [d.key, d.dueAt] as const), ...changes.clear.map((k) => [k, null] as const)];
    for (const [k, due] of asked) this.unstored.set(k, due);
    const stored = this.p.repo.save(this.branchId, key, flow, isoOf(this.p.clock), changes);
    const settled = () => asked.forEach(([k, due]) => this.unstored.get(k) === due && this.unstored.delete(k));
    const armed = stored.then(
      () => (asked.length && this.p.scheduler.applied(changes), settled()),
      (e) => (this.unsure.add(key), settled(), Promise.reject(e)),
    );
    this.p.leaveBehind(armed);
  }

  /** After a failed write, the actor starts again from what the database holds (in the owner's turn, like every change). */
  private async reloadIfUnsure(key: string): Promise<void> {
    if (!this.unsure.delete(key)) return;
    this.forget(key);
    const stored = await this.p.repo.find(this.branchId, key);
    if (stored) this.stored.set(key, stored);
    else this.stored.delete(key);
  }

  private forget(key: string): void {
    this.live.get(key)?.actor.stop();
    this.live.delete(key);
  }

}
