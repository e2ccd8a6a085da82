import { describe, expect, it } from 'vitest';
import type { CannedReply, User } from '../api/types';
import { applyCompletion, filterCannedReplies, filterMentionCandidates, findTrigger, splitMentions } from './triggers';

const user = (id: string, name: string, email = `${id}@x.io`): User => ({ id, name, email, role: 'agent', locale: 'en', createdAt: '' });
const users = [user('u1', 'Ana López'), user('u2', 'Bruno Silva'), user('u3', 'Ana')];
const replies: CannedReply[] = [
  { id: 'r1', shortCode: 'hello', content: 'Hi {{contact.name}}!' },
  { id: 'r2', shortCode: 'refund', content: 'About your refund…' },
  { id: 'r3', shortCode: 'bye', content: 'Say hello to the team' },
];

describe('findTrigger', () => {
  it('finds a canned reply trigger at the start of a line', () => {
    expect(findTrigger('/ref', 4, false)).toEqual({ kind: 'canned', query: 'ref', start: 0 });
    expect(findTrigger('Thanks\n/he', 10, false)).toEqual({ kind: 'canned', query: 'he', start: 7 });
  });
  it('does not treat a slash inside text as a trigger', () => {
    expect(findTrigger('and/or', 6, false)).toBeNull();
    expect(findTrigger('see https://x.io/a', 18, false)).toBeNull();
  });
  it('finds a mention only in notes and only after whitespace', () => {
    expect(findTrigger('ping @an', 8, true)).toEqual({ kind: 'mention', query: 'an', start: 5 });
    expect(findTrigger('ping @an', 8, false)).toBeNull();
    expect(findTrigger('mail a@b', 8, true)).toBeNull();
  });
  it('stops the mention at a space', () => {
    expect(findTrigger('@ana lo', 7, true)).toBeNull();
  });
});

describe('completion', () => {
  it('replaces the trigger text and puts the caret after the completion', () => {
    const text = 'hi @an and more';
    const trig = findTrigger(text, 6, true);
    expect(trig).not.toBeNull();
    expect(applyCompletion(text, trig!, 6, '@Ana López ')).toEqual({ text: 'hi @Ana López  and more', caret: 14 });
  });
});

describe('filters', () => {
  it('matches users by any word of the name, ignoring accents and case', () => {
    expect(filterMentionCandidates(users, 'lop').map((u) => u.id)).toEqual(['u1']);
    expect(filterMentionCandidates(users, 'ANA').map((u) => u.id)).toEqual(['u1', 'u3']);
    expect(filterMentionCandidates(users, '').length).toBe(3);
  });
  it('ranks canned replies whose code starts with the query first', () => {
    expect(filterCannedReplies(replies, 'he').map((r) => r.id)).toEqual(['r1', 'r3']);
    expect(filterCannedReplies(replies, 'REF').map((r) => r.id)).toEqual(['r2']);
  });
});

describe('splitMentions', () => {
  it('highlights the longest matching user name', () => {
    expect(splitMentions('cc @Ana López please', users)).toEqual([
      { kind: 'text', text: 'cc ' },
      { kind: 'mention', text: '@Ana López', userId: 'u1' },
      { kind: 'text', text: ' please' },
    ]);
  });
  it('leaves emails and unknown names as text', () => {
    expect(splitMentions('write to a@Ana.com or @Zed', users)).toEqual([{ kind: 'text', text: 'write to a@Ana.com or @Zed' }]);
  });
  it('keeps markup as plain text segments', () => {
    const s = splitMentions('<img src=x onerror=alert(1)> @Ana', users);
    expect(s[0]).toEqual({ kind: 'text', text: '<img src=x onerror=alert(1)> ' });
    expect(s[1]).toMatchObject({ kind: 'mention', userId: 'u3' });
  });
});
