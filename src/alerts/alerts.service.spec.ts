import { SimulatedClock } from 'xstate';
import type { HubConfig } from '../config/config.schema.js';
import type { AlertView } from '../contracts/views.js';
import { HubEvents } from '../hub-events.js';
import type { MetricsService } from '../observability/metrics.service.js';
import type { Scheduler } from '../schedule/scheduler.service.js';
import type { AlertRepository } from './alert.repository.js';
import { AlertsService } from './alerts.service.js';

/** A store whose writes commit only when the test says: what the service decides before its rows are stored. */
class SlowStore {
  readonly asked: string[] = [];
  private readonly pending: (() => void)[] = [];
  private readonly rows = new Map<string, AlertView>();
  /** Subjects by alert id, as asked (before anything is stored). */
  private readonly subjects = new Map<string, string>();

  raise(alert: AlertView): Promise<void> {
    this.asked.push(`raise ${alert.subject}`);
    this.subjects.set(alert.id, alert.subject);
    return this.later(() => {
      if (alert.subject === 'broken') throw new Error('disk full');
      this.rows.set(alert.id, { ...alert });
    });
  }

  clear(alert: AlertView): Promise<void> {
    this.asked.push(`clear ${this.subjects.get(alert.id) ?? alert.id}`);
    return this.later(() => {
      if (alert.subject === 'broken') throw new Error('disk full');
      this.rows.set(alert.id, { ...alert });
    });
  }

  /** Commits everything asked so far, in order. */
  commit(): void {
    for (const run of this.pending.splice(0)) run();
  }

  private later<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.pending.push(() => {
        try {
          resolve(write());
        } catch (e) {
          reject(e);
        }
      }),
    );
  }
}

describe('AlertsService decides in memory, the rows follow in order', () => {
  let store: SlowStore;
  let alerts: AlertsService;
  let events: HubEvents;
  const heard: AlertView[] = [];
  const raise = (subject: string) => alerts.raise({ branchId: 'b1', type: 'crowding', subject, message: `${subject} is crowded`, data: {} });

  beforeEach(() => {
    store = new SlowStore();
    events = new HubEvents();
    heard.length = 0;
    events.on('alertChanged', (e) => void heard.push({ ...e.alert }));
    const config = { branches: [{ id: 'b1', rules: { alertEscalateMin: 0 } }] } as unknown as HubConfig;
    const metrics = { alertsRaised: { inc: () => undefined } } as unknown as MetricsService;
    const scheduler = { applied: () => undefined, cancel: async () => undefined } as unknown as Scheduler;
    alerts = new AlertsService(new SimulatedClock(), config, store as unknown as AlertRepository, events, metrics, scheduler);
    alerts.takeOver('b1', []);
  });

  it('asks the row once for a condition raised twice before it is stored, and tells the dashboard only once stored', async () => {
    const first = raise('hall');
    const second = raise('hall');
    expect(store.asked).toEqual(['raise hall']);
    expect(heard).toEqual([]);
    store.commit();
    const [a, b] = await Promise.all([first, second]);
    expect(b.id).toBe(a.id);
    expect(heard.map((h) => [h.subject, h.open])).toEqual([['hall', true]]);
  });

  it('clears a condition whose raise is not stored yet, after it, and a new raise is a new alert', async () => {
    const raised = raise('hall');
    await events.emit('alertClear', { branchId: 'b1', type: 'crowding', subject: 'hall' });
    const again = raise('hall');
    expect(store.asked).toEqual(['raise hall', 'clear hall', 'raise hall']);
    store.commit();
    const [a, b] = await Promise.all([raised, again]);
    await new Promise((r) => setImmediate(r));
    expect(b.id).not.toBe(a.id);
    expect(heard.map((h) => [h.id === a.id ? 'first' : 'second', h.open])).toEqual([
      ['first', true],
      ['first', false],
      ['second', true],
    ]);
  });

  it('frees the condition when its row could not be stored: the next raise asks again', async () => {
    const failed = raise('broken');
    store.commit();
    await expect(failed).rejects.toThrow('disk full');
    void raise('broken').catch(() => undefined);
    expect(store.asked).toEqual(['raise broken', 'raise broken']);
    // Nothing to clear: memory holds no alert for it.
    await alerts.clear('b1', 'crowding', 'hall');
    expect(store.asked).toHaveLength(2);
  });

  it('tells nobody of the clear of an alert whose raise could not be stored', async () => {
    const failed = raise('broken');
    await events.emit('alertClear', { branchId: 'b1', type: 'crowding', subject: 'broken' });
    expect(store.asked).toEqual(['raise broken', 'clear broken']);
    store.commit();
    await expect(failed).rejects.toThrow('disk full');
    await new Promise((r) => setImmediate(r));
    expect(heard).toEqual([]);
  });

  it('clears an alert taken over from the database', async () => {
    alerts.takeOver('b1', [{ id: 'a-stored', branchId: 'b1', type: 'crowding', subject: 'vip', open: true } as AlertView]);
    const cleared = alerts.clear('b1', 'crowding', 'vip');
    expect(store.asked).toEqual(['clear a-stored']);
    store.commit();
    await cleared;
  });
});
