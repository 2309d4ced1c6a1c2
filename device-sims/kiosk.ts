import { WorkerSim } from './worker.js';

/**
 * A self-service kiosk: customers use it one at a time; it reports `busy` while one does and `idle`
 * when free (the hub diverts only while a kiosk is idle), `fault` when it breaks. It takes no tasks.
 */
export class KioskSim extends WorkerSim {
  /** Free for the next customer: connected, idle, not faulty. */
  get free(): boolean {
    return this.online && this.status === 'idle';
  }

  /** One customer's session of `ms` (its clock); resolves when they are done. */
  async session(ms: number): Promise<void> {
    await this.report('busy');
    await new Promise<void>((resolve) => this.clock.setTimeout(resolve, ms));
    if (this.status === 'busy') await this.report('idle');
  }
}
