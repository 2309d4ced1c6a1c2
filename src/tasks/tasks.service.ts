import { Injectable } from '@nestjs/common';
import { Branches } from '../branch/branches.service.js';
import { Rejection } from '../contracts/rejection.js';
import type { Task, TaskView } from '../contracts/views.js';
import type { CreateTask } from './task-book.js';
import { TaskRepository } from './task.repository.js';

/** Tasks as managers see them: changes go to the branch's owner, reads come from the database. */
@Injectable()
export class TasksService {
  constructor(
    private readonly branches: Branches,
    private readonly repo: TaskRepository,
  ) {}

  create(branchId: string, req: CreateTask): Promise<Task> {
    return this.branches.get(branchId).createTask(req);
  }

  async cancel(taskId: string, by: string): Promise<Task> {
    const task = await this.repo.find(taskId);
    if (!task) throw new Rejection('not-found', `no task ${taskId}`);
    return this.branches.get(task.branchId).cancelTask(taskId, by);
  }

  openTasks(branchId: string): Task[] {
    return this.branches.get(branchId).tasks.openTasks();
  }

  list(branchId: string, state?: string): Promise<TaskView[]> {
    return this.repo.list(branchId, state);
  }

  get(taskId: string): Promise<TaskView | null> {
    return this.repo.get(taskId);
  }
}
