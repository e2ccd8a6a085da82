import { describe, expect, it } from 'vitest';
import type { Conversation, Message } from '../api/types';
import { inboxReducer, initialInboxState, mergeMessages, unreadTotal, type Filters, type InboxState } from './inbox-state';

const ME = 'u-me';
const filters: Filters = { assignee: 'all', status: 'open', inboxId: null, label: null };

function conv(id: string, over: Partial<Conversation> = {}): Conversation {
  return {
    id, inboxId: 'in-1', status: 'open', priority: 0, assigneeId: null, labels: [], customAttributes: {},
    contact: { id: `c-${id}`, name: `Contact ${id}`, email: null, phone: null, identifier: null, verified: false, customAttributes: {}, createdAt: '2025-01-01T00:00:00Z' },
    lastMessage: null, unreadCount: 0, lastActivityAt: '2025-01-01T10:00:00Z', createdAt: '2025-01-01T09:00:00Z',
    contactLastReadAt: null, agentLastReadAt: null, ...over,
  };
}

function msg(id: string, conversationId: string, over: Partial<Message> = {}): Message {
  return {
    id, conversationId, direction: 'in', private: false, senderType: 'contact', senderId: null, senderName: 'V',
    content: `text ${id}`, attachments: [], mentions: [], status: 'received', clientMessageId: null,
    createdAt: '2025-01-01T10:05:00Z', ...over,
  };
}

function loaded(items: Conversation[], f: Filters = filters): InboxState {
  const s = initialInboxState(ME, f);
  return inboxReducer(s, { type: 'listLoaded', filters: f, items, counts: { mine: 0, unassigned: items.length, all: items.length }, sinceSeq: null });
}

