import { findInboxByPublicId } from '../../inboxes/inboxes.repository.ts';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import type { InboxRow } from '../../db/schema.ts';
import { ParleyError } from '../../errors.ts';
import { adapterFor } from '../adapters.ts';
import { recordChannelError } from '../channel-errors.ts';
import { ingestInbound, type IngestDeps } from '../ingest.ts';
import { applyDeliveryReport } from '../outbound.ts';
import { downloadMedia, graphRequest, type DownloadedMedia } from './graph-client.ts';
import type { PrivateTargets } from '../../net/private-targets.ts';
import { parseMetaMessage } from './parse-meta-message.ts';
import { mediaRefsOf, META_CHANNELS, readWebhook, type MetaEntry, type MetaEvent, type MetaInboundItem } from './meta-webhook.ts';
import { metaSettingsOf, type MetaSettings } from './settings.ts';

export interface MetaDelivery {
  rawBody: Buffer;
  /** The `X-Hub-Signature-256` header. */
  signature: string | undefined;
  /** The inbox's own webhook URL names it; the app-level URL does not (the entries do). */
  publicId?: string;
}

export interface MetaDeliveryResult {
  stored: number;
  duplicates: number;
  statuses: number;
  ignored: number;
}

/** `sha256=<hex HMAC-SHA256 of the raw body with the app secret>`, compared in constant time. */
export function signatureValid(rawBody: Buffer, header: string | undefined, appSecret: string | undefined): boolean {
  if (!header || !appSecret || !header.startsWith('sha256=')) return false;
  const given = Buffer.from(header.slice('sha256='.length).trim(), 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * One webhook delivery from Meta: checked (signature with the app secret of every inbox it
 * names, JSON, accounts), then every event applied in order. Each customer message is stored once
 * by its id (wamid, mid), so a redelivered batch stores nothing new; the caller answers 200 only
 * when this returns, after everything is committed. Throws a ParleyError (400/401/404) with
 * nothing stored when the delivery is refused, and a plain error (500, Meta retries) when a media
 * download failed for now.
 */
export async function receiveMetaWebhook(deps: IngestDeps, delivery: MetaDelivery): Promise<MetaDeliveryResult> {
  const { entries, inboxOf } = delivery.publicId ? await checkInboxDelivery(deps, delivery, delivery.publicId) : await checkAppDelivery(deps, delivery);
  const result: MetaDeliveryResult = { stored: 0, duplicates: 0, statuses: 0, ignored: 0 };
  for (const entry of entries) {
    const inbox = inboxOf(entry);
    for (const event of entry.events) await applyEvent(deps, inbox, event, result);
  }
  return result;
}

type Checked = { entries: MetaEntry[]; inboxOf: (entry: MetaEntry) => InboxRow };

function parseBody(rawBody: Buffer): MetaEntry[] {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new ParleyError('PARLEY_ERR_MALFORMED_JSON', 'the body is not valid JSON');
  }
  const read = readWebhook(body);
  if (!read.ok) throw new ParleyError('PARLEY_ERR_BAD_REQUEST', read.error);
  return read.entries;
}

async function refuseSignature(deps: IngestDeps, inboxes: InboxRow[], delivery: MetaDelivery): Promise<never> {
  const why = delivery.signature ? 'X-Hub-Signature-256 does not match the app secret' : 'X-Hub-Signature-256 is missing';
  for (const inbox of inboxes) {
    await recordChannelError(deps.db, { tenantId: inbox.tenant_id, inboxId: inbox.id, kind: 'meta.signature', message: `webhook delivery refused: ${why}` });
  }
  throw new ParleyError('PARLEY_ERR_UNAUTHENTICATED', `webhook delivery refused: ${why}`);
}

/** The inbox's own URL: its app secret signs the body, and every entry must be its account's. */
async function checkInboxDelivery(deps: IngestDeps, delivery: MetaDelivery, publicId: string): Promise<Checked> {
  const inbox = await findMetaInboxByPublicId(deps, publicId);
  if (!inbox) throw new ParleyError('PARLEY_ERR_NOT_FOUND', 'no WhatsApp, Messenger or Instagram inbox at this webhook URL');
  if (!signatureValid(delivery.rawBody, delivery.signature, metaSettingsOf(inbox.settings)?.appSecret)) await refuseSignature(deps, [inbox], delivery);
  const entries = parseBody(delivery.rawBody);
  const accountId = metaSettingsOf(inbox.settings)?.accountId;
  const foreign = entries.find((e) => e.channel !== inbox.channel_type || e.accountId !== accountId);
  if (foreign) throw new ParleyError('PARLEY_ERR_NOT_FOUND', `this inbox is ${inbox.channel_type} account ${accountId}; the delivery is for ${foreign.channel} account ${foreign.accountId}`);
  return { entries, inboxOf: () => inbox };
}

/** The app's one URL: the entries name the accounts; each account's inbox's app secret must verify the body. */
async function checkAppDelivery(deps: IngestDeps, delivery: MetaDelivery): Promise<Checked> {
  const entries = parseBody(delivery.rawBody);
  // Nothing Parley acts on (no entries, only other subscription fields): nothing to authenticate or store.
  if (entries.length === 0) return { entries, inboxOf: () => { throw new Error('no entries'); } };
  const wanted = [...new Set(entries.map((e) => `${e.channel}\u0000${e.accountId}`))].map((k) => k.split('\u0000') as [string, string]);
  const rows = wanted.length
    ? await deps.db
        .selectFrom('inboxes')
        .selectAll()
        .where((eb) => eb.or(wanted.map(([channel, accountId]) => eb.and([eb('channel_type', '=', channel as InboxRow['channel_type']), eb(sql<string>`settings->'meta'->>'accountId'`, '=', accountId)]))))
        .execute()
    : [];
  const byAccount = new Map(rows.map((r) => [`${r.channel_type}\u0000${metaSettingsOf(r.settings)?.accountId}`, r]));
  const unknown = entries.find((e) => !byAccount.has(`${e.channel}\u0000${e.accountId}`));
  if (unknown) throw new ParleyError('PARLEY_ERR_NOT_FOUND', `no inbox for ${unknown.channel} account ${unknown.accountId}`);
  const unsigned = rows.filter((r) => !signatureValid(delivery.rawBody, delivery.signature, metaSettingsOf(r.settings)?.appSecret));
  if (unsigned.length) await refuseSignature(deps, unsigned, delivery);
  return { entries, inboxOf: (e) => byAccount.get(`${e.channel}\u0000${e.accountId}`)! };
}

export async function findMetaInboxByPublicId(deps: Pick<IngestDeps, 'db'>, publicId: string): Promise<InboxRow | null> {
  const inbox = await findInboxByPublicId(deps.db, publicId);
  return inbox && (META_CHANNELS as readonly string[]).includes(inbox.channel_type) ? inbox : null;
}

async function applyEvent(deps: IngestDeps, inbox: InboxRow, event: MetaEvent, result: MetaDeliveryResult): Promise<void> {
  if (event.kind === 'ignored') {
    result.ignored += 1;
    return;
  }
  if (event.kind === 'status') {
    const status = adapterFor(inbox.channel_type)?.mapStatus(event.status) ?? null;
    if (!status) {
      result.ignored += 1;
      return;
    }
    const providerIds = [...event.providerIds, ...(event.upTo ? await sentUpTo(deps, inbox, event.upTo) : [])];
    await applyDeliveryReport(deps, inbox.tenant_id, inbox.id, { providerIds: [...new Set(providerIds)], status, reason: event.reason ?? (status === 'failed' ? 'failed (no reason given)' : null) });
    result.statuses += 1;
    return;
  }
  const settings = metaSettingsOf(inbox.settings);
  const item: MetaInboundItem = { ...event.item };
  const first = parseMetaMessage(item);
  // Media are fetched only for a message not stored yet (a redelivery needs no download).
  if (settings && mediaRefsOf(item).length > 0) {
    const stored = await deps.db.selectFrom('messages').select('id').where('tenant_id', '=', inbox.tenant_id).where('source_id', '=', `${inbox.channel_type}:${inbox.id}:${first.sourceId}`).executeTakeFirst();
    if (!stored) item.media = await fetchMedia(settings, item, deps.config.privateTargets);
  }
  const message = item.media ? parseMetaMessage(item) : first;
  const reaction = message.details.reaction as { messageId?: string | null } | undefined;
  if (reaction?.messageId) {
    // Link the reaction to Parley's copy of the reacted message (either direction).
    const target = await deps.db.selectFrom('channel_messages').select('message_id').where('tenant_id', '=', inbox.tenant_id).where('inbox_id', '=', inbox.id).where('external_id', '=', reaction.messageId).executeTakeFirst();
    message.details.reaction = { ...reaction, parleyMessageId: target?.message_id ?? null };
  }
  const ingested = await ingestInbound(deps, inbox, message);
  if (ingested.created) result.stored += 1;
  else result.duplicates += 1;
}

/** Every media file of a message, downloaded; a temporary failure throws so that Meta delivers again. */
async function fetchMedia(settings: MetaSettings, item: MetaInboundItem, privateTargets: PrivateTargets): Promise<MetaInboundItem['media']> {
  const media: NonNullable<MetaInboundItem['media']> = {};
  for (const ref of mediaRefsOf(item)) {
    let url = ref.key;
    if (ref.via === 'media-id') {
      // WhatsApp: the media id → a short-lived URL (GET /{media-id}), downloaded with the token.
      const info = await graphRequest<{ url?: string }>(settings, { method: 'GET', path: ref.key }, privateTargets);
      if (!info.ok && info.retryable) throw new Error(`WhatsApp media ${ref.key}: ${info.error}`);
      if (!info.ok || !info.body.url) {
        media[ref.key] = { error: info.ok ? 'no URL for the media' : info.error };
        continue;
      }
      url = info.body.url;
    }
    const got = await downloadMedia(settings, url, ref.via === 'media-id', privateTargets);
    if (!got.ok && got.retryable) throw new Error(`media ${ref.key.slice(0, 200)}: ${got.error}`);
    media[ref.key] = got.ok ? (got.body satisfies DownloadedMedia) : { error: got.error };
  }
  return media;
}

/** The channel side of the inbox's messages, joined with the messages. */
const channelMessagesOf = (deps: IngestDeps, inbox: InboxRow) =>
  deps.db.selectFrom('channel_messages as cm').innerJoin('messages as m', 'm.id', 'cm.message_id').where('cm.tenant_id', '=', inbox.tenant_id).where('cm.inbox_id', '=', inbox.id);

/** Messenger's watermarks: the provider ids of Parley's messages to this customer sent until then. */
async function sentUpTo(deps: IngestDeps, inbox: InboxRow, upTo: { handle: string; at: Date | null; mid: string | null }): Promise<string[]> {
  // Instagram names the last message read: everything sent until that one.
  const at = upTo.at ?? (upTo.mid ? ((await channelMessagesOf(deps, inbox).select('m.created_at').where('cm.external_id', '=', upTo.mid).executeTakeFirst())?.created_at ?? null) : null);
  if (!at) return [];
  const rows = await channelMessagesOf(deps, inbox)
    .select('cm.external_id')
    .where('cm.direction', '=', 'out')
    .where('cm.to_address', '=', upTo.handle)
    .where('m.created_at', '<=', at)
    .where('m.status', 'in', ['sent', 'delivered'])
    .execute();
  return rows.map((r) => r.external_id).filter((id): id is string => !!id);
}
