import { sql, type Transaction } from 'kysely';
import type { AttachmentRef, ContactRow, ConversationRow, Database, MessageDirection, MessageRow, SenderType } from '../db/schema.ts';
import type { Deps } from '../deps.ts';
import { ParleyError, notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import { transact, type BatchWork, type Outbox } from '../realtime/transact.ts';
import { rowsById } from '../db/rows-by-id.ts';
import { sendAhead } from '../db/prepared-client.ts';
import { storableText } from './storable-text.ts';
import { entryQueueColumns, insertConversationEvents, lockConversationWithContact, recordConversationEvent, reviveRow } from './conversations.repository.ts';
import { toConversationDto, toMessageDto } from './conversation-dto.ts';
import { enqueueOutbound } from '../channels/outbound.ts';
import type { RoutedConversation } from '../routing/routing.service.ts';
import type { OutboundMessage } from '../channels/channel.ts';
import { assertMaySend } from '../compliance/send-policy.ts';
import { isKeywordReply } from '../compliance/keyword-reply.ts';

export const MAX_MESSAGE_LENGTH = 20_000;

export interface PostMessageInput {
  tenantId: string;
  conversationId: string;
  direction: MessageDirection;
  private?: boolean;
  senderType: SenderType;
  senderId: string | null;
  /** Defaults to the contact's name for messages from the contact. */
  senderName?: string | null;
  content: string;
  attachmentIds?: string[];
  /** The client's id for this message: a retry with the same id returns the stored message. */
  clientMessageId?: string | null;
  /** The provider's id of an inbound message: stored once, whatever the retries. */
  sourceId?: string | null;
  /** A customer's message that is not work: it neither reopens a resolved conversation nor takes the batch path (opt-out keywords, see compliance/). */
  reopens?: boolean;
  /** An approved template (WhatsApp): may be sent when the channel's free-text window is closed. */
  template?: OutboundMessage['template'];
}

export interface PostMessageResult {
  message: MessageRow;
  /** false when the message existed already (a retry): nothing was written. */
  created: boolean;
}

/**
 * Stores one message of any channel and everything that follows from it, atomically: the
 * conversation's activity, unread count and status, the history event, the realtime events
 * and the webhook deliveries.
 */
export async function postMessage(deps: Pick<Deps, 'db' | 'committer' | 'routing'>, input: PostMessageInput): Promise<PostMessageResult> {
  const checked = checkedInput(input);
  try {
    // The common case — a customer's text message — takes the set-based path (see inboundTextsOf).
    if (input.direction === 'in' && input.private !== true && checked.attachmentIds.length === 0 && input.reopens !== false) {
      return await deps.committer.runBatched(input.tenantId, inboundTextsOf(deps.routing), checked);
    }
    return await transact(deps, input.tenantId, (trx, outbox) => postCheckedInTx(deps, trx, outbox, checked));
  } catch (err) {
    // Two retries racing in different transactions: the loser answers with the winner's row.
    if (isUniqueViolation(err)) {
      const winner = await findExisting(deps.db, input);
      if (winner) return { message: winner, created: false };
    }
    throw err;
  }
}

/** The input with its content made storable and trimmed, and its attachment ids deduplicated; refused when it holds nothing or too much. */
function checkedInput(input: PostMessageInput): PostMessageInput & { attachmentIds: string[] } {
  const content = storableText(input.content).trim();
  const attachmentIds = [...new Set(input.attachmentIds ?? [])];
  if (!content && attachmentIds.length === 0) throw new ParleyError('PARLEY_ERR_VALIDATION', 'a message needs content or an attachment');
  if (content.length > MAX_MESSAGE_LENGTH) throw new ParleyError('PARLEY_ERR_VALIDATION', `a message has at most ${MAX_MESSAGE_LENGTH} characters`);
  return { ...input, content, attachmentIds };
}

/**
 * postMessage inside the caller's transaction, one message at a time (whatever its kind): for
 * work that must commit with other writes (a conversation opened for this message).
 */
export function postMessageInTx(deps: Pick<Deps, 'routing'>, trx: Transaction<Database>, outbox: Outbox, input: PostMessageInput): Promise<PostMessageResult> {
  return postCheckedInTx(deps, trx, outbox, checkedInput(input));
}

async function postCheckedInTx(deps: Pick<Deps, 'routing'>, trx: Transaction<Database>, outbox: Outbox, input: PostMessageInput & { attachmentIds: string[] }): Promise<PostMessageResult> {
  const { content, attachmentIds } = input;
  const isPrivate = input.private === true;
  const { conversation, contact } = await lockConversationWithContact(trx, input.tenantId, input.conversationId);
  // Consent, countries, the channel's window: refused before anything is stored.
  if (input.direction === 'out' && !isPrivate) await assertMaySend(trx, conversation, { template: input.template !== undefined, exemptConsent: isKeywordReply(input) });
  const attachments = await claimAttachments(trx, input, attachmentIds);
  const mentions = isPrivate ? await findMentions(trx, input.tenantId, content) : [];
  const now = new Date();
  const message = await trx
    .insertInto('messages')
    .values({
      id: newId('msg'),
      tenant_id: input.tenantId,
      conversation_id: conversation.id,
      direction: input.direction,
      private: isPrivate,
      sender_type: input.senderType,
      sender_id: input.senderId,
      sender_name: input.senderName === undefined ? (input.senderType === 'contact' ? contact.name : null) : input.senderName,
      content,
      content_type: 'text/plain',
      attachments: JSON.stringify(attachments),
      mentions: JSON.stringify(mentions),
      status: input.direction === 'in' ? 'received' : 'sent',
      client_message_id: input.clientMessageId ?? null,
      source_id: input.sourceId ?? null,
      created_at: now,
    })
    // A retry (same clientMessageId or provider id) finds its message stored: nothing more to do.
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!message) return { message: (await findExisting(trx, input))!, created: false };
  await enqueueOutbound(trx, message, conversation, input.template);

  const reopen = input.direction === 'in' && input.reopens !== false && reopensOnCustomerMessage(conversation);
  const updated = await trx
    .updateTable('conversations')
    .set((eb) => ({
      last_message_id: isPrivate ? conversation.last_message_id : message.id,
      last_activity_at: now,
      updated_at: now,
      unread_count: input.direction === 'in' ? eb('unread_count', '+', 1) : eb.val(conversation.unread_count),
      ...(reopen ? { status: 'open' as const, snoozed_until: null } : {}),
    }))
    .where('tenant_id', '=', input.tenantId)
    .where('id', '=', conversation.id)
    .returningAll()
    .returning(sql<boolean>`${queueKeepsSla(sql.ref('conversations.queue_id'))}`.as('queue_has_sla'))
    .executeTakeFirstOrThrow();

  if (reopen) {
    await recordConversationEvent(trx, { tenantId: input.tenantId, conversationId: conversation.id, type: 'status_changed', actorType: input.senderType, actorId: input.senderId, data: { from: conversation.status, to: 'open' } });
  }
  emitMessageEvents(outbox, message);
  const lastMessage = isPrivate ? await lastPublicMessage(trx, updated) : message;
  emitConversationUpdated(outbox, updated, contact, lastMessage, reopen);
  if (input.direction === 'in' && !isPrivate && input.reopens !== false) await deps.routing.customerMessagesInTx(trx, outbox, input.tenantId, [updated]);
  if (input.direction === 'out' && !isPrivate && input.senderType === 'user' && input.senderId) await deps.routing.agentRepliedInTx(trx, outbox, input.tenantId, updated);
  return { message, created: true };
}

