import { sql, type Transaction } from 'kysely';
import type { ConversationRow, Database, MessageRow, MessageStatus } from '../db/schema.ts';
import type { Deps } from '../deps.ts';
import { enqueueJob, PermanentJobError, RetryJobAt, type JobHandler } from '../jobs/job-queue.ts';
import { gateSend } from '../compliance/gate-send.ts';
import { transact } from '../realtime/transact.ts';
import { toMessageDto } from '../conversations/conversation-dto.ts';
import { storableStrings, storableText } from '../conversations/storable-text.ts';
import { adapterFor } from './adapters.ts';
import type { ChannelAdapter, OutboundMessage } from './channel.ts';

export const CHANNEL_SEND_JOB = 'channel.send';

/**
 * Called by postMessage inside its transaction, right after the message insert: an agent's
 * public reply in a conversation of a channel with a provider side is queued for sending in
 * the same transaction, so a reply is never stored without its send or sent without being
 * stored. The message leaves postMessage as 'queued' (the row and the object it emits).
 */
export async function enqueueOutbound(trx: Transaction<Database>, message: MessageRow, conversation: ConversationRow, template?: OutboundMessage['template']): Promise<void> {
  if (message.direction !== 'out' || message.private || !adapterFor(conversation.channel_type)) return;
  await trx.updateTable('messages').set({ status: 'queued' }).where('tenant_id', '=', message.tenant_id).where('id', '=', message.id).execute();
  message.status = 'queued';
  await enqueueJob(trx, { tenantId: message.tenant_id, kind: CHANNEL_SEND_JOB, payload: { messageId: message.id, ...(template ? { template } : {}) } });
}

export interface SendJobOptions {
  /** Adapters by channel type; defaults to the registry (tests pass one with a fake transport). */
  adapterFor?: typeof adapterFor;
}

/**
 * The durable job that sends one queued message through its channel's adapter. A definitive
 * refusal (SMTP 5yz, no relay configured) marks the message failed at once; a temporary one
 * is retried with the queue's backoff, and marks the message failed when the attempts run out.
 * The failure reason is kept on the message (`error`) and agents hear of it by `message.updated`.
 */
export function sendOutboundJob(deps: Pick<Deps, 'db' | 'committer' | 'storage' | 'log' | 'config'>, options: SendJobOptions = {}): JobHandler {
  const lookup = options.adapterFor ?? adapterFor;
  return async (job) => {
    const tenantId = job.tenantId!;
    const messageId = String(job.payload.messageId);
    const message = await deps.db.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId).where('id', '=', messageId).executeTakeFirst();
    if (!message || message.status !== 'queued') return; // deleted, or sent by an earlier attempt
    const conversation = await deps.db.selectFrom('conversations').selectAll().where('tenant_id', '=', tenantId).where('id', '=', message.conversation_id).executeTakeFirstOrThrow();
    const inbox = await deps.db.selectFrom('inboxes').selectAll().where('tenant_id', '=', tenantId).where('id', '=', conversation.inbox_id).executeTakeFirstOrThrow();
    const adapter = lookup(conversation.channel_type);
    const settings = adapter?.settingsOf(inbox.settings) ?? null;
    if (!adapter || !settings) {
      await finish(deps, message, 'failed', 'the inbox cannot send on this channel');
      return;
    }
    const outbound = await buildOutbound(deps, message, conversation);
    // A template message (WhatsApp outside the window) carries its template in the job.
    if (outbound && job.payload.template) outbound.template = job.payload.template as OutboundMessage['template'];
    if (!outbound) {
      await finish(deps, message, 'failed', 'the contact has no address on this channel');
      return;
    }
    if (deps.config.publicUrl) outbound.webhookTarget = { publicUrl: deps.config.publicUrl, inboxPublicId: inbox.public_id };
    const gate = await gateSend(deps.db, message, conversation, inbox);
    if ('fail' in gate) {
      await finish(deps, message, 'failed', gate.fail);
      return;
    }
    if ('retryAt' in gate) throw new RetryJobAt(gate.retryAt);
    const result = await (adapter as ChannelAdapter<unknown>).send(settings, outbound, deps.config.privateTargets);
    if (result.ok) {
      await deps.db
        .insertInto('channel_messages')
        .values({
          message_id: message.id,
          tenant_id: tenantId,
          inbox_id: inbox.id,
          conversation_id: conversation.id,
          channel_type: conversation.channel_type,
          direction: 'out',
          external_id: result.providerId,
          thread_keys: JSON.stringify(outbound.replyTo ? [...(outbound.replyTo.externalId ? [outbound.replyTo.externalId] : []), ...outbound.replyTo.threadKeys] : []),
          from_handle: null,
          to_address: outbound.to.handle,
          subject: outbound.subject,
          html: null,
          details: JSON.stringify(outbound.template ? { template: outbound.template } : {}),
        })
        .onConflict((oc) => oc.column('message_id').doNothing())
        .execute();
      // Only from queued: a delivery report may have moved it on already.
      await finish(deps, message, 'sent', null, ['queued']);
      await applyEarlyReports(deps, tenantId, inbox.id, result.providerId);
      return;
    }
    if (!result.retryable || job.attempts >= job.maxAttempts) {
      await finish(deps, message, 'failed', result.error);
      throw new PermanentJobError(result.error);
    }
    await deps.db.updateTable('messages').set({ error: result.error }).where('tenant_id', '=', tenantId).where('id', '=', message.id).execute();
    throw new Error(result.error);
  };
}

