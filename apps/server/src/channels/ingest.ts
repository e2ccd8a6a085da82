import { Readable } from 'node:stream';
import { sql } from 'kysely';
import type { ChannelType, InboxRow, SenderType } from '../db/schema.ts';
import type { Deps } from '../deps.ts';
import { newId } from '../ids.ts';
import { sanitizeFilename } from '../attachments/attachment-policy.ts';
import { openConversation } from '../conversations/open-conversation.ts';
import { MAX_MESSAGE_LENGTH, postMessage, isUniqueViolation } from '../conversations/post-message.ts';
import { recordConversationEvent } from '../conversations/conversations.repository.ts';
import type { InboundAttachment, InboundMessage } from './channel.ts';
import { splitAddress } from './email/settings.ts';
import { adapterFor } from './adapters.ts';
import { applyDeliveryReport } from './outbound.ts';
import { applyInboundCompliance, inboundComplianceOf } from '../compliance/inbound-compliance.ts';

export type IngestDeps = Pick<Deps, 'db' | 'committer' | 'routing' | 'storage' | 'log'>;

export interface IngestResult {
  messageId: string;
  conversationId: string;
  /** false: the provider sent this message before and it is stored already. */
  created: boolean;
}

/**
 * The inbox a channel address belongs to, across tenants (an address is unique per channel):
 * `support+token@example.com` belongs to the inbox of `support@example.com`.
 */
export async function findInboxByAddress(db: Deps['db'], channelType: ChannelType, address: string): Promise<InboxRow | null> {
  const { address: base } = splitAddress(address);
  const row = await db
    .selectFrom('inboxes')
    .selectAll()
    .where('channel_type', '=', channelType)
    .where(sql<string>`lower(settings->${sql.lit(channelType)}->>'address')`, '=', base)
    .executeTakeFirst();
  return row ?? null;
}

/**
 * The shared inbound path of every channel: contact by handle, conversation by thread keys,
 * attachments stored, then postMessage with the provider's id, so a provider (or our own
 * retry after a crash) sending the same message again stores it once.
 *
 * Auto-replies and bounces are kept but are never work: they go in as private system notes
 * (which neither reopen a resolved conversation nor count as unread), a conversation they
 * start is created resolved, and a conversation event marks them.
 */
export async function ingestInbound(deps: IngestDeps, inbox: InboxRow, message: InboundMessage): Promise<IngestResult> {
  const sourceId = `${inbox.channel_type}:${inbox.id}:${message.sourceId}`.slice(0, 1000);
  // The same message arriving twice at once (SMTP and IMAP, a client retrying on a new
  // connection) runs one after the other here, so the second finds the first's message and
  // conversation instead of opening an empty twin. postMessage's unique source id covers nodes.
  const key = `${inbox.tenant_id}\u0000${sourceId}`;
  const previous = inFlight.get(key);
  const run = (previous ?? Promise.resolve()).catch(() => undefined).then(() => ingestOnce(deps, inbox, message, sourceId));
  inFlight.set(key, run);
  try {
    return await run;
  } finally {
    if (inFlight.get(key) === run) inFlight.delete(key);
  }
}

const inFlight = new Map<string, Promise<IngestResult>>();

