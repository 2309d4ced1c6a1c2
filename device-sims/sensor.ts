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

  post(post: string, staffed: boolean): Promise<void> {
    return this.publish('post', { post, staffed });
  }
}
