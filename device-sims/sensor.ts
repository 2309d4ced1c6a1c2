import { SimDevice } from './device.js';

/** A footfall camera with edge analytics: arrivals and departures, zone occupancy, staff posts. */
export class SensorSim extends SimDevice {
  arrive(opts: { segment?: string; count?: number; zone?: string } = {}): Promise<void> {
    return this.publish('footfall', { direction: 'in', ...opts });
  }

  leave(opts: { count?: number; zone?: string } = {}): Promise<void> {
    return this.publish('footfall', { direction: 'out', ...opts });
  }

  occupancy(zone: string, count: number): Promise<void> {
    return this.publish('occupancy', { zone, count });
  }

  /** One anonymous person entering or leaving a zone (`outside`: the branch). */
  track(t: { track: string; zone: string; event: 'enter' | 'exit' }): Promise<void> {
    return this.publish('track', t);
  }

  post(post: string, staffed: boolean): Promise<void> {
    return this.publish('post', { post, staffed });
  }
}
