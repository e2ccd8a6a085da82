import {
  createContext, useCallback, useContext, useEffect, useMemo, useReducer, useRef, useState, type ReactNode,
} from 'react';
import { api, ApiError, type ConversationPatch, type TransferTarget } from '../api/client';
import type {
  CannedReply, Conversation, Inbox, Message, Offer, Queue, ServerEvent, ServerFrame, SettableAgentState, User,
} from '../api/types';
import { navigate } from '../app/hash-route';
import { useSession } from '../app/session';
import { useI18n } from '../i18n/i18n';
import {
  defaultFilters, inboxReducer, initialInboxState, unreadTotal, type Filters, type InboxAction, type InboxState,
} from '../realtime/inbox-state';
import { RealtimeConnection, realtimeUrl, type ConnectionStatus } from '../realtime/realtime-client';
import { showMessageNotification } from './notifications';

export type EventListener = (event: ServerEvent) => void;

const FILTERS_KEY = 'parley.agent.filters';
const TYPING_TIMEOUT_MS = 6_000;

interface WorkspaceValue {
  state: InboxState;
  dispatch: (a: InboxAction) => void;
  status: ConnectionStatus;
  users: User[];
  labels: string[];
  inboxes: Inbox[];
  cannedReplies: CannedReply[];
  setFilters: (f: Filters) => void;
  loadConversation: (id: string) => Promise<void>;
  loadOlderMessages: (id: string) => Promise<boolean>;
  updateConversation: (id: string, patch: ConversationPatch) => Promise<void>;
  transferConversation: (id: string, to: TransferTarget) => Promise<void>;
  /** Takes the conversation as mine: picked from its queue while it waits there (so routing checks membership, skills and room), else assigned. */
  takeConversation: (id: string) => Promise<void>;
  sendTyping: (conversationId: string, on: boolean) => void;
  reloadCannedReplies: () => void;
  reloadLabels: () => void;
  reloadUsers: () => void;
  reloadInboxes: () => void;
  /** Routing: false when the server has no routing API (then no state selector or offers are shown). */
  routingAvailable: boolean;
  /** Routing queues, for names (empty when the server does not let this user list them). */
  queues: Queue[];
  reloadQueues: () => void;
  setMyState: (state: SettableAgentState, reason?: string) => Promise<void>;
  acceptOffer: (offerId: string) => Promise<void>;
  declineOffer: (offerId: string) => Promise<void>;
  /** Loads routing details (queue, waiting since, SLA clocks) of conversations not asked for yet, or again with `force`. */
  requestRouting: (ids: string[], force?: boolean) => void;
  /** Local clock minus the server's, estimated from offers (0 when within a second and a half). */
  clockSkewMs: number;
  /** Every realtime event, after the reducer applied it (the wallboard refetches on routing events). */
  subscribe: (listener: EventListener) => () => void;
}

const WorkspaceContext = createContext<WorkspaceValue | null>(null);

export function useWorkspace(): WorkspaceValue {
  const v = useContext(WorkspaceContext);
  if (!v) throw new Error('useWorkspace outside WorkspaceProvider');
  return v;
}

function savedFilters(): Filters {
  try {
    const raw = localStorage.getItem(FILTERS_KEY);
    if (raw) return { ...defaultFilters, ...(JSON.parse(raw) as Partial<Filters>) };
  } catch {
    // Private mode or corrupt value: defaults.
  }
  return defaultFilters;
}

/**
 * Owns the workspace state: the conversation list, open conversations, the realtime socket that
 * keeps them current, desktop notifications and the title badge.
 */
