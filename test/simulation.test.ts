import { outcomes, type Outcomes } from '../device-sims/day/outcomes.js';
import { table } from '../device-sims/day/report.js';
import { runDay } from '../device-sims/day/run.js';
import { loadScenario } from '../device-sims/day/scenario.js';

/**
 * The peak hour of the peak day (device-sims/scenarios/peak-day.yaml, 10:00–11:00), played with the
 * built hub in a process of its own, as a branch would run it: once coordinating, once only observing
 * (the no-coordination baseline), and once more coordinating at another time scale. The whole day's
 * figures are in docs/simulation.md; this is the part a suite of a few minutes can afford. `npm test` runs this
 * file alone, after the others: at 60× and 120× a real millisecond of a loaded machine is 0.06–0.12 s of branch
 * time, and the contract's 5 s for alerts is what it checks.
 */
describe('the peak hour of a peak day, with the hub and without', () => {
  const scenario = loadScenario('peak-day');
  const window = { scenario, from: '10:00', to: '11:00', drainMs: 60 * 60_000 };
  let withHub: Outcomes;
  let baseline: Outcomes;

  beforeAll(async () => {
    withHub = outcomes(await runDay({ ...window, coordinated: true, scale: 60 }));
    baseline = outcomes(await runDay({ ...window, coordinated: false, scale: 120 }));
    console.log(table([withHub, baseline]));
  }, 400_000);

  it('greets at least 95 % of arrivals within 10 s; without it nobody is greeted', () => {
    expect(withHub.arrivals).toBe(baseline.arrivals);
    expect(withHub.greetedWithin10s).toBeGreaterThanOrEqual(0.95);
    expect(baseline.greetedWithin10s).toBe(0);
  });

  it('cuts the p95 wait of kiosk-capable business by at least a third, by guiding customers to the kiosks', () => {
    expect(withHub.kioskCapableWait.p95Min!).toBeLessThanOrEqual((baseline.kioskCapableWait.p95Min! * 2) / 3);
    expect(withHub.diverted).toBeGreaterThan(0);
    expect(baseline.diverted).toBe(0);
    expect(withHub.kioskUtilisation!).toBeGreaterThan(baseline.kioskUtilisation!);
    // Counter-only business is not made worse by the guiding.
    expect(withHub.waits.cash.p95Min!).toBeLessThanOrEqual(baseline.waits.cash.p95Min! + 2);
  });

  it('raises every alert the day gave cause for, within 5 s of when it was due', () => {
    for (const o of [withHub, baseline]) {
      for (const [type, a] of Object.entries(o.alerts)) {
        if (!a.expected) continue;
        expect({ type, matched: a.matched }).toEqual({ type, matched: a.expected });
        expect(a.maxDelaySec!).toBeLessThanOrEqual(5);
      }
    }
    expect(baseline.alerts['long-wait']?.expected).toBeGreaterThan(0);
  });

  it('gives the same figures at twice the time scale, within noise', async () => {
    const faster = outcomes(await runDay({ ...window, coordinated: true, scale: 120 }));
    expect(faster.arrivals).toBe(withHub.arrivals);
    expect(faster.ticketHolders).toBe(withHub.ticketHolders);
    expect(Math.abs(faster.greetedWithin10s! - withHub.greetedWithin10s!)).toBeLessThanOrEqual(0.06);
    expect(Math.abs(faster.kioskCapableWait.meanMin! - withHub.kioskCapableWait.meanMin!)).toBeLessThanOrEqual(3);
    expect(Math.abs(faster.diverted - withHub.diverted)).toBeLessThanOrEqual(Math.max(3, withHub.diverted * 0.3));
  }, 300_000);
});
