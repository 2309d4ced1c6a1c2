import type { DeviceStatus } from '../contracts/payloads.js';

/** A device as the hub knows it: config plus live state. What REST and the dashboard show. */
export interface DeviceView {
  id: string;
  branchId: string;
  kind: string;
  /** Where it is now (last reported), else its configured zone. */
  zone: string | null;
  homeZone: string | null;
  capabilities: string[];
  services: string[];
  status: DeviceStatus | null;
  battery: number | null;
  online: boolean;
  since: string | null;
  lastSeen: string | null;
}