const inboundTexts = new WeakMap<Deps['routing'], BatchWork<PostMessageInput, PostMessageResult>>();

/**
 * Customers' text messages of one tenant that arrived together, stored with a few statements for
 * the whole batch instead of a few per message: lock their conversations, insert the messages,
 * update each conversation once, tell routing once. Same rules and same events as the
 * one-by-one path. One function per server (its routing), so the committer can batch its calls.
 */
function inboundTextsOf(routing: Deps['routing']): BatchWork<PostMessageInput, PostMessageResult> {
  let work = inboundTexts.get(routing);
  if (work) return work;
  work = async (trx, outbox, inputs) => {
    const tenantId = inputs[0]!.tenantId;
    const results = await storeInboundTexts(trx, outbox, tenantId, inputs);
    await routing.customerMessagesInTx(trx, outbox, tenantId, conversationsAfter(results));
    return results;
  };
  inboundTexts.set(routing, work);
  return work;
}

/** Each conversation a batch stored messages in, as it is after the batch's last message in it. */
export function conversationsAfter(results: { conversation?: RoutedConversation }[]): RoutedConversation[] {
  return [...new Map(results.flatMap((r) => (r.conversation ? [[r.conversation.id, r.conversation] as const] : []))).values()];
}

/**
 * The set-based store of customers' text messages: one statement locks the batch's conversations
 * (with each one's contact) and inserts the messages; the conversations' update follows from the
 * rows it holds locked, so it is computed here and deferred into the events' statement (see
 * Outbox.defer). The result's `conversation` is the row as it is after the update (absent for a
 * retry that stored nothing), with the queues it may enter. `opened`: conversations the caller
 * created in this transaction, announced (`conversation.created`) before their messages.
 * `thenLock` sends another lock right behind the statement (AHEAD), taken after its rows'.
 *
 * The update is not a CTE of the insert's statement: PostgreSQL planned an update against the
 * CTEs badly (~140 ms for 250 messages, against ~20 ms apart).
 */
