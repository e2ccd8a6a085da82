import type { OutboundAttachment, OutboundMessage, SendResult } from '../channel.ts';
import { graphRequest, MAX_MEDIA_BYTES } from './graph-client.ts';
import type { MetaChannel } from './meta-webhook.ts';
import { metaSendWindow } from './send-window.ts';
import type { MetaSettings } from './settings.ts';
import type { PrivateTargets } from '../../net/private-targets.ts';

const refuse = (error: string): SendResult => ({ ok: false, retryable: false, error });

/**
 * One outbound message through the Graph API: WhatsApp Cloud API for WhatsApp, the Send API for
 * Messenger and Instagram. Free text outside the customer-service window is refused here too (the
 * send-policy check refuses it before it is stored; this guards messages queued before the window closed).
 */
export async function sendMetaMessage(channel: MetaChannel, settings: MetaSettings, message: OutboundMessage, privateTargets: PrivateTargets, now = new Date()): Promise<SendResult> {
  if (message.template && channel !== 'whatsapp') return refuse('message templates are a WhatsApp feature; Messenger and Instagram send free text inside the messaging window');
  if (!message.template) {
    // Without a customer message to answer Parley cannot tell the window: Meta decides.
    const window = message.replyTo ? metaSendWindow(channel, message.replyTo.sentAt, now, settings) : { freeText: true, mode: 'response' as const };
    if (!window.freeText) {
      return refuse(
        channel === 'whatsapp'
          ? "the customer's last message is more than 24 hours old: outside WhatsApp's customer-service window only an approved template can be sent"
          : `the customer's last message is older than the ${settings.humanAgentTag ? '7-day human-agent' : '24-hour'} messaging window: Meta does not allow a free-text reply`,
      );
    }
    return channel === 'whatsapp' ? sendWhatsApp(settings, message, privateTargets) : sendPageMessage(channel, settings, message, window.mode === 'human-agent', privateTargets);
  }
  return sendWhatsApp(settings, message, privateTargets);
}

type WhatsAppMediaKind = 'image' | 'audio' | 'video' | 'document';
const whatsAppKindOf = (contentType: string): WhatsAppMediaKind =>
  /^image\/(jpeg|png)$/.test(contentType) ? 'image' : contentType.startsWith('audio/') ? 'audio' : /^video\/(mp4|3gpp)$/.test(contentType) ? 'video' : 'document';

async function sendWhatsApp(settings: MetaSettings, message: OutboundMessage, privateTargets: PrivateTargets): Promise<SendResult> {
  const envelope = { messaging_product: 'whatsapp', recipient_type: 'individual', to: message.to.handle };
  // Replies quote the customer's message they answer (WhatsApp's context).
  const context = message.replyTo?.externalId ? { context: { message_id: message.replyTo.externalId } } : {};
  if (message.template) {
    const { name, language, parameters } = message.template;
    const components = parameters.length ? [{ type: 'body', parameters: parameters.map((text) => ({ type: 'text', text })) }] : [];
    return postWhatsApp(settings, privateTargets, { ...envelope, type: 'template', template: { name, language: { code: language }, components } });
  }
  let textSent = false;
  let lastId: string | null = null;
  for (const [i, attachment] of message.attachments.entries()) {
    const uploaded = await uploadWhatsAppMedia(settings, privateTargets, attachment);
    if (!uploaded.ok) return uploaded;
    const kind = whatsAppKindOf(attachment.contentType);
    // The text travels as the first file's caption where WhatsApp allows one (not on audio).
    const caption = i === 0 && kind !== 'audio' && message.text.trim() ? { caption: message.text } : {};
    if ('caption' in caption) textSent = true;
    const media = { id: uploaded.providerId, ...caption, ...(kind === 'document' ? { filename: attachment.filename } : {}) };
    const sent = await postWhatsApp(settings, privateTargets, { ...envelope, ...(i === 0 ? context : {}), type: kind, [kind]: media });
    if (!sent.ok) return sent;
    lastId = sent.providerId;
  }
  if (textSent && lastId) return { ok: true, providerId: lastId };
  if (!message.text.trim()) return lastId ? { ok: true, providerId: lastId } : refuse('nothing to send');
  return postWhatsApp(settings, privateTargets, { ...envelope, ...(message.attachments.length ? {} : context), type: 'text', text: { preview_url: false, body: message.text } });
}

