import { describe, expect, it } from 'vitest';
import { isValidEmail, newClientMessageId } from './ids.ts';

describe('ids and email', () => {
  it('makes v4 UUIDs without crypto.randomUUID (plain-http host pages)', () => {
    const id = newClientMessageId({ getRandomValues: <T extends ArrayBufferView | null>(a: T) => crypto.getRandomValues(a as Uint8Array) as unknown as T });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('validates emails loosely', () => {
    expect(isValidEmail('ana@example.com')).toBe(true);
    expect(isValidEmail(' ana@example.com ')).toBe(true);
    expect(isValidEmail('ana@example')).toBe(false);
    expect(isValidEmail('ana example.com')).toBe(false);
  });
});
