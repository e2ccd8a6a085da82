import type { DownloadedMedia } from './graph-client.ts';

/** The three Meta channels, each named by the `object` of its webhook deliveries. */
export type MetaChannel = 'whatsapp' | 'messenger' | 'instagram';
export const META_CHANNELS: MetaChannel[] = ['whatsapp', 'messenger', 'instagram'];
const channelOfObject: Record<string, MetaChannel> = { whatsapp_business_account: 'whatsapp', page: 'messenger', instagram: 'instagram' };

/**
 * One customer message of a webhook delivery, as the adapters' parseInbound reads it: a WhatsApp
 * `value.messages[]` element with the sender's profile name, or a Messenger/Instagram
 * `entry.messaging[]` event. `media` holds what the webhook handler downloaded for it, by media
 * id (WhatsApp) or URL (Messenger, Instagram), so parsing stays free of network calls.
 */
export interface MetaInboundItem {
  channel: MetaChannel;
  accountId: string;
  event: Record<string, unknown>;
  contactName: string | null;
  media?: Record<string, DownloadedMedia | { error: string }>;
}

/** A media file a message refers to: a WhatsApp media id (fetched through Graph) or a CDN URL. */
export interface MediaRef {
  key: string;
  via: 'media-id' | 'url';
}

export type MetaEvent =
  | { kind: 'message'; item: MetaInboundItem }
  /** Delivery news about messages Parley sent: by provider id, and (Messenger's watermarks) everything sent to `upTo.handle` until `upTo.at`. */
  | { kind: 'status'; status: string; reason: string | null; providerIds: string[]; upTo: { handle: string; at: Date | null; mid: string | null } | null }
  | { kind: 'ignored'; why: string };

export interface MetaEntry {
  channel: MetaChannel;
  /** WhatsApp: the phone number id of `value.metadata`; Messenger/Instagram: the page or Instagram account id of `entry.id`. */
  accountId: string;
  events: MetaEvent[];
}

export const asObject = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
export const asString = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null);
export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * A webhook body (parsed JSON) → its entries and events, or why it is not a Meta delivery.
 * The shape checks are the ones needed to route the body to inboxes; message contents are
 * read leniently later by parseInbound (what it cannot read is kept raw).
 */
export function readWebhook(body: unknown): { ok: true; entries: MetaEntry[] } | { ok: false; error: string } {
  const root = asObject(body);
  if (!root) return { ok: false, error: 'the body is not a JSON object' };
  const channel = channelOfObject[String(root.object)];
  if (!channel) return { ok: false, error: `unknown webhook object ${JSON.stringify(root.object ?? null)}` };
  if (!Array.isArray(root.entry)) return { ok: false, error: 'the body has no entry array' };
  const entries: MetaEntry[] = [];
  for (const [i, raw] of root.entry.entries()) {
    const entry = asObject(raw);
    if (!entry) return { ok: false, error: `entry[${i}] is not an object` };
    if (channel === 'whatsapp') {
      for (const [j, rawChange] of asArray(entry.changes).entries()) {
        // Other fields of the app's subscription (template status, account updates) carry no messages.
        const field = asString(asObject(rawChange)?.field);
        if (field !== null && field !== 'messages') continue;
        const value = asObject(asObject(rawChange)?.value);
        const accountId = asString(asObject(value?.metadata)?.phone_number_id);
        if (!value || !accountId) return { ok: false, error: `entry[${i}].changes[${j}] has no value.metadata.phone_number_id` };
        entries.push({ channel, accountId, events: whatsAppEvents(accountId, value) });
      }
    } else {
      const accountId = asString(entry.id);
      if (!accountId) return { ok: false, error: `entry[${i}] has no id` };
      entries.push({ channel, accountId, events: asArray(entry.messaging).map((m) => messagingEvent(channel, accountId, asObject(m) ?? {})) });
    }
  }
  return { ok: true, entries };
}

