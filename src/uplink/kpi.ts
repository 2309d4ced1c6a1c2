import type { BranchConfig } from '../config/config.schema.js';
import type { DeviceView } from '../contracts/views.js';
import type { BranchModel } from '../signals/branch-model.js';

/**
 * How busy the branch is, 0–1, for headquarters (docs/uplink.md): the larger of how full its zones with a
 * capacity are (people ÷ capacity, together) and how long its longest estimated wait is against twice the
 * staffing target (`targetWaitMin`): a branch is "full" when its zones are, or when a customer would wait
 * twice as long as the bank wants.
 */
export function busyness(branch: BranchConfig, model: BranchModel): number {
  const sized = branch.zones.filter((z) => z.capacity);
  const capacity = sized.reduce((n, z) => n + z.capacity!, 0);
  const people = sized.reduce((n, z) => n + model.peopleIn(z.id), 0);
  const crowd = capacity ? people / capacity : 0;
  const longest = Math.max(0, ...Object.values(model.summary('').estimatedWaitMin));
  const wait = longest / (2 * branch.rules.targetWaitMin);
  return Math.round(Math.min(1, Math.max(crowd, wait)) * 100) / 100;
}

/** `hq/{b}/kpi` (contract section 8). */
export function kpiOf(branch: BranchConfig, model: BranchModel, devices: DeviceView[], openAlerts: number, now: number) {
  const ts = new Date(now).toISOString();
  const { waiting, estimatedWaitMin, occupancy } = model.summary(ts);
  const day = new Date(now);
  day.setHours(0, 0, 0, 0);
  const footfallToday = model
    .footfallByHour()
    .filter((h) => Date.parse(h.hour) >= day.getTime())
    .reduce((n, h) => n + h.in, 0);
  return {
    ts,
    waiting,
    estimatedWaitMin,
    occupancy,
    footfallToday,
    devices: { online: devices.filter((d) => d.online).length, total: devices.length },
    openAlerts,
    busyness: busyness(branch, model),
  };
}
