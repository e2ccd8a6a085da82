import { Readable } from 'node:stream';
import { sql, type Transaction } from 'kysely';
import type { ChannelType, Database, InboxRow, SenderType } from '../db/schema.ts';
import { bindBatch, transact, type Outbox } from '../realtime/transact.ts';
import type { Deps } from '../deps.ts';
import { newId } from '../ids.ts';
import { sanitizeFilename } from '../attachments/attachment-policy.ts';
import { insertConversationsSql, newConversationRow, openConversationsInTx } from '../conversations/open-conversation.ts';
import { sendAhead } from '../db/prepared-client.ts';
import { MAX_MESSAGE_LENGTH, conversationsAfter, postMessageInTx, isUniqueViolation, storeInboundTexts, type PostMessageResult } from '../conversations/post-message.ts';
import { recordConversationEvent } from '../conversations/conversations.repository.ts';
import { insertContactsSql, newContactRow } from '../contacts/contacts.repository.ts';
import { storableStrings } from '../conversations/storable-text.ts';
import type { InboundAttachment, InboundMessage } from './channel.ts';
import { splitAddress } from './email/settings.ts';
import { adapterFor } from './adapters.ts';
import { applyDeliveryReport } from './outbound.ts';
import { applyInboundCompliance, inboundComplianceOf } from '../compliance/inbound-compliance.ts';

export type IngestDeps = Pick<Deps, 'db' | 'committer' | 'routing' | 'storage' | 'log' | 'config'>;

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
 * attachments stored, then the message with the provider's id, so a provider (or our own
 * retry after a crash) sending the same message again stores it once.
 *
 * Auto-replies and bounces are kept but are never work: they go in as private system notes
 * (which neither reopen a resolved conversation nor count as unread), a conversation they
 * start is created resolved, and a conversation event marks them.
 */
