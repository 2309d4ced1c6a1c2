/**
 * Alert types. Condition alerts (crowding, device-down, …) close when their condition ends; event
 * alerts (a VIP arrived, a task failed, a conduct finding) have no condition to end, so a manager's
 * acknowledgement closes them.
 */
export const EVENT_ALERTS = ['vip-arrival', 'task-failed', 'conduct'] as const;
export const CONDITION_ALERTS = ['device-down', 'crowding', 'long-wait', 'post-unattended', 'appointment-due'] as const;
export type AlertType = (typeof EVENT_ALERTS)[number] | (typeof CONDITION_ALERTS)[number];

/** How urgent an alert is; one that nobody acknowledges within `alertEscalateMin` goes one level up, then again. */
export const ALERT_LEVELS = ['info', 'warning', 'critical'] as const;
export type AlertLevel = (typeof ALERT_LEVELS)[number];

/** The level an alert is raised at. */
export const RAISED_AT: Record<AlertType, AlertLevel> = {
  'vip-arrival': 'info',
  'task-failed': 'warning',
  conduct: 'warning',
  'device-down': 'warning',
  crowding: 'warning',
  'long-wait': 'warning',
  'post-unattended': 'warning',
  'appointment-due': 'info',
};
