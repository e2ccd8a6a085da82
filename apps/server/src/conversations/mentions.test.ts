import { describe, expect, it } from 'vitest';
import { mentionedUserIds } from './post-message.ts';

const users = [
  { id: 'ana', name: 'Ana' },
  { id: 'ana-lucia', name: 'Ana Lucia' },
  { id: 'joao', name: 'João Silva' },
];

describe('mentionedUserIds', () => {
  it('takes the longest name after each @', () => {
    expect(mentionedUserIds('ping @Ana Lucia please', users)).toEqual(['ana-lucia']);
  });
  it('needs a word boundary after the name', () => {
    expect(mentionedUserIds('@Anabel was here', users)).toEqual([]);
    expect(mentionedUserIds('@ana, look', users)).toEqual(['ana']);
  });
  it('finds several mentions, accents and case included, once each', () => {
    expect(mentionedUserIds('@joão silva and @ANA and @Ana again', users).sort()).toEqual(['ana', 'joao']);
  });
  it('ignores an email address that is not a mention of anyone', () => {
    expect(mentionedUserIds('write to x@example.com', users)).toEqual([]);
  });
});