export async function ingestInbound(deps: IngestDeps, inbox: InboxRow, received: InboundMessage): Promise<IngestResult> {
  // Whatever a provider sent (a NUL, half an emoji) is stored, not refused by the database at every retry.
  const message = storableStrings(received);
  const sourceId = `${inbox.channel_type}:${inbox.id}:${message.sourceId}`.slice(0, 1000);
  // The same message arriving twice at once at this server (SMTP and IMAP, a client retrying on
  // a new connection) runs one after the other here, so the second finds the first's message.
  // Across servers the message's unique source id decides, and the loser's transaction rolls back
  // whole (see ingestOnce and ingestTexts), leaving no empty twin conversation.
  let inFlight = inFlightBy.get(deps.committer);
  if (!inFlight) inFlightBy.set(deps.committer, (inFlight = new Map()));
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

/** Per server (its committer): two servers in one process behave as two nodes. */
const inFlightBy = new WeakMap<IngestDeps['committer'], Map<string, Promise<IngestResult>>>();

/** Thrown to roll back a transaction that opened a conversation for a message another node stored meanwhile. */
class StoredElsewhere extends Error {
  constructor(readonly stored: PostMessageResult) {
    super('the message was stored meanwhile by another node');
  }
}

async function ingestOnce(deps: IngestDeps, inbox: InboxRow, message: InboundMessage, sourceId: string): Promise<IngestResult> {
  const tenantId = inbox.tenant_id;
  const channelType = inbox.channel_type;

  const compliance = await inboundComplianceOf(deps.db, inbox, message);
  const plainText = plainTextOf(message);
  if (plainText !== null && compliance.isWork) return deps.committer.runBatched(tenantId, textIngestOf(deps), { inbox, message, sourceId, text: plainText });

  const existing = await deps.db.selectFrom('messages').select(['id', 'conversation_id']).where('tenant_id', '=', tenantId).where('source_id', '=', sourceId).executeTakeFirst();
  if (existing) {
    await recordChannelMessage(deps, inbox, existing.id, existing.conversation_id, message);
    // A redelivery after a crash between the store and the keyword's consent and reply: finish them.
    if (compliance.keyword) await applyInboundCompliance(deps, inbox, { ...(await storedFacts(deps, tenantId, existing.id)), created: false }, message.from.handle, compliance);
    return { messageId: existing.id, conversationId: existing.conversation_id, created: false };
  }

  const automatic = message.autoReply || message.bounce;
  const contactId = await contactForHandle(deps, tenantId, channelType, message.from.handle, message.from.name);
  const found = await findConversation(deps, inbox, message);

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

  // The conversation it opens and the message commit together: never a conversation without its
  // first message (a crash in between, another node storing the message first).
  const post = (trx: Transaction<Database>, outbox: Outbox, conversationId: string) =>
    postMessageInTx(deps, trx, outbox, {
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
  const posted = await transact(deps, tenantId, async (trx, outbox) => {
    if (found) return post(trx, outbox, found);
    const [opened] = await openConversationsInTx(deps, trx, outbox, [
      {
        tenantId,
        inboxId: inbox.id,
        channelType,
        contact: { id: contactId },
        status: automatic || !compliance.isWork ? 'resolved' : 'open',
        subject: message.subject?.slice(0, 500) ?? null,
        externalThreadId: message.threadKeys.at(-1) ?? message.externalId,
        routeWithFirstMessage: true,
        actor: { type: 'contact', id: contactId },
      },
    ]);
    const result = await post(trx, outbox, opened!.id);
    if (!result.created) throw new StoredElsewhere(result);
    return result;
  }).catch((err: unknown) => {
    if (err instanceof StoredElsewhere) return err.stored;
    throw err;
  });
  const conversationId = posted.message.conversation_id;
  await recordChannelMessage(deps, inbox, posted.message.id, posted.message.conversation_id, { ...message, html });
  if (!compliance.isWork) {
    const stored = { messageId: posted.message.id, conversationId: posted.message.conversation_id, contactId, receivedAt: posted.message.created_at, created: posted.created };
    await applyInboundCompliance(deps, inbox, stored, message.from.handle, compliance);
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

/** The text of a customer's plain message (no files, not automatic, not too long): what the batched path takes. */
function plainTextOf(message: InboundMessage): string | null {
  if (message.autoReply || message.bounce || message.attachments.length > 0) return null;
  const text = message.text.replace(/\r\n/g, '\n').trim();
  return text && text.length <= MAX_MESSAGE_LENGTH ? text : null;
}

interface TextIngest {
  inbox: InboxRow;
  message: InboundMessage;
  sourceId: string;
  text: string;
}

/** The batched ingest bound to this server (one function per server, so the committer can batch its calls). */
const textIngestOf = bindBatch(ingestTexts);

/**
 * Customers' plain text messages of one tenant that arrived together, ingested with a few
 * statements for the whole batch: what is stored already, contacts by handle (new ones
 * created), conversations by thread keys (new ones opened), the messages and their channel
 * rows, and routing, all in the one transaction whose commit the webhook answers after. Same
 * outcome, message by message, as the one-by-one path below.
 */
async function ingestTexts(deps: IngestDeps, trx: Transaction<Database>, outbox: Outbox, inputs: TextIngest[]): Promise<IngestResult[]> {
  const tenantId = inputs[0]!.inbox.tenant_id;
  const { stored, contacts: found, conversations: conversationOf } = await lookUp(trx, tenantId, inputs);
  const fresh = inputs.filter((i) => !stored.has(i.sourceId));
  const contacts = await createContacts(trx, tenantId, found, fresh.map((i) => ({ channelType: i.inbox.channel_type, handle: i.message.from.handle, name: i.message.from.name })));
  // A new thread's later messages in this batch join the conversation its first one opens.
  const openedBy = new Map<string, string>();
  const opened: ReturnType<typeof newConversationRow>[] = [];
  for (const input of fresh) {
    const { inbox, message } = input;
    const joined = threadKeysOf(message).map((k) => openedBy.get(`${inbox.id}\u0000${k}`)).find(Boolean);
    if (joined) conversationOf.set(input, joined);
    if (conversationOf.has(input)) continue;
    const row = newConversationRow({
      tenantId,
      inboxId: inbox.id,
      channelType: inbox.channel_type,
      contactId: contacts.get(handleKey(inbox.channel_type, message.from.handle))!,
      status: 'open',
      subject: message.subject?.slice(0, 500) ?? null,
      externalThreadId: message.threadKeys.at(-1) ?? message.externalId,
    });
    opened.push(row);
    conversationOf.set(input, row.id);
    for (const k of [message.externalId, row.external_thread_id]) if (k) openedBy.set(`${inbox.id}\u0000${k}`, row.id);
  }
  // Their rows are not needed: sent ahead of the messages' statement below (the same round trip with pipelining).
  if (opened.length > 0) await sendAhead(trx, insertConversationsSql(opened.map((row) => ({ row, actor: { type: 'contact', id: row.contact_id } }))));

  const posted = fresh.length === 0 ? [] : await storeInboundTexts(
    trx,
    outbox,
    tenantId,
    fresh.map((input) => ({
      tenantId,
      conversationId: conversationOf.get(input)!,
      direction: 'in',
      senderType: 'contact',
      senderId: contacts.get(handleKey(input.inbox.channel_type, input.message.from.handle))!,
      senderName: input.message.from.name,
      content: input.text,
      sourceId: input.sourceId,
    })),
    new Set(opened.map((r) => r.id)),
    // The conversations it opens enter a queue: routing's lock rides behind the messages' statement.
    opened.length > 0 ? () => deps.routing.lockAhead(trx, tenantId) : undefined,
  );
  // Another node stored one of these messages meanwhile (its insert won the unique source id):
  // a conversation opened for it here would stay empty. The committer runs each message of the
  // batch again alone, which finds the stored one.
  const openedIds = new Set(opened.map((r) => r.id));
  if (posted.some((p, i) => !p.created && openedIds.has(conversationOf.get(fresh[i]!)!))) throw new Error('a message of this batch was stored meanwhile by another node');

  const results = new Map<string, IngestResult>();
  for (const [i, input] of fresh.entries()) results.set(input.sourceId, { messageId: posted[i]!.message.id, conversationId: posted[i]!.message.conversation_id, created: posted[i]!.created });
  for (const [sourceId, row] of stored) results.set(sourceId, { messageId: row.id, conversationId: row.conversation_id, created: false });
  outbox.defer(insertChannelMessages(tenantId, inputs.map((i) => channelMessageOf(i.inbox, results.get(i.sourceId)!.messageId, results.get(i.sourceId)!.conversationId, i.message))));
  await deps.routing.customerMessagesInTx(trx, outbox, tenantId, conversationsAfter(posted));
  return inputs.map((i) => results.get(i.sourceId)!);
}

const handleKey = (channelType: ChannelType, handle: string) => `${channelType}\u0000${handle}`;

/**
 * What a batch needs to know before it writes, in one round trip: messages stored already (by
 * provider id), contacts by handle, and each message's conversation as findConversation finds
 * it (references to our messages first, then thread roots, then a conversation token).
 *
 * One statement text for every batch size (lists travel as JSON), so it is prepared once. Each
 * key is looked up on its own (LATERAL … LIMIT), an index probe per key: as a join, the planner
 * read the tenant's every row whenever it sized the tenant small (a generic plan). Which index a
 * probe takes still rests on statistics: tables never analyzed yet (a new database's first
 * minute under load) can get a tenant-wide one until autovacuum has analyzed them.
 */
async function lookUp(trx: Transaction<Database>, tenantId: string, inputs: TextIngest[]) {
  const handles = inputs.map((i) => ({ channel_type: i.inbox.channel_type, handle: i.message.from.handle }));
  const keys = inputs.flatMap((input, i) => threadKeysOf(input.message).map((key) => ({ i, inbox_id: input.inbox.id, key })));
  const tokens = inputs.flatMap((input, i) => tokensOf(input.message).map((token, n) => ({ i, n, inbox_id: input.inbox.id, token })));
  const { rows } = await sql<{ stored: [string, string, string][]; contacts: [ChannelType, string, string][]; conversations: [number, string][] }>`
    WITH k AS (SELECT * FROM jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) AS k(i int, inbox_id text, key text)),
         t AS (SELECT * FROM jsonb_to_recordset(${JSON.stringify(tokens)}::jsonb) AS t(i int, n int, inbox_id text, token text)),
         h AS (SELECT DISTINCT * FROM jsonb_to_recordset(${JSON.stringify(handles)}::jsonb) AS h(channel_type text, handle text)),
         s AS (SELECT DISTINCT unnest(${inputs.map((i) => i.sourceId)}::text[]) AS source_id)
    SELECT
      (SELECT coalesce(jsonb_agg(jsonb_build_array(s.source_id, m.id, m.conversation_id)), '[]') FROM s
        CROSS JOIN LATERAL (SELECT m.id, m.conversation_id FROM messages m WHERE m.tenant_id = ${tenantId} AND m.source_id = s.source_id LIMIT 1) m) AS stored,
      (SELECT coalesce(jsonb_agg(jsonb_build_array(h.channel_type, h.handle, ch.contact_id)), '[]') FROM h
        CROSS JOIN LATERAL (SELECT ch.contact_id FROM contact_handles ch
          WHERE ch.tenant_id = ${tenantId} AND ch.channel_type = h.channel_type AND ch.handle = h.handle LIMIT 1) ch) AS contacts,
      (SELECT coalesce(jsonb_agg(jsonb_build_array(f.i, f.conversation_id)), '[]') FROM (
        SELECT DISTINCT ON (m.i) m.i, m.conversation_id FROM (
          SELECT k.i, 0 AS rank, cm.conversation_id, cm.created_at FROM k
            CROSS JOIN LATERAL (SELECT cm.conversation_id, cm.created_at FROM channel_messages cm
              WHERE cm.tenant_id = ${tenantId} AND cm.inbox_id = k.inbox_id AND cm.external_id = k.key ORDER BY cm.created_at DESC LIMIT 1) cm
          UNION ALL
          SELECT k.i, 1, c.id, c.created_at FROM k
            CROSS JOIN LATERAL (SELECT c.id, c.created_at FROM conversations c
              WHERE c.tenant_id = ${tenantId} AND c.inbox_id = k.inbox_id AND c.external_thread_id = k.key ORDER BY c.created_at DESC LIMIT 1) c
          UNION ALL
          SELECT t.i, 2 + t.n, c.id, c.created_at FROM t
            -- By primary key alone (no other index to mistake for it), then checked.
            CROSS JOIN LATERAL (SELECT c.id, c.created_at, c.tenant_id, c.inbox_id FROM conversations c WHERE c.id = t.token LIMIT 1) c
            WHERE c.tenant_id = ${tenantId} AND c.inbox_id = t.inbox_id
        ) m ORDER BY m.i, m.rank, m.created_at DESC) f) AS conversations`.execute(trx);
  const row = rows[0]!;
  return {
    stored: new Map(row.stored.map(([sourceId, id, conversationId]) => [sourceId, { id, conversation_id: conversationId }])),
    contacts: new Map(row.contacts.map(([channelType, handle, contactId]) => [handleKey(channelType, handle), contactId])),
    conversations: new Map(row.conversations.map(([i, conversationId]) => [inputs[i]!, conversationId])),
  };
}

/** The batch's contacts (handle key → contact id): those found, and new ones created with their handle. */
async function createContacts(trx: Transaction<Database>, tenantId: string, found: Map<string, string>, wanted: { channelType: ChannelType; handle: string; name: string | null }[]): Promise<Map<string, string>> {
  const missing = [...new Map(wanted.filter((w) => !found.has(handleKey(w.channelType, w.handle))).map((w) => [handleKey(w.channelType, w.handle), w])).values()];
  if (missing.length === 0) return found;
  const created = missing.map((w) => ({ ...w, id: newId('ctc') }));
  // One statement text for any number of new senders (they travel as JSON), so it is prepared once.
  const { rows: claimed } = await sql`
    WITH created AS (${insertContactsSql(created.map((w) => contactOfHandle(tenantId, w.id, w.channelType, w.handle, w.name)))})
    INSERT INTO contact_handles (tenant_id, contact_id, channel_type, handle)
    SELECT ${tenantId}, v.id, v."channelType", v.handle FROM jsonb_to_recordset(${JSON.stringify(created)}::jsonb) AS v(id text, "channelType" text, handle text)
    ON CONFLICT DO NOTHING
    RETURNING contact_id`.execute(trx);
  // Another node created one of them meanwhile: the committer runs each message of the batch again alone, which finds it.
  if (claimed.length !== created.length) throw new Error('a contact of this batch was created concurrently');
  return new Map([...found, ...created.map((w) => [handleKey(w.channelType, w.handle), w.id] as const)]);
}

/** The keys another message of the thread is found by: its references and its own provider id. */
function threadKeysOf(message: InboundMessage): string[] {
  return [...message.threadKeys, ...(message.externalId ? [message.externalId] : [])];
}

/** A conversation token in the address (`support+token@…`), then in the subject (`[#token]`). */
function tokensOf(message: InboundMessage): string[] {
  const addressToken = message.to ? splitAddress(message.to).token : null;
  const subjectToken = /\[#([A-Za-z0-9_-]{4,100})\]/.exec(message.subject ?? '')?.[1] ?? null;
  return [addressToken, subjectToken].filter((t): t is string => Boolean(t));
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
      await insertContactsSql([contactOfHandle(tenantId, id, channelType, handle, name)]).execute(trx);
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

/** A new contact known by a channel handle: an email address is its email, a phone channel's handle its phone. */
function contactOfHandle(tenantId: string, id: string, channelType: ChannelType, handle: string, name: string | null) {
  return newContactRow(tenantId, { id, name: name?.trim().slice(0, 200) || null, email: channelType === 'email' ? handle : null, phone: phoneOf(channelType, handle) });
}

/** The number a phone channel's handle is (SMS: E.164; WhatsApp: its digits), so agents see who wrote. */
function phoneOf(channelType: ChannelType, handle: string): string | null {
  if (channelType === 'sms') return /^\+?[0-9]{5,15}$/.test(handle) ? handle : null;
  if (channelType === 'whatsapp') return /^[0-9]{5,15}$/.test(handle) ? `+${handle}` : null;
  return null;
}

/** References/In-Reply-To first (our stored messages, then thread roots), then a token in the address or subject. */
async function findConversation(deps: IngestDeps, inbox: InboxRow, message: InboundMessage): Promise<string | null> {
  const keys = threadKeysOf(message);
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
  for (const token of tokensOf(message)) {
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
  await insertChannelMessages(inbox.tenant_id, [channelMessageOf(inbox, messageId, conversationId, message)]).execute(deps.db);
}

type ChannelMessage = ReturnType<typeof channelMessageOf>;

function channelMessageOf(inbox: InboxRow, messageId: string, conversationId: string, message: InboundMessage) {
  return {
    message_id: messageId,
    inbox_id: inbox.id,
    conversation_id: conversationId,
    channel_type: inbox.channel_type,
    external_id: message.externalId,
    thread_keys: message.threadKeys,
    from_handle: message.from.handle,
    to_address: message.to,
    subject: message.subject?.slice(0, 1000) ?? null,
    html: message.html,
    details: { ...message.details, autoReply: message.autoReply, bounce: message.bounce },
  };
}

/** The channel rows of a tenant's inbound messages (a message's row is written once): one statement text for any number of rows, so it is prepared once. */
function insertChannelMessages(tenantId: string, rows: ChannelMessage[]) {
  return sql`INSERT INTO channel_messages (message_id, tenant_id, inbox_id, conversation_id, channel_type, direction, external_id, thread_keys, from_handle, to_address, subject, html, details)
    SELECT v.message_id, ${tenantId}, v.inbox_id, v.conversation_id, v.channel_type, 'in', v.external_id, v.thread_keys, v.from_handle, v.to_address, v.subject, v.html, v.details
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS v(message_id text, inbox_id text, conversation_id text, channel_type text, external_id text,
      thread_keys jsonb, from_handle text, to_address text, subject text, html text, details jsonb)
    ON CONFLICT (message_id) DO NOTHING`;
}