function whatsAppEvents(accountId: string, value: Record<string, unknown>): MetaEvent[] {
  const names = new Map<string, string>();
  for (const c of asArray(value.contacts)) {
    const contact = asObject(c);
    const waId = asString(contact?.wa_id);
    const name = asString(asObject(contact?.profile)?.name);
    if (waId && name) names.set(waId, name);
  }
  const events: MetaEvent[] = asArray(value.messages).map((m) => {
    const event = asObject(m) ?? {};
    return { kind: 'message', item: { channel: 'whatsapp', accountId, event, contactName: names.get(asString(event.from) ?? '') ?? null } };
  });
  for (const s of asArray(value.statuses)) {
    const status = asObject(s) ?? {};
    const id = asString(status.id);
    if (!id) {
      events.push({ kind: 'ignored', why: 'a status without id' });
      continue;
    }
    const errors = asArray(status.errors).map((e) => asObject(e) ?? {});
    const reason = errors.length
      ? errors.map((e) => `${asString(e.code) ?? '?'} ${asString(e.title) ?? asString(e.message) ?? ''}${asString(asObject(e.error_data)?.details) ? `: ${asString(asObject(e.error_data)?.details)}` : ''}`.trim()).join('; ')
      : null;
    events.push({ kind: 'status', status: asString(status.status) ?? '', reason, providerIds: [id], upTo: null });
  }
  return events;
}

function messagingEvent(channel: MetaChannel, accountId: string, event: Record<string, unknown>): MetaEvent {
  const sender = asString(asObject(event.sender)?.id);
  const message = asObject(event.message);
  // Echoes are copies of what the page itself sent (Parley's replies among them): not customer messages.
  if (message?.is_echo === true) return { kind: 'ignored', why: 'echo of a message the page sent' };
  const delivery = asObject(event.delivery);
  if (delivery) {
    const watermark = Number(delivery.watermark);
    return {
      kind: 'status',
      status: 'delivered',
      reason: null,
      providerIds: asArray(delivery.mids).map(asString).filter((x): x is string => !!x),
      upTo: sender && Number.isFinite(watermark) && watermark > 0 ? { handle: sender, at: new Date(watermark), mid: null } : null,
    };
  }
  const read = asObject(event.read);
  if (read) {
    const watermark = Number(read.watermark);
    const mid = asString(read.mid);
    // Messenger says "read up to this time"; Instagram names the last message read.
    return { kind: 'status', status: 'read', reason: null, providerIds: mid ? [mid] : [], upTo: sender ? { handle: sender, at: Number.isFinite(watermark) && watermark > 0 ? new Date(watermark) : null, mid } : null };
  }
  if (message || asObject(event.reaction) || asObject(event.postback)) {
    if (sender && sender === accountId) return { kind: 'ignored', why: 'sent by the account itself' };
    return { kind: 'message', item: { channel, accountId, event, contactName: null } };
  }
  return { kind: 'ignored', why: `unsupported messaging event (${Object.keys(event).filter((k) => !['sender', 'recipient', 'timestamp'].includes(k)).join(', ') || 'empty'})` };
}

/** The media files a message refers to, to download before it is parsed. */
export function mediaRefsOf(item: MetaInboundItem): MediaRef[] {
  const event = item.event;
  if (item.channel === 'whatsapp') {
    const type = asString(event.type);
    const id = type && WHATSAPP_MEDIA_TYPES.has(type) ? asString(asObject(event[type])?.id) : null;
    return id ? [{ key: id, via: 'media-id' }] : [];
  }
  return asArray(asObject(event.message)?.attachments)
    .map((a) => asObject(a))
    .filter((a) => a && MESSENGER_MEDIA_TYPES.has(asString(a.type) ?? ''))
    .map((a) => asString(asObject(a!.payload)?.url))
    .filter((url): url is string => !!url)
    .map((url) => ({ key: url, via: 'url' as const }));
}

export const WHATSAPP_MEDIA_TYPES = new Set(['image', 'audio', 'video', 'document', 'sticker']);
export const MESSENGER_MEDIA_TYPES = new Set(['image', 'audio', 'video', 'file']);
