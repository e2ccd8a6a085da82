import type { Transaction } from 'kysely';
import type { ChannelType, ConversationRow, ConversationStatus, Database } from '../db/schema.ts';
import type { Deps } from '../deps.ts';
import { newId } from '../ids.ts';
import { transact } from '../realtime/transact.ts';
import { resolveContact, type ContactInput } from '../contacts/contacts.repository.ts';
import { conversationEventRow, loadConversationDto } from './conversations.repository.ts';
import { toConversationDto } from './conversation-dto.ts';

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

/** New conversations and their `created` history events, in one statement. */
export function insertConversations(trx: Transaction<Database>, conversations: { row: ReturnType<typeof newConversationRow>; actor: Actor }[]): Promise<ConversationRow[]> {
  const created = conversations.map(({ row, actor }) =>
    conversationEventRow({ tenantId: row.tenant_id, conversationId: row.id, type: 'created', actorType: actor.type, actorId: actor.id, data: { inboxId: row.inbox_id, channelType: row.channel_type } }),
  );
  return trx
    .with('created', (db) => db.insertInto('conversation_events').values(created))
    .insertInto('conversations')
    .values(conversations.map((c) => c.row))
    .returningAll()
    .execute();
}

/** Starts a conversation (and its contact when new); its first message is posted separately. */
export async function openConversation(deps: Pick<Deps, 'db' | 'committer' | 'routing'>, input: OpenConversationInput) {
  return transact(deps, input.tenantId, async (trx, outbox) => {
    const contact = 'id' in input.contact ? null : await resolveContact(trx, input.tenantId, input.contact);
    const contactId = contact?.id ?? (input.contact as { id: string }).id;
    const conversation = newConversationRow({
      tenantId: input.tenantId,
      inboxId: input.inboxId,
      channelType: input.channelType,
      contactId,
      status: input.status ?? 'open',
      subject: input.subject ?? null,
      externalThreadId: input.externalThreadId ?? null,
    });
    const row = (await insertConversations(trx, [{ row: conversation, actor: input.actor }]))[0]!;
    // A new conversation has no last message: its DTO needs only its contact.
    const dto = contact ? toConversationDto(row, contact, null) : await loadConversationDto(trx, input.tenantId, row);
    outbox.emit({ conversationId: row.id, audience: 'agents', type: 'conversation.created', payload: dto });
    if (row.status === 'open' && !input.routeWithFirstMessage) await deps.routing.arriveInTx(trx, outbox, input.tenantId, row.id);
    return dto;
  });
}
