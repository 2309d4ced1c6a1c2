import { createActor, type AnyStateMachine } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import type { FlowEffect } from '../flow-host.js';
import { CLEAR_RATIO, crowdingBand, crowdingMachine } from './crowding.machine.js';
import { deviceHealthMachine } from './device-health.machine.js';
import { diversionMachine } from './diversion.machine.js';
import { longWaitDue, longWaitMachine } from './long-wait.machine.js';
import { nextCampaign, promotionMachine, waitingNews } from './promotion.machine.js';
import { unattendedPostMachine } from './unattended-post.machine.js';

type Step = { state: string; effects: FlowEffect[]; event?: string };

/** Plays `events` on a fresh actor: the state and what the machine emitted after each one (the first step is the start). */
function play(machine: AnyStateMachine, input: unknown, events: ({ type: string } & Record<string, unknown>)[]): Step[] {
  const actor = createActor(machine, { input });
  let emitted: FlowEffect[] = [];
  actor.on('*', (e) => emitted.push(e as FlowEffect));
  actor.start();
  const steps: Step[] = [{ state: String(actor.getSnapshot().value), effects: emitted }];
  for (const e of events) {
    emitted = [];
    actor.send(e);
    steps.push({ state: String(actor.getSnapshot().value), effects: emitted, event: e.type });
  }
  actor.stop();
  return steps;
}

/** Every simple path through the machine with these events (model-based: the machine's own graph), played on a real actor. */
function everyPath(machine: AnyStateMachine, input: unknown, events: ({ type: string } & Record<string, unknown>)[], paths = getSimplePaths): Step[][] {
  const found = paths(machine, { input, events } as never);
  expect(found.length).toBeGreaterThan(1);
  return found.map((p) => play(machine, input, p.steps.slice(1).map((s) => s.event as { type: string } & Record<string, unknown>)));
}

const effectsOf = (steps: Step[], type: FlowEffect['type']) => steps.flatMap((s) => s.effects.filter((e) => e.type === type));
/** Raises and clears of one subject alternate, starting with a raise. */
const alternate = (steps: Step[]) => {
  const seq = steps.flatMap((s) => s.effects.filter((e) => e.type === 'raise' || e.type === 'clear').map((e) => e.type));
  seq.forEach((t, i) => expect(t).toBe(i % 2 ? 'clear' : 'raise'));
  return seq;
};

describe('crowding machine', () => {
  const input = { zone: 'waiting', capacity: 20 };
  const occupancy = (count: number) => ({ type: 'OCCUPANCY', count, at: 0 });

  it('on every path: raises and clears alternate, and it is crowded exactly while an alert is open', () => {
    for (const steps of everyPath(crowdingMachine, input, [5, 17, 18, 19, 20, 25].map(occupancy))) {
      const seq = alternate(steps);
      expect(steps.at(-1)!.state).toBe(seq.length % 2 ? 'crowded' : 'normal');
    }
  });

  it('clears only below 90 % of capacity: a count hovering at the threshold raises once', () => {
    const counts = [20, 19, 20, 18, 20, 17];
    const steps = play(crowdingMachine, input, counts.map(occupancy));
    expect(effectsOf(steps, 'raise')).toHaveLength(1);
    expect(effectsOf(steps, 'clear')).toHaveLength(1);
    expect(steps.findIndex((s) => s.effects.some((e) => e.type === 'clear'))).toBe(counts.indexOf(17) + 1);
    expect(17).toBeLessThan(20 * CLEAR_RATIO);
  });

  it('a reading in the band of the one before changes nothing, on every path (what lets the host skip it)', () => {
    const counts = [5, 17, 18, 19, 20, 25];
    for (const before of counts) {
      for (const after of counts.filter((c) => crowdingBand(c, 20) === crowdingBand(before, 20))) {
        for (const path of [[], [20], [5], [20, 18]]) {
          const steps = play(crowdingMachine, input, [...path, before, after].map(occupancy));
          expect(steps.at(-1)).toEqual({ state: steps.at(-2)!.state, effects: [], event: 'OCCUPANCY' });
        }
      }
    }
  });
});