describe('inbox reducer', () => {
  it('orders the list by last activity, newest first', () => {
    const s = loaded([conv('a', { lastActivityAt: '2025-01-01T08:00:00Z' }), conv('b', { lastActivityAt: '2025-01-01T09:00:00Z' })]);
    expect(s.listIds).toEqual(['b', 'a']);
  });

  it('adds a created conversation live and moves it to the top', () => {
    let s = loaded([conv('a')]);
    s = inboxReducer(s, { type: 'event', seq: 1, event: { type: 'conversation.created', data: conv('n', { lastActivityAt: '2025-01-02T00:00:00Z' }) } });
    expect(s.listIds).toEqual(['n', 'a']);
    expect(s.lastSeq).toBe(1);
  });

  it('drops a conversation from the list when an update stops matching the filters', () => {
    let s = loaded([conv('a'), conv('b')]);
    s = inboxReducer(s, { type: 'event', seq: 1, event: { type: 'conversation.updated', data: conv('a', { status: 'resolved' }) } });
    expect(s.listIds).toEqual(['b']);
    expect(s.conversations.a?.status).toBe('resolved');
  });

  it('keeps "mine" to conversations assigned to the current user', () => {
    const mine: Filters = { ...filters, assignee: 'mine' };
    let s = loaded([], mine);
    s = inboxReducer(s, { type: 'event', seq: 1, event: { type: 'conversation.created', data: conv('x') } });
    expect(s.listIds).toEqual([]);
    s = inboxReducer(s, { type: 'event', seq: 2, event: { type: 'conversation.updated', data: conv('x', { assigneeId: ME }) } });
    expect(s.listIds).toEqual(['x']);
  });

  it('updates a sent message\'s delivery status and error in place, without counting it as new', () => {
    const out = msg('m1', 'a', { direction: 'out', senderType: 'user', status: 'queued' });
    let s = loaded([conv('a', { lastMessage: out })]);
    s = inboxReducer(s, { type: 'messagesLoaded', conversationId: 'a', items: [msg('m0', 'a', { createdAt: '2025-01-01T10:00:00Z' }), out] });
    s = inboxReducer(s, { type: 'event', seq: 1, event: { type: 'message.updated', data: { ...out, status: 'failed', error: 'Twilio 21610: unsubscribed recipient' } } });
    expect(s.messages.a?.map((m) => [m.id, m.status])).toEqual([['m0', 'received'], ['m1', 'failed']]);
    expect(s.messages.a?.[1]?.error).toBe('Twilio 21610: unsubscribed recipient');
    expect(s.conversations.a?.lastMessage?.status).toBe('failed');
    expect(s.conversations.a?.unreadCount).toBe(0);
    // An update of a message not loaded here changes nothing else.
    const before = s;
    s = inboxReducer(s, { type: 'event', seq: 2, event: { type: 'message.updated', data: msg('zz', 'b', { status: 'delivered' }) } });
    expect(s.messages).toBe(before.messages);
    expect(s.conversations).toBe(before.conversations);
  });

  it('ignores a frame whose seq was already applied', () => {
    let s = loaded([conv('a')]);
    s = inboxReducer(s, { type: 'event', seq: 5, event: { type: 'message.created', data: msg('m1', 'a') } });
    const again = inboxReducer(s, { type: 'event', seq: 5, event: { type: 'message.created', data: msg('m1', 'a') } });
    expect(again).toBe(s);
    expect(s.conversations.a?.unreadCount).toBe(1);
  });

  it('updates preview, activity and unread count on an incoming message', () => {
    let s = loaded([conv('a'), conv('b', { lastActivityAt: '2025-01-01T10:01:00Z' })]);
    expect(s.listIds[0]).toBe('b');
    s = inboxReducer(s, { type: 'event', seq: 1, event: { type: 'message.created', data: msg('m1', 'a') } });
    expect(s.listIds[0]).toBe('a');
    expect(s.conversations.a?.lastMessage?.id).toBe('m1');
    expect(s.conversations.a?.unreadCount).toBe(1);
    // Outgoing replies and private notes do not count as unread.
    s = inboxReducer(s, { type: 'event', seq: 2, event: { type: 'message.created', data: msg('m2', 'a', { direction: 'out', senderType: 'user', createdAt: '2025-01-01T10:06:00Z' }) } });
    s = inboxReducer(s, { type: 'event', seq: 3, event: { type: 'message.created', data: msg('m3', 'a', { direction: 'out', private: true, senderType: 'user', createdAt: '2025-01-01T10:07:00Z' }) } });
    expect(s.conversations.a?.unreadCount).toBe(1);
  });

  it('dedupes messages by id in an open conversation', () => {
    let s = loaded([conv('a')]);
    s = inboxReducer(s, { type: 'messagesLoaded', conversationId: 'a', items: [msg('m1', 'a', { createdAt: '2025-01-01T10:00:00Z' })] });
    s = inboxReducer(s, { type: 'event', seq: 1, event: { type: 'message.created', data: msg('m1', 'a', { createdAt: '2025-01-01T10:00:00Z' }) } });
    s = inboxReducer(s, { type: 'messagesLoaded', conversationId: 'a', items: [msg('m1', 'a', { createdAt: '2025-01-01T10:00:00Z' })] });
    expect(s.messages.a?.map((m) => m.id)).toEqual(['m1']);
    // The duplicate did not count as a new unread message either.
    expect(s.conversations.a?.unreadCount).toBe(0);
  });

  it('keeps messages in chronological order whatever the arrival order', () => {
    const list = mergeMessages([msg('m3', 'a', { createdAt: '2025-01-01T10:03:00Z' })], [
      msg('m1', 'a', { createdAt: '2025-01-01T10:01:00Z' }),
      msg('m2', 'a', { createdAt: '2025-01-01T10:02:00Z' }),
    ]);
    expect(list.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
  });

  it('replaces the optimistic copy of a sent message by the server copy', () => {
    let s = loaded([conv('a')]);
    s = inboxReducer(s, { type: 'messagesLoaded', conversationId: 'a', items: [] });
    s = inboxReducer(s, { type: 'messageAdded', message: msg('local:c1', 'a', { direction: 'out', clientMessageId: 'c1', status: 'sent' }) });
    s = inboxReducer(s, { type: 'event', seq: 1, event: { type: 'message.created', data: msg('m9', 'a', { direction: 'out', clientMessageId: 'c1', status: 'sent' }) } });
    s = inboxReducer(s, { type: 'messageAdded', message: msg('m9', 'a', { direction: 'out', clientMessageId: 'c1', status: 'sent' }) });
    expect(s.messages.a?.map((m) => m.id)).toEqual(['m9']);
  });

  it('marks a failed send on the optimistic copy', () => {
    let s = loaded([conv('a')]);
    s = inboxReducer(s, { type: 'messagesLoaded', conversationId: 'a', items: [] });
    s = inboxReducer(s, { type: 'messageAdded', message: msg('local:c1', 'a', { direction: 'out', clientMessageId: 'c1' }) });
    s = inboxReducer(s, { type: 'messageFailed', conversationId: 'a', clientMessageId: 'c1' });
    expect(s.messages.a?.[0]?.status).toBe('failed');
  });

  it('clears unread on conversation.read by an agent and records the contact read time', () => {
    let s = loaded([conv('a', { unreadCount: 3 })]);
    s = inboxReducer(s, { type: 'event', seq: 1, event: { type: 'conversation.read', data: { conversationId: 'a', by: 'agent', at: '2025-01-01T11:00:00Z' } } });
    expect(s.conversations.a?.unreadCount).toBe(0);
    s = inboxReducer(s, { type: 'event', seq: 2, event: { type: 'conversation.read', data: { conversationId: 'a', by: 'contact', at: '2025-01-01T11:01:00Z' } } });
    expect(s.conversations.a?.contactLastReadAt).toBe('2025-01-01T11:01:00Z');
  });

  it('does not let an older list snapshot undo a newer event', () => {
    let s = loaded([conv('a')]);
    s = inboxReducer(s, { type: 'cursor', seq: 10 });
    // An update arrives (seq 11) while a list request sent at seq 10 is in flight.
    s = inboxReducer(s, { type: 'event', seq: 11, event: { type: 'conversation.updated', data: conv('a', { status: 'resolved' }) } });
    s = inboxReducer(s, { type: 'listLoaded', filters, items: [conv('a'), conv('b')], counts: { mine: 0, unassigned: 2, all: 2 }, sinceSeq: 10 });
    expect(s.conversations.a?.status).toBe('resolved');
    expect(s.listIds).toEqual(['b']);
  });

  it('ignores a list response for filters the user already left', () => {
    let s = loaded([conv('a')]);
    const pending: Filters = { ...filters, status: 'pending' };
    s = inboxReducer(s, { type: 'filters', filters: pending });
    const stale = inboxReducer(s, { type: 'listLoaded', filters, items: [conv('z')], counts: { mine: 0, unassigned: 1, all: 1 }, sinceSeq: null });
    expect(stale).toBe(s);
  });

  it('counts unread for the title only in my and unassigned conversations', () => {
    const s = loaded([conv('a', { unreadCount: 2 }), conv('b', { unreadCount: 1, assigneeId: ME }), conv('c', { unreadCount: 5, assigneeId: 'other' })]);
    expect(unreadTotal(s)).toBe(3);
  });
});
