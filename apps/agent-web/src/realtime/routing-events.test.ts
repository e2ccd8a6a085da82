import { describe, expect, it } from 'vitest';
import type { AgentRouting, Conversation, Offer, ServerEvent } from '../api/types';
import { inboxReducer, initialInboxState, openOffers, type Filters, type InboxState } from './inbox-state';

const ME = 'u-me';
const OTHER = 'u-other';
const filters: Filters = { assignee: 'all', status: 'open', inboxId: null, label: null };

function conv(id: string, over: Partial<Conversation> = {}): Conversation {
  return {
    id, inboxId: 'in-1', status: 'open', priority: 0, assigneeId: null, labels: [], customAttributes: {},
    contact: { id: `c-${id}`, name: `Contact ${id}`, email: null, phone: null, identifier: null, verified: false, customAttributes: {}, createdAt: '2025-01-01T00:00:00Z' },
    lastMessage: null, unreadCount: 0, lastActivityAt: '2025-01-01T10:00:00Z', createdAt: '2025-01-01T09:00:00Z',
    contactLastReadAt: null, agentLastReadAt: null, ...over,
  };
}

function offer(id: string, conversationId: string, over: Partial<Offer> = {}): Offer {
  return {
    id, conversationId, agentId: ME, queueId: 'q-1', channel: 'chat', status: 'open',
    createdAt: '2025-01-01T10:00:00.000Z', expiresAt: '2025-01-01T10:00:30.000Z', closedAt: null, ...over,
  };
}

function start(): InboxState {
  const s = initialInboxState(ME, filters);
  return inboxReducer(s, { type: 'listLoaded', filters, items: [], counts: { mine: 0, unassigned: 0, all: 0 }, sinceSeq: null });
}

let seq = 0;
const ev = (s: InboxState, event: ServerEvent) => inboxReducer(s, { type: 'event', seq: ++seq, event });