describe('device-health machine (CHECK)', () => {
  const input = { deviceId: 'robot-1', kind: 'robot' };
  const check = (online: boolean, fault: boolean, zone: string | null) => ({ type: 'CHECK', online, fault, zone, at: 0 });

  it('a CHECK saying the same online and fault as the one before changes nothing, whatever its zone (what lets the host skip it)', () => {
    const kinds = [
      [true, false],
      [false, false],
      [true, true],
      [false, true],
    ] as const;
    for (const path of [[], [check(false, false, 'a')], [{ type: 'NOT_BACK', zone: null, at: 0 }], [check(true, true, 'a'), check(true, false, 'a')]]) {
      for (const [online, fault] of kinds) {
        const steps = play(deviceHealthMachine, input, [...path, check(online, fault, 'hall'), check(online, fault, 'counters')]);
        expect(steps.at(-1)).toEqual({ state: steps.at(-2)!.state, effects: [], event: 'CHECK' });
      }
    }
  });
});

describe('long-wait machine', () => {
  const input = { service: 'card', ticket: 'A023', issuedAt: 1_000, longWaitMs: 20 * 60_000 };

  it('raises when due (its start), at most once, and clears only what it raised', () => {
    const [start] = play(longWaitMachine, input, []);
    expect(start.effects).toEqual([]); // its deadline is its start (FlowHost.startAt), set when the ticket is issued
    expect(longWaitDue(input)).toBe(1_000 + 20 * 60_000);
    for (const steps of everyPath(longWaitMachine, input, [{ type: 'DUE' }, { type: 'GONE', at: 5 } as never])) {
      const seq = alternate(steps);
      expect(seq.length).toBeLessThanOrEqual(2);
      if (steps.at(-1)!.state === 'done') expect(effectsOf(steps, 'clear')).toHaveLength(effectsOf(steps, 'raise').length);
    }
    expect(effectsOf(play(longWaitMachine, input, [{ type: 'DUE' }]), 'raise')[0]).toMatchObject({ alert: 'long-wait', subject: 'card/A023' });
  });
});

describe('unattended-post machine', () => {
  const input = { post: 'counter-1', emptyMs: 180_000 };
  const events = [
    { type: 'POST', staffed: false, at: 10 },
    { type: 'POST', staffed: true, at: 20 },
    { type: 'WAITING', count: 0, at: 30 },
    { type: 'WAITING', count: 4, at: 40 },
    { type: 'DUE' },
  ];

  it('on every path: a deadline before each alert, alerts only while unattended and tickets wait, raises and clears alternate', () => {
    for (const steps of everyPath(unattendedPostMachine, input, events)) {
      alternate(steps);
      steps.forEach((s, i) => {
        if (s.effects.some((e) => e.type === 'raise')) expect(steps.slice(0, i).some((x) => x.effects.some((e) => e.type === 'schedule'))).toBe(true);
      });
    }
  });

  it('waits postEmptyMin from when both hold: left unstaffed, then tickets come', () => {
    const steps = play(unattendedPostMachine, input, [events[0], events[3], events[4], events[1]]);
    expect(steps[2].effects).toEqual([{ type: 'schedule', timer: 'due', at: 40 + 180_000, event: { type: 'DUE' } }]);
    expect(steps[3].effects[0]).toMatchObject({ type: 'raise', alert: 'post-unattended', subject: 'counter-1' });
    expect(steps[4].effects).toEqual([{ type: 'clear', alert: 'post-unattended', subject: 'counter-1' }]);
  });

  it('an unstaffed post with nobody waiting raises nothing, whatever the time', () => {
    const steps = play(unattendedPostMachine, input, [events[0], events[2], events[4]]);
    expect(steps.flatMap((s) => s.effects)).toEqual([]);
  });
});

