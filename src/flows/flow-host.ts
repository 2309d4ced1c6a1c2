import { Logger } from '@nestjs/common';
import { createActor, type Actor, type AnyStateMachine, type EventObject } from 'xstate';
import type { AlertType } from '../alerts/alert-types.js';
import { isoOf, type Clock } from '../clock/clock.js';
import type { Deadline } from '../schedule/deadline.js';
import type { FlowStateRepository, StoredFlow } from './flow-state.repository.js';

/** An event for a flow actor: a type and its fields. */
export type FlowEvent = EventObject & Record<string, unknown>;

/** A flow machine as the host knows it: its name and version are stored with every snapshot. */
export interface FlowDef {
  name: string;
  /** Raise it when the machine's states or context change shape: stored snapshots of another version are dropped. */
  version: number;
  machine: AnyStateMachine;
}

/** What flow machines emit (XState `emit`): the host carries it out. Machines do no I/O themselves. */
export type FlowEffect =
  | { type: 'raise'; alert: AlertType; subject: string; message: string; data: Record<string, unknown> }
  | { type: 'clear'; alert: AlertType; subject: string }
  /** A durable deadline: at `at` (hub ms), `event` comes back to this actor, across restarts. */
  | { type: 'schedule'; timer: string; at: number; event: FlowEvent }
  | { type: 'unschedule'; timer: string }
  /** Anything else (dispatch work) goes to the branch's own handler. */
  | { type: 'guide'; toZone: string; service: string; ticket?: string; at: number }
  | { type: 'notice'; service: string; toZone: string; at: number }
  | { type: 'promote'; campaign: string; at: number };

export interface FlowPorts {
  clock: Clock;
  repo: FlowStateRepository;
  /** Carries out one effect, in the owner's turn. */
  effect(effect: FlowEffect, actor: { key: string; machine: string }): Promise<void>;
}

interface Live {
  def: FlowDef;
  actor: Actor<AnyStateMachine>;
  emitted: FlowEffect[];
  /** The snapshot last stored: an event that changed nothing is not written again (the hot path). */
  saved: string | null;
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

  constructor(
    private readonly branchId: string,
    private readonly defs: FlowDef[],
    private readonly p: FlowPorts,
  ) {
    this.logger = new Logger(`Flows ${branchId}`);
  }

  async load(): Promise<void> {
    this.stored = new Map((await this.p.repo.all(this.branchId)).map((f) => [f.actor, f]));
  }

  /** Actors with a stored or live state, of one machine. */
  keys(machine: string): string[] {
    return [...new Set([...this.live.keys(), ...this.stored.keys()])].filter((k) => (this.live.get(k)?.def.name ?? this.stored.get(k)?.machine) === machine);
  }

  /** Sends `event` to actor `key`, creating it with `input` when it has no state yet. */
  async send(key: string, def: FlowDef, input: unknown, event: FlowEvent): Promise<void> {
    await this.deliver(this.actor(key, def, input), key, event);
  }

  /** Creates actor `key` if it has no state yet (its entry effects are carried out and it is stored). */
  async ensure(key: string, def: FlowDef, input: unknown): Promise<void> {
    if (this.live.has(key)) return;
    await this.deliver(this.actor(key, def, input), key, null);
  }

  /** Sends only to an actor that exists (live or stored): signals about something no flow is following are dropped. */
  async sendIfExists(key: string, def: FlowDef, event: FlowEvent): Promise<void> {
    if (this.live.has(key) || this.stored.get(key)?.machine === def.name) await this.deliver(this.actor(key, def, undefined), key, event);
  }

  /** A flow deadline fell due: its event goes back to the actor that scheduled it. */
  async deadline(d: Deadline): Promise<void> {
    const def = this.defs.find((f) => f.name === d.data.machine);
    if (def) await this.sendIfExists(String(d.data.actor), def, d.data.event as FlowEvent);
  }

  stop(): void {
    for (const { actor } of this.live.values()) actor.stop();
    this.live.clear();
  }

  snapshotOf(key: string): unknown {
    return this.live.get(key)?.actor.getSnapshot();
  }

  private actor(key: string, def: FlowDef, input: unknown): Live {
    const existing = this.live.get(key);
    if (existing) return existing;
    const stored = this.stored.get(key);
    this.stored.delete(key);
    const current = stored && stored.machine === def.name && stored.version === def.version;
    if (stored && !current) this.logger.warn(`${key}: stored state of ${stored.machine} v${stored.version} dropped (now ${def.name} v${def.version}); starting afresh`);
    const actor = createActor(def.machine, { clock: this.p.clock, ...(current ? { snapshot: stored.snapshot as never } : { input }) });
    const live: Live = { def, actor, emitted: [], saved: current ? JSON.stringify(stored.snapshot) : null };
    actor.on('*', (e) => live.emitted.push(e as FlowEffect));
    actor.subscribe({ error: (e) => this.logger.error(`${key}: ${String(e)}`) });
    actor.start();
    this.live.set(key, live);
    return live;
  }

  private async deliver(live: Live, key: string, event: FlowEvent | null): Promise<void> {
    if (event) live.actor.send(event);
    const effects = live.emitted.splice(0);
    for (const effect of effects) await this.p.effect(effect, { key, machine: live.def.name });
    if (live.actor.getSnapshot().status === 'done') {
      live.actor.stop();
      this.live.delete(key);
      await this.p.repo.remove(this.branchId, key);
      return;
    }
    const snapshot = live.actor.getPersistedSnapshot();
    const text = JSON.stringify(snapshot);
    if (text === live.saved) return;
    await this.p.repo.save(this.branchId, { actor: key, machine: live.def.name, version: live.def.version, snapshot }, isoOf(this.p.clock));
    live.saved = text;
  }
}
