import type { Clock } from '../../src/clock/clock.js';
import type { BranchConfig } from '../../src/config/config.schema.js';
import type { SensorSim } from '../sensor.js';

/** A zone reached its capacity (`start`) or fell below 90 % of it again (`end`): the crowding condition as it really is. */
export type CrowdingEdge = { zone: string; edge: 'start' | 'end'; at: number };

/**
 * Where everybody in the branch really is, and what the footfall cameras make of it: each arrival and
 * departure at the door (`footfall`), each move between zones (anonymous `track` enter/exit), and the
 * count of every zone a camera watches (`occupancy`) after each change. The camera of a zone reports it;
 * a zone without one is seen by the entry camera's wide view (tracks only).
 */
export class Floor {
  private readonly where = new Map<string, string>();
  private readonly counts = new Map<string, number>();
  private readonly crowded = new Set<string>();
  /** Publishes that failed: the day reports the first when it ends. */
  error: Error | undefined;

  constructor(
    private readonly branch: BranchConfig,
    private readonly sensors: SensorSim[],
    private readonly entrySensor: SensorSim | undefined,
    private readonly clock: Clock,
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
    this.send(this.entrySensor?.arrive({ zone, ...(segment ? { segment } : {}) }));
    this.enter(person, zone);
  }

  move(person: string, to: string): void {
    const from = this.where.get(person);
    if (from === to) return;
    if (from) this.exit(person, from);
    this.enter(person, to);
  }

  /** Out of the branch through the entry zone's door: footfall `out`. */
  leave(person: string): void {
    const from = this.where.get(person);
    if (!from) return;
    this.exit(person, from);
    this.where.delete(person);
    this.send(this.cameraOf(from).track({ track: person, zone: 'outside', event: 'enter' }));
    this.send(this.entrySensor?.leave({ zone: this.entrySensor.identity.zone }));
  }

  private enter(person: string, zone: string): void {
    this.where.set(person, zone);
    this.change(zone, +1);
    this.send(this.cameraOf(zone).track({ track: person, zone, event: 'enter' }));
  }

  private exit(person: string, zone: string): void {
    this.change(zone, -1);
    this.send(this.cameraOf(zone).track({ track: person, zone, event: 'exit' }));
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
