import { describe, expect, it } from 'vitest';
import { storableStrings, storableText } from './storable-text.ts';

describe('storableText', () => {
  it('drops NUL and replaces lone surrogate halves, keeping pairs (emoji) and everything else', () => {
    expect(storableText('a\u0000b')).toBe('ab');
    expect(storableText('x\uD800y')).toBe('x\uFFFDy');
    expect(storableText('x\uDC00y')).toBe('x\uFFFDy');
    expect(storableText('end\uD83D')).toBe('end\uFFFD');
    expect(storableText('ok 🤖 \u202e ñ')).toBe('ok 🤖 \u202e ñ');
  });

  it('reaches every string of a message, leaving buffers and dates alone', () => {
    const content = Buffer.from([0, 1, 2]);
    const at = new Date(0);
    const out = storableStrings({ text: 'a\u0000', list: ['\uDFFF'], nested: { 'k\u0000': 'v' }, content, at, n: 1, none: null });
    expect(out).toEqual({ text: 'a', list: ['\uFFFD'], nested: { k: 'v' }, content, at, n: 1, none: null });
    expect(out.content).toBe(content);
  });

  it('returns a value with nothing to change as it is, and still finds one bad string deep inside', () => {
    const clean = { text: 'Olá 🙏', details: { to: ['+5511'], n: 2 } };
    expect(storableStrings(clean)).toBe(clean);
    const deep = { text: 'ok', details: { list: [{ fine: 'x' }, { bad: 'y\u0000' }] } };
    expect(storableStrings(deep)).toEqual({ text: 'ok', details: { list: [{ fine: 'x' }, { bad: 'y' }] } });
    expect(deep.details.list[1]!.bad).toBe('y\u0000');
  });
});
