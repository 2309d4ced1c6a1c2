import type { BranchConfig, DeviceConfig, HubConfig } from './config.schema.js';

export interface DeviceEntry {
  branch: BranchConfig;
  device: DeviceConfig;
}

/** Device id → its branch and config: who may connect, and what it may touch. */
export function indexDevices(config: HubConfig): Map<string, DeviceEntry> {
  const index = new Map<string, DeviceEntry>();
  for (const branch of config.branches) for (const device of branch.devices) index.set(device.id, { branch, device });
  return index;
}
