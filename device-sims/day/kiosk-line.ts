import type { KioskSim } from '../kiosk.js';

export interface KioskUser {
  service?: string;
  draw: { kioskMs: number };
}

/**
 * Customers at the self-service zone, first come first served: a free kiosk that does a waiting
 * customer's business takes them (the earliest it can serve). `pump` after anything that frees a kiosk.
 */
export class KioskLine<T extends KioskUser> {
  readonly waiting: T[] = [];

  constructor(
    private readonly kiosks: { sim: KioskSim; services: readonly string[] }[],
    private readonly onStart: (user: T, kiosk: KioskSim) => void,
    private readonly onDone: (user: T, kiosk: KioskSim) => void,
    private readonly onError: (e: Error) => void,
  ) {}

  /** The zones where some kiosk does `service`'s business. */
  zoneFor(service: string): string | undefined {
    return this.kiosks.find((k) => k.services.includes(service))?.sim.identity.zone;
  }

  join(user: T): void {
    this.waiting.push(user);
    this.pump();
  }

  pump(): void {
    for (const kiosk of this.kiosks) {
      if (!kiosk.sim.free) continue;
      const i = this.waiting.findIndex((u) => u.service !== undefined && kiosk.services.includes(u.service));
      if (i < 0) continue;
      const [user] = this.waiting.splice(i, 1);
      this.onStart(user, kiosk.sim);
      kiosk.sim.session(user.draw.kioskMs).then(
        () => {
          this.onDone(user, kiosk.sim);
          this.pump();
        },
        (e: Error) => this.onError(e),
      );
    }
  }
}