async function ingestOnce(deps: IngestDeps, inbox: InboxRow, message: InboundMessage, sourceId: string): Promise<IngestResult> {
  const tenantId = inbox.tenant_id;
  const channelType = inbox.channel_type;

  const existing = await deps.db.selectFrom('messages').select(['id', 'conversation_id']).where('tenant_id', '=', tenantId).where('source_id', '=', sourceId).executeTakeFirst();
  const compliance = await inboundComplianceOf(deps.db, inbox, message);
  if (existing) {
    await recordChannelMessage(deps, inbox, existing.id, existing.conversation_id, message);
    // A redelivery after a crash between the store and the keyword's consent and reply: finish them.
    if (compliance.keyword) await applyInboundCompliance(deps, inbox, { ...(await storedFacts(deps, tenantId, existing.id)), created: false }, message.from.handle, compliance);
    return { messageId: existing.id, conversationId: existing.conversation_id, created: false };
  }

  const automatic = message.autoReply || message.bounce;
  const contactId = await contactForHandle(deps, tenantId, channelType, message.from.handle, message.from.name);
  const token = message.to ? splitAddress(message.to).token : null;
  let conversationId = await findConversation(deps, inbox, message, token);
  if (!conversationId) {
    const opened = await openConversation(deps, {
      tenantId,
      inboxId: inbox.id,
      channelType,
      contact: { id: contactId },
      status: automatic || !compliance.isWork ? 'resolved' : 'open',
      subject: message.subject?.slice(0, 500) ?? null,
      externalThreadId: message.threadKeys.at(-1) ?? message.externalId,
      routeWithFirstMessage: true,
      actor: { type: 'contact', id: contactId },
    });
    conversationId = opened.id;
  }

  const senderType: SenderType = automatic ? 'system' : 'contact';
  let text = message.text.replace(/\r\n/g, '\n').trim();
  const attachments = [...message.attachments];
  if (text.length > MAX_MESSAGE_LENGTH) {
    // The message shows its beginning; the whole text travels with it as a file.
    attachments.push({ filename: 'message.txt', contentType: 'text/plain', content: Buffer.from(text) });
    text = `${text.slice(0, MAX_MESSAGE_LENGTH - 200)}\n\n[… the full text is attached as message.txt]`;
  }
  if (!text) text = message.subject?.trim().slice(0, 1000) || (attachments.length > 0 ? '' : '(empty message)');
  const stored = await storeAttachments(deps, tenantId, senderType, attachments);
  const html = message.html ? pointCidImages(message.html, stored) : null;

  const posted = await postMessage(deps, {
    tenantId,
    conversationId,
    direction: automatic ? 'out' : 'in',
    private: automatic,
    senderType,
    senderId: automatic ? null : contactId,
    senderName: automatic ? `${message.bounce ? 'Bounce' : 'Auto-reply'} from ${message.from.handle}` : message.from.name,
    content: automatic ? `${message.bounce ? 'Delivery failure report' : 'Automatic reply'}: ${message.subject ?? ''}\n\n${text}`.slice(0, MAX_MESSAGE_LENGTH) : text,
    attachmentIds: stored.map((s) => s.id),
    sourceId,
    reopens: compliance.isWork,
  });
  await recordChannelMessage(deps, inbox, posted.message.id, posted.message.conversation_id, { ...message, html });
  if (!compliance.isWork) {
    const stored = { messageId: posted.message.id, conversationId: posted.message.conversation_id, contactId, receivedAt: posted.message.created_at, created: posted.created };
    await applyInboundCompliance(deps, inbox, stored, message.from.handle, compliance);
  } else if (posted.created && !automatic) {
    // A customer writing in a conversation that was resolved (or opened resolved by a proactive send) is work again.
    await deps.routing.customerMessage(tenantId, posted.message.conversation_id).catch((err: unknown) => deps.log.error({ err }, 'routing: customer message failed'));
  }
  if (message.bounce) {
    // The bounce names the message it returns: that send failed after all.
    const status = adapterFor(channelType)?.mapStatus('bounced') ?? 'failed';
    const reason = `bounced: ${text.split('\n').find((l) => l.trim())?.trim().slice(0, 300) ?? message.subject ?? 'delivery failed'}`;
    await applyDeliveryReport(deps, tenantId, inbox.id, { providerIds: message.threadKeys, status, reason });
  }
  if (posted.created && automatic) {
    await recordConversationEvent(deps.db, {
      tenantId,
      conversationId,
      type: message.bounce ? `${channelType}.bounce` : `${channelType}.auto_reply`,
      actorType: 'system',
      actorId: null,
      data: { messageId: posted.message.id, from: message.from.handle },
    });
  }
  return { messageId: posted.message.id, conversationId: posted.message.conversation_id, created: posted.created };
}

/** The stored message's conversation, sender and time, for finishing a redelivered keyword. */
async function storedFacts(deps: IngestDeps, tenantId: string, messageId: string) {
  const row = await deps.db.selectFrom('messages').select(['conversation_id', 'sender_id', 'created_at']).where('tenant_id', '=', tenantId).where('id', '=', messageId).executeTakeFirstOrThrow();
  return { messageId, conversationId: row.conversation_id, contactId: row.sender_id ?? '', receivedAt: row.created_at };
}

/** The contact reached at this handle on this channel; a new one (with its handle) when nobody is. */
export async function contactForHandle(deps: Pick<IngestDeps, 'db'>, tenantId: string, channelType: ChannelType, handle: string, name: string | null): Promise<string> {
  const find = () =>
    deps.db.selectFrom('contact_handles').select('contact_id').where('tenant_id', '=', tenantId).where('channel_type', '=', channelType).where('handle', '=', handle).executeTakeFirst();
  const found = await find();
  if (found) return found.contact_id;
  try {
    return await deps.db.transaction().execute(async (trx) => {
      const id = newId('ctc');
      await trx
        .insertInto('contacts')
        .values({ id, tenant_id: tenantId, name: name?.trim().slice(0, 200) || null, email: channelType === 'email' ? handle : null, phone: phoneOf(channelType, handle), identifier: null, verified: false, custom_attributes: '{}' })
        .execute();
      await trx.insertInto('contact_handles').values({ tenant_id: tenantId, contact_id: id, channel_type: channelType, handle }).execute();
      return id;
    });
  } catch (err) {
    // Two messages of a new sender at once: the other one created the contact.
    if (!isUniqueViolation(err)) throw err;
    const again = await find();
    if (!again) throw err;
    return again.contact_id;
  }
}

