import type { Clock } from '../../src/clock/clock.js';
import type { BranchConfig } from '../../src/config/config.schema.js';
import { hash, Random } from '../random.js';
import type { SensorSim } from '../sensor.js';
import type { ZoneMove, ZoneVisit } from './records.js';

/** A zone reached its capacity (`start`) or fell below 90 % of it again (`end`): the crowding condition as it really is. */
export type CrowdingEdge = { zone: string; edge: 'start' | 'end'; at: number };

/**
 * Where everybody in the branch really is, and what the footfall cameras make of it: each arrival and
 * departure at the door (`footfall`), each move between zones (anonymous `track` enter/exit), and the
 * count of every zone a camera watches (`occupancy`) after each change. The camera of a zone reports it;
 * a zone without one is seen by the entry camera's wide view (tracks only). It records the truth of it all
 * (`visits`, `moves`) for the analytics to be checked against; a person's track id on the wire is random-looking
 * hex, never their id.
 */
export class Floor {
  private readonly where = new Map<string, string>();
  private readonly counts = new Map<string, number>();
  private readonly crowded = new Set<string>();
  /** Each person's visit in progress. */
  private readonly current = new Map<string, ZoneVisit>();
  readonly visits: ZoneVisit[] = [];
  readonly moves: ZoneMove[] = [];
  readonly tracks = new Map<string, string>();
  private closed = false;
  /** Publishes that failed: the day reports the first when it ends. */
  error: Error | undefined;

  constructor(
    private readonly branch: BranchConfig,
    private readonly sensors: SensorSim[],
    private readonly entrySensor: SensorSim | undefined,
    private readonly clock: Clock,
    /** The scenario's seed: the same day gives everybody the same track id. */
    private readonly seed: number,
    private readonly onCrowding: (e: CrowdingEdge) => void,
  ) {}

  zoneOf(person: string): string | undefined {
    return this.where.get(person);
  }

  count(zone: string): number {
    return this.counts.get(zone) ?? 0;
  }

  /** Through the door into an entry zone: counted as footfall `in` (with a segment, which greets VIPs). */
  arrive(person: string, zone: string, segment?: string): void {
    if (this.closed) return;
    const at = this.clock.now();
    this.send(this.entrySensor?.arrive({ zone, ...(segment ? { segment } : {}) }));
    this.moves.push({ person, to: zone, at });
    this.enter(person, zone, at);
  }

  /** From zone to zone inside the branch (nobody moves who is not in it). */
  move(person: string, to: string): void {
    const from = this.where.get(person);
    if (this.closed || !from || from === to) return;
    const at = this.clock.now();
    this.exit(person, from, at);
    this.moves.push({ person, from, to, at });
    this.enter(person, to, at);
  }

  /** Out of the branch through the entry zone's door: footfall `out`. */
  leave(person: string): void {
    const from = this.where.get(person);
    if (this.closed || !from) return;
    const at = this.clock.now();
    this.exit(person, from, at);
    this.where.delete(person);
    this.moves.push({ person, from, to: 'outside', at });
    this.send(this.cameraOf(from).track({ track: this.trackOf(person), zone: 'outside', event: 'enter' }));
    this.send(this.entrySensor?.leave({ zone: this.entrySensor.identity.zone }));
  }

  /** The day is over: nothing more is seen or sent (a kiosk session ending later must not reach the hub unrecorded). */
  close(): void {
    this.closed = true;
  }

  private enter(person: string, zone: string, at: number): void {
    this.where.set(person, zone);
    const visit = { person, zone, enteredAt: at };
    this.visits.push(visit);
    this.current.set(person, visit);
    this.change(zone, +1);
    this.send(this.cameraOf(zone).track({ track: this.trackOf(person), zone, event: 'enter' }));
  }

  private exit(person: string, zone: string, at: number): void {
    this.current.get(person)!.leftAt = at;
    this.current.delete(person);
    this.change(zone, -1);
    this.send(this.cameraOf(zone).track({ track: this.trackOf(person), zone, event: 'exit' }));
  }

  /** 128 random-looking bits, drawn from the person's own seeded stream (whoever else comes first). */
  private trackOf(person: string): string {
    let track = this.tracks.get(person);
    if (!track) {
      const r = new Random(this.seed ^ hash(`track:${person}`));
      track = Array.from({ length: 4 }, () => Math.floor(r.next() * 2 ** 32).toString(16).padStart(8, '0')).join('');
      this.tracks.set(person, track);
    }
    return track;
  }

  private change(zone: string, delta: number): void {
    const n = this.count(zone) + delta;
    this.counts.set(zone, n);
    const camera = this.sensors.find((s) => s.identity.zone === zone);
    if (camera) this.send(camera.occupancy(zone, n));
    const capacity = this.branch.zones.find((z) => z.id === zone)?.capacity;
    if (!capacity) return;
    // The contract's crowding condition: at or over capacity, over until below 90 % of it.
    if (!this.crowded.has(zone) && n >= capacity) {
      this.crowded.add(zone);
      this.onCrowding({ zone, edge: 'start', at: this.clock.now() });
    } else if (this.crowded.has(zone) && n < capacity * 0.9) {
      this.crowded.delete(zone);
      this.onCrowding({ zone, edge: 'end', at: this.clock.now() });
    }
  }

  private cameraOf(zone: string): SensorSim {
    return this.sensors.find((s) => s.identity.zone === zone) ?? this.entrySensor ?? this.sensors[0];
  }

  private send(p: Promise<void> | undefined): void {
    p?.catch((e: Error) => (this.error ??= e));
  }
}
