import { describe, expect, it } from 'vitest';
import { isReadByAgent, lastAgentMessageId, lastVisitorMessage, mergeMessages, pendingItem, replaceMessages, upsertPending } from './message-list.ts';
import type { Message } from './types.ts';

function msg(over: Partial<Message> & { id: string }): Message {
  return {
    conversationId: 'c1',
    direction: 'out',
    private: false,
    senderType: 'user',
    senderId: 'u1',
    senderName: 'Ana',
    content: 'hi',
    attachments: [],
    status: 'sent',
    clientMessageId: null,
    createdAt: '2025-01-01T10:00:00.000Z',
    ...over,
  };
}

const pending = (cmid: string, content = 'hello', createdAt = '2025-01-01T10:05:00.000Z') => pendingItem({ clientMessageId: cmid, content, attachments: [], createdAt });

describe('mergeMessages', () => {
  it('adds a message once even when it arrives twice (replay overlap, response + socket)', () => {
    const m = msg({ id: 'm1' });
    const once = mergeMessages([], [m]);
    const twice = mergeMessages(once, [m, { ...m }]);
    expect(twice).toHaveLength(1);
    expect(twice[0]?.id).toBe('m1');
  });

  it('replaces the local "sending" copy with the server message of the same clientMessageId, keeping its key', () => {
    const items = upsertPending([], pending('cm-1'));
    const merged = mergeMessages(items, [msg({ id: 'm9', direction: 'in', senderType: 'contact', clientMessageId: 'cm-1', content: 'hello' })]);
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ id: 'm9', state: 'sent', key: 'c:cm-1' });
  });

  it('orders confirmed messages by server time and keeps unconfirmed ones last', () => {
    const items = upsertPending([], pending('cm-1', 'mine', '2020-01-01T00:00:00.000Z'));
    const merged = mergeMessages(items, [
      msg({ id: 'b', createdAt: '2025-01-01T10:02:00.000Z' }),
      msg({ id: 'a', createdAt: '2025-01-01T10:01:00.000Z' }),
    ]);
    expect(merged.map((i) => i.id ?? i.clientMessageId)).toEqual(['a', 'b', 'cm-1']);
  });

  it('drops private notes', () => {
    expect(mergeMessages([], [msg({ id: 'n', private: true })])).toHaveLength(0);
  });

  it('updates an existing message in place when it comes back changed', () => {
    const first = mergeMessages([], [msg({ id: 'm1', content: 'v1' })]);
    const second = mergeMessages(first, [msg({ id: 'm1', content: 'v2' })]);
    expect(second.map((i) => i.content)).toEqual(['v2']);
  });
});

describe('upsertPending', () => {
  it('never downgrades a confirmed message back to "sending"', () => {
    const confirmed = mergeMessages([], [msg({ id: 'm1', direction: 'in', clientMessageId: 'cm-1' })]);
    const after = upsertPending(confirmed, pending('cm-1'));
    expect(after).toHaveLength(1);
    expect(after[0]?.state).toBe('sent');
  });

  it('switches a pending message to failed without duplicating it', () => {
    const items = upsertPending([], pending('cm-1'));
    const failed = upsertPending(items, pendingItem({ clientMessageId: 'cm-1', content: 'hello', attachments: [], createdAt: 'x' }, 'failed'));
    expect(failed).toHaveLength(1);
    expect(failed[0]?.state).toBe('failed');
  });
});

describe('replaceMessages (resync)', () => {
  it('takes the server list as the truth and keeps local messages the server does not have', () => {
    let items = mergeMessages([], [msg({ id: 'gone' }), msg({ id: 'kept' })]);
    items = upsertPending(items, pending('cm-local'));
    items = upsertPending(items, pending('cm-arrived'));
    const replaced = replaceMessages(items, [msg({ id: 'kept' }), msg({ id: 'new', direction: 'in', clientMessageId: 'cm-arrived' })]);
    expect(replaced.map((i) => i.key)).toEqual(['m:kept', 'c:cm-arrived', 'c:cm-local']);
    expect(replaced.filter((i) => i.state === 'sending').map((i) => i.clientMessageId)).toEqual(['cm-local']);
  });
});

describe('read receipts', () => {
  const items = mergeMessages([], [
    msg({ id: 'v1', direction: 'in', senderType: 'contact', createdAt: '2025-01-01T10:00:00.000Z' }),
    msg({ id: 'a1', direction: 'out', createdAt: '2025-01-01T10:01:00.000Z' }),
    msg({ id: 'v2', direction: 'in', senderType: 'contact', createdAt: '2025-01-01T10:02:00.000Z' }),
  ]);

  it('finds the visitor\'s last confirmed message and the last agent message', () => {
    expect(lastVisitorMessage(upsertPending(items, pending('p')))?.id).toBe('v2');
    expect(lastAgentMessageId(items)).toBe('a1');
  });

  it('is read when agentLastReadAt is at or after the message time', () => {
    const last = lastVisitorMessage(items);
    expect(isReadByAgent(last, '2025-01-01T10:02:00.000Z')).toBe(true);
    expect(isReadByAgent(last, '2025-01-01T10:01:59.999Z')).toBe(false);
    expect(isReadByAgent(last, null)).toBe(false);
  });
});
