import { createContext, useContext, useMemo, type ReactNode } from 'react';
import type { Locale } from '../api/types';
import { en, type MessageKey } from './en';
import { esMX } from './es-MX';
import { ptBR } from './pt-BR';

export type { MessageKey };
export type TranslateParams = Record<string, string | number>;
export type Translate = (key: MessageKey, params?: TranslateParams) => string;

export const locales: Locale[] = ['en', 'es-MX', 'pt-BR'];
export const dictionaries: Record<Locale, Record<MessageKey, string>> = { en, 'es-MX': esMX, 'pt-BR': ptBR };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (locales as string[]).includes(value);
}

/** Fills `{name}` placeholders; a missing key falls back to English rather than showing the key. */
export function translate(locale: Locale, key: MessageKey, params?: TranslateParams): string {
  const template = dictionaries[locale][key] ?? en[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** The browser's preferred supported locale, for the pages shown before login. */
export function browserLocale(): Locale {
  for (const lang of navigator.languages ?? [navigator.language]) {
    if (lang.toLowerCase().startsWith('es')) return 'es-MX';
    if (lang.toLowerCase().startsWith('pt')) return 'pt-BR';
    if (lang.toLowerCase().startsWith('en')) return 'en';
  }
  return 'en';
}

interface I18nValue {
  locale: Locale;
  t: Translate;
  formatTime: (iso: string) => string;
  formatDateTime: (iso: string) => string;
  /** Hour and minute only, in the UI language. */
  formatClock: (iso: string) => string;
}

const I18nContext = createContext<I18nValue | null>(null);

export function I18nProvider({ locale, children }: { locale: Locale; children: ReactNode }) {
  const value = useMemo<I18nValue>(() => {
    const time = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' });
    const day = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric' });
    const full = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
    return {
      locale,
      t: (key, params) => translate(locale, key, params),
      formatTime: (iso) => {
        const d = new Date(iso);
        if (Number.isNaN(d.getTime())) return '';
        const now = new Date();
        return d.toDateString() === now.toDateString() ? time.format(d) : day.format(d);
      },
      formatClock: (iso) => {
        const d = new Date(iso);
        return Number.isNaN(d.getTime()) ? '' : time.format(d);
      },
      formatDateTime: (iso) => {
        const d = new Date(iso);
        return Number.isNaN(d.getTime()) ? '' : full.format(d);
      },
    };
  }, [locale]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nValue {
  const v = useContext(I18nContext);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
