import type { DeviceEntry } from '../config/directory.js';
import { isUplinkKind, parseDeviceTopic, topics } from '../contracts/topics.js';

// Who may do what on the broker (contract section 3, Access), from the config's device directory.

/** A device publishes only to its own uplink topics. */
export function mayPublish(devices: Map<string, DeviceEntry>, deviceId: string, topic: string): boolean {
  const entry = devices.get(deviceId);
  const t = parseDeviceTopic(topic);
  return !!entry && !!t && t.branchId === entry.branch.id && t.deviceId === deviceId && isUplinkKind(t.kind);
}

/** Its own cmd and error, its branch's presence/# and summary; anything else gets 0x80. */
export function maySubscribe(devices: Map<string, DeviceEntry>, deviceId: string, filter: string): boolean {
  const entry = devices.get(deviceId);
  if (!entry) return false;
  const b = entry.branch.id;
  const presence = `branch/${b}/presence/`;
  return (
    filter === topics.device(b, deviceId, 'cmd') ||
    filter === topics.device(b, deviceId, 'error') ||
    filter === topics.summary(b) ||
    filter === `branch/${b}/presence` ||
    (filter.startsWith(presence) && filter.length > presence.length)
  );
}
