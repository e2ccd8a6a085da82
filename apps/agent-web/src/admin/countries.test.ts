import { describe, expect, it } from 'vitest';
import { countryList, countryName } from './countries';

describe('countries', () => {
  it('names every country in the user language, sorted by that name', () => {
    const es = countryList('es-MX');
    expect(es).toHaveLength(249);
    expect(es.find((c) => c.code === 'MX')?.name).toBe('México');
    expect(countryName('BR', 'pt-BR')).toBe('Brasil');
    expect(countryName('DE', 'en')).toBe('Germany');
    const names = es.map((c) => c.name);
    expect(names).toEqual([...names].sort(new Intl.Collator('es-MX').compare));
  });
});
