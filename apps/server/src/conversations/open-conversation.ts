import type { Transaction } from 'kysely';
import type { ChannelType, ConversationRow, ConversationStatus, Database } from '../db/schema.ts';
import type { Deps } from '../deps.ts';
import { newId } from '../ids.ts';
import { bindBatch, type Outbox } from '../realtime/transact.ts';
import { resolveContacts, type ContactInput } from '../contacts/contacts.repository.ts';
import { conversationEventRow } from './conversations.repository.ts';
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

/** The row of a new conversation, its id chosen here (callers that batch need it before the insert). */
export function newConversationRow(c: { tenantId: string; inboxId: string; channelType: ChannelType; contactId: string; status: ConversationStatus; subject: string | null; externalThreadId: string | null }) {
  return {
    id: newId('cnv'),
    tenant_id: c.tenantId,
    inbox_id: c.inboxId,
    contact_id: c.contactId,
    channel_type: c.channelType,
    status: c.status,
    assignee_id: null,
    queue_id: null,
    priority: 0,
    labels: '[]',
    custom_attributes: '{}',
    subject: c.subject,
    external_thread_id: c.externalThreadId,
    snoozed_until: null,
    unread_count: 0,
    last_message_id: null,
  };
}

/**
 * New conversations and their `created` history events, in one statement. Returns the rows with
 * the queues routing may put them in (their inbox's, the tenant's default), read by the same
 * statement so that routing need not read them again.
 */
export function insertConversations(
  trx: Transaction<Database>,
  conversations: { row: ReturnType<typeof newConversationRow>; actor: Actor }[],
): Promise<(ConversationRow & { inbox_queue_id: string | null; default_queue_id: string | null })[]> {
  const created = conversations.map(({ row, actor }) =>
    conversationEventRow({ tenantId: row.tenant_id, conversationId: row.id, type: 'created', actorType: actor.type, actorId: actor.id, data: { inboxId: row.inbox_id, channelType: row.channel_type } }),
  );
  return trx
    .with('created', (db) => db.insertInto('conversation_events').values(created))
    .insertInto('conversations')
    .values(conversations.map((c) => c.row))
    .returningAll()
    .returning((eb) => [
      eb.selectFrom('inboxes').select('inboxes.queue_id').whereRef('inboxes.id', '=', 'conversations.inbox_id').as('inbox_queue_id'),
      eb.selectFrom('routing_queues').select('routing_queues.id').whereRef('routing_queues.tenant_id', '=', 'conversations.tenant_id').where('routing_queues.is_default', '=', true).limit(1).as('default_queue_id'),
    ])
    .execute();
}

/** Starts a conversation (and its contact when new); its first message is posted separately. Openings queued together are done together. */
export function openConversation(deps: Pick<Deps, 'db' | 'committer' | 'routing'>, input: OpenConversationInput): Promise<ConversationDto> {
  return deps.committer.runBatched(input.tenantId, openBatchOf(deps), input);
}

const openBatchOf = bindBatch(openConversations);

/** Opens a batch of conversations of one tenant: contacts, conversations (with their `created` events), then routing once for all. */
async function openConversations(deps: Pick<Deps, 'committer' | 'routing'>, trx: Transaction<Database>, outbox: Outbox, inputs: OpenConversationInput[]): Promise<ConversationDto[]> {
  const tenantId = inputs[0]!.tenantId;
  // A contact named by an id that is not the tenant's fails the batch; its inputs then run alone.
  const contacts = await resolveContacts(trx, tenantId, inputs.map((input) => input.contact));
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
  const inserted = new Map((await insertConversations(trx, rows.map((row, i) => ({ row, actor: inputs[i]!.actor })))).map((r) => [r.id, r]));
  const dtos = rows.map((row, i) => {
    // A new conversation has no last message: its DTO needs only its contact.
    const dto = toConversationDto(inserted.get(row.id)!, contacts[i]!, null);
    outbox.emit({ conversationId: row.id, audience: 'agents', type: 'conversation.created', payload: dto });
    return dto;
  });
  const arrivals = rows.flatMap((row, i) => {
    if (row.status !== 'open' || inputs[i]!.routeWithFirstMessage) return [];
    const { inbox_queue_id, default_queue_id, ...conversation } = inserted.get(row.id)!;
    return [{ row: conversation, contact: contacts[i]!, lastMessage: null, inboxQueueId: inbox_queue_id, defaultQueueId: default_queue_id }];
  });
  if (arrivals.length === 0) return dtos;
  // Answered as routing left them (queued, offered).
  const routed = await deps.routing.arriveInTx(trx, outbox, tenantId, arrivals);
  return dtos.map((dto) => routed.get(dto.id) ?? dto);
}
