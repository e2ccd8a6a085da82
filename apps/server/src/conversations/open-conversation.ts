import { sql, type Transaction } from 'kysely';
import type { ChannelType, ConversationRow, ConversationStatus, Database } from '../db/schema.ts';
import type { Deps } from '../deps.ts';
import { newId } from '../ids.ts';
import { bindBatch, type Outbox } from '../realtime/transact.ts';
import { contactFields, insertContactsSql, newContactRow, onlyNewContacts, resolveContacts, type ContactInput } from '../contacts/contacts.repository.ts';
import { entryQueueColumns, insertConversationEvents } from './conversations.repository.ts';
import { toConversationDto, type ConversationDto } from './conversation-dto.ts';

export interface OpenConversationInput {
  tenantId: string;
  inboxId: string;
  channelType: ChannelType;
  contact: ContactInput | { id: string };
  status?: ConversationStatus;
  subject?: string | null;
  externalThreadId?: string | null;
  /**
   * The caller posts the customer's first message next, and postMessage tells routing
   * (`routing.customerMessagesInTx`), which queues the conversation. Queueing it before its first
   * message would let a queue's exit act first (close with a message), and the customer's
   * message would then reopen what was just closed.
   */
  routeWithFirstMessage?: boolean;
  actor: Actor;
}

type Actor = { type: 'contact' | 'user' | 'system'; id: string | null };

/**
 * A new conversation's own columns, its id chosen here (callers that batch need it before the
 * insert); the others start at the table's defaults (no assignee or queue, priority 0, no
 * labels, nothing unread).
 */
export function newConversationRow(c: { tenantId: string; inboxId: string; channelType: ChannelType; contactId: string; status: ConversationStatus; subject: string | null; externalThreadId: string | null }) {
  return {
    id: newId('cnv'),
    tenant_id: c.tenantId,
    inbox_id: c.inboxId,
    contact_id: c.contactId,
    channel_type: c.channelType,
    status: c.status,
    subject: c.subject,
    external_thread_id: c.externalThreadId,
  };
}

/**
 * New conversations and their `created` history events, in one statement. Returns the rows with
 * the queues routing may put them in (their inbox's, the tenant's default), read by the same
 * statement so that routing need not read them again. One statement text for any number of
 * conversations (they travel as JSON), so it is prepared once. `alongside`: other writes (data-
 * modifying queries) done in the same statement, such as the conversations' new contacts (the
 * foreign keys are checked at its end).
 */
export async function insertConversations(
  trx: Transaction<Database>,
  conversations: { row: ReturnType<typeof newConversationRow>; actor: Actor }[],
  alongside: unknown[] = [],
): Promise<(ConversationRow & { inbox_queue_id: string | null; default_queue_id: string | null })[]> {
  return (await insertConversationsSql(conversations, alongside).execute(trx)).rows;
}

/** The statement of insertConversations (sent AHEAD by callers that do not need its rows). */
export function insertConversationsSql(conversations: { row: ReturnType<typeof newConversationRow>; actor: Actor }[], alongside: unknown[] = []) {
  const created = conversations.map(({ row, actor }) => ({ tenantId: row.tenant_id, conversationId: row.id, type: 'created', actorType: actor.type, actorId: actor.id, data: { inboxId: row.inbox_id, channelType: row.channel_type } }));
  const rows = conversations.map(({ row }, i) => ({ i, ...row }));
  return sql<ConversationRow & { inbox_queue_id: string | null; default_queue_id: string | null }>`
    WITH ${sql.join(alongside.map((w, i) => sql`${sql.raw(`a${i}`)} AS (${w})`).concat(sql`created AS (${insertConversationEvents(created)})`))}
    INSERT INTO conversations (id, tenant_id, inbox_id, contact_id, channel_type, status, subject, external_thread_id)
    SELECT v.id, v.tenant_id, v.inbox_id, v.contact_id, v.channel_type, v.status, v.subject, v.external_thread_id
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS v(i int, id text, tenant_id text, inbox_id text, contact_id text, channel_type text, status text, subject text, external_thread_id text)
    ORDER BY v.i
    RETURNING *, ${entryQueueColumns('conversations', sql.ref('conversations.tenant_id'))}`;
}

/** Starts a conversation (and its contact when new); its first message is posted separately. Openings queued together are done together. */
export function openConversation(deps: Pick<Deps, 'db' | 'committer' | 'routing'>, input: OpenConversationInput): Promise<ConversationDto> {
  return deps.committer.runBatched(input.tenantId, openBatchOf(deps), input);
}

const openBatchOf = bindBatch(openConversationsInTx);

/** Opens a batch of conversations of one tenant in the caller's transaction: contacts, conversations (with their `created` events), then routing once for all. */
export async function openConversationsInTx(deps: Pick<Deps, 'committer' | 'routing'>, trx: Transaction<Database>, outbox: Outbox, inputs: OpenConversationInput[]): Promise<ConversationDto[]> {
  const tenantId = inputs[0]!.tenantId;
  const wanted = inputs.map((input) => input.contact);
  // New visitors only (the common case): their contacts are written with the conversations, in
  // one round trip. Otherwise they are found or made first; a contact named by an id that is not
  // the tenant's fails the batch, and its inputs then run alone.
  const fresh = onlyNewContacts(wanted) ? wanted.map((c) => newContactRow(tenantId, contactFields(c))) : null;
  const contacts = fresh ?? (await resolveContacts(trx, tenantId, wanted));
  // Conversations entering a queue now take the tenant's routing lock: it goes ahead of the inserts
  // (rows nobody else can see yet), after the contacts found (locked in the order other use cases lock them).
  if (inputs.some(entersQueueNow)) await deps.routing.lockAhead(trx, tenantId);
  const rows = inputs.map((input, i) =>
    newConversationRow({
      tenantId,
      inboxId: input.inboxId,
      channelType: input.channelType,
      contactId: contacts[i]!.id,
      status: input.status ?? 'open',
      subject: input.subject ?? null,
      externalThreadId: input.externalThreadId ?? null,
    }),
  );
  const inserted = new Map((await insertConversations(trx, rows.map((row, i) => ({ row, actor: inputs[i]!.actor })), fresh ? [insertContactsSql(fresh)] : [])).map((r) => [r.id, r]));
  const dtos = rows.map((row, i) => {
    // A new conversation has no last message: its DTO needs only its contact.
    const dto = toConversationDto(inserted.get(row.id)!, contacts[i]!, null);
    outbox.emit({ conversationId: row.id, audience: 'agents', type: 'conversation.created', payload: dto });
    return dto;
  });
  const arrivals = rows.flatMap((row, i) => {
    if (!entersQueueNow(inputs[i]!)) return [];
    const { inbox_queue_id, default_queue_id, ...conversation } = inserted.get(row.id)!;
    return [{ row: conversation, contact: contacts[i]!, lastMessage: null, inboxQueueId: inbox_queue_id, defaultQueueId: default_queue_id }];
  });
  if (arrivals.length === 0) return dtos;
  // Answered as routing left them (queued, offered).
  const routed = await deps.routing.arriveInTx(trx, outbox, tenantId, arrivals);
  return dtos.map((dto) => routed.get(dto.id) ?? dto);
}

/** Opened now and queued at once (not with a first message still to come). */
const entersQueueNow = (input: OpenConversationInput) => (input.status ?? 'open') === 'open' && !input.routeWithFirstMessage;
