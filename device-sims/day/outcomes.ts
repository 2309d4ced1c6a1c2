import type { CustomerRecord, DayRecord, ExpectedAlert, RaisedAlert } from './records.js';

/** A customer is greeted in time when a robot greets them within this of their arrival. */
export const GREET_WITHIN_MS = 10_000;

export interface WaitStats {
  /** Customers whose service began (at a counter or a kiosk). */
  count: number;
  meanMin: number | null;
  p95Min: number | null;
}

export interface AlertOutcome {
  /** Conditions the day created for this alert type (for event alerts: the events). */
  expected: number;
  raised: number;
  /** Conditions the hub raised an alert for. */
  matched: number;
  /** From when the rule made the alert due (condition start, plus the rule's threshold) to `raisedAt`. */
  medianDelaySec: number | null;
  maxDelaySec: number | null;
}

export interface Spread {
  devices: number;
  min: number;
  mean: number;
  max: number;
}

export interface HourOutcome {
  hour: string;
  arrivals: number;
  greetedShare: number | null;
  meanWaitMin: number | null;
  p95WaitMin: number | null;
  diverted: number;
  abandoned: number;
}

/** The outcome report of one played day: what a bank would judge the hub by. */
export interface Outcomes {
  scenario: string;
  coordinated: boolean;
  scale: number;
  seed: number;
  hours: string;
  arrivals: number;
  ticketHolders: number;
  /** Share of arrivals a robot greeted within 10 s. */
  greetedWithin10s: number | null;
  /** Share welcomed within 10 s by a robot or, with none free, the entrance screen. */
  welcomedWithin10s: number | null;
  waits: Record<string, WaitStats>;
  /** All customers whose business a kiosk can do (counter or kiosk). */
  kioskCapableWait: WaitStats;
  guideOffers: number;
  /** Tickets served at a kiosk after a robot guided their holder there. */
  diverted: number;
  selfServed: number;
  /** Mean share of the open hours the kiosks were in use. */
  kioskUtilisation: number | null;
  abandoned: number;
  promotionsPerWaitingCustomer: number | null;
  alerts: Record<string, AlertOutcome>;
  /** Share of the open hours each robot, screen and kiosk was busy, by kind. */
  utilisation: Record<string, Spread>;
  tasksStarted: Record<string, number>;
  hourly: HourOutcome[];
}

export function outcomes(day: DayRecord): Outcomes {
  const cs = day.customers;
  const ticketHolders = cs.filter((c) => c.ticket !== undefined);
  const waited = cs.filter((c) => c.queuedAt !== undefined && c.serviceAt !== undefined);
  const services = [...new Set(cs.flatMap((c) => (c.service ? [c.service] : [])))].sort();
  const waitingCustomers = cs.filter((c) => c.queuedAt !== undefined);
  const utilisation = busyShares(day);
  const kiosks = utilisation.filter((u) => u.kind === 'kiosk').map((u) => u.share);
  return {
    scenario: day.scenario,
    coordinated: day.coordinated,
    scale: day.scale,
    seed: day.seed,
    hours: `${hhmm(day.startMinute)}–${hhmm(day.startMinute + (day.closedAt - day.start) / 60_000)}`,
    arrivals: cs.length,
    ticketHolders: ticketHolders.length,
    greetedWithin10s: share(cs, (c) => within(c, c.greetedAt)),
    welcomedWithin10s: share(cs, (c) => within(c, c.greetedAt) || within(c, c.welcomedAt)),
    waits: Object.fromEntries(services.map((s) => [s, waitStats(waited.filter((c) => c.service === s))])),
    kioskCapableWait: waitStats(waited.filter((c) => c.kioskCapable)),
    guideOffers: cs.filter((c) => c.guideOfferedAt !== undefined).length,
    diverted: cs.filter((c) => c.diverted && c.servedBy === 'kiosk').length,
    selfServed: cs.filter((c) => c.kind === 'self-serve' && c.servedAt !== undefined).length,
    kioskUtilisation: kiosks.length ? round(mean(kiosks), 3) : null,
    abandoned: cs.filter((c) => c.abandonedAt !== undefined).length,
    promotionsPerWaitingCustomer: waitingCustomers.length ? round(mean(waitingCustomers.map((c) => c.promotionsSeen)), 2) : null,
    alerts: alertOutcomes(day.expectedAlerts, day.raisedAlerts),
    utilisation: spreads(utilisation),
    tasksStarted: day.tasksStarted,
    hourly: hourly(day),
  };
}

