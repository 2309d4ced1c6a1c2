import { emit, setup } from 'xstate';
import type { FlowDef, FlowEffect } from '../flow-host.js';

export interface DeviceHealthInput {
  deviceId: string;
  kind: string;
}

/** What the registry says now: after every presence or state change of the device. */
export type DeviceHealthEvent =
  | { type: 'CHECK'; online: boolean; fault: boolean; zone: string | null; at: number }
  /** Connected before a hub restart and not back within `deviceReturnSec`. */
  | { type: 'NOT_BACK'; zone: string | null; at: number };

type Reason = 'offline' | 'fault' | 'not-back';
const said: Record<Reason, string> = { offline: 'went offline', fault: 'reports a fault', 'not-back': 'did not come back after the hub restarted' };

/**
 * Device health of one device (contract section 5): offline or `fault` raises a `device-down` alert,
 * cleared when it is online again and not faulty. (Its tasks are moved by the task book.) After a hub
 * restart nobody is connected, which is not news; a device expected back and not back in time is down.
 * Re-triggering: while down, a change of reason (offline → fault) keeps the one open alert.
 */
export const deviceHealthMachine = setup({
  types: { context: {} as DeviceHealthInput, input: {} as DeviceHealthInput, events: {} as DeviceHealthEvent, emitted: {} as FlowEffect },
  actions: {
    down: emit(({ context, event }, params: { reason: Reason }) => ({
      type: 'raise' as const,
      alert: 'device-down' as const,
      subject: context.deviceId,
      message: `${context.kind} ${context.deviceId} ${said[params.reason]}`,
      data: { deviceId: context.deviceId, kind: context.kind, zone: event.zone, reason: params.reason === 'fault' ? 'fault' : 'offline' },
    })),
    up: emit(({ context }) => ({ type: 'clear' as const, alert: 'device-down' as const, subject: context.deviceId })),
  },
  guards: {
    offline: ({ event }) => event.type === 'CHECK' && !event.online,
    faulty: ({ event }) => event.type === 'CHECK' && event.online && event.fault,
    healthy: ({ event }) => event.type === 'CHECK' && event.online && !event.fault,
  },
}).createMachine({
  id: 'device-health',
  context: ({ input }) => input,
  initial: 'up',
  states: {
    up: {
      on: {
        CHECK: [
          { guard: 'offline', target: 'down', actions: { type: 'down', params: { reason: 'offline' } } },
          { guard: 'faulty', target: 'down', actions: { type: 'down', params: { reason: 'fault' } } },
        ],
        NOT_BACK: { target: 'down', actions: { type: 'down', params: { reason: 'not-back' } } },
      },
    },
    down: {
      on: { CHECK: { guard: 'healthy', target: 'up', actions: 'up' } },
    },
  },
});

export const deviceHealthFlow: FlowDef = { name: 'device-health', version: 1, machine: deviceHealthMachine, alertOf: (actor) => ({ alert: 'device-down', subject: actor.slice('device-health:'.length) }) };
