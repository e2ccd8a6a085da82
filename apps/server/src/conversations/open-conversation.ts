import type { ChannelType, ConversationStatus } from '../db/schema.ts';
import type { Deps } from '../deps.ts';
import { newId } from '../ids.ts';
import { transact } from '../realtime/transact.ts';
import { resolveContact, type ContactInput } from '../contacts/contacts.repository.ts';
import { loadConversationDto } from './conversations.repository.ts';
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
  actor: { type: 'contact' | 'user' | 'system'; id: string | null };
}

/** Starts a conversation (and its contact when new); its first message is posted separately. */
export async function openConversation(deps: Pick<Deps, 'db' | 'committer' | 'routing'>, input: OpenConversationInput) {
  return transact(deps, input.tenantId, async (trx, outbox) => {
    const contact = 'id' in input.contact ? null : await resolveContact(trx, input.tenantId, input.contact);
    const contactId = contact?.id ?? (input.contact as { id: string }).id;
    const id = newId('cnv');
    const created = { tenant_id: input.tenantId, conversation_id: id, type: 'created', actor_type: input.actor.type, actor_id: input.actor.id, data: JSON.stringify({ inboxId: input.inboxId, channelType: input.channelType }) };
    const row = await trx
      // The row and its `created` history event in one round trip.
      .with('created', (db) => db.insertInto('conversation_events').values(created))
      .insertInto('conversations')
      .values({
        id,
        tenant_id: input.tenantId,
        inbox_id: input.inboxId,
        contact_id: contactId,
        channel_type: input.channelType,
        status: input.status ?? 'open',
        assignee_id: null,
        queue_id: null,
        priority: 0,
        labels: '[]',
        custom_attributes: '{}',
        subject: input.subject ?? null,
        external_thread_id: input.externalThreadId ?? null,
        snoozed_until: null,
        unread_count: 0,
        last_message_id: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    // A new conversation has no last message: its DTO needs only its contact.
    const dto = contact ? toConversationDto(row, contact, null) : await loadConversationDto(trx, input.tenantId, row);
    outbox.emit({ conversationId: row.id, audience: 'agents', type: 'conversation.created', payload: dto });
    if (row.status === 'open' && !input.routeWithFirstMessage) await deps.routing.arriveInTx(trx, outbox, input.tenantId, row.id);
    return dto;
  });
}
