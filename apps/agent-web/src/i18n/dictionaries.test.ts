import { describe, expect, it } from 'vitest';
import { en } from './en';
import { esMX } from './es-MX';
import { ptBR } from './pt-BR';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('i18n dictionaries', () => {
  const reference = Object.keys(en).sort();
  for (const [name, dict] of Object.entries({ 'es-MX': esMX, 'pt-BR': ptBR })) {
    it(`${name} has exactly the English keys`, () => {
      expect(Object.keys(dict).sort()).toEqual(reference);
    });
    it(`${name} keeps every {placeholder} of the English text`, () => {
      for (const key of reference) {
        const k = key as keyof typeof en;
        expect(placeholders(dict[k]), key).toEqual(placeholders(en[k]));
      }
    });
    it(`${name} has no empty translation`, () => {
      for (const [key, value] of Object.entries(dict)) expect(value.trim(), key).not.toBe('');
    });
  }
});
