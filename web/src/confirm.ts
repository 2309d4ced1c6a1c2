import { reactive } from 'vue';
import { i18n } from './i18n.js';
import type { Answer } from './live.js';

/**
 * Every one-tap action is confirmed, then answered: `ask` opens the confirm dialog; on "yes" the command
 * runs and the answer bar shows either what the hub did (`done`, worded from its answer) or its error.
 */
export interface Pending {
  message: string;
  run: () => Promise<Answer>;
  done: (answer: Record<string, unknown>) => string;
}

export const dialog = reactive({ pending: null as Pending | null, busy: false });
export const answer = reactive({ text: '', ok: true, seq: 0 });

export function ask(message: string, run: Pending['run'], done: Pending['done']): void {
  dialog.pending = { message, run, done };
}

export function dismiss(): void {
  if (!dialog.busy) dialog.pending = null;
}

export async function confirm(): Promise<void> {
  const pending = dialog.pending;
  if (!pending || dialog.busy) return;
  dialog.busy = true;
  try {
    show(await pending.run(), pending.done);
  } finally {
    dialog.busy = false;
    dialog.pending = null;
  }
}

function show(a: Answer, done: Pending['done']): void {
  const t = i18n.global.t;
  answer.ok = a.ok;
  answer.text = a.ok ? done(a) : 'noAnswer' in a ? t('answer.noAnswer') : t('answer.error', { error: a.error });
  answer.seq += 1;
}

export function clearAnswer(): void {
  answer.text = '';
}
