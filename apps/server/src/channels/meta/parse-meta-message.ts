import { createHash } from 'node:crypto';
import type { InboundAttachment, InboundMessage } from '../channel.ts';
import { asArray, asObject, asString, mediaRefsOf, WHATSAPP_MEDIA_TYPES, type MetaInboundItem } from './meta-webhook.ts';

/**
 * One customer message of a Meta webhook (see MetaInboundItem) → Parley's inbound message.
 * Never throws: a shape it does not know is kept as text plus the raw event in details.
 */
export function parseMetaMessage(raw: unknown): InboundMessage {
  const item = asObject(raw) as MetaInboundItem | null;
  const event = asObject(item?.event);
  if (!item || !event) return unreadable(raw);
  return item.channel === 'whatsapp' ? parseWhatsApp(item, event) : parseMessaging(item, event);
}

/**
 * The customer's running chat with the account: the last thread key of each message, so a
 * customer's messages land in one conversation (ingest keeps it as the conversation's thread id).
 */
export const chatThreadKey = (channel: string, handle: string) => `${channel}-thread:${handle}`;

function base(id: string, handle: string, name: string | null): InboundMessage {
  return { sourceId: id, externalId: id, from: { handle, name }, to: null, threadKeys: [], subject: null, text: '', html: null, attachments: [], autoReply: false, bounce: false, details: {} };
}

function unreadable(raw: unknown): InboundMessage {
  let json: string;
  try {
    json = JSON.stringify(raw) ?? String(raw);
  } catch {
    json = String(raw);
  }
  const id = `unreadable:${createHash('sha256').update(json).digest('hex').slice(0, 32)}`;
  return { ...base(id, 'unknown', null), externalId: null, text: '(a Meta webhook event Parley could not read)', details: { unreadable: json.slice(0, 2000) } };
}

/** Downloaded media (by key) as attachments; a file that could not be fetched becomes a line of text. */
function attachmentsOf(item: MetaInboundItem, names: Map<string, { filename?: string; kind: string }>): { attachments: InboundAttachment[]; notes: string[] } {
  const attachments: InboundAttachment[] = [];
  const notes: string[] = [];
  for (const ref of mediaRefsOf(item)) {
    const got = item.media?.[ref.key];
    const meta = names.get(ref.key) ?? { kind: 'file' };
    if (got && 'content' in got && Buffer.isBuffer(got.content)) {
      attachments.push({ filename: meta.filename || `${meta.kind}${extensionOf(got.contentType)}`, contentType: got.contentType, content: got.content });
    } else {
      notes.push(`[${meta.kind} not available${got && 'error' in got ? `: ${got.error}` : ''}]`);
    }
  }
  return { attachments, notes };
}

const EXTENSIONS: Record<string, string> = { 'image/jpeg': '.jpg', 'image/png': '.png', 'image/webp': '.webp', 'image/gif': '.gif', 'audio/ogg': '.ogg', 'audio/mpeg': '.mp3', 'audio/mp4': '.m4a', 'video/mp4': '.mp4', 'application/pdf': '.pdf' };
const extensionOf = (contentType: string) => EXTENSIONS[contentType] ?? '';

function parseWhatsApp(item: MetaInboundItem, m: Record<string, unknown>): InboundMessage {
  const id = asString(m.id);
  const from = asString(m.from);
  if (!id || !from) return unreadable(item.event);
  const out = base(id, from, item.contactName);
  const type = asString(m.type) ?? 'unknown';
  const body = asObject(m[type]) ?? {};
  const details: Record<string, unknown> = { type, accountId: item.accountId };
  const lines: string[] = [];
  const names = new Map<string, { filename?: string; kind: string }>();
  const timestamp = Number(m.timestamp);
  if (Number.isFinite(timestamp) && timestamp > 0) details.sentAt = new Date(timestamp * 1000).toISOString();

  // A reply names the message it answers: kept as a thread key so it finds that conversation.
  const contextId = asString(asObject(m.context)?.id);
  if (contextId) {
    out.threadKeys.push(contextId);
    details.replyTo = contextId;
  }
  if (type === 'text') lines.push(asString(body.body) ?? '');
  else if (WHATSAPP_MEDIA_TYPES.has(type)) {
    const mediaId = asString(body.id);
    if (mediaId) names.set(mediaId, { kind: type, filename: asString(body.filename) ?? undefined });
    details.media = { id: mediaId, mimeType: asString(body.mime_type), sha256: asString(body.sha256) };
    const caption = asString(body.caption);
    if (caption) lines.push(caption);
  } else if (type === 'location') {
    const lat = Number(body.latitude);
    const long = Number(body.longitude);
    const place = [asString(body.name), asString(body.address)].filter(Boolean).join(', ');
    details.location = { latitude: lat, longitude: long, name: asString(body.name), address: asString(body.address), url: asString(body.url) };
    lines.push(`📍 ${place ? `${place} ` : ''}(${lat}, ${long})`);
  } else if (type === 'reaction') {
    const target = asString(body.message_id);
    const emoji = asString(body.emoji) ?? '';
    // An empty emoji is WhatsApp's "reaction removed".
    details.reaction = { messageId: target, emoji, removed: emoji === '' };
    if (target) out.threadKeys.push(target);
    lines.push(emoji ? `Reacted ${emoji}` : 'Removed a reaction');
  } else if (type === 'interactive') {
    const reply = asObject(body.button_reply) ?? asObject(body.list_reply) ?? asObject(body.nfm_reply) ?? {};
    details.interactive = { type: asString(body.type), id: asString(reply.id), title: asString(reply.title), description: asString(reply.description) };
    lines.push(asString(reply.title) ?? asString(reply.body) ?? '(interactive reply)');
  } else if (type === 'button') {
    details.button = { payload: asString(body.payload), text: asString(body.text) };
    lines.push(asString(body.text) ?? asString(body.payload) ?? '(button)');
  } else if (type === 'contacts') {
    const cards = asArray(m.contacts).map((c) => asObject(c) ?? {});
    details.contacts = cards;
    for (const card of cards) {
      const phones = asArray(card.phones).map((p) => asString(asObject(p)?.phone)).filter(Boolean);
      lines.push(`👤 ${asString(asObject(card.name)?.formatted_name) ?? 'contact'}${phones.length ? `: ${phones.join(', ')}` : ''}`);
    }
  } else {
    // 'unsupported' (and anything newer than this code): say so, keep Meta's explanation.
    const errors = asArray(m.errors).map((e) => asObject(e) ?? {});
    details.errors = errors;
    details.raw = m;
    lines.push(`(unsupported WhatsApp message${errors.length ? `: ${errors.map((e) => asString(e.title) ?? asString(e.message)).join('; ')}` : ` of type ${type}`})`);
  }
  const { attachments, notes } = attachmentsOf(item, names);
  out.text = [...lines, ...notes].filter((l) => l.length > 0).join('\n');
  if (!out.text && attachments.length === 0) out.text = `(empty ${type} message)`;
  out.attachments = attachments;
  out.details = details;
  out.threadKeys.push(chatThreadKey(item.channel, from));
  return out;
}

