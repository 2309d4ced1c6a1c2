/**
 * Alert types. Condition alerts (crowding, device-down, …) close when their condition ends; event
 * alerts (a VIP arrived, a task failed) have no condition to end, so a manager's acknowledgement closes them.
 */
export const EVENT_ALERTS = ['vip-arrival', 'task-failed'] as const;
export type AlertType = (typeof EVENT_ALERTS)[number] | 'device-down' | 'crowding' | 'long-wait' | 'post-unattended';