describe('routing events in the inbox reducer', () => {
  it('shows an offer to me, with its conversation, and ignores offers to teammates', () => {
    let s = start();
    s = ev(s, { type: 'routing.offer', data: { offer: offer('o1', 'a'), conversation: conv('a') } });
    s = ev(s, { type: 'routing.offer', data: { offer: offer('o2', 'b', { agentId: OTHER }), conversation: conv('b') } });
    expect(Object.keys(s.offers)).toEqual(['o1']);
    expect(s.conversations.a?.contact.name).toBe('Contact a');
    // The teammate's conversation is still known (it is waiting in the unassigned list).
    expect(s.listIds.sort()).toEqual(['a', 'b']);
    expect(s.routing.a).toMatchObject({ queueId: 'q-1', state: 'offered' });
    expect(s.touchedAt.a).toBe(seq - 1);
  });

  it('removes the offer when it is closed, for any reason', () => {
    let s = start();
    s = ev(s, { type: 'routing.offer', data: { offer: offer('o1', 'a'), conversation: conv('a') } });
    s = ev(s, { type: 'routing.offer', data: { offer: offer('o2', 'b'), conversation: conv('b') } });
    s = ev(s, { type: 'routing.offer_closed', data: { offer: offer('o1', 'a', { status: 'expired' }), reason: 'expired' } });
    expect(Object.keys(s.offers)).toEqual(['o2']);
    s = ev(s, { type: 'routing.offer_closed', data: { offer: offer('o2', 'b', { status: 'declined' }), reason: 'declined' } });
    expect(s.offers).toEqual({});
    // A close for an offer never seen changes nothing but the cursor.
    const before = s;
    s = ev(s, { type: 'routing.offer_closed', data: { offer: offer('zz', 'c'), reason: 'revoked' } });
    expect(s.offers).toBe(before.offers);
    expect(s.lastSeq).toBe(seq);
  });

  it('drops an offer whose conversation got assigned or resolved meanwhile', () => {
    let s = start();
    s = ev(s, { type: 'routing.offer', data: { offer: offer('o1', 'a'), conversation: conv('a') } });
    s = ev(s, { type: 'routing.offer', data: { offer: offer('o2', 'b'), conversation: conv('b') } });
    s = ev(s, { type: 'conversation.updated', data: conv('a', { assigneeId: OTHER }) });
    expect(Object.keys(s.offers)).toEqual(['o2']);
    s = ev(s, { type: 'conversation.updated', data: conv('b', { status: 'resolved' }) });
    expect(s.offers).toEqual({});
  });

  it('drops offers past their expiry on the local clock', () => {
    let s = start();
    s = ev(s, { type: 'routing.offer', data: { offer: offer('o1', 'a', { expiresAt: '2025-01-01T10:00:10.000Z' }), conversation: conv('a') } });
    s = ev(s, { type: 'routing.offer', data: { offer: offer('o2', 'b', { expiresAt: '2025-01-01T10:00:30.000Z' }), conversation: conv('b') } });
    expect(openOffers(s).map((o) => o.id)).toEqual(['o1', 'o2']);
    const same = inboxReducer(s, { type: 'expireOffers', now: Date.parse('2025-01-01T10:00:09.999Z') });
    expect(same).toBe(s);
    s = inboxReducer(s, { type: 'expireOffers', now: Date.parse('2025-01-01T10:00:10.000Z') });
    expect(openOffers(s).map((o) => o.id)).toEqual(['o2']);
    s = inboxReducer(s, { type: 'offerGone', offerId: 'o2' });
    expect(s.offers).toEqual({});
  });

  it('ignores a replayed offer frame (same seq)', () => {
    let s = start();
    s = inboxReducer(s, { type: 'event', seq: 500, event: { type: 'routing.offer', data: { offer: offer('o1', 'a'), conversation: conv('a') } } });
    s = inboxReducer(s, { type: 'offerGone', offerId: 'o1' });
    s = inboxReducer(s, { type: 'event', seq: 500, event: { type: 'routing.offer', data: { offer: offer('o1', 'a'), conversation: conv('a') } } });
    expect(s.offers).toEqual({});
    seq = Math.max(seq, 500);
  });

  it('takes my state and open offers from GET /routing/me, and my state changes from events', () => {
    let s = start();
    s = ev(s, { type: 'routing.offer', data: { offer: offer('stale', 'a'), conversation: conv('a') } });
    const me: AgentRouting = {
      userId: ME, name: 'Me', role: 'agent', state: 'away', reason: null, since: '2025-01-01T09:00:00.000Z', connected: true,
      skills: {}, capacity: { chat: 2 }, load: {}, offers: [offer('o9', 'z'), offer('closed', 'y', { status: 'expired' })], conversationIds: [],
    };
    s = inboxReducer(s, { type: 'routingLoaded', me });
    expect(s.agent).toEqual({ state: 'away', reason: null, since: '2025-01-01T09:00:00.000Z' });
    expect(Object.keys(s.offers)).toEqual(['o9']);
    s = ev(s, { type: 'agent.state_changed', data: { agentId: OTHER, state: 'offline', reason: null, since: '2025-01-01T11:00:00.000Z', cause: 'requested' } });
    expect(s.agent?.state).toBe('away');
    s = ev(s, { type: 'agent.state_changed', data: { agentId: ME, state: 'not-ready', reason: 'Lunch', since: '2025-01-01T11:00:00.000Z', cause: 'requested' } });
    expect(s.agent).toEqual({ state: 'not-ready', reason: 'Lunch', since: '2025-01-01T11:00:00.000Z' });
    // State events change no conversation: no list snapshot is overridden because of them.
    expect(Object.keys(s.touchedAt)).toEqual(['a']);
  });

  it("keeps every agent's state from GET /routing/agents and state events, for the transfer menu", () => {
    let s = start();
    s = inboxReducer(s, { type: 'agentsLoaded', agents: [{ userId: ME, state: 'available', connected: true }, { userId: OTHER, state: 'busy', connected: true }] });
    expect(s.agentStates).toEqual({ [ME]: 'available', [OTHER]: 'busy' });
    // The other agent closes the app: still busy until the grace period ends, but not connected.
    s = inboxReducer(s, { type: 'presence', userId: OTHER, online: false });
    expect(s.agentsConnected).toEqual({ [ME]: true, [OTHER]: false });
    expect(s.agentStates[OTHER]).toBe('busy');
    s = ev(s, { type: 'agent.state_changed', data: { agentId: OTHER, state: 'offline', reason: null, since: '2025-01-01T11:00:00.000Z', cause: 'disconnected' } });
    s = ev(s, { type: 'agent.state_changed', data: { agentId: 'u-new', state: 'available', reason: null, since: '2025-01-01T11:00:01.000Z', cause: 'requested' } });
    expect(s.agentStates).toEqual({ [ME]: 'available', [OTHER]: 'offline', 'u-new': 'available' });
    // My own change, answered by the server, shows in the menus too.
    s = inboxReducer(s, { type: 'myState', state: { state: 'away', reason: null, since: '2025-01-01T11:00:02.000Z' } });
    expect(s.agentStates[ME]).toBe('away');
    // A reload replaces the list: an agent removed meanwhile is gone.
    s = inboxReducer(s, { type: 'agentsLoaded', agents: [{ userId: ME, state: 'away', connected: true }] });
    expect(s.agentStates).toEqual({ [ME]: 'away' });
    expect(s.agentsConnected).toEqual({ [ME]: true });
  });

  it('keeps SLA clocks per conversation from the routing view and routing.sla events', () => {
    let s = start();
    s = inboxReducer(s, {
      type: 'conversationRoutingLoaded',
      routing: {
        conversationId: 'a', queueId: 'q-1', state: 'assigned', waitingSince: null, priority: 0, offer: null,
        sla: [{ clock: 'first-response', dueAt: '2025-01-01T10:10:00.000Z', status: 'ok' }],
      },
    });
    s = ev(s, { type: 'routing.sla', data: { conversationId: 'a', clock: 'first-response', status: 'warning', dueAt: '2025-01-01T10:10:00.000Z' } });
    expect(s.routing.a?.sla).toEqual([{ clock: 'first-response', dueAt: '2025-01-01T10:10:00.000Z', status: 'warning' }]);
    s = ev(s, { type: 'routing.conversation', data: { conversationId: 'a', queueId: 'q-1', state: null, event: 'released' } });
    expect(s.routing.a?.sla).toEqual([]);
  });
});
