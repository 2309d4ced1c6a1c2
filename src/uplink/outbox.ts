import { Inject, Injectable } from '@nestjs/common';
import { LessThan, LessThanOrEqual, type EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '../clock/clock.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { HubConfig } from '../config/config.schema.js';
import { UplinkCursorRecord, UplinkEventRecord } from '../persistence/entities.js';
import { chunks } from '../persistence/batch.js';
import { GroupCommit } from '../persistence/group-commit.js';
import { statementOf } from '../persistence/row-statements.js';
import type { Statement } from '../persistence/sql-script.js';
import { Store } from '../persistence/store.js';

export interface Backlog {
  size: number;
  oldestAt: string | null;
}

/** What headquarters hears on `hq/{b}/events` (contract section 8), before the hub numbers it. */
export type UplinkEvent =
  | { kind: 'alert-raised'; alertId: string; type: string; subject: string; level: string; message: string }
  | { kind: 'alert-cleared'; alertId: string; type: string; subject: string; by?: string }
  | { kind: 'task-failed'; taskId: string; type: string; deviceId: string | null; reason: string }
  | { kind: 'request-status'; requestId: string; state: string; reason?: string }
  | { kind: 'backlog-dropped'; dropped: number };

/**
 * The uplink's outbox: an event for headquarters is stored in the transaction of what it reports (an alert
 * raised, a task failed, an appointment's status), numbered by `seq` per branch, and kept until HQ's broker
 * acknowledged it (`UplinkService`). Past `maxBacklog` waiting events, the oldest are dropped and a
 * `backlog-dropped` event says how many. Without an uplink nothing is stored.
 */
@Injectable()
export class Outbox {
  private readonly max: number;
  readonly enabled: boolean;
  private wake: (branchId: string) => void = () => undefined;
  /** Events each branch may still take before its backlog could pass `max` (none known: count first). */
  private readonly room = new Map<string, number>();
  /** Events asked in group-commit units, per branch, not yet committed or failed. */
  private readonly unstored = new Map<string, number>();

  constructor(
    @Inject(HUB_CONFIG) config: HubConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly store: Store,
    private readonly commits: GroupCommit,
  ) {
    this.enabled = config.uplink !== undefined;
    this.max = config.uplink?.maxBacklog ?? 0;
  }

  /** The sender's wake-up call, for a branch that has new events. */
  onAppend(wake: (branchId: string) => void): void {
    this.wake = wake;
  }

  /** Within the transaction `em` of what the event reports. */
  async append(em: EntityManager, branchId: string, event: UplinkEvent): Promise<void> {
    if (!this.enabled) return;
    for (const { sql, params } of this.numbered(em, branchId, event)) await em.query(sql, params);
    if (!this.roomFor(branchId)) await this.trim(em, branchId);
    // The sender sees the rows once their transaction committed.
    this.store.afterCommit(em, () => this.wake(branchId));
  }

  /** The same, asked inside a group-commit unit (`GroupCommit.together`): its statements go with the unit's rows. */
  ask(branchId: string, event: UplinkEvent): void {
    if (!this.enabled) return;
    this.unstored.set(branchId, (this.unstored.get(branchId) ?? 0) + 1);
    const stored = this.commits.execute(this.numbered(this.store.manager, branchId, event));
    if (!this.roomFor(branchId)) void this.commits.run((em) => this.trim(em, branchId));
    void stored
      .then(() => this.wake(branchId), () => undefined)
      .finally(() => this.unstored.set(branchId, this.unstored.get(branchId)! - 1));
  }

  /** The oldest waiting events, in `seq` order. */
  waiting(branchId: string, limit: number): Promise<UplinkEventRecord[]> {
    return this.store.read((m) => m.find(UplinkEventRecord, { where: { branchId }, order: { seq: 'ASC' }, take: limit }));
  }

  /** HQ's broker has them: up to and including `seq`. */
  async delivered(branchId: string, seq: number): Promise<void> {
    await this.store.transaction((em) => em.delete(UplinkEventRecord, { branchId, seq: LessThan(seq + 1) }));
  }

  /** Waiting events and the age of the oldest (s), for `/metrics` and the dashboard. */
  async backlog(branchId: string): Promise<Backlog> {
    const [size, oldest] = await this.store.read((m) => Promise.all([m.countBy(UplinkEventRecord, { branchId }), m.findOne(UplinkEventRecord, { where: { branchId }, order: { seq: 'ASC' } })]));
    return { size, oldestAt: oldest?.createdAt ?? null };
  }

  /** The same for every branch at start-up: two queries per few hundred branches, not two per branch one after another. */
  async backlogs(branchIds: string[]): Promise<Map<string, Backlog>> {
    const out = new Map(branchIds.map((b): [string, Backlog] => [b, { size: 0, oldestAt: null }]));
    for (const ids of chunks(branchIds, 200)) {
      const firsts = await this.store.read((m) =>
        m
          .createQueryBuilder(UplinkEventRecord, 'e')
          .select('e.branchId', 'branchId')
          .addSelect('COUNT(*)', 'size')
          .addSelect('MIN(e.seq)', 'seq')
          .where('e.branchId IN (:...ids)', { ids })
          .groupBy('e.branchId')
          .getRawMany<{ branchId: string; size: number | string; seq: number }>(),
      );
      if (!firsts.length) continue;
      const oldest = await this.store.read((m) => m.find(UplinkEventRecord, { where: firsts.map(({ branchId, seq }) => ({ branchId, seq })), select: { branchId: true, createdAt: true } }));
      const oldestAt = new Map(oldest.map((o) => [o.branchId, o.createdAt]));
      for (const f of firsts) out.set(f.branchId, { size: Number(f.size), oldestAt: oldestAt.get(f.branchId) ?? null });
    }
    return out;
  }

  /**
   * The statements that store `event` as the branch's next `seq`, no read among them: the cursor row made or moved
   * on, then the event copied from it. The number is taken in the transaction that stores the event — one taken
   * in memory and rolled back would leave a gap, which headquarters counts as a lost event.
   */
  private numbered(em: EntityManager, branchId: string, event: UplinkEvent): Statement[] {
    const ts = new Date(this.clock.now()).toISOString();
    const rest = JSON.stringify({ ts, ...event }).slice(1); // the body is `{"seq":N,` and this
    return [
      statementOf(em, (v) => `INSERT INTO "uplink_cursor" ("branchId", "seq") VALUES (${v(branchId)}, 1) ON CONFLICT ("branchId") DO UPDATE SET "seq" = "uplink_cursor"."seq" + 1`),
      statementOf(
        em,
        (v) =>
          `INSERT INTO "uplink_event" ("branchId", "seq", "body", "createdAt") SELECT "branchId", "seq", '{"seq":' || CAST("seq" AS TEXT) || ${v(`,${rest}`)}, ${v(ts)} FROM "uplink_cursor" WHERE "branchId" = ${v(branchId)}`,
      ),
    ];
  }

  /**
   * Whether the branch's backlog surely stays within `maxBacklog` with one more event (counted down from the last
   * `trim`, which counts the stored ones and those asked but not stored yet; events delivered or rolled back since
   * only leave more room). `append`s need no such count: their transactions hold the cursor row, one at a time.
   */
  private roomFor(branchId: string): boolean {
    const left = this.room.get(branchId) ?? 0;
    if (left > 0) this.room.set(branchId, left - 1);
    return left > 0;
  }

  /**
   * Past `maxBacklog` waiting events the oldest go so that `max` wait, a notice included: it takes the next seq and
   * says how many went. A notice dropped itself passes its count on: every missing seq at HQ is counted by a notice
   * HQ receives.
   */
  private async trim(em: EntityManager, branchId: string): Promise<void> {
    const seq = (await em.findOneByOrFail(UplinkCursorRecord, { branchId })).seq;
    const oldest = (await em.findOne(UplinkEventRecord, { where: { branchId }, order: { seq: 'ASC' }, select: { seq: true } }))?.seq ?? seq + 1;
    let waiting = seq - oldest + 1;
    if (waiting > this.max) {
      const notice = seq + 1;
      const gone = await em.find(UplinkEventRecord, { where: { branchId, seq: LessThanOrEqual(notice - this.max) } });
      await em.delete(UplinkEventRecord, { branchId, seq: LessThanOrEqual(notice - this.max) });
      const carried = gone.reduce((n, r) => n + ((r.body as UplinkEvent).kind === 'backlog-dropped' ? (r.body as { dropped: number }).dropped : 0), 0);
      for (const { sql, params } of this.numbered(em, branchId, { kind: 'backlog-dropped', dropped: gone.length + carried })) await em.query(sql, params);
      waiting = this.max;
    }
    // Events asked but not stored yet are not in `waiting` (or are, if in this commit: counted twice, which is safe).
    this.room.set(branchId, this.max - waiting - (this.unstored.get(branchId) ?? 0));
  }
}
