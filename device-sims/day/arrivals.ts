import { hash, Random } from '../random.js';
import { atMinute, minuteOf, type Scenario } from './scenario.js';

/** One customer as the day draws them: everything random about them is fixed at the door, so the same seed replays them. */
export interface Arrival {
  id: string;
  /** Minutes after midnight. */
  minute: number;
  segment?: 'vip' | 'senior';
  kind: 'browse' | 'ticket' | 'self-serve';
  service?: string;
  kioskCapable: boolean;
  /** Follows a robot that comes to guide them to the kiosks. */
  followsGuide: boolean;
  /** Time at the entrance (the ticket machine) before going on. */
  entranceMs: number;
  /** Browsers: time in the branch. Ticket holders: how long they wait for a counter at most. */
  stayMs: number;
  /** Minutes at a kiosk if they use one. */
  kioskMs: number;
  /** From being guided to reaching the kiosks. */
  walkMs: number;
  /** Headquarters booked them: the appointment's `ref`, which their ticket carries. */
  appointment?: string;
}

/** An appointment headquarters booked at the branch (`hq/{b}/requests`, contract section 8), as the day plays it. */
export interface AppointmentBooking {
  ref: string;
  service: string;
  /** ISO time of the appointment, on the hub's clock. */
  at: string;
  segment?: string;
}

/**
 * The day's customers between `from` and `to` (minutes after midnight): a Poisson stream whose rate is
 * the scenario's customers per hour in force at each moment (exponential gaps, restarted at each change
 * of rate, which a memoryless stream allows), each with their own seeded draws.
 */
export function drawArrivals(s: Scenario, kioskServices: ReadonlySet<string>, from: number, to: number): Arrival[] {
  const stream = new Random(s.seed);
  const changes = Object.keys(s.arrivals).map(minuteOf).filter((m) => m > from && m < to);
  const bounds = [...changes.sort((a, b) => a - b), to];
  const services = Object.entries(s.mix).filter(([, w]) => w > 0);
  const total = services.reduce((n, [, w]) => n + w, 0);
  const out: Arrival[] = [];
  let t = from;
  for (const bound of bounds) {
    const perHour = atMinute(s.arrivals, t) ?? 0;
    while (perHour > 0) {
      const next = t + (-Math.log(1 - stream.next()) * 60) / perHour;
      if (next >= bound) break;
      t = next;
      out.push(customer(s, `c${out.length + 1}`, t, services, total, kioskServices));
    }
    t = bound;
  }
  return out;
}

/**
 * The customer of an appointment booked for `bookedMinute` (minutes after midnight): they come for the booked
 * service between 10 minutes early and 5 late and take a ticket carrying the ref (never a kiosk on their own),
 * drawn from the scenario's seed and the ref, so the same booking replays the same customer.
 */
export function appointmentArrival(s: Scenario, booking: AppointmentBooking, bookedMinute: number, kioskServices: ReadonlySet<string>): Arrival {
  const r = new Random(s.seed ^ hash(`appointment ${booking.ref}`));
  const minute = bookedMinute + r.between(-10, 5);
  return {
    id: booking.ref,
    minute,
    ...(booking.segment === 'vip' ? { segment: 'vip' as const } : {}),
    kind: 'ticket',
    service: booking.service,
    kioskCapable: kioskServices.has(booking.service),
    followsGuide: r.chance(s.guideUptake),
    entranceMs: r.between(20, 40) * 1000,
    stayMs: r.between(...s.patienceMin) * 60_000,
    kioskMs: (s.kioskMin[booking.service] ?? 3) * r.between(0.7, 1.3) * 60_000,
    walkMs: r.between(20, 40) * 1000,
    appointment: booking.ref,
  };
}

function customer(s: Scenario, id: string, minute: number, services: [string, number][], total: number, kioskServices: ReadonlySet<string>): Arrival {
  const r = new Random(s.seed ^ hash(id));
  const segment = r.chance(s.vipShare) ? 'vip' : r.chance(s.seniorShare) ? 'senior' : undefined;
  const browse = r.chance(s.browseShare);
  let pick = r.next() * total;
  const service = services.find(([, w]) => (pick -= w) < 0)?.[0] ?? services.at(-1)?.[0];
  const kioskCapable = !browse && service !== undefined && kioskServices.has(service);
  const selfServe = kioskCapable && r.chance(s.selfServeShare);
  const followsGuide = r.chance(s.guideUptake);
  const entranceMs = r.between(20, 40) * 1000;
  const stayMs = (browse ? r.between(...s.browseMin) : r.between(...s.patienceMin)) * 60_000;
  const kioskMs = (service && s.kioskMin[service] ? s.kioskMin[service] : 3) * r.between(0.7, 1.3) * 60_000;
  const walkMs = r.between(20, 40) * 1000;
  return {
    id,
    minute,
    ...(segment ? { segment } : {}),
    kind: browse ? 'browse' : selfServe ? 'self-serve' : 'ticket',
    ...(browse ? {} : { service }),
    kioskCapable,
    followsGuide,
    entranceMs,
    stayMs,
    kioskMs,
    walkMs,
  };
}