export async function storeInboundTexts(
  trx: Transaction<Database>,
  outbox: Outbox,
  tenantId: string,
  inputs: PostMessageInput[],
  opened: ReadonlySet<string> = new Set(),
  thenLock?: () => Promise<void>,
): Promise<(PostMessageResult & { conversation?: RoutedConversation })[]> {
  const ids = [...new Set(inputs.map((i) => i.conversationId))];
  const base = Date.now();
  const rows = inputs.map((input, i) => ({
    i,
    id: newId('msg'),
    conversation_id: input.conversationId,
    sender_type: input.senderType,
    sender_id: input.senderId,
    sender_name: input.senderName ?? null,
    // The contact's name, read under the lock, unless the caller named the sender.
    contact_name: input.senderName === undefined && input.senderType === 'contact',
    content: input.content,
    client_message_id: input.clientMessageId ?? null,
    source_id: input.sourceId ?? null,
    // Distinct, increasing times (microseconds apart) keep the batch's order within a conversation.
    created_at: microsecondsAfter(base, i),
  }));
  const sent = await sendAhead(trx, storeTextsSql(tenantId, ids, rows));
  await thenLock?.();
  const held = await sent();
  if (held.length !== ids.length) throw notFound('conversation');

  const locked = new Map<string, { conversation: RoutedConversation; contact: ContactRow }>();
  const inserted = new Set<string>();
  for (const { contact_json, inserted_ids, ...conversation } of held) {
    locked.set(conversation.id, { conversation, contact: reviveRow(contact_json) as ContactRow });
    for (const id of inserted_ids ?? []) inserted.add(id);
  }
  for (const id of opened) {
    const { conversation, contact } = locked.get(id)!;
    outbox.emit({ conversationId: id, audience: 'agents', type: 'conversation.created', payload: toConversationDto(conversation, contact, null) });
  }

  const results: (PostMessageResult & { conversation?: RoutedConversation })[] = [];
  const perConversation = new Map<string, MessageRow[]>();
  for (const [i, row] of rows.entries()) {
    if (!inserted.has(row.id)) {
      results.push({ message: (await findExisting(trx, inputs[i]!))!, created: false });
      continue;
    }
    const message = storedText(tenantId, row, locked.get(row.conversation_id)!.contact);
    results.push({ message, created: true });
    perConversation.set(message.conversation_id, [...(perConversation.get(message.conversation_id) ?? []), message]);
  }
  if (perConversation.size === 0) return results;

  // Each conversation once, as the deferred update below leaves it.
  const after = new Map<string, RoutedConversation>();
  const changes = [...perConversation].map(([id, messages]) => {
    const before = locked.get(id)!.conversation;
    const last = messages[messages.length - 1]!;
    const reopen = reopensOnCustomerMessage(before);
    after.set(id, {
      ...before,
      last_message_id: last.id,
      last_activity_at: last.created_at,
      updated_at: last.created_at,
      unread_count: before.unread_count + messages.length,
      ...(reopen ? { status: 'open' as const, snoozed_until: null } : {}),
    });
    return { id, last_id: last.id, at: last.created_at.toISOString(), inbound: messages.length, reopen };
  });
  outbox.defer(conversationsAfterTextsSql(tenantId, changes));

  const reopened = changes.filter((c) => c.reopen).map((change) => {
    const before = locked.get(change.id)!.conversation;
    return { tenantId, conversationId: change.id, type: 'status_changed', actorType: 'contact' as const, actorId: before.contact_id, data: { from: before.status, to: 'open' } };
  });
  if (reopened.length > 0) outbox.defer(insertConversationEvents(reopened));
  for (const messages of perConversation.values()) for (const m of messages) emitMessageEvents(outbox, m);
  for (const change of changes) {
    const messages = perConversation.get(change.id)!;
    emitConversationUpdated(outbox, after.get(change.id)!, locked.get(change.id)!.contact, messages[messages.length - 1]!, change.reopen);
  }
  for (const r of results) if (r.created) r.conversation = after.get(r.message.conversation_id);
  return results;
}

