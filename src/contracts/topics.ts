/** Topic grammar of contract section 3. The one place topics are built and parsed. */

/** What a device may publish about itself. `event` is reserved by the contract for device-defined events. */
export const DEVICE_UPLINK = ['state', 'footfall', 'occupancy', 'post', 'track', 'conduct', 'queue', 'ack', 'event'] as const;
export type UplinkKind = (typeof DEVICE_UPLINK)[number];
export const isUplinkKind = (kind: string): kind is UplinkKind => (DEVICE_UPLINK as readonly string[]).includes(kind);
export const DEVICE_DOWNLINK = ['cmd', 'error'] as const;
export type DownlinkKind = (typeof DEVICE_DOWNLINK)[number];

export const topics = {
  device: (b: string, d: string, kind: UplinkKind | DownlinkKind) => `branch/${b}/devices/${d}/${kind}`,
  presence: (b: string, d: string) => `branch/${b}/presence/${d}`,
  summary: (b: string) => `branch/${b}/summary`,
};

export interface DeviceTopic {
  branchId: string;
  deviceId: string;
  kind: string;
}

const parsed = new Map<string, Readonly<DeviceTopic> | null>();

/**
 * Parses `branch/{b}/devices/{d}/{kind}`; anything else is null. Remembered (up to a few thousand short topics, under
 * 1 MB): each device message is parsed twice (the broker's ACL, then ingest), and a device uses a handful of topics.
 */
export function parseDeviceTopic(topic: string): Readonly<DeviceTopic> | null {
  let t = parsed.get(topic);
  if (t !== undefined) return t;
  const parts = topic.split('/');
  const [, branchId, , deviceId, kind] = parts;
  t = parts.length === 5 && parts[0] === 'branch' && parts[2] === 'devices' && branchId && deviceId && kind ? Object.freeze({ branchId, deviceId, kind }) : null;
  if (topic.length > 200) return t;
  if (parsed.size >= 4096) parsed.clear();
  parsed.set(topic, t);
  return t;
}
