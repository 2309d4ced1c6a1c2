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

/** Parses `branch/{b}/devices/{d}/{kind}`; anything else is null. */
export function parseDeviceTopic(topic: string): DeviceTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== 'branch' || parts[2] !== 'devices') return null;
  const [, branchId, , deviceId, kind] = parts;
  if (!branchId || !deviceId || !kind) return null;
  return { branchId, deviceId, kind };
}
