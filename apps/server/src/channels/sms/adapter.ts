import { createHash } from 'node:crypto';
import type { MessageStatus } from '../../db/schema.ts';
import type { ChannelAdapter, InboundAttachment, InboundMessage } from '../channel.ts';
import type { InboundSms } from './provider.ts';
import { smsProviderFor, smsProviders } from './providers/index.ts';
import { smsSettingsOf, type SmsSettings } from './settings.ts';
import { storableText } from '../../conversations/storable-text.ts';

/** The path of an SMS inbox's provider webhook (inbound messages and delivery reports). */
export const smsWebhookPath = (inboxPublicId: string) => `/api/v1/channels/sms/${encodeURIComponent(inboxPublicId)}/webhook`;

/** An SMS as the webhook path hands it to the adapter: the provider's message and its media, fetched already. */
export type SmsInput = InboundSms & { attachments?: InboundAttachment[] };

const isInboundSms = (raw: unknown): raw is SmsInput => {
  const r = raw as Partial<InboundSms> | null;
  return typeof r === 'object' && r !== null && typeof r.providerId === 'string' && r.providerId.length > 0 && typeof r.from === 'string' && r.from.length > 0 && typeof r.to === 'string';
};


/**
 * SMS has no threads: one number texting an inbox is one running conversation. The shared
 * path finds a conversation by its thread root, so the sender's number is that root (the
 * lookup is scoped to the inbox); a resolved conversation is reopened by the next text.
 */
export const smsThreadKey = (from: string) => `sms-thread:${from}`;

function normalize(sms: SmsInput): InboundMessage {
  const mediaNotFetched = sms.media.length - (sms.attachments?.length ?? 0);
  const from = sms.from.slice(0, 100);
  return {
    sourceId: sms.providerId,
    externalId: sms.providerId,
    from: { handle: from, name: null },
    to: sms.to.slice(0, 100) || null,
    threadKeys: [smsThreadKey(from)],
    subject: null,
    text: typeof sms.text === 'string' ? sms.text : String(sms.text ?? ''),
    html: null,
    attachments: sms.attachments ?? [],
    autoReply: false,
    bounce: false,
    details: { ...sms.details, ...(sms.media.length ? { media: sms.media.map((m) => m.url), ...(mediaNotFetched > 0 ? { mediaNotFetched } : {}) } : {}) },
  };
}

/** What is not an SMS at all is kept whole as text, under a key derived from its content (the same input is the same message). */
function keptRaw(raw: unknown): InboundMessage {
  let text: string;
  try {
    text = typeof raw === 'string' ? raw : Buffer.isBuffer(raw) ? raw.toString('utf8') : (JSON.stringify(raw) ?? String(raw));
  } catch {
    text = String(raw);
  }
  // The key is the stored text's: what the shared path would store of it.
  text = storableText(text);
  return {
    sourceId: `raw:${createHash('sha256').update(text).digest('hex')}`,
    externalId: null,
    from: { handle: 'unknown', name: null },
    to: null,
    threadKeys: [],
    subject: null,
    text,
    html: null,
    attachments: [],
    autoReply: false,
    bounce: false,
    details: { unparsed: true },
  };
}

/**
 * SMS as a channel: the provider named in the inbox's settings (Twilio, Sinch, Vonage, Kannel,
 * SMPP) reads callbacks and sends; this adapter turns their messages into Parley's and back.
 */
export const adapter: ChannelAdapter<SmsSettings> = {
  channelType: 'sms',
  async parseInbound(raw: unknown) {
    return isInboundSms(raw) ? normalize(raw) : keptRaw(raw);
  },
  async send(settings, message, privateTargets) {
    const provider = smsProviderFor(settings.provider);
    if (!provider) return { ok: false, retryable: false, error: `SMS provider ${settings.provider} is not available in this Parley` };
    // SMS carries text only; dropping a file the agent attached would go unnoticed by both sides.
    if (message.attachments.length > 0) return { ok: false, retryable: false, error: 'SMS carries text only: this reply has attachments' };
    const callbackUrl = message.webhookTarget ? `${message.webhookTarget.publicUrl.replace(/\/$/, '')}${smsWebhookPath(message.webhookTarget.inboxPublicId)}` : undefined;
    return provider.send(settings, { reference: message.messageId, from: settings.number, to: message.to.handle, text: message.text, ...(callbackUrl ? { callbackUrl } : {}) }, privateTargets);
  },
  mapStatus(providerStatus: string): MessageStatus | null {
    for (const provider of Object.values(smsProviders)) {
      const status = provider.mapStatus(providerStatus);
      if (status) return status;
    }
    return null;
  },
  settingsOf: smsSettingsOf,
  async testConnection(settings, privateTargets) {
    const provider = smsProviderFor(settings.provider);
    if (!provider?.testConnection) return { ok: false, message: `SMS provider ${settings.provider} has no connection test here` };
    return provider.testConnection(settings, privateTargets);
  },
};