/** What the adapter needs: the contact's handle, the customer's last message to thread on and quote. */
async function buildOutbound(deps: Pick<Deps, 'db' | 'storage'>, message: MessageRow, conversation: ConversationRow): Promise<OutboundMessage | null> {
  const tenantId = message.tenant_id;
  const parent = await deps.db
    .selectFrom('channel_messages as cm')
    .innerJoin('messages as m', 'm.id', 'cm.message_id')
    .select(['cm.external_id', 'cm.thread_keys', 'cm.from_handle', 'cm.subject', 'm.content', 'm.created_at', 'm.sender_name'])
    .where('cm.tenant_id', '=', tenantId)
    .where('cm.conversation_id', '=', conversation.id)
    .where('cm.direction', '=', 'in')
    .where('m.private', '=', false)
    .where('m.created_at', '<=', message.created_at)
    .orderBy('m.created_at', 'desc')
    .executeTakeFirst();
  const contact = await deps.db.selectFrom('contacts').select(['name']).where('tenant_id', '=', tenantId).where('id', '=', conversation.contact_id).executeTakeFirstOrThrow();
  const handle = await recipientHandleOf(deps.db, conversation, parent?.from_handle);
  if (!handle) return null;
  const files = message.attachments.length
    ? await deps.db.selectFrom('attachments').select(['id', 'filename', 'content_type', 'storage_key']).where('tenant_id', '=', tenantId).where('id', 'in', message.attachments.map((a) => a.id)).execute()
    : [];
  return {
    messageId: message.id,
    conversationId: conversation.id,
    to: { handle, name: contact.name },
    subject: parent?.subject ?? conversation.subject,
    text: message.content,
    attachments: files.map((f) => ({ filename: f.filename, contentType: f.content_type, open: () => deps.storage.open(f.storage_key) })),
    replyTo: parent
      ? { externalId: parent.external_id, threadKeys: parent.thread_keys, from: parent.sender_name ? `${parent.sender_name} <${parent.from_handle}>` : parent.from_handle, text: parent.content, sentAt: parent.created_at }
      : null,
  };
}

/**
 * Where a reply in this conversation goes: the handle the customer last wrote from (given by
 * the caller, who has read that message already), else the contact's handle on the channel.
 */
export async function recipientHandleOf(db: Deps['db'] | Transaction<Database>, conversation: ConversationRow, lastInboundFrom: string | null | undefined): Promise<string | null> {
  if (lastInboundFrom) return lastInboundFrom;
  const tenantId = conversation.tenant_id;
  const handle = await db.selectFrom('contact_handles').select('handle').where('tenant_id', '=', tenantId).where('contact_id', '=', conversation.contact_id).where('channel_type', '=', conversation.channel_type).executeTakeFirst();
  if (handle) return handle.handle;
  if (conversation.channel_type !== 'email') return null;
  const contact = await db.selectFrom('contacts').select('email').where('tenant_id', '=', tenantId).where('id', '=', conversation.contact_id).executeTakeFirst();
  return contact?.email ?? null;
}

/**
 * The statuses a sent message may move on from to each status: delivery reports only move a
 * message forward (sent → delivered → read, or → failed), so a late or repeated report (a
 * 'sent' arriving after 'delivered') changes nothing.
 */
// 'queued' too: a report can land between the send job recording the provider id and marking the message sent.
const REPORTABLE_FROM: Partial<Record<MessageStatus, MessageStatus[]>> = {
  delivered: ['queued', 'sent'],
  read: ['queued', 'sent', 'delivered'],
  failed: ['queued', 'sent', 'delivered'],
};

/**
 * A delivery report about messages Parley sent (a bounce naming their provider ids, an SMS
 * delivery receipt): each one takes the status the report maps to, with the reason, when
 * that moves it forward.
 */
