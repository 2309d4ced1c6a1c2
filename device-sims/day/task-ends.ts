import type { WorkerSim } from '../worker.js';

export type TaskEnds = Record<string, { completed: number; failed: number }>;

/**
 * Tallies, by task type, the `completed` and `failed` acks the devices deliver (counted once the broker has
 * them): what the hub can count. The tally stays live until the devices disconnect, so a task that ends
 * after the played part is in it, as it is in the hub. Once per fleet: each call wraps the devices' `ack` again.
 */
export function countTaskEnds(devices: Iterable<WorkerSim>): TaskEnds {
  const ends: TaskEnds = {};
  for (const device of devices) {
    const ack = device.ack.bind(device);
    device.ack = async (taskId, state, reason) => {
      await ack(taskId, state, reason);
      if (state !== 'completed' && state !== 'failed') return;
      // An ack names the task only: its type is in the command that brought it.
      const type = device.received.find((m) => m.payload.taskId === taskId && m.payload.type !== 'cancel')?.payload.type;
      if (typeof type !== 'string') return;
      (ends[type] ??= { completed: 0, failed: 0 })[state] += 1;
    };
  }
  return ends;
}
