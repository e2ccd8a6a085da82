import { describe, expect, it } from 'vitest';
import { linkify } from './linkify.ts';

describe('linkify', () => {
  it('turns http(s) URLs into links and leaves the rest as text', () => {
    expect(linkify('see https://example.com/a?b=1. ok')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { kind: 'text', text: '. ok' },
    ]);
  });

  it('never links other schemes', () => {
    const segs = linkify('javascript:alert(1) data:text/html,<b>x</b> ftp://x.y');
    expect(segs.every((s) => s.kind === 'text')).toBe(true);
  });

  it('keeps a closing parenthesis that belongs to the URL', () => {
    const segs = linkify('(https://en.wikipedia.org/wiki/Foo_(bar))');
    expect(segs.find((s) => s.kind === 'link')?.text).toBe('https://en.wikipedia.org/wiki/Foo_(bar)');
  });

  it('does not let markup-like characters into the href', () => {
    const link = linkify('https://x.com/"><img src=x onerror=alert(1)>').find((s) => s.kind === 'link');
    expect(link?.text).toBe('https://x.com/');
  });
});
