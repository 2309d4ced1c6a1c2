import type { Clock } from '../../src/clock/clock.js';
import { entryZones, type BranchConfig } from '../../src/config/config.schema.js';
import type { Fleet } from '../fleet.js';
import type { Floor } from './floor.js';
import type { ExpectedAlert } from './records.js';
import type { Scenario } from './scenario.js';

/** What incidents need of the day that plays them. */
export interface IncidentPorts {
  clock: Clock;
  branch: BranchConfig;
  fleet: Fleet;
  floor: Floor;
  counters: { away(service: string, ms: number): void };
  kiosks: { pump(): void };
  expect(alert: ExpectedAlert): void;
  later(fn: () => void, ms: number): void;
  send(p: Promise<unknown> | undefined): void;
  ticketsWaiting(): number;
  /** Calls `fn` with the time of the next ticket issued. */
  nextTicket(fn: (at: number) => void): void;
}

/**
 * What a scenario makes happen besides its customers — a clerk leaving a post, a device failing, a group
 * walking in — and the alert each should bring, due when the contract's rule says.
 */
export class Incidents {
  constructor(private readonly p: IncidentPorts) {}

  /** A clerk leaves: the post reports unstaffed, one counter of the service calls nobody, for `minutes`. */
  unattended(u: Scenario['unattended'][number]): void {
    const { p } = this;
    const sensor = [...p.fleet.sensors.values()][0];
    p.send(sensor?.post(u.post, false));
    p.counters.away(u.service, u.minutes * 60_000);
    // The rule's condition: unstaffed while tickets wait, for postEmptyMin; it begins now, or with the next ticket.
    const end = p.clock.now() + u.minutes * 60_000;
    const begin = (at: number) => {
      const due = at + p.branch.rules.postEmptyMin * 60_000;
      if (due < end) p.expect({ type: 'post-unattended', subject: u.post, at: due });
    };
    if (p.ticketsWaiting() > 0) begin(p.clock.now());
    else p.nextTicket(begin);
    p.later(() => p.send(sensor?.post(u.post, true)), u.minutes * 60_000);
  }

  /** A device drops off the network or reports `fault`; back after `minutes` if given. */
  fail(f: Scenario['failures'][number]): void {
    const { p } = this;
    const device = p.fleet.workers.get(f.device)!;
    p.expect({ type: 'device-down', subject: f.device, at: p.clock.now() });
    if (f.kind === 'offline') device.kill();
    else p.send(device.report('fault'));
    if (f.minutes === undefined) return;
    p.later(() => {
      const back = f.kind === 'offline' ? device.reconnect().then(() => undefined) : device.report('idle');
      p.send(back.then(() => p.kiosks.pump()));
    }, f.minutes * 60_000);
  }

  /** A group comes through the door, stays in a zone for `minutes` and leaves. */
  crowd(g: Scenario['crowds'][number]): void {
    const { p } = this;
    const entry = entryZones(p.branch)[0];
    for (let i = 1; i <= g.people; i++) {
      const id = `group-${g.at.replace(':', '')}-${i}`;
      p.floor.arrive(id, entry);
      if (g.zone !== entry) p.floor.move(id, g.zone);
      p.later(() => p.floor.leave(id), g.minutes * 60_000);
    }
  }
}
