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
  if (zone === 'outside') {
    if (event === 'exit') return { state: { ...was, seenAt: at } };
    return { state: null, ...closing, ...(from ? { move: { from, to: 'outside' } } : {}) };
  }
  if (event === 'enter') {
    if (was.zone === zone) return { state: { ...was, seenAt: at } };
    return { state: { zone, since: at, last: null, seenAt: at }, ...closing, ...(from ? { move: { from, to: zone } } : {}) };
  }
  if (was.zone !== zone) return { state: s ? { ...was, seenAt: at } : null };
  return { state: { zone: null, since: at, last: zone, seenAt: at }, ...closing };
}