function parseMessaging(item: MetaInboundItem, event: Record<string, unknown>): InboundMessage {
  const sender = asString(asObject(event.sender)?.id);
  if (!sender) return unreadable(item.event);
  const message = asObject(event.message);
  const reaction = asObject(event.reaction);
  const details: Record<string, unknown> = { accountId: item.accountId };
  const timestamp = Number(event.timestamp);
  if (Number.isFinite(timestamp) && timestamp > 0) details.sentAt = new Date(timestamp).toISOString();

  if (!message && reaction) {
    // A reaction has no id of its own: the reacted message, the action and the time make one.
    const target = asString(reaction.mid);
    const emoji = asString(reaction.emoji) ?? asString(reaction.reaction) ?? '';
    const removed = asString(reaction.action) === 'unreact';
    const out = base(`reaction:${target}:${sender}:${removed ? 'unreact' : 'react'}:${emoji}:${asString(event.timestamp) ?? ''}`, sender, null);
    out.externalId = null;
    if (target) out.threadKeys.push(target);
    out.text = removed ? 'Removed a reaction' : `Reacted ${emoji}`;
    out.details = { ...details, reaction: { messageId: target, emoji: removed ? '' : emoji, removed } };
    out.threadKeys.push(chatThreadKey(item.channel, sender));
    return out;
  }
  const postback = asObject(event.postback);
  if (!message && postback) {
    // The customer tapped a button of a template or the persistent menu: its title is what they "said".
    const title = asString(postback.title) ?? asString(postback.payload) ?? '(button)';
    const out = base(asString(postback.mid) ?? `postback:${sender}:${asString(event.timestamp) ?? ''}:${asString(postback.payload) ?? ''}`, sender, null);
    out.text = title;
    out.details = { ...details, postback: { title: asString(postback.title), payload: asString(postback.payload) } };
    out.threadKeys.push(chatThreadKey(item.channel, sender));
    return out;
  }
  const mid = asString(message?.mid);
  if (!message || !mid) return unreadable(item.event);
  const out = base(mid, sender, null);
  const replyTo = asString(asObject(message.reply_to)?.mid);
  if (replyTo) {
    out.threadKeys.push(replyTo);
    details.replyTo = replyTo;
  }
  const quickReply = asString(asObject(message.quick_reply)?.payload);
  if (quickReply) details.quickReply = quickReply;
  const lines = [asString(message.text) ?? ''];
  const names = new Map<string, { filename?: string; kind: string }>();
  const others: unknown[] = [];
  for (const a of asArray(message.attachments).map((x) => asObject(x) ?? {})) {
    const type = asString(a.type) ?? 'file';
    const payload = asObject(a.payload) ?? {};
    const url = asString(payload.url);
    if (url && ['image', 'audio', 'video', 'file'].includes(type)) names.set(url, { kind: type });
    else if (type === 'location') {
      const coords = asObject(payload.coordinates) ?? {};
      details.location = { latitude: Number(coords.lat), longitude: Number(coords.long), name: asString(a.title) };
      lines.push(`📍 ${asString(a.title) ? `${asString(a.title)} ` : ''}(${Number(coords.lat)}, ${Number(coords.long)})`);
    } else {
      others.push(a);
      lines.push(`(${type}${asString(a.title) ? `: ${asString(a.title)}` : ''}${url ? ` ${url}` : ''})`);
    }
  }
  if (others.length) details.otherAttachments = others;
  const { attachments, notes } = attachmentsOf(item, names);
  out.text = [...lines, ...notes].filter((l) => l.length > 0).join('\n');
  if (!out.text && attachments.length === 0) out.text = '(empty message)';
  out.attachments = attachments;
  out.details = details;
  out.threadKeys.push(chatThreadKey(item.channel, sender));
  return out;
}