const within = (c: CustomerRecord, at: number | undefined) => at !== undefined && at - c.arrivedAt <= GREET_WITHIN_MS;

function waitStats(cs: CustomerRecord[]): WaitStats {
  const minutes = cs.map((c) => (c.serviceAt! - c.queuedAt!) / 60_000);
  return { count: minutes.length, meanMin: minutes.length ? round(mean(minutes), 1) : null, p95Min: minutes.length ? round(quantile(minutes, 0.95), 1) : null };
}

/**
 * Each condition the day created is matched to the first alert of its type and subject raised no earlier
 * than a minute before it was due (VIP alerts' subjects carry the arrival time, so they match by zone).
 */
function alertOutcomes(expected: ExpectedAlert[], raised: RaisedAlert[]): Record<string, AlertOutcome> {
  const types = [...new Set([...expected.map((e) => e.type), ...raised.map((r) => r.type)])].sort();
  const unused = raised.map((r) => ({ ...r, at: Date.parse(r.raisedAt) })).sort((a, b) => a.at - b.at);
  const out: Record<string, AlertOutcome> = {};
  for (const type of types) {
    const delays: number[] = [];
    for (const e of expected.filter((x) => x.type === type).sort((a, b) => a.at - b.at)) {
      const i = unused.findIndex((r) => r.type === type && (type === 'vip-arrival' ? r.subject.startsWith(e.subject) : r.subject === e.subject) && r.at >= e.at - 60_000);
      if (i < 0) continue;
      delays.push(Math.max(0, unused[i].at - e.at) / 1000);
      unused.splice(i, 1);
    }
    out[type] = {
      expected: expected.filter((x) => x.type === type).length,
      raised: raised.filter((r) => r.type === type).length,
      matched: delays.length,
      medianDelaySec: delays.length ? round(quantile(delays, 0.5), 1) : null,
      maxDelaySec: delays.length ? round(Math.max(...delays), 1) : null,
    };
  }
  return out;
}

function busyShares(day: DayRecord): { id: string; kind: string; share: number }[] {
  const span = day.closedAt - day.start;
  return day.devices
    .filter((d) => ['robot', 'screen', 'kiosk'].includes(d.kind))
    .map((d) => {
      let busy = 0;
      d.statusLog.forEach((s, i) => {
        if (s.status !== 'busy') return;
        const from = Math.max(s.at, day.start);
        const to = Math.min(d.statusLog[i + 1]?.at ?? day.closedAt, day.closedAt);
        busy += Math.max(0, to - from);
      });
      return { id: d.id, kind: d.kind, share: span > 0 ? busy / span : 0 };
    });
}

function spreads(shares: { kind: string; share: number }[]): Record<string, Spread> {
  const kinds = [...new Set(shares.map((s) => s.kind))].sort();
  return Object.fromEntries(
    kinds.map((k) => {
      const xs = shares.filter((s) => s.kind === k).map((s) => s.share);
      return [k, { devices: xs.length, min: round(Math.min(...xs), 3), mean: round(mean(xs), 3), max: round(Math.max(...xs), 3) }];
    }),
  );
}

function hourly(day: DayRecord): HourOutcome[] {
  const hourOf = (t: number) => Math.floor((day.startMinute + (t - day.start) / 60_000) / 60);
  const first = Math.floor(day.startMinute / 60);
  const last = hourOf(day.closedAt - 1);
  const out: HourOutcome[] = [];
  for (let h = first; h <= last; h++) {
    const arrived = day.customers.filter((c) => hourOf(c.arrivedAt) === h);
    const waited = day.customers.filter((c) => c.queuedAt !== undefined && c.serviceAt !== undefined && hourOf(c.queuedAt) === h);
    const w = waitStats(waited);
    out.push({
      hour: hhmm(h * 60),
      arrivals: arrived.length,
      greetedShare: share(arrived, (c) => within(c, c.greetedAt)),
      meanWaitMin: w.meanMin,
      p95WaitMin: w.p95Min,
      diverted: arrived.filter((c) => c.diverted && c.servedBy === 'kiosk').length,
      abandoned: arrived.filter((c) => c.abandonedAt !== undefined).length,
    });
  }
  return out;
}

function share<T>(xs: T[], test: (x: T) => boolean): number | null {
  return xs.length ? round(xs.filter(test).length / xs.length, 3) : null;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const hhmm = (minute: number) => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(Math.round(minute % 60)).padStart(2, '0')}`;

/** Nearest-rank quantile. */
export function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
