import { createI18n } from 'vue-i18n';
import en from './locales/en.json';
import zhCN from './locales/zh-CN.json';

/** Every string the page shows lives in `locales/`; zh-CN is the schema, and `en` must have every key of it. */
export type MessageSchema = typeof zhCN;
const english: MessageSchema = en;

declare module 'vue-i18n' {
  // Message keys typed from zh-CN.json (editors complete them).
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  export interface DefineLocaleMessage extends MessageSchema {}
}

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
const KEY = 'branch-hub.locale';

const stored = localStorage.getItem(KEY);
const initial: Locale = stored === 'en' ? 'en' : 'zh-CN';
document.documentElement.lang = initial;

export const i18n = createI18n<[MessageSchema], Locale, false>({
  legacy: false,
  locale: initial,
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en: english },
});

/** Chinese by default; English one tap away, remembered on this tablet. */
export function switchLocale(): void {
  const next: Locale = i18n.global.locale.value === 'en' ? 'zh-CN' : 'en';
  i18n.global.locale.value = next;
  localStorage.setItem(KEY, next);
  document.documentElement.lang = next;
}
