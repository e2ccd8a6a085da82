import { describe, expect, it } from 'vitest';
import { matchKeyword } from './opt-out-keywords.ts';
import { countriesOfNumber, unavailableCountryOf } from './phone-country.ts';

describe('opt-out keywords', () => {
  it('match the whole text only, whatever the case, accents and trailing punctuation', () => {
    expect(matchKeyword(' stop ', '+14155550100')).toEqual({ action: 'opt_out', keyword: 'STOP', language: 'en' });
    expect(matchKeyword('¡Baja!', '+5215512345678')).toEqual({ action: 'opt_out', keyword: 'BAJA', language: 'es-MX' });
    expect(matchKeyword('ajúda', '+5511912345678')).toEqual({ action: 'help', keyword: 'AJUDA', language: 'pt-BR' });
    expect(matchKeyword('Unsubscribe.', '+14155550100')?.action).toBe('opt_out');
    expect(matchKeyword('stop it', '+14155550100')).toBeNull();
    expect(matchKeyword('please STOP', '+14155550100')).toBeNull();
    expect(matchKeyword('', '+14155550100')).toBeNull();
    // Whitespace and punctuation around the word, and accents written as combining marks, do not hide it.
    expect(matchKeyword('\n Stop!! \t', '+14155550100')?.keyword).toBe('STOP');
    expect(matchKeyword('aju\u0301da', '+5511912345678')?.keyword).toBe('AJUDA');
    expect(matchKeyword('1 stop', '+14155550100')).toBeNull();
  });

  it('CANCELAR and INICIAR are Portuguese from a Brazilian number, Spanish otherwise', () => {
    expect(matchKeyword('cancelar', '+5511912345678')).toMatchObject({ action: 'opt_out', language: 'pt-BR' });
    expect(matchKeyword('cancelar', '5511912345678')).toMatchObject({ language: 'pt-BR' });
    expect(matchKeyword('cancelar', '+5215512345678')).toMatchObject({ action: 'opt_out', language: 'es-MX' });
    expect(matchKeyword('Iniciar', '+5511912345678')).toMatchObject({ action: 'opt_in', language: 'pt-BR' });
    expect(matchKeyword('ALTA', '+5511912345678')).toMatchObject({ action: 'opt_in', language: 'es-MX' });
  });
});

describe('country of a number', () => {
  it('by its E.164 prefix and plan; an ambiguous number is refused when any of its possible countries is listed', () => {
    expect(countriesOfNumber('+5215512345678')).toEqual(['MX']);
    expect(countriesOfNumber('5511912345678')).toEqual(['BR']);
    expect(countriesOfNumber('+14155550100')).toEqual(['US']);
    expect(countriesOfNumber('not a number')).toEqual([]);
    expect(unavailableCountryOf('+447700900123', ['JE'])).toBe('JE');
    expect(unavailableCountryOf('+5215512345678', ['BR'])).toBeNull();
    expect(unavailableCountryOf(null, ['BR'])).toBeNull();
  });
});
