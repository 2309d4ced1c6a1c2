import { useI18n } from 'vue-i18n';
import type { AlertView, Task } from '../../src/contracts/views.js';
import type { MessageSchema } from './i18n.js';

/** The hub's dispatch rules (tasks/selection.ts) → their locale keys. */
const RULES: Record<string, keyof MessageSchema['rules']> = {
  'idle before preemptible': 'idleBeforePreemptible',
  'idle before busy': 'idleBeforeBusy',
  'preemptible before busy': 'preemptibleBeforeBusy',
  'same zone before others': 'sameZone',
  'more battery': 'moreBattery',
  'longest without work (fair spread)': 'fairSpread',
  'tie, by id': 'tieById',
  'only candidate': 'onlyCandidate',
  waiting: 'waiting',
};

export const LEVELS = ['critical', 'warning', 'info'] as const;

/**
 * Words for the hub's ids and codes in the current language. Ids the locale files do not know (a zone
 * named in one branch's config, a future alert type) are shown as they are.
 */
export function useLabels() {
  const { t, te, locale } = useI18n();
  const known = (key: string, fallback: string) => (te(key) ? t(key) : fallback);

  const zone = (id: string | null | undefined) => (id ? known(`zoneNames.${id}`, id) : t('devices.noZone'));
  const kind = (k: string) => known(`kinds.${k}`, k);
  const status = (s: string | null) => t(`status.${s ?? 'unknown'}`);
  const taskType = (type: string) => known(`taskTypes.${type}`, type);
  const taskState = (state: string) => known(`taskStates.${state}`, state);
  const level = (l: string) => known(`levels.${l}`, l);
  const alertType = (type: string) => known(`alertTypes.${type}`, type);
  const rule = (r: string) => (RULES[r] ? t(`rules.${RULES[r]}`) : r);

  /** Hub-clock ISO time as the time of day (the tablet's time zone); "—" for none, or one that is no time. */
  const time = (iso: string | null | undefined) =>
    iso && !Number.isNaN(Date.parse(iso)) ? new Date(iso).toLocaleTimeString(locale.value, { hour: '2-digit', minute: '2-digit', hour12: false }) : '—';

  /** The time of day, and the date before it when that is not today on the tablet's calendar. */
  const when = (iso: string) => {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime()) || d.toDateString() === new Date().toDateString()) return time(iso);
    return `${d.toLocaleDateString(locale.value, { month: 'numeric', day: 'numeric' })} ${time(iso)}`;
  };

  /** Seconds as a manager reads them: "45 s" under a minute, else minutes to one decimal; "—" for none. */
  const duration = (sec: number | null) =>
    sec === null ? t('queues.unknown') : sec < 60 ? t('analytics.seconds', { n: Math.round(sec) }) : t('analytics.minutes', { n: (Math.round(sec / 6) / 10).toFixed(1) });

  /** "Greet · Entrance", "Announcement · “…”": what a task is about, in a few words. */
  const task = (x: Pick<Task, 'type' | 'params'>) => {
    const p = x.params as Record<string, unknown>;
    const where = typeof p.zone === 'string' ? zone(p.zone) : typeof p.toZone === 'string' ? zone(p.toZone) : null;
    const what = typeof p.text === 'string' ? `“${p.text}”` : typeof p.campaign === 'string' ? p.campaign : null;
    return [taskType(x.type), where ?? what].filter(Boolean).join(' · ');
  };

  /** The alert's type and what it is about: a zone, post, device or ticket (not a task's id: its message says more). */
  const alert = (a: AlertView) => {
    const d = a.data as Record<string, unknown>;
    const about = typeof d.zone === 'string' ? zone(d.zone) : typeof d.post === 'string' ? d.post : typeof d.taskId === 'string' ? null : a.subject.split('@')[0];
    return about ? `${alertType(a.type)} · ${about}` : alertType(a.type);
  };

  return { t, locale, zone, kind, status, taskType, taskState, level, alertType, rule, time, when, duration, task, alert };
}

/** Most urgent first, then newest. */
export function byUrgency(a: AlertView, b: AlertView): number {
  const rank = (l: string) => (LEVELS as readonly string[]).indexOf(l);
  return rank(a.level) - rank(b.level) || b.raisedAt.localeCompare(a.raisedAt);
}
