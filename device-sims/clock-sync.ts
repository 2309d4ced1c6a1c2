import { ScaledClock } from '../src/clock/clock.js';
import { topics } from '../src/contracts/topics.js';
import type { SimDevice } from './device.js';

/**
 * The hub's clock, read from a just-connected device: when a connection comes up the hub publishes the
 * device's retained presence `{online: true, since}` stamped on its own clock (contract sections 3 and 9),
 * so `since` is "hub now", give or take one message's latency. A retained `online: false` is from before
 * this connection and is skipped. Resolves with a clock that runs `scale` times real time from there.
 */
export async function hubClock(device: SimDevice, scale = 1, timeoutMs = 5000): Promise<ScaledClock> {
  const topic = topics.presence(device.identity.branchId, device.id);
  let found!: (since: number) => void;
  let timer: NodeJS.Timeout | undefined;
  const since = new Promise<number>((resolve, reject) => {
    found = resolve;
    // Real ms: there is no hub time to wait on yet.
    timer = setTimeout(() => reject(new Error(`${device.id}: no presence from the hub within ${timeoutMs} ms`)), timeoutMs);
  });
  const onMessage = (t: string, payload: Buffer) => {
    const p = t === topic ? parse(payload) : null;
    const at = p?.online === true ? Date.parse(String(p.since)) : NaN;
    if (!Number.isNaN(at)) found(at);
  };
  device.client.on('message', onMessage);
  try {
    const [at] = await Promise.all([since, device.client.subscribeAsync(topic, { qos: 1 })]);
    const clock = new ScaledClock(scale, at);
    await device.client.unsubscribeAsync(topic);
    return clock;
  } finally {
    clearTimeout(timer);
    device.client.off('message', onMessage);
  }
}

function parse(payload: Buffer): Record<string, unknown> | null {
  try {
    return JSON.parse(payload.toString());
  } catch {
    return null;
  }
}

/**
 * The hub's clock read over HTTP, NTP-style: `GET /api/health` reports the hub's `clock.now` and `scale`;
 * of a few round trips the shortest is kept and its reading placed at its midpoint, so the error is at
 * most half that round trip (about a millisecond on one machine; times the scale in hub time). More
 * exact than a presence's `since`, which is stamped at connect and read only after the subscribe.
 */
export async function clockFromHealth(httpUrl: string, samples = 5): Promise<ScaledClock> {
  let best: { rtt: number; mid: number; now: number; scale: number } | undefined;
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const res = await fetch(`${httpUrl}/api/health`);
    const body = (await res.json()) as { clock?: { now?: string; scale?: number } };
    const t1 = performance.now();
    const now = Date.parse(String(body.clock?.now));
    if (Number.isNaN(now) || !(Number(body.clock?.scale) > 0)) throw new Error(`${httpUrl}/api/health: no clock in ${JSON.stringify(body)}`);
    if (!best || t1 - t0 < best.rtt) best = { rtt: t1 - t0, mid: (t0 + t1) / 2, now, scale: Number(body.clock!.scale) };
  }
  const b = best!;
  return new ScaledClock(b.scale, b.now + (performance.now() - b.mid) * b.scale);
}