/** A batch's text rows as storeInboundTexts builds them. */
type TextRow = { i: number; id: string; conversation_id: string; sender_type: string; sender_id: string | null; sender_name: string | null; contact_name: boolean; content: string; client_message_id: string | null; source_id: string | null; created_at: string };

/**
 * A text row as storeTextsSql inserts it: the statement answers only which rows it inserted
 * (building each stored row as JSON cost PostgreSQL ~15 µs per message, and the server its parse).
 */
function storedText(tenantId: string, row: TextRow, contact: ContactRow): MessageRow {
  return {
    id: row.id,
    tenant_id: tenantId,
    conversation_id: row.conversation_id,
    direction: 'in',
    private: false,
    sender_type: row.sender_type as SenderType,
    sender_id: row.sender_id,
    sender_name: row.contact_name ? contact.name : row.sender_name,
    content: row.content,
    content_type: 'text/plain',
    attachments: [],
    mentions: [],
    status: 'received',
    client_message_id: row.client_message_id,
    source_id: row.source_id,
    // The row's own time, to the millisecond as the driver reads it back (the microseconds are dropped).
    created_at: new Date(row.created_at),
    error: null,
  };
}

/**
 * Locks the batch's conversations (each with its contact) and inserts the messages into those
 * found; answers each locked conversation with the ids of the messages inserted in it. The ids drive the
 * lock (unnest joined by primary key): with "id = ANY(ids)" a generic plan also read a big
 * tenant's every conversation through its tenant_id index (decision 0005).
 */
export function storeTextsSql(tenantId: string, ids: string[], rows: TextRow[]) {
  return sql<RoutedConversation & { contact_json: unknown; inserted_ids: string[] | null }>`
    WITH locked AS (
      SELECT c.*, to_jsonb(ct.*) AS contact_json, ${queueKeepsSla(sql.ref('c.queue_id'))} AS queue_has_sla,
        -- For the conversations the messages open or reopen.
        ${entryQueueColumns('c', tenantId)}
      FROM unnest(${ids}::text[]) AS k(id)
      JOIN conversations c ON c.id = k.id JOIN contacts ct ON ct.id = c.contact_id
      WHERE c.tenant_id = ${tenantId}
      ORDER BY c.id FOR UPDATE OF c
    ), inserted AS (
      INSERT INTO messages (id, tenant_id, conversation_id, direction, private, sender_type, sender_id, sender_name, content, content_type, attachments, mentions, status, client_message_id, source_id, created_at)
      SELECT v.id, ${tenantId}, v.conversation_id, 'in', false, v.sender_type, v.sender_id,
        CASE WHEN v.contact_name THEN l.contact_json->>'name' ELSE v.sender_name END,
        v.content, 'text/plain', '[]', '[]', 'received', v.client_message_id, v.source_id, v.created_at
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS v(i int, id text, conversation_id text, sender_type text, sender_id text, sender_name text,
        contact_name boolean, content text, client_message_id text, source_id text, created_at timestamptz)
      JOIN locked l ON l.id = v.conversation_id
      ORDER BY v.i
      -- A retry (same clientMessageId or provider id) finds its message stored: it is not inserted again.
      ON CONFLICT DO NOTHING
      RETURNING id, conversation_id
    ), grouped AS MATERIALIZED (
      -- Materialized: a plan that expected one locked row joined by nested loop and aggregated the inserted rows once per conversation.
      SELECT conversation_id, array_agg(i.id) AS inserted_ids FROM inserted i GROUP BY conversation_id
    )
    SELECT l.*, g.inserted_ids FROM locked l LEFT JOIN grouped g ON g.conversation_id = l.id`;
}

/** The batch's conversations after its messages (last message, activity, unread, reopened), one UPDATE. */
export function conversationsAfterTextsSql(tenantId: string, changes: { id: string; last_id: string; at: string; inbound: number; reopen: boolean }[]) {
  return sql`
    UPDATE conversations AS c SET
      last_message_id = v.last_id, last_activity_at = v.at, updated_at = v.at,
      unread_count = c.unread_count + v.inbound,
      status = CASE WHEN v.reopen THEN 'open' ELSE c.status END,
      snoozed_until = CASE WHEN v.reopen THEN NULL ELSE c.snoozed_until END
    ${rowsById('c', changes, sql`id text, last_id text, at timestamptz, inbound int, reopen boolean`)} AND c.tenant_id = ${tenantId}`;
}