describe('diversion machine', () => {
  const input = { service: 'card', thresholdMin: 15 };
  const estimate = (waitMin: number, kioskZone: string | null, excess: string[] = [], kiosks = 1) => ({ type: 'ESTIMATE', waitMin, kioskZone, kiosks, excess, at: 1 });
  const guided = (steps: ReturnType<typeof play>) => effectsOf(steps, 'guide').map((g) => (g as { ticket?: string }).ticket);

  it('on every path: guides and notices only go to a free kiosk\'s zone, one notice per diversion, no ticket guided twice', () => {
    for (const steps of everyPath(diversionMachine, input, [estimate(10, 'self-service'), estimate(20, 'self-service', ['A2', 'A1']), estimate(20, null), { type: 'TICKET', ticket: 'A1', at: 2 } as never])) {
      const entered = steps.filter((s, i) => i > 0 && s.state === 'diverting' && steps[i - 1].state === 'idle').length;
      expect(effectsOf(steps, 'notice')).toHaveLength(entered);
      for (const e of [...effectsOf(steps, 'guide'), ...effectsOf(steps, 'notice')]) expect(e).toMatchObject({ toZone: 'self-service', service: 'card' });
      expect(new Set(guided(steps)).size).toBe(guided(steps).length);
    }
  });

  it('guides each new ticket while diverting, none while idle', () => {
    const steps = play(diversionMachine, input, [{ type: 'TICKET', ticket: 'A1', at: 0 }, estimate(16, 'self-service', ['A1']), { type: 'TICKET', ticket: 'A2', at: 0 }, estimate(12, 'self-service'), { type: 'TICKET', ticket: 'A3', at: 0 }]);
    expect(guided(steps)).toEqual(['A1', 'A2']);
  });

  it('starting, guides the tickets the counters will not reach in time, newest first, two per free kiosk', () => {
    const steps = play(diversionMachine, input, [estimate(40, 'self-service', ['A5', 'A4', 'A3', 'A2', 'A1'], 1)]);
    expect(guided(steps)).toEqual(['A5', 'A4']);
    const two = play(diversionMachine, input, [estimate(40, 'self-service', ['A5', 'A4', 'A3', 'A2', 'A1'], 2), estimate(10, 'self-service'), estimate(40, 'self-service', ['A6', 'A5', 'A4', 'A3'], 2)]);
    // The second diversion skips the tickets the first one already asked.
    expect(guided(two)).toEqual(['A5', 'A4', 'A3', 'A2', 'A6']);
  });
});

