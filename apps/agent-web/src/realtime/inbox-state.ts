import type {
  AgentRouting, AgentState, Conversation, ConversationCounts, ConversationRouting, Message, Offer, ServerEvent, SlaDueView,
} from '../api/types';
import { applySlaEvent } from '../routing/sla-view';

/**
 * The in-memory state of the agent workspace: the conversation list for the current filters,
 * every conversation the client knows, the messages of the conversations it has opened, and
 * the realtime cursor. Pure: data in, state out, so the realtime rules are testable.
 */

export type AssigneeFilter = 'mine' | 'unassigned' | 'all';
export type StatusFilter = 'open' | 'pending' | 'snoozed' | 'resolved' | 'all';

export interface Filters {
  assignee: AssigneeFilter;
  status: StatusFilter;
  inboxId: string | null;
  label: string | null;
}

export interface InboxState {
  meId: string;
  filters: Filters;
  /** Every conversation seen (list fetches, events, direct loads), by id. */
  conversations: Record<string, Conversation>;
  /** Ids of the list for the current filters, most recent activity first. */
  listIds: string[];
  listLoaded: boolean;
  counts: ConversationCounts | null;
  /** Messages of conversations whose history was loaded, oldest first; absent = not loaded. */
  messages: Record<string, Message[]>;
  /** Contact typing, per conversation id. */
  typing: Record<string, boolean>;
  /** Last realtime sequence number applied. */
  lastSeq: number | null;
  /** Seq of the last event that changed each conversation, so an older list snapshot cannot undo it. */
  touchedAt: Record<string, number>;
  /** Open routing offers to me, by offer id (CC-4). */
  offers: Record<string, Offer>;
  /** My routing state (CC-5); null until `GET /routing/me` answered. */
  agent: MyAgentState | null;
  /** Every agent's routing state, by user id: who can take a transfer now. */
  agentStates: Record<string, AgentState>;
  /** Whether each agent has the agent app open on any node (the `presence` signal): a transfer needs it. */
  agentsConnected: Record<string, boolean>;
  /** What routing knows of conversations (queue, waiting since, SLA clocks), by conversation id. */
  routing: Record<string, ConversationRoutingView>;
}

export interface MyAgentState {
  state: AgentState;
  reason: string | null;
  since: string;
}

export interface ConversationRoutingView {
  queueId: string | null;
  state: ConversationRouting['state'];
  waitingSince: string | null;
  sla: SlaDueView[];
}

export type InboxAction =
  | { type: 'filters'; filters: Filters }
  /** `sinceSeq`: the realtime cursor when the request was sent; later events win over the snapshot. */
  | { type: 'listLoaded'; filters: Filters; items: Conversation[]; counts: ConversationCounts; sinceSeq: number | null }
  | { type: 'conversationLoaded'; conversation: Conversation }
  | { type: 'messagesLoaded'; conversationId: string; items: Message[] }
  | { type: 'messageAdded'; message: Message }
  | { type: 'messageFailed'; conversationId: string; clientMessageId: string }
  | { type: 'event'; seq: number; event: ServerEvent }
  | { type: 'cursor'; seq: number }
  | { type: 'typing'; conversationId: string; on: boolean }
  | { type: 'markedRead'; conversationId: string }
  /** `GET /routing/me` answered: my state and my open offers (replacing what the client had). */
  | { type: 'routingLoaded'; me: AgentRouting }
  | { type: 'myState'; state: MyAgentState }
  /** `GET /routing/agents` answered: every agent's state (replacing what the client had). */
  | { type: 'agentsLoaded'; agents: Pick<AgentRouting, 'userId' | 'state' | 'connected'>[] }
  /** An agent opened the agent app where they had it nowhere, or closed it everywhere. */
  | { type: 'presence'; userId: string; online: boolean }
  /** An offer ended here (accepted, declined, or the client saw it expire). */
  | { type: 'offerGone'; offerId: string }
  /** Drops offers whose expiry passed (the server's closing event may be late or lost). */
  | { type: 'expireOffers'; now: number }
  | { type: 'conversationRoutingLoaded'; routing: ConversationRouting };

export const defaultFilters: Filters = { assignee: 'mine', status: 'open', inboxId: null, label: null };

export function initialInboxState(meId: string, filters: Filters = defaultFilters): InboxState {
  return {
    meId, filters, conversations: {}, listIds: [], listLoaded: false, counts: null,
    messages: {}, typing: {}, lastSeq: null, touchedAt: {}, offers: {}, agent: null, agentStates: {}, agentsConnected: {}, routing: {},
  };
}