/** Whether the conversation's queue keeps SLA clocks (null when it has no queue): routing must then hear of its messages. */
function queueKeepsSla(queueId: ReturnType<typeof sql.ref>) {
  return sql<boolean | null>`(SELECT coalesce(jsonb_typeof(q.config->'sla') = 'object', false) FROM routing_queues q WHERE q.id = ${queueId})`;
}

function microsecondsAfter(baseMs: number, micros: number): string {
  const ms = baseMs + Math.floor(micros / 1000);
  return new Date(ms).toISOString().replace('Z', `${String(micros % 1000).padStart(3, '0')}Z`);
}

async function lastPublicMessage(trx: Transaction<Database>, c: ConversationRow): Promise<MessageRow | null> {
  if (!c.last_message_id) return null;
  return (await trx.selectFrom('messages').selectAll().where('tenant_id', '=', c.tenant_id).where('id', '=', c.last_message_id).executeTakeFirst()) ?? null;
}

/** A customer writing again reopens a resolved or snoozed conversation. */
const reopensOnCustomerMessage = (c: ConversationRow) => c.status === 'resolved' || c.status === 'snoozed';

/** Agents hear of every change; the visitor only when the status changed (a reopen). */
function emitConversationUpdated(outbox: Outbox, row: ConversationRow, contact: ContactRow, lastMessage: MessageRow | null, reopened: boolean) {
  outbox.emit({ conversationId: row.id, audience: reopened ? 'all' : 'agents', type: 'conversation.updated', payload: toConversationDto(row, contact, lastMessage) });
}

function emitMessageEvents(outbox: Outbox, message: MessageRow) {
  outbox.emit({
    conversationId: message.conversation_id,
    audience: message.private ? 'agents' : 'all',
    type: 'message.created',
    payload: toMessageDto(message),
  });
}

async function findExisting(db: Deps['db'] | Transaction<Database>, input: PostMessageInput): Promise<MessageRow | undefined> {
  if (input.sourceId) {
    return db.selectFrom('messages').selectAll().where('tenant_id', '=', input.tenantId).where('source_id', '=', input.sourceId).executeTakeFirst();
  }
  if (input.clientMessageId) {
    return db
      .selectFrom('messages')
      .selectAll()
      .where('tenant_id', '=', input.tenantId)
      .where('conversation_id', '=', input.conversationId)
      .where('client_message_id', '=', input.clientMessageId)
      .executeTakeFirst();
  }
  return undefined;
}

/** Attachments must be this tenant's, uploaded by the same kind of sender, and not used elsewhere. */
async function claimAttachments(trx: Transaction<Database>, input: PostMessageInput, ids: string[]): Promise<AttachmentRef[]> {
  if (ids.length === 0) return [];
  const rows = await trx
    .selectFrom('attachments')
    .selectAll()
    .where('tenant_id', '=', input.tenantId)
    .where('id', 'in', ids)
    .where('uploader_type', '=', input.senderType)
    .where((eb) => eb.or([eb('conversation_id', 'is', null), eb('conversation_id', '=', input.conversationId)]))
    .execute();
  if (rows.length !== ids.length) throw new ParleyError('PARLEY_ERR_VALIDATION', 'unknown attachment id');
  await trx.updateTable('attachments').set({ conversation_id: input.conversationId }).where('tenant_id', '=', input.tenantId).where('id', 'in', ids).execute();
  return rows.map((r) => ({ id: r.id, filename: r.filename, contentType: r.content_type, size: r.size }));
}

/** `@Name` of users of the tenant in a private note. */
async function findMentions(trx: Transaction<Database>, tenantId: string, content: string): Promise<string[]> {
  if (!content.includes('@')) return [];
  const users = await trx.selectFrom('users').select(['id', 'name']).where('tenant_id', '=', tenantId).execute();
  return mentionedUserIds(content, users);
}

/**
 * Each `@` takes the longest user name that follows it and ends at a word boundary, so with
 * users "Ana" and "Ana Lucia", `@Ana Lucia` names only Ana Lucia and `@Anabel` names nobody.
 */
export function mentionedUserIds(content: string, users: { id: string; name: string }[]): string[] {
  const byLength = [...users].sort((a, b) => b.name.length - a.name.length);
  const lower = content.toLowerCase();
  const found = new Set<string>();
  for (let at = lower.indexOf('@'); at !== -1; at = lower.indexOf('@', at + 1)) {
    const rest = lower.slice(at + 1);
    const user = byLength.find((u) => rest.startsWith(u.name.toLowerCase()) && !/[\p{L}\p{N}_]/u.test(rest.charAt(u.name.length)));
    if (user) found.add(user.id);
  }
  return [...found];
}

export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}