export function WorkspaceProvider({ openConversationId, children }: { openConversationId: string | null; children: ReactNode }) {
  const { session } = useSession();
  const { t } = useI18n();
  const me = session.user;
  const [state, dispatch] = useReducer(inboxReducer, me.id, (id) => initialInboxState(id, savedFilters()));
  const [status, setStatus] = useState<ConnectionStatus>('connecting');
  const [users, setUsers] = useState<User[]>([]);
  const [labels, setLabels] = useState<string[]>([]);
  const [inboxes, setInboxes] = useState<Inbox[]>([]);
  const [cannedReplies, setCannedReplies] = useState<CannedReply[]>([]);
  const [routingAvailable, setRoutingAvailable] = useState(true);
  const routingRef = useRef(routingAvailable);
  routingRef.current = routingAvailable;
  const [queues, setQueues] = useState<Queue[]>([]);
  const listeners = useRef(new Set<EventListener>());
  const routingAsked = useRef(new Set<string>());
  const routingQueue = useRef<string[]>([]);
  const routingInFlight = useRef(0);
  const routingRefresh = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const offerNotifications = useRef(new Map<string, Notification>());
  const [clockSkewMs, setClockSkewMs] = useState(0);
  const skewSamples = useRef<number[]>([]);

  const stateRef = useRef(state);
  stateRef.current = state;
  // The cursor is tracked outside React so a hello or a fetch right after a frame sees it.
  const seqRef = useRef<number | null>(null);
  const openRef = useRef(openConversationId);
  openRef.current = openConversationId;
  const tRef = useRef(t);
  tRef.current = t;
  const connRef = useRef<RealtimeConnection | null>(null);
  const typingTimers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const listRequest = useRef(0);
  const retryTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const fetchList = useCallback(async () => {
    const filters = stateRef.current.filters;
    const sinceSeq = seqRef.current;
    const n = ++listRequest.current;
    if (retryTimer.current) clearTimeout(retryTimer.current);
    retryTimer.current = null;
    try {
      const page = await api.conversations({
        assignee: filters.assignee,
        status: filters.status,
        inboxId: filters.inboxId ?? undefined,
        label: filters.label ?? undefined,
        limit: 50,
      });
      if (n !== listRequest.current) return;
      dispatch({ type: 'listLoaded', filters, items: page.items, counts: page.counts, sinceSeq });
    } catch {
      // Offline or a server hiccup: try again shortly (a reconnect also refetches).
      if (n === listRequest.current) {
        if (retryTimer.current) clearTimeout(retryTimer.current);
        retryTimer.current = setTimeout(() => void fetchListRef.current(), 3000);
      }
    }
  }, []);
  const fetchListRef = useRef(fetchList);
  fetchListRef.current = fetchList;

  /** Counts come from the server; refresh them shortly after a burst of changes. */
  const scheduleListRefresh = useCallback(() => {
    if (refreshTimer.current) clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => {
      refreshTimer.current = null;
      void fetchList();
    }, 400);
  }, [fetchList]);

  const loadConversation = useCallback(async (id: string) => {
    const [conversation, messages] = await Promise.all([api.conversation(id), api.messages(id)]);
    dispatch({ type: 'conversationLoaded', conversation });
    dispatch({ type: 'messagesLoaded', conversationId: id, items: messages.items });
  }, []);

  const loadOlderMessages = useCallback(async (id: string) => {
    const first = stateRef.current.messages[id]?.find((m) => !m.id.startsWith('local:'));
    if (!first) return false;
    const page = await api.messages(id, first.id);
    dispatch({ type: 'messagesLoaded', conversationId: id, items: page.items });
    return page.items.length >= 50;
  }, []);


  /** A few routing lookups at a time: a long list must not flood the server. */
  const pumpRouting = useCallback(() => {
    while (routingInFlight.current < 3 && routingQueue.current.length > 0) {
      const id = routingQueue.current.shift()!;
      routingInFlight.current++;
      api.conversationRouting(id).then(
        (routing) => dispatch({ type: 'conversationRoutingLoaded', routing }),
        (err) => {
          if (err instanceof ApiError && err.status === 404 && err.code === 'PARLEY_ERR_NOT_FOUND') routingAsked.current.add(id);
        },
      ).finally(() => {
        routingInFlight.current--;
        pumpRoutingRef.current();
      });
    }
  }, []);
  const pumpRoutingRef = useRef(pumpRouting);
  pumpRoutingRef.current = pumpRouting;

  const requestRouting = useCallback((ids: string[], force = false) => {
    for (const id of ids) {
      if (!force && routingAsked.current.has(id)) continue;
      routingAsked.current.add(id);
      if (!routingQueue.current.includes(id)) routingQueue.current.push(id);
    }
    pumpRouting();
  }, [pumpRouting]);

  /** SLA clocks move when messages come and go: look again shortly after (once per burst). */
  const refreshRoutingSoon = useCallback((id: string) => {
    if (!routingAsked.current.has(id)) return;
    const timers = routingRefresh.current;
    const old = timers.get(id);
    if (old) clearTimeout(old);
    timers.set(id, setTimeout(() => {
      timers.delete(id);
      requestRouting([id], true);
    }, 800));
  }, [requestRouting]);

  /** A conversation routing just moved (transfer, pick): shown as answered, its routing looked up again. */
  const routed = useCallback((conversation: Conversation) => {
    dispatch({ type: 'conversationLoaded', conversation });
    requestRouting([conversation.id], true);
    scheduleListRefresh();
  }, [requestRouting, scheduleListRefresh]);

  const transferConversation = useCallback(async (id: string, to: TransferTarget) => {
    routed(await api.transferConversation(id, to));
  }, [routed]);

  const updateConversation = useCallback(async (id: string, patch: ConversationPatch) => {
    const conversation = await api.updateConversation(id, patch);
    // The server assigns work routing holds the routed way (a pick or a force-assign): its routing moved too.
    if (patch.assigneeId !== undefined && routingRef.current) return routed(conversation);
    dispatch({ type: 'conversationLoaded', conversation });
    scheduleListRefresh();
  }, [scheduleListRefresh, routed]);

  const takeConversation = useCallback((id: string) => updateConversation(id, { assigneeId: me.id }), [me.id, updateConversation]);

  const loadRouting = useCallback(async () => {
    try {
      const me = await api.routingMe();
      setRoutingAvailable(true);
      dispatch({ type: 'routingLoaded', me });
      // Everyone's state, for the transfer menu; events keep it current.
      void api.routingAgents().then((r) => dispatch({ type: 'agentsLoaded', agents: r.items }), () => undefined);
      // Offers listed without their conversation: fetch those the client does not know.
      for (const o of me.offers) {
        if (!stateRef.current.conversations[o.conversationId]) {
          void api.conversation(o.conversationId).then((c) => dispatch({ type: 'conversationLoaded', conversation: c }), () => undefined);
        }
        requestRouting([o.conversationId]);
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setRoutingAvailable(false);
    }
  }, [requestRouting]);

  const onOffer = useCallback((offer: Offer, conversation: Conversation) => {
    if (offer.agentId !== me.id || offer.status !== 'open') return;
    // Countdowns run on the server's clock: an offer arrives right after it was made, so the smallest
    // recent gap between now and its creation is the local clock's offset (replayed old offers only add).
    const sample = Date.now() - Date.parse(offer.createdAt);
    if (Number.isFinite(sample)) {
      const samples = [...skewSamples.current, sample].slice(-20);
      skewSamples.current = samples;
      const skew = Math.min(...samples);
      setClockSkewMs(Math.abs(skew) > 1500 ? skew : 0);
    }
    requestRouting([conversation.id], true);
    if (document.visibilityState !== 'visible') {
      const name = contactDisplayName(conversation.contact, tRef.current('contact.anonymous'));
      const n = showMessageNotification({
        title: tRef.current('offer.notifyTitle'),
        body: tRef.current('offer.notifyBody', { name }),
        tag: `offer:${offer.id}`,
        requireInteraction: true,
        // Back in the tab, the offer card with Accept / Decline is in front of the agent.
        onClick: () => undefined,
      });
      if (n) offerNotifications.current.set(offer.id, n);
    }
  }, [me.id, requestRouting]);

  const onMessage = useCallback((m: Message) => {
    const known = stateRef.current.conversations[m.conversationId];
    if (!known) {
      // A conversation outside the loaded list: fetch it so the list and badge include it.
      void api.conversation(m.conversationId).then(
        (c) => dispatch({ type: 'conversationLoaded', conversation: c }),
        () => undefined,
      );
    }
    if (m.direction !== 'in' || m.private || m.senderType !== 'contact') return;
    const hidden = document.visibilityState !== 'visible';
    const assignee = known ? known.assigneeId : null;
    // With routing, waiting (unassigned) work reaches one agent as an offer, with its own notification.
    const forMe = assignee === me.id || (assignee === null && !routingRef.current);
    if (hidden && forMe) {
      const name = known?.contact.name ?? m.senderName ?? tRef.current('contact.anonymous');
      showMessageNotification({
        title: tRef.current('notify.newMessage', { name }),
        body: m.content || tRef.current('message.attachmentOnly'),
        tag: m.conversationId,
        onClick: () => navigate({ name: 'conversations', conversationId: m.conversationId }),
      });
    }
  }, [me.id]);

  const onFrame = useCallback((frame: ServerFrame) => {
    switch (frame.type) {
      case 'ready': {
        const first = seqRef.current === null;
        if (first || frame.seq > (seqRef.current ?? -1)) {
          seqRef.current = frame.seq;
          dispatch({ type: 'cursor', seq: frame.seq });
        }
        if (first) void fetchList();
        else scheduleListRefresh();
        // Offers and my state may have changed while the socket was away.
        void loadRouting();
        break;
      }
      case 'resync': {
        // Too far behind to replay: start over from the server's current state.
        seqRef.current = frame.seq;
        dispatch({ type: 'cursor', seq: frame.seq });
        void fetchList();
        const open = openRef.current;
        if (open) void loadConversation(open).catch(() => undefined);
        void loadRouting();
        break;
      }
      case 'event': {
        if (seqRef.current !== null && frame.seq <= seqRef.current) return;
        seqRef.current = frame.seq;
        dispatch({ type: 'event', seq: frame.seq, event: frame.event });
        const ev = frame.event;
        if (ev.type === 'message.created') {
          onMessage(ev.data);
          refreshRoutingSoon(ev.data.conversationId);
        }
        if (ev.type === 'routing.offer') onOffer(ev.data.offer, ev.data.conversation);
        if (ev.type === 'routing.conversation') refreshRoutingSoon(ev.data.conversationId);
        if (ev.type === 'conversation.updated') refreshRoutingSoon(ev.data.id);
        for (const l of listeners.current) {
          try {
            l(ev);
          } catch {
            // One broken listener must not stop the others.
          }
        }
        // Agent states and SLA events change no list entry.
        if (ev.type !== 'agent.state_changed' && ev.type !== 'routing.sla') scheduleListRefresh();
        break;
      }
      case 'ephemeral': {
        const ev = frame.event;
        if (ev.type === 'presence') dispatch({ type: 'presence', userId: ev.data.userId, online: ev.data.online });
        if (ev.type === 'typing' && ev.data.who === 'contact') {
          const id = ev.data.conversationId;
          dispatch({ type: 'typing', conversationId: id, on: ev.data.on });
          const timers = typingTimers.current;
          const old = timers.get(id);
          if (old) clearTimeout(old);
          // A lost "off" frame must not leave the indicator on forever.
          if (ev.data.on) timers.set(id, setTimeout(() => dispatch({ type: 'typing', conversationId: id, on: false }), TYPING_TIMEOUT_MS));
        }
        break;
      }
      default:
        break;
    }
  }, [fetchList, scheduleListRefresh, loadConversation, onMessage, onOffer, loadRouting, refreshRoutingSoon]);

  const onFrameRef = useRef(onFrame);
  onFrameRef.current = onFrame;

  useEffect(() => {
    const conn = new RealtimeConnection({
      url: realtimeUrl(),
      getLastSeq: () => seqRef.current,
      onFrame: (f) => onFrameRef.current(f),
      onStatus: setStatus,
      onConnectFailed: () => {
        api.checkSession().catch(() => undefined);
      },
    });
    connRef.current = conn;
    conn.start();
    const typing = typingTimers.current;
    const routingTimers = routingRefresh.current;
    return () => {
      conn.stop();
      connRef.current = null;
      for (const timer of [refreshTimer.current, retryTimer.current, ...typing.values(), ...routingTimers.values()]) if (timer) clearTimeout(timer);
    };
  }, []);

  // Refetch whenever the filters change (the first fetch waits for the socket's ready).
  const filtersKey = JSON.stringify(state.filters);
  const firstFilters = useRef(true);
  useEffect(() => {
    try {
      localStorage.setItem(FILTERS_KEY, filtersKey);
    } catch {
      // Storage unavailable: filters are not remembered.
    }
    if (firstFilters.current) {
      firstFilters.current = false;
      return;
    }
    void fetchList();
  }, [filtersKey, fetchList]);

  // Without a socket for a while (server down at start), still show the list.
  useEffect(() => {
    const timer = setTimeout(() => {
      if (!stateRef.current.listLoaded) void fetchList();
    }, 3000);
    return () => clearTimeout(timer);
  }, [fetchList]);

  const reloadCannedReplies = useCallback(() => {
    api.cannedReplies().then((r) => setCannedReplies(r.items), () => undefined);
  }, []);
  const reloadInboxes = useCallback(() => {
    api.inboxes().then((r) => setInboxes(r.items), () => undefined);
  }, []);
  const reloadUsers = useCallback(() => {
    api.users().then((r) => setUsers(r.items), () => undefined);
  }, []);
  const reloadQueues = useCallback(() => {
    api.queues().then((r) => setQueues(r.items), () => undefined);
  }, []);
  const reloadLabels = useCallback(() => {
    api.labels().then((r) => setLabels(r.items), () => undefined);
  }, []);

  useEffect(() => {
    reloadUsers();
    reloadInboxes();
    reloadLabels();
    reloadCannedReplies();
    reloadQueues();
  }, [reloadCannedReplies, reloadLabels, reloadUsers, reloadInboxes, reloadQueues]);

  // A conversation of an inbox created after the workspace loaded: fetch the inboxes again (once per id).
  const askedInboxes = useRef(new Set<string>());
  useEffect(() => {
    const known = new Set(inboxes.map((i) => i.id));
    const missing = Object.values(state.conversations).map((c) => c.inboxId).filter((id) => !known.has(id) && !askedInboxes.current.has(id));
    if (missing.length === 0) return;
    for (const id of missing) askedInboxes.current.add(id);
    reloadInboxes();
  }, [state.conversations, inboxes, reloadInboxes]);

  // Title badge: unread messages in my and unassigned conversations.
  const unread = unreadTotal(state);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Parley` : 'Parley';
  }, [unread]);

  // A desktop notification goes with its offer.
  useEffect(() => {
    for (const [id, n] of offerNotifications.current) {
      if (state.offers[id]) continue;
      n.close();
      offerNotifications.current.delete(id);
    }
  }, [state.offers]);

  // Offers end at their expiry even if the server's closing event is late.
  const hasOffers = Object.keys(state.offers).length > 0;
  useEffect(() => {
    if (!hasOffers) return;
    const timer = setInterval(() => dispatch({ type: 'expireOffers', now: Date.now() - clockSkewMs }), 500);
    return () => clearInterval(timer);
  }, [hasOffers, clockSkewMs]);

  const setMyState = useCallback(async (next: SettableAgentState, reason?: string) => {
    const res = await api.setMyState(next, reason);
    dispatch({ type: 'myState', state: { state: res.state, reason: res.reason, since: res.since } });
  }, []);

  const acceptOffer = useCallback(async (offerId: string) => {
    try {
      const res = await api.acceptOffer(offerId);
      dispatch({ type: 'offerGone', offerId });
      dispatch({ type: 'conversationLoaded', conversation: res.conversation });
      scheduleListRefresh();
      navigate({ name: 'conversations', conversationId: res.conversation.id });
    } catch (err) {
      // Gone (expired, taken, revoked): the prompt has nothing left to do.
      if (err instanceof ApiError && [403, 404, 409, 410].includes(err.status)) dispatch({ type: 'offerGone', offerId });
      throw err;
    }
  }, [scheduleListRefresh]);

  const declineOffer = useCallback(async (offerId: string) => {
    try {
      await api.declineOffer(offerId);
      dispatch({ type: 'offerGone', offerId });
    } catch (err) {
      if (err instanceof ApiError && [403, 404, 409, 410].includes(err.status)) dispatch({ type: 'offerGone', offerId });
      throw err;
    }
  }, []);

  const subscribe = useCallback((listener: EventListener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  const setFilters = useCallback((f: Filters) => dispatch({ type: 'filters', filters: f }), []);
  const sendTyping = useCallback((conversationId: string, on: boolean) => {
    connRef.current?.send({ type: 'typing', conversationId, on });
  }, []);

  const value = useMemo<WorkspaceValue>(() => ({
    state, dispatch, status, users, labels, inboxes, cannedReplies, setFilters, loadConversation,
    loadOlderMessages, updateConversation, transferConversation, takeConversation, sendTyping, reloadCannedReplies, reloadLabels, reloadUsers, reloadInboxes,
    routingAvailable, queues, reloadQueues, setMyState, acceptOffer, declineOffer, requestRouting, subscribe, clockSkewMs,
  }), [state, status, users, labels, inboxes, cannedReplies, setFilters, loadConversation, loadOlderMessages,
    updateConversation, transferConversation, takeConversation, sendTyping, reloadCannedReplies, reloadLabels, reloadUsers, reloadInboxes,
    routingAvailable, queues, reloadQueues, setMyState, acceptOffer, declineOffer, requestRouting, subscribe, clockSkewMs]);

  return <WorkspaceContext.Provider value={value}>{children}</WorkspaceContext.Provider>;
}

export function userName(users: User[], id: string | null): string | null {
  if (!id) return null;
  return users.find((u) => u.id === id)?.name ?? null;
}

export function contactDisplayName(c: Conversation['contact'], fallback: string): string {
  return c.name?.trim() || c.email || c.phone || fallback;
}