export function sameFilters(a: Filters, b: Filters): boolean {
  return a.assignee === b.assignee && a.status === b.status && a.inboxId === b.inboxId && a.label === b.label;
}

/** Whether a conversation belongs to the list shown for these filters (mirrors the server's query). */
export function matchesFilters(c: Conversation, f: Filters, meId: string): boolean {
  if (f.assignee === 'mine' && c.assigneeId !== meId) return false;
  if (f.assignee === 'unassigned' && c.assigneeId !== null) return false;
  if (f.status !== 'all' && c.status !== f.status) return false;
  if (f.inboxId && c.inboxId !== f.inboxId) return false;
  if (f.label && !c.labels.includes(f.label)) return false;
  return true;
}

function byActivityDesc(conversations: Record<string, Conversation>) {
  return (a: string, b: string): number => {
    const ca = conversations[a];
    const cb = conversations[b];
    const ta = ca ? Date.parse(ca.lastActivityAt) : 0;
    const tb = cb ? Date.parse(cb.lastActivityAt) : 0;
    return tb - ta || (a < b ? -1 : a > b ? 1 : 0);
  };
}

/** Puts a conversation into (or out of) the current list, keeping the order. */
function placeInList(state: InboxState, conversations: Record<string, Conversation>, id: string): string[] {
  const c = conversations[id];
  const without = state.listIds.filter((x) => x !== id);
  if (!c || !matchesFilters(c, state.filters, state.meId)) return without;
  return [...without, id].sort(byActivityDesc(conversations));
}

