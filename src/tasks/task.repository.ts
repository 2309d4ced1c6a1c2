import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { OPEN_TASK_STATES } from '../contracts/tasks.js';
import type { Task, TaskTransition, TaskView } from '../contracts/views.js';
import { byBranch } from '../persistence/batch.js';
import { TaskRecord, TaskTransitionRecord } from '../persistence/entities.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { Store } from '../persistence/store.js';
import { DeadlineRepository } from '../schedule/deadline.repository.js';
import { Outbox } from '../uplink/outbox.js';
import type { Step } from './task-lifecycle.js';

const asTask = (r: TaskRecord): Task => ({ ...r }) as Task;
const asTransition = ({ taskId, fromState, toState, deviceId, cause, at }: TaskTransitionRecord): TaskTransition =>
  ({ taskId, fromState, toState, deviceId, cause, at }) as TaskTransition;

/**
 * Tasks with their transitions. A lifecycle step is stored whole — transitions, task, its deadlines and, for a
 * task that failed, headquarters' `task-failed` event — in one transaction (with the steps stored with it).
 */
@Injectable()
export class TaskRepository {
  constructor(
    private readonly store: Store,
    private readonly commits: GroupCommit,
    private readonly deadlines: DeadlineRepository,
    private readonly outbox: Outbox,
  ) {}

  /**
   * Steps in order, by group commit: one transaction, with what other branches asked meanwhile (one statement per
   * table for all of them). A new task's creation and its dispatch are one commit before the command.
   */
  save(steps: Step[]): Promise<void> {
    const tasks = new Map(steps.map((s) => [s.task.id, s.task as TaskRecord])); // each as its last step left it
    const failed = steps.flatMap((s) => s.effects.flatMap((e) => (e.kind === 'alert' ? [{ task: s.task, reason: e.message }] : [])));
    return this.commits.together(() => {
      for (const t of steps.flatMap((s) => s.transitions)) void this.commits.insert(TaskTransitionRecord, t);
      for (const t of tasks.values()) void this.commits.put(TaskRecord, ['id'], t);
      for (const s of steps) this.deadlines.ask(s.deadlines);
      for (const { task, reason } of failed) this.outbox.ask(task.branchId, { kind: 'task-failed', taskId: task.id, type: task.type, deviceId: task.deviceId, reason });
    });
  }

  /** Each branch's open tasks, for start-up: one query for all of them. */
  async openByBranch(branchIds: string[]): Promise<Map<string, Task[]>> {
    const rows = await byBranch(branchIds, (ids) => this.store.manager.findBy(TaskRecord, { branchId: In(ids), state: In([...OPEN_TASK_STATES]) }));
    return new Map(branchIds.map((id) => [id, (rows.get(id) ?? []).map(asTask)]));
  }

  /** When each device of each branch was last given a task, for start-up (fairness survives a restart): one query for all. */
  async lastDispatchedByBranch(branchIds: string[]): Promise<Map<string, Map<string, number>>> {
    const rows = await byBranch(branchIds, (ids) =>
      this.store.manager
        .createQueryBuilder(TaskTransitionRecord, 'tr')
        .innerJoin(TaskRecord, 't', 't.id = tr.taskId')
        .select('t.branchId', 'branchId')
        .addSelect('tr.deviceId', 'deviceId')
        .addSelect('MAX(tr.at)', 'at')
        .where('t.branchId IN (:...ids) AND tr.toState = :state', { ids, state: 'dispatched' })
        .groupBy('t.branchId')
        .addGroupBy('tr.deviceId')
        .getRawMany<{ branchId: string; deviceId: string; at: string }>(),
    );
    return new Map(branchIds.map((id) => [id, new Map((rows.get(id) ?? []).map((r) => [r.deviceId, Date.parse(r.at)]))]));
  }

  async find(id: string): Promise<Task | null> {
    const r = await this.store.manager.findOneBy(TaskRecord, { id });
    return r && asTask(r);
  }

  /** Newest first, with their history. */
  async list(branchId: string, state?: string): Promise<TaskView[]> {
    const tasks = await this.store.manager.find(TaskRecord, { where: { branchId, ...(state ? { state } : {}) }, order: { createdAt: 'DESC' }, take: 200 });
    const history = await this.store.manager.find(TaskTransitionRecord, { where: { taskId: In(tasks.map((t) => t.id)) }, order: { seq: 'ASC' } });
    return tasks.map((t) => ({ ...asTask(t), history: history.filter((h) => h.taskId === t.id).map(asTransition) }));
  }

  async get(id: string): Promise<TaskView | null> {
    const task = await this.find(id);
    if (!task) return null;
    const history = await this.store.manager.find(TaskTransitionRecord, { where: { taskId: id }, order: { seq: 'ASC' } });
    return { ...task, history: history.map(asTransition) };
  }
}
