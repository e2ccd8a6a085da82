import type { Attachment, Message } from './types.ts';

/** One row of the conversation as the widget shows it: a server message or a local one not yet confirmed. */
export interface ChatItem {
  /** Stable across reconciliation: `c:<clientMessageId>` when there is one, else `m:<id>`. */
  key: string;
  id: string | null;
  clientMessageId: string | null;
  direction: 'in' | 'out';
  senderType: 'contact' | 'user' | 'system';
  senderName: string | null;
  content: string;
  attachments: Attachment[];
  createdAt: string;
  state: 'sent' | 'sending' | 'failed';
}

export function itemFromMessage(m: Message): ChatItem {
  return {
    key: m.clientMessageId ? `c:${m.clientMessageId}` : `m:${m.id}`,
    id: m.id,
    clientMessageId: m.clientMessageId,
    direction: m.direction,
    senderType: m.senderType,
    senderName: m.senderName,
    content: typeof m.content === 'string' ? m.content : '',
    attachments: Array.isArray(m.attachments) ? m.attachments : [],
    createdAt: m.createdAt,
    state: 'sent',
  };
}

export interface PendingInput {
  clientMessageId: string;
  content: string;
  attachments: Attachment[];
  createdAt: string;
}

export function pendingItem(p: PendingInput, state: 'sending' | 'failed' = 'sending'): ChatItem {
  return {
    key: `c:${p.clientMessageId}`,
    id: null,
    clientMessageId: p.clientMessageId,
    direction: 'in',
    senderType: 'contact',
    senderName: null,
    content: p.content,
    attachments: p.attachments,
    createdAt: p.createdAt,
    state,
  };
}

function sameMessage(item: ChatItem, m: Message): boolean {
  if (item.id !== null && item.id === m.id) return true;
  return m.clientMessageId !== null && m.clientMessageId !== undefined && item.clientMessageId === m.clientMessageId;
}

function time(iso: string): number {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : 0;
}

/**
 * Confirmed messages in server time order; local ones not yet confirmed after them, in the
 * order they were written (their local clock may disagree with the server's).
 */
function ordered(items: ChatItem[]): ChatItem[] {
  const confirmed = items.filter((i) => i.state === 'sent');
  const local = items.filter((i) => i.state !== 'sent');
  confirmed.sort((a, b) => time(a.createdAt) - time(b.createdAt) || ((a.id ?? '') < (b.id ?? '') ? -1 : (a.id ?? '') > (b.id ?? '') ? 1 : 0));
  return confirmed.concat(local);
}

/**
 * Adds server messages to the list. A message already present — same id, or same
 * clientMessageId as a local "sending" copy — is replaced, never duplicated; private notes
 * are dropped (the server should never send them to a visitor; this is defence in depth).
 */
export function mergeMessages(items: readonly ChatItem[], incoming: readonly Message[]): ChatItem[] {
  const next = items.slice();
  for (const m of incoming) {
    if (!m || typeof m.id !== 'string' || m.private) continue;
    const idx = next.findIndex((i) => sameMessage(i, m));
    const item = itemFromMessage(m);
    if (idx >= 0) {
      // Keep the key of the row on screen so its DOM node is reused.
      next[idx] = { ...item, key: (next[idx] as ChatItem).key };
    } else {
      next.push(item);
    }
  }
  return ordered(next);
}

/** After a resync: the server's list is the truth, plus the local messages it does not know yet. */
export function replaceMessages(items: readonly ChatItem[], snapshot: readonly Message[]): ChatItem[] {
  const unconfirmed = items.filter(
    (i) => i.state !== 'sent' && !snapshot.some((m) => m.clientMessageId !== null && m.clientMessageId === i.clientMessageId),
  );
  return mergeMessages(unconfirmed, snapshot);
}

/** Adds or updates a local message (e.g. "sending" → "failed"). A confirmed copy always wins. */
export function upsertPending(items: readonly ChatItem[], item: ChatItem): ChatItem[] {
  const idx = items.findIndex((i) => i.key === item.key || (i.clientMessageId !== null && i.clientMessageId === item.clientMessageId));
  if (idx >= 0 && (items[idx] as ChatItem).state === 'sent') return items.slice();
  const next = items.slice();
  if (idx >= 0) next[idx] = item;
  else next.push(item);
  return ordered(next);
}

/** The visitor's last confirmed message, under which "Read" is shown. */
export function lastVisitorMessage(items: readonly ChatItem[]): ChatItem | null {
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i] as ChatItem;
    if (it.direction === 'in' && it.state === 'sent') return it;
  }
  return null;
}

/** True when the agents have read up to (or past) the given message. */
export function isReadByAgent(item: ChatItem | null, agentLastReadAt: string | null): boolean {
  if (!item || !agentLastReadAt) return false;
  const read = Date.parse(agentLastReadAt);
  const at = Date.parse(item.createdAt);
  return Number.isFinite(read) && Number.isFinite(at) && read >= at;
}

/** The newest message from the business side (agent, bot or system), used for read receipts. */
export function lastAgentMessageId(items: readonly ChatItem[]): string | null {
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i] as ChatItem;
    if (it.direction === 'out' && it.id) return it.id;
  }
  return null;
}
