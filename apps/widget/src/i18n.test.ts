import { describe, expect, it } from 'vitest';
import { dictionaries, resolveLocale, translator } from './i18n.ts';

describe('i18n', () => {
  it('resolves data-locale first, then browser languages by language, else en', () => {
    expect(resolveLocale('pt-BR', ['es-MX'])).toBe('pt-BR');
    expect(resolveLocale(null, ['es-AR', 'en'])).toBe('es-MX');
    expect(resolveLocale(undefined, ['pt-PT'])).toBe('pt-BR');
    expect(resolveLocale('fr', ['de-DE'])).toBe('en');
    expect(resolveLocale('', [])).toBe('en');
  });

  it('fills placeholders and translates', () => {
    expect(translator('es-MX')('read')).toBe('Leído');
    expect(translator('en')('uploading', { name: 'a.png' })).toBe('Uploading a.png…');
    expect(translator('pt-BR')('unread', { count: 3 })).toBe('3 não lidas');
  });

  it('has every key in every locale, none empty', () => {
    const keys = Object.keys(dictionaries.en).sort();
    for (const dict of Object.values(dictionaries)) {
      expect(Object.keys(dict).sort()).toEqual(keys);
      for (const v of Object.values(dict)) expect(v.length).toBeGreaterThan(0);
    }
  });
});
