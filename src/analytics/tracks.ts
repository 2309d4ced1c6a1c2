/** Where one anonymous track is: the zone it is in (since when), or the zone it last left. */
export interface TrackState {
  zone: string | null;
  since: number;
  last: string | null;
  seenAt: number;
}

export interface TrackStep {
  /** The track's state after the event; null once it left the branch. */
  state: TrackState | null;
  /** A visit that ended: its zone and length. */
  dwell?: { zone: string; ms: number };
  /** The track moved between consecutive zones (`outside`: it left the branch). */
  move?: { from: string; to: string };
}

/**
 * One `track` event on one track (contract section 3): dwell is exit − enter in the same zone; a track's
 * consecutive zones make its transitions. Cameras miss things, so: entering a zone while still in another
 * closes the other at that moment; an exit from a zone the track is not in, and a repeated enter, count
 * nothing; `outside` (enter) ends the track, `outside` (exit) — coming in — counts nothing by itself.
 */
export function stepTrack(s: TrackState | undefined, zone: string, event: 'enter' | 'exit', at: number): TrackStep {
  const was: TrackState = s ?? { zone: null, since: at, last: null, seenAt: at };
  const closing = was.zone ? { dwell: { zone: was.zone, ms: Math.max(0, at - was.since) } } : {};
  const from = was.zone ?? was.last;
  // Not `{ ...was, seenAt }`: a literal that starts with a spread is slow in Node 20 (see IngestService.accept).
  const seen = (): TrackState => ({ zone: was.zone, since: was.since, last: was.last, seenAt: at });
  if (zone === 'outside') {
    if (event === 'exit') return { state: seen() };
    return { state: null, ...closing, ...(from ? { move: { from, to: 'outside' } } : {}) };
  }
  if (event === 'enter') {
    if (was.zone === zone) return { state: seen() };
    return { state: { zone, since: at, last: null, seenAt: at }, ...closing, ...(from ? { move: { from, to: zone } } : {}) };
  }
  if (was.zone !== zone) return { state: s ? seen() : null };
  return { state: { zone: null, since: at, last: zone, seenAt: at }, ...closing };
}

export interface TrackEvent {
  zone: string;
  event: 'enter' | 'exit';
  at: number;
}

/** What a track adds to the aggregates: a visit's dwell (counted when it ended) or a move. */
export type Contribution = { kind: 'dwell'; zone: string; at: number; ms: number } | { kind: 'transition'; from: string; to: string; at: number };

/** What event `e` contributes on a track in state `s`, appended to `out`; the track's state after it. */
function contribute(s: TrackState | undefined, e: TrackEvent, out: Contribution[]): TrackState | undefined {
  const step = stepTrack(s, e.zone, e.event, e.at);
  if (step.dwell) out.push({ kind: 'dwell', zone: step.dwell.zone, at: e.at, ms: step.dwell.ms });
  if (step.move) out.push({ kind: 'transition', ...step.move, at: e.at });
  return step.state ?? undefined;
}

/** A track's contributions, its events taken in time order, and its state after them. */
export function contributions(events: TrackEvent[]): Contribution[] {
  return replay(events).out;
}

function replay(events: TrackEvent[]): { out: Contribution[]; state: TrackState | undefined } {
  const out: Contribution[] = [];
  let state: TrackState | undefined;
  for (const e of events) state = contribute(state, e, out);
  return { out, state };
}

/** Open tracks are kept this long after their last event (the camera lost them)… */
const OPEN_MEMORY_MS = 12 * 3600_000;
/** …and tracks that left the branch this long, for their late events. */
const ENDED_MEMORY_MS = 15 * 60_000;

/**
 * The tracks of one branch, each with its events in time order. Several cameras report one person, and a
 * busy camera's messages reach the hub later than a quiet one's: an event older than the track's latest is
 * put in its place, and the track's contributions are worked out again — `add` returns what they gained and
 * lost, so the aggregates end up as if every event had come in time order.
 */
export class TrackBook {
  /** Each track's events in time order, and its state after the last. */
  private readonly tracks = new Map<string, { events: TrackEvent[]; state: TrackState | undefined }>();
  /** Old tracks are swept when the book grows past this: twice what the last sweep kept, so a sweep costs O(1) per event. */
  private sweepAbove = 1000;

  add(track: string, e: TrackEvent): { added: Contribution[]; removed: Contribution[] } {
    let t = this.tracks.get(track);
    if (!t) this.tracks.set(track, (t = { events: [], state: undefined }));
    const change = this.insert(t, e);
    if (this.tracks.size > this.sweepAbove) {
      this.forget(e.at);
      this.sweepAbove = Math.max(1000, 2 * this.tracks.size);
    }
    return change;
  }

  private insert(t: { events: TrackEvent[]; state: TrackState | undefined }, e: TrackEvent): { added: Contribution[]; removed: Contribution[] } {
    const { events } = t;
    let i = events.length;
    while (i > 0 && events[i - 1].at > e.at) i--;
    if (i === events.length) {
      // In time order (nearly always): only this event's step is new.
      const added: Contribution[] = [];
      t.state = contribute(t.state, e, added);
      events.push(e);
      return { added, removed: [] };
    }
    const before = contributions(events);
    events.splice(i, 0, e);
    const after = replay(events);
    t.state = after.state;
    return diff(before, after.out);
  }

  private forget(now: number): void {
    for (const [id, { events }] of this.tracks) {
      const last = events[events.length - 1];
      const ended = last.zone === 'outside' && last.event === 'enter';
      if (last.at < now - (ended ? ENDED_MEMORY_MS : OPEN_MEMORY_MS)) this.tracks.delete(id);
    }
  }
}

function diff(before: Contribution[], after: Contribution[]): { added: Contribution[]; removed: Contribution[] } {
  const left = new Map<string, number>();
  for (const c of before) left.set(JSON.stringify(c), (left.get(JSON.stringify(c)) ?? 0) + 1);
  const added: Contribution[] = [];
  for (const c of after) {
    const k = JSON.stringify(c);
    const n = left.get(k) ?? 0;
    if (n > 0) left.set(k, n - 1);
    else added.push(c);
  }
  const removed = [...left].flatMap(([k, n]) => Array.from({ length: n }, () => JSON.parse(k) as Contribution));
  return { added, removed };
}
