import { Injectable, Logger } from '@nestjs/common';
import type { AlertType } from './alerts/alert-types.js';
import type { AckPayload, ConductPayload, DeviceStatus, ErrorCode, QueuePayload } from './contracts/payloads.js';
import type { AlertView, AppointmentView, BranchSummary, DeviceView, Task, UplinkView } from './contracts/views.js';

/** Every in-process domain event, named and typed once. Each carries its branch; payloads are plain objects. */
export interface HubEventMap {
  // Signals: from the broker (presence) and ingest (the rest); each is handled by its branch's owner.
  presence: { branchId: string; deviceId: string; online: boolean; since: Date };
  deviceState: { branchId: string; deviceId: string; status: DeviceStatus; zone?: string; battery?: number; at: Date };
  footfall: { branchId: string; deviceId: string; zone: string; direction: 'in' | 'out'; count: number; segment?: string; at: Date };
  occupancy: { branchId: string; deviceId: string; zone: string; count: number; at: Date };
  post: { branchId: string; deviceId: string; post: string; staffed: boolean; at: Date };
  /** An anonymous track entering or leaving a zone (`outside`: it left the branch). */
  track: { branchId: string; deviceId: string; track: string; zone: string; event: 'enter' | 'exit'; at: Date };
  conduct: { branchId: string; deviceId: string; type: ConductPayload['type']; zone?: string; post?: string; detail?: string; at: Date };
  queue: { branchId: string; deviceId: string; at: Date } & QueuePayload;
  ack: { branchId: string; deviceId: string; at: Date; topic: string } & AckPayload;
  /** A signal that passed validation but was refused by its owner (an ack for an unknown task): ingest answers it. */
  signalRejected: { branchId: string; deviceId: string; topic: string; code: ErrorCode; detail: string };
  /** A flow or the task lifecycle asks for an alert; alerts raises it once per open condition. */
  alertRaise: { branchId: string; type: AlertType; subject: string; message: string; data: Record<string, unknown> };
  /** The condition behind an alert ended. */
  alertClear: { branchId: string; type: AlertType; subject: string };
  /** A request from headquarters' broker (`hq/{b}/requests`), raw, handed by the uplink to its branch's owner, which parses and answers it. */
  hqRequest: { branchId: string; payload: Buffer };
  // What the dashboard shows changed.
  deviceChanged: { branchId: string; device: DeviceView };
  taskChanged: { branchId: string; task: Task };
  alertChanged: { branchId: string; alert: AlertView };
  summary: { branchId: string; summary: BranchSummary };
  uplinkChanged: { branchId: string; uplink: UplinkView };
  appointmentChanged: { branchId: string; appointment: AppointmentView };
}
export type HubEventName = keyof HubEventMap;
type Listener<K extends HubEventName> = (event: HubEventMap[K]) => void | Promise<void>;

/**
 * The in-process event bus. `emit` runs listeners one after another and resolves when all are done,
 * so an MQTT message is fully handled before the broker takes the device's next read (back-pressure).
 * The first listener is called before `emit` returns: a signal reaches its branch's turns in emit order.
 * A failing listener is logged and never stops the others.
 */
@Injectable()
export class HubEvents {
  private readonly logger = new Logger(HubEvents.name);
  private readonly listeners = new Map<HubEventName, Listener<never>[]>();

  on<K extends HubEventName>(name: K, listener: Listener<K>): () => void {
    const list = (this.listeners.get(name) ?? []) as Listener<K>[];
    list.push(listener);
    this.listeners.set(name, list as Listener<never>[]);
    return () => list.splice(list.indexOf(listener), 1);
  }

  emit<K extends HubEventName>(name: K, event: HubEventMap[K]): Promise<void> {
    const list = (this.listeners.get(name) ?? []) as Listener<K>[];
    // Most events have one listener (every device message: its branch's owner): its own promise, no loop around it.
    return list.length === 1 ? this.call(name, list[0], event) : this.callEach(name, list, event);
  }

  private async callEach<K extends HubEventName>(name: K, list: Listener<K>[], event: HubEventMap[K]): Promise<void> {
    for (const listener of [...list]) await this.call(name, listener, event);
  }

  /** Resolves once the listener is done; never rejects. */
  private call<K extends HubEventName>(name: K, listener: Listener<K>, event: HubEventMap[K]): Promise<void> {
    try {
      const done = listener(event);
      if (done) return done.then(undefined, (e: unknown) => this.failed(name, e));
    } catch (e) {
      this.failed(name, e);
    }
    return Promise.resolve();
  }

  private failed(name: HubEventName, e: unknown): void {
    this.logger.error(`listener of "${name}" failed: ${(e as Error).stack ?? String(e)}`);
  }
}
