import { describe, expect, it } from 'vitest';
import { formatRelative, relativeParts } from './relative-time';

const NOW = Date.parse('2026-11-22T12:00:00Z');

describe('relative time', () => {
  it('picks the largest unit that fits, past and future', () => {
    expect(relativeParts(NOW - 30_000, NOW)).toEqual({ value: -30, unit: 'second' });
    expect(relativeParts(NOW - 5 * 60_000 - 10_000, NOW)).toEqual({ value: -5, unit: 'minute' });
    expect(relativeParts(NOW - 26 * 3600_000, NOW)).toEqual({ value: -1, unit: 'day' });
    expect(relativeParts(NOW + 3 * 3600_000, NOW)).toEqual({ value: 3, unit: 'hour' });
  });

  it('speaks the user language', () => {
    expect(formatRelative('2026-11-22T11:57:00Z', NOW, 'en')).toBe('3 minutes ago');
    expect(formatRelative('2026-11-22T11:57:00Z', NOW, 'es-MX')).toBe('hace 3 minutos');
    expect(formatRelative('2026-11-22T11:57:00Z', NOW, 'pt-BR')).toBe('há 3 minutos');
    expect(formatRelative('nonsense', NOW, 'en')).toBe('');
  });
});
