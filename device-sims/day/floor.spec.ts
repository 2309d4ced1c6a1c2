import type { Clock } from '../../src/clock/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { SensorSim } from '../sensor.js';
import { Floor } from './floor.js';
import { loadScenario } from './scenario.js';

const T0 = Date.parse('2026-12-30T10:00:00Z');

/** A camera that keeps what it would publish. */
function camera(zone: string, sent: { kind: string; payload: Record<string, unknown> }[]): SensorSim {
  const keep = (kind: string) => (payload: Record<string, unknown>) => (sent.push({ kind, payload }), Promise.resolve());
  return { identity: { zone }, arrive: keep('footfall'), leave: keep('footfall'), occupancy: (z: string, count: number) => keep('occupancy')({ zone: z, count }), track: keep('track') } as unknown as SensorSim;
}

function floor(seed: number) {
  const branch = loadConfig({ HUB_CONFIG: loadScenario('peak-day').configPath }).branches[0];
  let now = T0;
  const clock = { now: () => now } as Clock;
  const sent: { kind: string; payload: Record<string, unknown> }[] = [];
  const cams = [camera('entrance', sent), camera('waiting', sent)];
  const f = new Floor(branch, cams, cams[0], clock, seed, () => undefined);
  return { f, sent, tick: (ms: number) => (now += ms) };
}

describe('the floor', () => {
  it('records every visit and move as it sends them, leaving as a move to "outside"', () => {
    const { f, tick } = floor(1);
    f.arrive('c1', 'entrance');
    tick(30_000);
    f.move('c1', 'waiting');
    tick(60_000);
    f.move('c1', 'waiting');
    f.leave('c1');
    f.move('c1', 'counters');
    expect(f.visits).toEqual([
      { person: 'c1', zone: 'entrance', enteredAt: T0, leftAt: T0 + 30_000 },
      { person: 'c1', zone: 'waiting', enteredAt: T0 + 30_000, leftAt: T0 + 90_000 },
    ]);
    expect(f.moves).toEqual([
      { person: 'c1', to: 'entrance', at: T0 },
      { person: 'c1', from: 'entrance', to: 'waiting', at: T0 + 30_000 },
      { person: 'c1', from: 'waiting', to: 'outside', at: T0 + 90_000 },
    ]);
  });

  it('sends each person as one random-looking hex track, the same for the same seed, never their id', () => {
    const a = floor(7);
    const b = floor(7);
    // Another order of arrival: the track is the person's own draw.
    for (const p of ['c1', 'c2']) a.f.arrive(p, 'entrance');
    for (const p of ['c2', 'c1']) b.f.arrive(p, 'entrance');
    a.f.leave('c1');
    const tracks = a.sent.filter((m) => m.kind === 'track').map((m) => m.payload.track);
    expect(new Set(tracks)).toEqual(new Set([a.f.tracks.get('c1'), a.f.tracks.get('c2')]));
    expect(a.f.tracks.get('c1')).toMatch(/^[0-9a-f]{32}$/);
    expect(a.f.tracks.get('c1')).not.toBe(a.f.tracks.get('c2'));
    expect(Object.fromEntries(b.f.tracks)).toEqual(Object.fromEntries(a.f.tracks));
    const other = floor(8);
    other.f.arrive('c1', 'entrance');
    expect(other.f.tracks.get('c1')).not.toBe(a.f.tracks.get('c1'));
    expect(JSON.stringify(a.sent)).not.toMatch(/"c[12]"/);
  });

  it('sees and sends nothing once closed', () => {
    const { f, sent } = floor(1);
    f.arrive('c1', 'entrance');
    const before = sent.length;
    f.close();
    f.move('c1', 'waiting');
    f.leave('c1');
    f.arrive('c2', 'entrance');
    expect(sent.length).toBe(before);
    expect(f.moves).toHaveLength(1);
    expect(f.visits).toEqual([{ person: 'c1', zone: 'entrance', enteredAt: T0 }]);
  });
});