async function postWhatsApp(settings: MetaSettings, privateTargets: PrivateTargets, body: Record<string, unknown>): Promise<SendResult> {
  const res = await graphRequest<{ messages?: { id?: string }[] }>(settings, { method: 'POST', path: `${settings.accountId}/messages`, json: body }, privateTargets);
  if (!res.ok) return res;
  const id = res.body.messages?.[0]?.id;
  return id ? { ok: true, providerId: id } : { ok: false, retryable: true, error: 'the WhatsApp API answered without a message id' };
}

async function readAll(attachment: OutboundAttachment): Promise<Buffer | SendResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of attachment.open()) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buf.length;
    if (size > MAX_MEDIA_BYTES) return refuse(`${attachment.filename} is over the ${MAX_MEDIA_BYTES}-byte limit of Meta`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

const fileOf = (bytes: Buffer, attachment: OutboundAttachment) => new Blob([new Uint8Array(bytes)], { type: attachment.contentType });

/** WhatsApp takes files by upload to the number's media endpoint, then by id in the message. */
async function uploadWhatsAppMedia(settings: MetaSettings, privateTargets: PrivateTargets, attachment: OutboundAttachment): Promise<SendResult> {
  const bytes = await readAll(attachment);
  if (!Buffer.isBuffer(bytes)) return bytes;
  const form = new FormData();
  form.set('messaging_product', 'whatsapp');
  form.set('type', attachment.contentType);
  form.set('file', fileOf(bytes, attachment), attachment.filename);
  const res = await graphRequest<{ id?: string }>(settings, { method: 'POST', path: `${settings.accountId}/media`, form }, privateTargets);
  if (!res.ok) return res;
  return res.body.id ? { ok: true, providerId: res.body.id } : { ok: false, retryable: true, error: 'the WhatsApp media upload answered without an id' };
}

/** Messenger and Instagram's Send API: one call per file (Messenger uploads it along), then the text. */
async function sendPageMessage(channel: MetaChannel, settings: MetaSettings, message: OutboundMessage, humanAgent: boolean, privateTargets: PrivateTargets): Promise<SendResult> {
  const envelope = { recipient: { id: message.to.handle }, ...(humanAgent ? { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' } : { messaging_type: 'RESPONSE' }) };
  // Instagram's Send API takes files only by public URL, which Parley's stored files do not have.
  if (channel === 'instagram' && message.attachments.length) return refuse('Instagram takes attachments only by public URL: send the text without files');
  let lastId: string | null = null;
  for (const attachment of message.attachments) {
    const bytes = await readAll(attachment);
    if (!Buffer.isBuffer(bytes)) return bytes;
    const type = attachment.contentType.startsWith('image/') ? 'image' : attachment.contentType.startsWith('audio/') ? 'audio' : attachment.contentType.startsWith('video/') ? 'video' : 'file';
    const form = new FormData();
    form.set('recipient', JSON.stringify(envelope.recipient));
    form.set('messaging_type', envelope.messaging_type);
    if (humanAgent) form.set('tag', 'HUMAN_AGENT');
    form.set('message', JSON.stringify({ attachment: { type, payload: { is_reusable: false } } }));
    form.set('filedata', fileOf(bytes, attachment), attachment.filename);
    const sent = await postPage(settings, privateTargets, { form });
    if (!sent.ok) return sent;
    lastId = sent.providerId;
  }
  if (!message.text.trim()) return lastId ? { ok: true, providerId: lastId } : refuse('nothing to send');
  return postPage(settings, privateTargets, { json: { ...envelope, message: { text: message.text } } });
}

async function postPage(settings: MetaSettings, privateTargets: PrivateTargets, body: { json?: unknown; form?: FormData }): Promise<SendResult> {
  const res = await graphRequest<{ message_id?: string }>(settings, { method: 'POST', path: `${settings.accountId}/messages`, ...body }, privateTargets);
  if (!res.ok) return res;
  return res.body.message_id ? { ok: true, providerId: res.body.message_id } : { ok: false, retryable: true, error: 'the Send API answered without a message id' };
}
