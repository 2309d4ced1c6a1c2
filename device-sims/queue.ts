import { SimDevice } from './device.js';

/**
 * The ticketing system: issues tickets per service (A001, B001, …), calls them to counters, serves them.
 * A ticket for headquarters' appointment carries its `ref` (contract section 5).
 */
export class QueueSim extends SimDevice {
  private readonly counters = new Map<string, number>();
  private readonly prefixes = new Map<string, string>();

  async issue(service: string, appointment?: string): Promise<string> {
    if (!this.prefixes.has(service)) this.prefixes.set(service, String.fromCharCode(65 + this.prefixes.size));
    const n = (this.counters.get(service) ?? 0) + 1;
    this.counters.set(service, n);
    const ticket = `${this.prefixes.get(service)}${String(n).padStart(3, '0')}`;
    await this.publish('queue', { event: 'issued', ticket, service, ...(appointment ? { appointment } : {}) });
    return ticket;
  }

  call(ticket: string, service: string, counter: string): Promise<void> {
    return this.publish('queue', { event: 'called', ticket, service, counter });
  }

  serve(ticket: string, service: string, counter?: string): Promise<void> {
    return this.publish('queue', { event: 'served', ticket, service, ...(counter ? { counter } : {}) });
  }

  abandon(ticket: string, service: string): Promise<void> {
    return this.publish('queue', { event: 'abandoned', ticket, service });
  }

  openCounters(service: string, open: number): Promise<void> {
    return this.publish('queue', { event: 'counters', service, open });
  }
}