function compareMessages(a: Message, b: Message): number {
  const d = Date.parse(a.createdAt) - Date.parse(b.createdAt);
  if (d !== 0) return d;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Merges messages into a history: one entry per id, and a server copy replaces the optimistic
 * local copy that carries the same clientMessageId.
 */
export function mergeMessages(existing: Message[], incoming: Message[]): Message[] {
  const byId = new Map<string, Message>();
  for (const m of existing) byId.set(m.id, m);
  for (const m of incoming) {
    if (m.clientMessageId) {
      for (const [id, old] of byId) {
        if (id !== m.id && old.clientMessageId === m.clientMessageId && isLocalId(id)) byId.delete(id);
      }
    }
    byId.set(m.id, m);
  }
  return [...byId.values()].sort(compareMessages);
}

export const LOCAL_ID_PREFIX = 'local:';
export function isLocalId(id: string): boolean {
  return id.startsWith(LOCAL_ID_PREFIX);
}

function later(a: string, b: string): string {
  return Date.parse(b) > Date.parse(a) ? b : a;
}

function upsertConversation(state: InboxState, c: Conversation): InboxState {
  const conversations = { ...state.conversations, [c.id]: c };
  return { ...state, conversations, listIds: placeInList(state, conversations, c.id) };
}

function applyMessage(state: InboxState, m: Message): InboxState {
  let next = state;
  const loaded = state.messages[m.conversationId];
  if (loaded) {
    const already = loaded.some((x) => x.id === m.id);
    next = { ...next, messages: { ...next.messages, [m.conversationId]: mergeMessages(loaded, [m]) } };
    if (already) return next;
  }
  const c = state.conversations[m.conversationId];
  if (!c) return next;
  if (c.lastMessage?.id === m.id) return next;
  const unread = m.direction === 'in' && !m.private ? c.unreadCount + 1 : c.unreadCount;
  const updated: Conversation = {
    ...c,
    lastMessage: isLocalId(m.id) ? c.lastMessage : m,
    lastActivityAt: later(c.lastActivityAt, m.createdAt),
    unreadCount: unread,
  };
  next = upsertConversation(next, updated);
  if (m.direction === 'in') next = { ...next, typing: { ...next.typing, [m.conversationId]: false } };
  return next;
}

/** A message's delivery status or error changed: replace it where it is shown, never count it as new. */
function applyMessageUpdate(state: InboxState, m: Message): InboxState {
  let next = state;
  const loaded = state.messages[m.conversationId];
  if (loaded?.some((x) => x.id === m.id)) {
    next = { ...next, messages: { ...next.messages, [m.conversationId]: loaded.map((x) => (x.id === m.id ? { ...x, ...m } : x)) } };
  }
  const c = next.conversations[m.conversationId];
  if (c?.lastMessage?.id === m.id) {
    next = { ...next, conversations: { ...next.conversations, [c.id]: { ...c, lastMessage: { ...c.lastMessage, ...m } } } };
  }
  return next;
}

/** The conversation whose data an event carries (null: the event changes no conversation's fields). */
function eventConversationId(event: ServerEvent): string | null {
  switch (event.type) {
    case 'conversation.created':
    case 'conversation.updated':
      return event.data.id;
    case 'message.created':
    case 'message.updated':
      return event.data.conversationId;
    case 'conversation.read':
      return event.data.conversationId;
    case 'routing.offer':
      return event.data.conversation.id;
    default:
      return null;
  }
}

function withoutOffers(offers: Record<string, Offer>, drop: (o: Offer) => boolean): Record<string, Offer> {
  let changed = false;
  const next: Record<string, Offer> = {};
  for (const [id, o] of Object.entries(offers)) {
    if (drop(o)) changed = true;
    else next[id] = o;
  }
  return changed ? next : offers;
}

/** An offer stops making sense once its conversation is someone's or is closed. */
function pruneOffersFor(state: InboxState, c: Conversation): InboxState {
  if (c.assigneeId === null && c.status === 'open') return state;
  const offers = withoutOffers(state.offers, (o) => o.conversationId === c.id);
  return offers === state.offers ? state : { ...state, offers };
}

function routingOf(state: InboxState, conversationId: string): ConversationRoutingView {
  return state.routing[conversationId] ?? { queueId: null, state: null, waitingSince: null, sla: [] };
}

function applyEvent(state: InboxState, event: ServerEvent): InboxState {
  switch (event.type) {
    case 'conversation.created':
    case 'conversation.updated':
      return pruneOffersFor(upsertConversation(state, event.data), event.data);
    case 'message.created':
      return applyMessage(state, event.data);
    case 'message.updated':
      return applyMessageUpdate(state, event.data);
    case 'conversation.read': {
      const c = state.conversations[event.data.conversationId];
      if (!c) return state;
      const updated: Conversation =
        event.data.by === 'agent'
          ? { ...c, unreadCount: 0, agentLastReadAt: event.data.at }
          : { ...c, contactLastReadAt: event.data.at };
      return { ...state, conversations: { ...state.conversations, [c.id]: updated } };
    }
    case 'routing.offer': {
      const { offer, conversation } = event.data;
      const next = upsertConversation(state, conversation);
      // Every agent socket of the tenant gets every offer: only mine become prompts.
      if (offer.agentId !== state.meId || offer.status !== 'open') return next;
      const r = routingOf(next, conversation.id);
      return {
        ...next,
        offers: { ...next.offers, [offer.id]: offer },
        routing: { ...next.routing, [conversation.id]: { ...r, queueId: offer.queueId, state: 'offered' } },
      };
    }
    case 'routing.offer_closed': {
      if (!state.offers[event.data.offer.id]) return state;
      const { [event.data.offer.id]: _gone, ...offers } = state.offers;
      return { ...state, offers };
    }
    case 'agent.state_changed': {
      const agentStates = { ...state.agentStates, [event.data.agentId]: event.data.state };
      if (event.data.agentId !== state.meId) return { ...state, agentStates };
      return { ...state, agentStates, agent: { state: event.data.state, reason: event.data.reason, since: event.data.since } };
    }
    case 'routing.sla': {
      const r = routingOf(state, event.data.conversationId);
      return {
        ...state,
        routing: { ...state.routing, [event.data.conversationId]: { ...r, sla: applySlaEvent(r.sla, event.data) } },
      };
    }
    case 'routing.conversation': {
      const d = event.data;
      const r = routingOf(state, d.conversationId);
      // Out of routing (resolved, pending): its clocks stopped.
      const sla = d.state === null ? [] : r.sla;
      const waitingSince = d.state === 'waiting' || d.state === 'offered' ? r.waitingSince : null;
      return { ...state, routing: { ...state.routing, [d.conversationId]: { ...r, queueId: d.queueId, state: d.state, waitingSince, sla } } };
    }
    default:
      return state;
  }
}

export function inboxReducer(state: InboxState, action: InboxAction): InboxState {
  switch (action.type) {
    case 'filters':
      if (sameFilters(state.filters, action.filters)) return state;
      return { ...state, filters: action.filters, listIds: [], listLoaded: false, counts: null };
    case 'listLoaded': {
      // A response for filters the user already left is stale.
      if (!sameFilters(state.filters, action.filters)) return state;
      const conversations = { ...state.conversations };
      const newer = (id: string) => {
        const touched = state.touchedAt[id];
        return touched !== undefined && action.sinceSeq !== null && touched > action.sinceSeq;
      };
      for (const c of action.items) if (!newer(c.id)) conversations[c.id] = c;
      const ids = new Set(action.items.map((c) => c.id));
      // Conversations changed by events after the request went out are placed by their newer state.
      for (const id of Object.keys(state.touchedAt)) {
        if (!newer(id)) continue;
        const c = conversations[id];
        if (c && matchesFilters(c, state.filters, state.meId)) ids.add(id);
        else ids.delete(id);
      }
      const listIds = [...ids].sort(byActivityDesc(conversations));
      return { ...state, conversations, listIds, listLoaded: true, counts: action.counts };
    }
    case 'conversationLoaded':
      return upsertConversation(state, action.conversation);
    case 'messagesLoaded': {
      const existing = state.messages[action.conversationId] ?? [];
      return {
        ...state,
        messages: { ...state.messages, [action.conversationId]: mergeMessages(existing, action.items) },
      };
    }
    case 'messageAdded':
      return applyMessage(state, action.message);
    case 'messageFailed': {
      const list = state.messages[action.conversationId];
      if (!list) return state;
      const messages = list.map((m) =>
        m.clientMessageId === action.clientMessageId && isLocalId(m.id) ? { ...m, status: 'failed' as const } : m,
      );
      return { ...state, messages: { ...state.messages, [action.conversationId]: messages } };
    }
    case 'event': {
      // Sequence numbers never repeat; a replayed or duplicated frame is ignored.
      if (state.lastSeq !== null && action.seq <= state.lastSeq) return state;
      const next = applyEvent(state, action.event);
      const id = eventConversationId(action.event);
      if (id === null) return { ...next, lastSeq: action.seq };
      return { ...next, lastSeq: action.seq, touchedAt: { ...next.touchedAt, [id]: action.seq } };
    }
    case 'cursor':
      return { ...state, lastSeq: action.seq };
    case 'typing':
      if (Boolean(state.typing[action.conversationId]) === action.on) return state;
      return { ...state, typing: { ...state.typing, [action.conversationId]: action.on } };
    case 'markedRead': {
      const c = state.conversations[action.conversationId];
      if (!c || c.unreadCount === 0) return state;
      return { ...state, conversations: { ...state.conversations, [c.id]: { ...c, unreadCount: 0 } } };
    }
    case 'routingLoaded': {
      const me = action.me;
      const offers: Record<string, Offer> = {};
      for (const o of me.offers) if (o.status === 'open' && o.agentId === state.meId) offers[o.id] = o;
      return { ...state, agent: { state: me.state, reason: me.reason, since: me.since }, agentStates: { ...state.agentStates, [state.meId]: me.state }, offers };
    }
    case 'myState':
      return { ...state, agent: action.state, agentStates: { ...state.agentStates, [state.meId]: action.state.state } };
    case 'agentsLoaded':
      return {
        ...state,
        agentStates: Object.fromEntries(action.agents.map((a) => [a.userId, a.state])),
        agentsConnected: Object.fromEntries(action.agents.map((a) => [a.userId, a.connected])),
      };
    case 'presence':
      return { ...state, agentsConnected: { ...state.agentsConnected, [action.userId]: action.online } };
    case 'offerGone': {
      if (!state.offers[action.offerId]) return state;
      const { [action.offerId]: _gone, ...offers } = state.offers;
      return { ...state, offers };
    }
    case 'expireOffers': {
      const offers = withoutOffers(state.offers, (o) => Date.parse(o.expiresAt) <= action.now);
      return offers === state.offers ? state : { ...state, offers };
    }
    case 'conversationRoutingLoaded': {
      const r = action.routing;
      return {
        ...state,
        routing: {
          ...state.routing,
          [r.conversationId]: { queueId: r.queueId, state: r.state, waitingSince: r.waitingSince, sla: r.sla },
        },
      };
    }
    default:
      return state;
  }
}

/** My open offers, the one expiring first first. */
export function openOffers(state: InboxState): Offer[] {
  return Object.values(state.offers).sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt) || (a.id < b.id ? -1 : 1));
}

/** Unread messages in conversations that are mine or unassigned, for the title badge. */
export function unreadTotal(state: InboxState): number {
  let n = 0;
  for (const c of Object.values(state.conversations)) {
    if (c.status === 'resolved') continue;
    if (c.assigneeId === null || c.assigneeId === state.meId) n += c.unreadCount;
  }
  return n;
}