describe('promotion machine', () => {
  const input = { threshold: 5, cooldownMs: 120_000, campaigns: [{ id: 'gold', services: ['cash'] }, { id: 'card-plus', services: ['card'] }, { id: 'all', services: [] }] };
  const waiting = (total: number, services: string[] = ['cash']) => ({ type: 'WAITING', total, services, at: 1_000 });

  it('on every path: never promotes during a pause (only when it ends), and each promotion starts a cooldown', () => {
    const events = [waiting(2), waiting(6), { type: 'COOLDOWN_OVER', at: 2_000 }, { type: 'PAUSE', until: 9_000, at: 1_500 }, { type: 'RESUME', at: 9_000 }];
    // Shortest paths to every reachable state: its context (rotation, cooldown end) makes simple paths explode.
    for (const steps of everyPath(promotionMachine, input, events as never, getShortestPaths)) {
      steps.forEach((s, i) => {
        if (s.effects.some((e) => e.type === 'promote')) {
          expect(s.effects.some((e) => e.type === 'schedule' && e.timer === 'cooldown')).toBe(true);
          if (steps[i - 1]?.state === 'paused') expect(s.event).toBe('RESUME');
          expect(s.state).toBe('cooling');
        }
        if (s.state === 'paused') expect(s.effects.some((e) => e.type === 'promote')).toBe(false);
      });
    }
  });

  it('rotates campaigns, preferring those for the services that have tickets waiting', () => {
    expect(nextCampaign({ ...input, waitingServices: ['card'], last: null })).toBe('card-plus');
    expect(nextCampaign({ ...input, waitingServices: ['card'], last: 'card-plus' })).toBe('all');
    expect(nextCampaign({ ...input, waitingServices: ['cash'], last: 'gold' })).toBe('all');
    expect(nextCampaign({ ...input, waitingServices: [], last: 'all' })).toBe('all');
    expect(nextCampaign({ campaigns: [], waitingServices: [], last: null })).toBeNull();
  });

  it('a pause does not shorten a running cooldown; after a long pause, a round at once if enough still wait', () => {
    const short = play(promotionMachine, input, [waiting(6), { type: 'PAUSE', until: 10_000, at: 5_000 }, { type: 'RESUME', at: 10_000 }, { type: 'COOLDOWN_OVER', at: 121_000 }] as never);
    expect(short[2].effects).toEqual([{ type: 'schedule', timer: 'resume', at: 10_000, event: { type: 'RESUME', at: 10_000 } }]);
    expect(short[3]).toMatchObject({ state: 'cooling', effects: [] }); // resumed inside the cooldown: no round yet
    expect(effectsOf([short[4]], 'promote')).toHaveLength(1);
    const long = play(promotionMachine, input, [waiting(6), { type: 'PAUSE', until: 600_000, at: 5_000 }, { type: 'COOLDOWN_OVER', at: 121_000 }, { type: 'RESUME', at: 600_000 }] as never);
    expect(long[3]).toMatchObject({ state: 'paused', effects: [] });
    expect(effectsOf([long[4]], 'promote')).toHaveLength(1);
  });

  it('a WAITING with the news of the one before changes nothing it does then or later (what lets the host skip it)', () => {
    const pause = { type: 'PAUSE', until: 9_000, at: 1_500 };
    const later = [{ type: 'COOLDOWN_OVER', at: 200_000 }, pause, { type: 'RESUME', at: 9_000 }, waiting(7, ['card']), { type: 'COOLDOWN_OVER', at: 400_000 }, { type: 'RESUME', at: 500_000 }];
    const kinds = [waiting(0, []), waiting(2), waiting(3, ['card']), waiting(6), waiting(9), waiting(6, ['card']), waiting(9, ['card', 'cash'])];
    const seen = (steps: Step[]) => steps.map(({ state, effects }) => ({ state, effects }));
    let pairs = 0;
    for (const before of [[], [waiting(6)], [pause], [waiting(6), { type: 'COOLDOWN_OVER', at: 130_000 }]]) {
      for (const last of kinds) {
        for (const again of kinds.filter((k) => k !== last && waitingNews(k.total, k.services, input.threshold) === waitingNews(last.total, last.services, input.threshold))) {
          pairs++;
          const told = play(promotionMachine, input, [...before, last, ...later] as never);
          const skipped = play(promotionMachine, input, [...before, last, again, ...later] as never);
          expect(skipped[before.length + 2]).toMatchObject({ state: skipped[before.length + 1].state, effects: [] });
          expect(seen(skipped.toSpliced(before.length + 2, 1))).toEqual(seen(told));
        }
      }
    }
    expect(pairs).toBeGreaterThan(10);
  });
});

describe('device-health machine', () => {
  const input = { deviceId: 'robot-1', kind: 'robot' };
  const check = (online: boolean, fault: boolean) => ({ type: 'CHECK', online, fault, zone: 'entrance', at: 1 });

  it('on every path: down exactly while its alert is open, whatever the reason changes to', () => {
    for (const steps of everyPath(deviceHealthMachine, input, [check(true, false), check(false, false), check(true, true), { type: 'NOT_BACK', zone: null, at: 2 }])) {
      const seq = alternate(steps);
      expect(steps.at(-1)!.state).toBe(seq.length % 2 ? 'down' : 'up');
    }
  });

  it('says why: offline, fault, or not back after a restart', () => {
    const raised = (events: { type: string }[]) => effectsOf(play(deviceHealthMachine, input, events as never), 'raise')[0] as unknown as { message: string; data: { reason: string } };
    expect(raised([check(false, false)])).toMatchObject({ message: 'robot robot-1 went offline', data: { reason: 'offline' } });
    expect(raised([check(true, true)])).toMatchObject({ message: 'robot robot-1 reports a fault', data: { reason: 'fault' } });
    expect(raised([{ type: 'NOT_BACK', zone: null, at: 0 } as never])).toMatchObject({ message: 'robot robot-1 did not come back after the hub restarted', data: { reason: 'offline' } });
  });
});