/** The number a phone channel's handle is (SMS: E.164; WhatsApp: its digits), so agents see who wrote. */
function phoneOf(channelType: ChannelType, handle: string): string | null {
  if (channelType === 'sms') return /^\+?[0-9]{5,15}$/.test(handle) ? handle : null;
  if (channelType === 'whatsapp') return /^[0-9]{5,15}$/.test(handle) ? `+${handle}` : null;
  return null;
}

/** References/In-Reply-To first (our stored messages, then thread roots), then a token in the address or subject. */
async function findConversation(deps: IngestDeps, inbox: InboxRow, message: InboundMessage, addressToken: string | null): Promise<string | null> {
  const keys = [...message.threadKeys, ...(message.externalId ? [message.externalId] : [])];
  if (keys.length > 0) {
    const byMessage = await deps.db
      .selectFrom('channel_messages')
      .select('conversation_id')
      .where('tenant_id', '=', inbox.tenant_id)
      .where('inbox_id', '=', inbox.id)
      .where('external_id', 'in', keys)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    if (byMessage) return byMessage.conversation_id;
    const byRoot = await deps.db
      .selectFrom('conversations')
      .select('id')
      .where('tenant_id', '=', inbox.tenant_id)
      .where('inbox_id', '=', inbox.id)
      .where('external_thread_id', 'in', keys)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    if (byRoot) return byRoot.id;
  }
  const subjectToken = /\[#([A-Za-z0-9_-]{4,100})\]/.exec(message.subject ?? '')?.[1] ?? null;
  for (const token of [addressToken, subjectToken]) {
    if (!token) continue;
    const row = await deps.db.selectFrom('conversations').select('id').where('tenant_id', '=', inbox.tenant_id).where('inbox_id', '=', inbox.id).where('id', '=', token).executeTakeFirst();
    if (row) return row.id;
  }
  return null;
}

interface StoredAttachment {
  id: string;
  contentId?: string;
}

/** Each part as an attachments row of the tenant, unclaimed until postMessage takes it. */
async function storeAttachments(deps: IngestDeps, tenantId: string, uploaderType: SenderType, parts: InboundAttachment[]): Promise<StoredAttachment[]> {
  const out: StoredAttachment[] = [];
  for (const part of parts) {
    const id = newId('att');
    const stored = await deps.storage.put(tenantId, id, Readable.from([part.content]));
    await deps.db
      .insertInto('attachments')
      .values({
        id,
        tenant_id: tenantId,
        conversation_id: null,
        uploader_type: uploaderType,
        uploader_id: null,
        filename: sanitizeFilename(part.filename),
        content_type: part.contentType.slice(0, 200),
        size: stored.size,
        storage_key: stored.key,
      })
      .execute();
    out.push({ id, ...(part.contentId ? { contentId: part.contentId } : {}) });
  }
  return out;
}

/** `cid:` images → the stored attachment, served by Parley to signed-in agents. */
function pointCidImages(html: string, stored: StoredAttachment[]): string {
  const byCid = new Map(stored.filter((s) => s.contentId).map((s) => [s.contentId!.toLowerCase(), s.id]));
  return html.replace(/src="cid:([^"]+)"/gi, (whole, cid: string) => {
    const id = byCid.get(decodeEntities(cid).replace(/^<|>$/g, '').toLowerCase());
    return id ? `src="/api/v1/attachments/${id}"` : 'src=""';
  });
}

function decodeEntities(s: string): string {
  return s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"');
}

async function recordChannelMessage(deps: IngestDeps, inbox: InboxRow, messageId: string, conversationId: string, message: InboundMessage): Promise<void> {
  await deps.db
    .insertInto('channel_messages')
    .values({
      message_id: messageId,
      tenant_id: inbox.tenant_id,
      inbox_id: inbox.id,
      conversation_id: conversationId,
      channel_type: inbox.channel_type,
      direction: 'in',
      external_id: message.externalId,
      thread_keys: JSON.stringify(message.threadKeys),
      from_handle: message.from.handle,
      to_address: message.to,
      subject: message.subject?.slice(0, 1000) ?? null,
      html: message.html,
      details: JSON.stringify({ ...message.details, autoReply: message.autoReply, bounce: message.bounce }),
    })
    .onConflict((oc) => oc.column('message_id').doNothing())
    .execute();
}
