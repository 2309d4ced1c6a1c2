import type { TimerHandle } from '../src/clock/clock.js';
import type { AckState, DeviceStatus } from '../src/contracts/payloads.js';
import type { TaskCommand } from '../src/contracts/tasks.js';
import { SimDevice, type DeviceIdentity } from './device.js';
import { hash, Random } from './random.js';

type Range = readonly [min: number, max: number];

/** How a robot or screen behaves. Times in ms of the device's clock: a scaled clock plays them faster. */
export interface WorkProfile {
  acceptMs: Range;
  /** Before starting: a robot walks to the zone, a screen loads the content. */
  startMs: Range;
  /** Doing it: greeting, guiding, speaking, showing. */
  workMs: Partial<Record<TaskCommand['type'], Range>> & { default: Range };
  rejectRate: number;
  failRate: number;
  /** Never answers commands: a hung app, for ack-timeout tests. */
  mute: boolean;
  seed: number;
  /** Battery % a robot loses per hour of work (walking, talking); a service robot works about 8 hours on a charge. */
  drainPerWorkHour: number;
}

/** What a caller may override: any field, and any task type's work time. */
export type ProfileOverride = Partial<Omit<WorkProfile, 'workMs'>> & { workMs?: Partial<WorkProfile['workMs']> };

export const ROBOT_PROFILE: WorkProfile = {
  acceptMs: [150, 400],
  startMs: [2000, 6000],
  workMs: { greet: [4000, 8000], guide: [20000, 45000], announce: [3000, 6000], promote: [15000, 30000], default: [5000, 10000] },
  rejectRate: 0.03,
  failRate: 0.02,
  mute: false,
  seed: 1,
  drainPerWorkHour: 12,
};

export const SCREEN_PROFILE: WorkProfile = {
  acceptMs: [30, 80],
  startMs: [100, 300],
  workMs: { display: [10000, 20000], promote: [20000, 40000], announce: [5000, 8000], default: [8000, 12000] },
  rejectRate: 0.01,
  failRate: 0.005,
  mute: false,
  seed: 1,
  drainPerWorkHour: 0,
};

/**
 * A robot, screen or kiosk that obeys `cmd`: accepts (or sometimes rejects), takes a realistic time to
 * start and finish, sometimes fails, honours `cancel`, and reports its `state` honestly throughout.
 */
export class WorkerSim extends SimDevice {
  readonly profile: WorkProfile;
  private readonly random: Random;
  private current: { cmd: TaskCommand; timers: TimerHandle[]; since: number } | null = null;
  status: DeviceStatus = 'idle';
  battery: number | undefined;
  /** Task ids this device finished, in order. */
  readonly completed: string[] = [];
  /** Every status it reported, with when (its clock): what utilisation is computed from. */
  readonly statusLog: { at: number; status: DeviceStatus }[] = [];
  /** Told when a task's work starts (`started` acked) and when it ends (done, failed or cancelled): customers react to it. */
  onWork: ((cmd: TaskCommand, phase: 'started' | 'ended') => void) | undefined;

  constructor(identity: DeviceIdentity, profile: ProfileOverride = {}) {
    super(identity);
    const base = identity.kind === 'robot' ? ROBOT_PROFILE : SCREEN_PROFILE;
    this.profile = { ...base, ...profile, workMs: { ...base.workMs, ...profile.workMs } };
    this.random = new Random(this.profile.seed ^ hash(identity.id));
    this.battery = identity.kind === 'robot' ? 100 : undefined;
  }

  get busyWith(): string | null {
    return this.current?.cmd.taskId ?? null;
  }

  /** Reports a status (and zone/battery) on the `state` topic. */
  async report(status: DeviceStatus = this.status): Promise<void> {
    this.status = status;
    this.statusLog.push({ at: this.clock.now(), status });
    await this.publish('state', {
      status,
      ...(this.identity.zone ? { zone: this.identity.zone } : {}),
      ...(this.battery !== undefined ? { battery: Math.round(this.battery) } : {}),
    });
  }

  async ack(taskId: string, state: AckState, reason?: string): Promise<void> {
    await this.publish('ack', { taskId, state, ...(reason ? { reason } : {}) });
  }

  protected override async onConnected(): Promise<void> {
    await this.report();
  }

  protected override async onCommand(cmd: Record<string, unknown>): Promise<void> {
    if (cmd.type === 'cancel') return this.cancel(String(cmd.taskId));
    if (this.profile.mute) return;
    const task = cmd as unknown as TaskCommand;
    if (this.status === 'fault') return this.later(this.profile.acceptMs, () => this.ack(task.taskId, 'rejected', 'fault'));
    if (this.current) return this.later(this.profile.acceptMs, () => this.ack(task.taskId, 'rejected', `busy with ${this.current?.cmd.taskId}`));
    if (Date.parse(task.expiresAt) < this.clock.now()) return this.ack(task.taskId, 'rejected', 'expired');
    if (this.random.chance(this.profile.rejectRate)) return this.later(this.profile.acceptMs, () => this.ack(task.taskId, 'rejected', 'path blocked'));
    const job = { cmd: task, timers: [] as TimerHandle[], since: this.clock.now() };
    this.current = job;
    const step = (range: Range, fn: () => Promise<void>) => new Promise<void>((resolve) => job.timers.push(this.clock.setTimeout(() => fn().then(resolve, resolve), this.random.between(...range))));
    await step(this.profile.acceptMs, async () => {
      await this.ack(task.taskId, 'accepted');
      await this.report('busy');
    });
    if (this.current !== job) return;
    await step(this.profile.startMs, async () => {
      await this.ack(task.taskId, 'started');
      if (this.current === job) this.onWork?.(task, 'started');
    });
    if (this.current !== job) return;
    await step(this.profile.workMs[task.type] ?? this.profile.workMs.default, async () => {
      if (this.current !== job) return;
      this.current = null;
      this.onWork?.(task, 'ended');
      if (this.battery !== undefined) this.battery = Math.max(0, this.battery - ((this.clock.now() - job.since) / 3600_000) * this.profile.drainPerWorkHour);
      if (this.random.chance(this.profile.failRate)) await this.ack(task.taskId, 'failed', 'customer walked away');
      else {
        this.completed.push(task.taskId);
        await this.ack(task.taskId, 'completed');
      }
      await this.report('idle');
    });
  }

  private async cancel(taskId: string): Promise<void> {
    if (this.current?.cmd.taskId !== taskId) return;
    this.clearTimers();
    this.onWork?.(this.current.cmd, 'ended');
    this.current = null;
    await this.report('idle');
  }

  private later(range: Range, fn: () => Promise<void>): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(() => fn().then(resolve, resolve), this.random.between(...range)));
  }

  private clearTimers(): void {
    for (const t of this.current?.timers ?? []) this.clock.clearTimeout(t);
  }

  override async disconnect(): Promise<void> {
    this.clearTimers();
    await super.disconnect();
  }

  override kill(): void {
    this.clearTimers();
    if (this.current) this.onWork?.(this.current.cmd, 'ended');
    this.current = null;
    // What it says when it comes back (`reconnect`): a rebooted device is idle.
    this.status = 'idle';
    super.kill();
  }
}
