/**
 * The portal's words, from messages/<locale>.json: Chinese first, English on request (the choice is kept in this
 * browser). Dates are shown in Asia/Shanghai, the platform's time zone, whatever the browser's own.
 */
import en from './messages/en.json';
import zh from './messages/zh-CN.json';

export type Locale = 'zh-CN' | 'en';
export type MessageKey = keyof typeof zh;

const MESSAGES: Record<Locale, Record<MessageKey, string>> = { 'zh-CN': zh, en };
const STORAGE_KEY = 'portal.locale';

export function initialLocale(): Locale {
  return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh-CN';
}

export function rememberLocale(locale: Locale): void {
  localStorage.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
}

/** Keys built from server values (an entry kind, a state) may have no message: the value itself is shown. */
export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

export function translator(locale: Locale): Translate {
  return (key, values = {}) => (MESSAGES[locale][key] ?? key.slice(key.indexOf('.') + 1)).replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? `{${name}}`));
}

export function hasMessage(key: string): key is MessageKey {
  return Object.hasOwn(zh, key);
}

export function formatTime(locale: Locale, instant: string | number | Date): string {
  const date = typeof instant === 'number' ? new Date(instant * 1000) : new Date(instant);
  return new Intl.DateTimeFormat(locale, { timeZone: 'Asia/Shanghai', dateStyle: 'medium', timeStyle: 'short' }).format(date) + (locale === 'en' ? ' (Beijing time)' : '（北京时间）');
}
