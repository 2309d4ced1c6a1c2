import { Logger } from '@nestjs/common';
import { createActor, fromPromise, type Actor } from 'xstate';
import type { Clock } from '../clock/clock.js';
import { entryZones, type BranchConfig } from '../config/config.schema.js';
import type { Task } from '../contracts/views.js';
import type { HubEventMap } from '../hub-events.js';
import type { CreateTask } from '../tasks/task-book.js';
import { greetingMachine, type GreetInput, type GreetOutcome } from './machines/greeting.machine.js';

/** What the greeting needs from its branch's owner; each call runs as one of the owner's turns. */
export interface GreetingPorts {
  clock: Clock;
  createTask(req: CreateTask, opts: { onlyIfFree: boolean }): Promise<Task | null>;
  raiseAlert(subject: string, message: string, data: Record<string, unknown>): Promise<void>;
}

/**
 * One greeting actor per entry zone of a branch, on the hub's clock. Its state is seconds of cooldown,
 * so it is not persisted: after a restart every zone is ready to greet. A zone's actor starts at its first
 * arrival, in `ready` as it would have been all along: building a machine per branch and one actor per zone
 * at start-up was most of a thousand branches' take-over.
 */
export class GreetingFlow {
  private readonly logger = new Logger(GreetingFlow.name);
  private readonly actors = new Map<string, Actor<typeof greetingMachine>>();
  private readonly entry: string[];
  private machine?: typeof greetingMachine;
  private started = false;

  constructor(
    private readonly branch: BranchConfig,
    private readonly ports: GreetingPorts,
  ) {
    this.entry = entryZones(branch);
  }

  /** From now on arrivals at the entry zones are greeted. */
  start(): void {
    this.started = true;
  }

  stop(): void {
    this.started = false;
    for (const actor of this.actors.values()) actor.stop();
  }

  footfall(e: HubEventMap['footfall']): void {
    if (e.direction !== 'in' || !this.started || !this.entry.includes(e.zone)) return;
    (this.actors.get(e.zone) ?? this.startZone(e.zone)).send({ type: 'ARRIVAL', segment: e.segment, at: e.at.getTime() });
  }

  private startZone(zone: string): Actor<typeof greetingMachine> {
    this.machine ??= greetingMachine.provide({
      actors: {
        greet: fromPromise<GreetOutcome, GreetInput>(({ input }) => this.greet(input)),
        showWelcome: fromPromise<void, GreetInput>(({ input }) => this.showWelcome(input)),
        alertVip: fromPromise<void, GreetInput>(({ input }) =>
          this.ports.raiseAlert(`${input.zone}@${new Date(input.at).toISOString()}`, `VIP customer arrived at ${input.zone}`, { zone: input.zone }),
        ),
      },
    });
    const actor = createActor(this.machine, { clock: this.ports.clock, input: { branchId: this.branch.id, zone, cooldownMs: this.branch.rules.greetCooldownSec * 1000 } });
    actor.subscribe({ error: (e) => this.logger.error(`greeting ${this.branch.id}/${zone}: ${String(e)}`) });
    this.actors.set(zone, actor.start());
    return actor;
  }

  /** Checking for a free robot and creating its task are one turn of the owner: no robot can be taken in between. */
  private async greet(input: GreetInput): Promise<GreetOutcome> {
    const task = await this.ports.createTask(
      { type: 'greet', params: { zone: input.zone, ...(input.segment ? { segment: input.segment } : {}) }, origin: 'flow:greeting', triggeredAt: input.at },
      { onlyIfFree: true },
    );
    return task ? 'greeted' : 'no-robot';
  }

  private async showWelcome(input: GreetInput): Promise<void> {
    const task = await this.ports.createTask(
      {
        type: 'display',
        params: { view: 'welcome', content: { zone: input.zone, ...(input.segment ? { segment: input.segment } : {}) } },
        zone: input.zone,
        origin: 'flow:greeting',
        triggeredAt: input.at,
      },
      { onlyIfFree: true },
    );
    if (!task && this.branch.rules.autoDispatch) this.logger.debug(`arrival at ${input.branchId}/${input.zone}: no robot free and no screen in the zone`);
  }
}