export async function applyDeliveryReport(
  deps: Pick<Deps, 'db' | 'committer'>,
  tenantId: string,
  inboxId: string,
  reported: { providerIds: string[]; status: MessageStatus; reason: string | null },
): Promise<string[]> {
  // A provider's ids and reason are its text (a NUL would be refused by every statement below, at every retry).
  const report = storableStrings(reported);
  const from = REPORTABLE_FROM[report.status];
  if (report.providerIds.length === 0 || !from) return [];
  const rows = await deps.db
    .selectFrom('channel_messages as cm')
    .innerJoin('messages as m', 'm.id', 'cm.message_id')
    .selectAll('m')
    .where('cm.tenant_id', '=', tenantId)
    .where('cm.inbox_id', '=', inboxId)
    .where('cm.direction', '=', 'out')
    .where('cm.external_id', 'in', report.providerIds)
    .where('m.status', 'in', from)
    .execute();
  const moved: string[] = [];
  for (const row of rows) if (await finish(deps, row, report.status, report.reason, from)) moved.push(row.id);
  await keepEarlyReports(deps, tenantId, inboxId, report, from);
  return moved;
}

/** How long a report about a send not yet recorded waits for it. */
const EARLY_REPORT_TTL_MS = 3_600_000;

/**
 * A carrier can report delivery before the provider's answer to the send reached Parley (the
 * send's provider id is recorded only then). Reports naming ids Parley has not recorded as sent
 * wait here, and the send job applies them right after it records the id.
 */
async function keepEarlyReports(deps: Pick<Deps, 'db'>, tenantId: string, inboxId: string, report: { providerIds: string[]; status: MessageStatus; reason: string | null }, from: MessageStatus[]) {
  // The ids travel as one array: one statement text however many a report names (decision 0005).
  const known = await deps.db
    .selectFrom('channel_messages')
    .select('external_id')
    .where('tenant_id', '=', tenantId)
    .where('inbox_id', '=', inboxId)
    .where('direction', '=', 'out')
    .where('external_id', 'in', sql<string>`(SELECT unnest(${report.providerIds}::text[]))`)
    .execute();
  const recorded = new Set(known.map((k) => k.external_id));
  const early = report.providerIds.filter((id) => !recorded.has(id));
  if (early.length === 0 || from.length === 0) return;
  await sql`
    INSERT INTO early_delivery_reports (tenant_id, inbox_id, provider_id, status, reason)
    SELECT ${tenantId}, ${inboxId}, left(id, 500), ${report.status}, ${report.reason} FROM unnest(${early}::text[]) AS id
    ON CONFLICT DO NOTHING`.execute(deps.db);
  // Reports whose send never came (an id that was never ours) do not stay forever; pruned here, off the send path.
  await deps.db.deleteFrom('early_delivery_reports').where('tenant_id', '=', tenantId).where('inbox_id', '=', inboxId).where('received_at', '<', new Date(Date.now() - EARLY_REPORT_TTL_MS)).execute();
}

async function applyEarlyReports(deps: Pick<Deps, 'db' | 'committer'>, tenantId: string, inboxId: string, providerId: string) {
  const reports = await deps.db
    .deleteFrom('early_delivery_reports')
    .where('tenant_id', '=', tenantId)
    .where('inbox_id', '=', inboxId)
    .where('provider_id', '=', providerId)
    .returningAll()
    .execute();
  // Forward only, whatever order they came in (see REPORTABLE_FROM).
  for (const r of reports.sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status))) {
    await applyDeliveryReport(deps, tenantId, inboxId, { providerIds: [providerId], status: r.status, reason: r.reason });
  }
}

const STATUS_ORDER: MessageStatus[] = ['sent', 'delivered', 'read', 'failed'];

/** Sets the message's status and error and tells agents; with `onlyFrom`, only a message still in one of those statuses (two reports racing). */
async function finish(deps: Pick<Deps, 'db' | 'committer'>, message: MessageRow, status: MessageStatus, reason: string | null, onlyFrom?: MessageStatus[]): Promise<boolean> {
  // Often a provider's words (an error body, a report): stored as PostgreSQL can keep them.
  const error = reason === null ? null : storableText(reason);
  return transact(deps, message.tenant_id, async (trx, outbox) => {
    let update = trx.updateTable('messages').set({ status, error }).where('tenant_id', '=', message.tenant_id).where('id', '=', message.id);
    if (onlyFrom) update = update.where('status', 'in', onlyFrom);
    const row = await update.returningAll().executeTakeFirst();
    if (!row) return false;
    outbox.emit({ conversationId: row.conversation_id, audience: row.private ? 'agents' : 'all', type: 'message.updated', payload: { ...toMessageDto(row), error: row.error } });
    return true;
  });
}
