import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { createActor, fromPromise, type Actor } from 'xstate';
import { AlertsService } from '../alerts/alerts.service.js';
import { HUB_CONFIG } from '../config/config.module.js';
import { entryZones, type HubConfig } from '../config/config.schema.js';
import { HubEvents, type HubEventMap } from '../hub-events.js';
import { TasksService } from '../tasks/tasks.service.js';
import { greetingMachine, type GreetInput, type GreetOutcome } from './machines/greeting.machine.js';

/**
 * Hosts one greeting actor per entry zone of each branch and feeds it arrivals. Its state is a few
 * seconds of cooldown, so it is not persisted: after a restart every zone is ready to greet.
 */
@Injectable()
export class GreetingFlow implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(GreetingFlow.name);
  private readonly actors = new Map<string, Actor<typeof greetingMachine>>();

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly tasks: TasksService,
    private readonly alerts: AlertsService,
    events: HubEvents,
  ) {
    events.on('footfall', (e) => this.onFootfall(e));
  }

  onModuleInit(): void {
    const machine = greetingMachine.provide({
      actors: {
        greet: fromPromise<GreetOutcome, GreetInput>(({ input }) => this.greet(input)),
        showWelcome: fromPromise<void, GreetInput>(({ input }) => this.showWelcome(input)),
        alertVip: fromPromise<void, GreetInput>(async ({ input }) => {
          await this.alerts.raise(input.branchId, 'vip-arrival', `${input.zone}@${new Date(input.at).toISOString()}`, `VIP customer arrived at ${input.zone}`, { zone: input.zone });
        }),
      },
    });
    for (const branch of this.config.branches) {
      for (const zone of entryZones(branch)) {
        const actor = createActor(machine, { input: { branchId: branch.id, zone, cooldownMs: branch.rules.greetCooldownSec * 1000 } });
        actor.subscribe({ error: (e) => this.logger.error(`greeting ${branch.id}/${zone}: ${String(e)}`) });
        this.actors.set(`${branch.id}/${zone}`, actor.start());
      }
    }
  }

  onModuleDestroy(): void {
    for (const actor of this.actors.values()) actor.stop();
  }

  private onFootfall(e: HubEventMap['footfall']): void {
    if (e.direction !== 'in') return;
    this.actors.get(`${e.branchId}/${e.zone}`)?.send({ type: 'ARRIVAL', segment: e.segment, at: e.at.getTime() });
  }

  private async greet(input: GreetInput): Promise<GreetOutcome> {
    if (this.tasks.freeDevices(input.branchId, 'greet').length === 0) return 'no-robot';
    await this.tasks.create({
      branchId: input.branchId,
      type: 'greet',
      params: { zone: input.zone, ...(input.segment ? { segment: input.segment } : {}) },
      origin: 'flow:greeting',
      triggeredAt: new Date(input.at),
    });
    return 'greeted';
  }

  private async showWelcome(input: GreetInput): Promise<void> {
    if (this.tasks.freeDevices(input.branchId, 'display').every((d) => d.zone !== input.zone)) {
      this.logger.log(`arrival at ${input.branchId}/${input.zone}: no robot free and no screen in the zone`);
      return;
    }
    await this.tasks.create({
      branchId: input.branchId,
      type: 'display',
      params: { view: 'welcome', content: { zone: input.zone, ...(input.segment ? { segment: input.segment } : {}) } },
      zone: input.zone,
      origin: 'flow:greeting',
      triggeredAt: new Date(input.at),
    });
  }
}
