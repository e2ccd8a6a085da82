import type { ChannelAdapter } from '../channel.ts';
import type { MessageStatus } from '../../db/schema.ts';
import { graphRequest } from './graph-client.ts';
import type { MetaChannel } from './meta-webhook.ts';
import { parseMetaMessage } from './parse-meta-message.ts';
import { sendMetaMessage } from './send-meta-message.ts';
import { metaSendWindow } from './send-window.ts';
import { metaSettingsOf, type MetaSettings } from './settings.ts';

/** Meta's delivery states (WhatsApp `statuses[].status`, Messenger delivery/read events) → Parley's. */
const STATUS: Record<string, MessageStatus> = { sent: 'sent', delivered: 'delivered', read: 'read', failed: 'failed', deleted: 'failed' };

/**
 * WhatsApp, Messenger and Instagram as channels: one Graph client, one webhook reader, one
 * parser; they differ in the send shape (Cloud API vs Send API) and the window rules.
 */
export function createMetaAdapter(channel: MetaChannel): ChannelAdapter<MetaSettings> {
  return {
    channelType: channel,
    parseInbound: async (raw) => parseMetaMessage(raw),
    send: (settings, message, privateTargets) => sendMetaMessage(channel, settings, message, privateTargets),
    mapStatus: (status) => STATUS[status.toLowerCase()] ?? null,
    settingsOf: metaSettingsOf,
    async testConnection(settings, privateTargets) {
      const res = await graphRequest<{ id?: string }>(settings, { method: 'GET', path: settings.accountId, query: { fields: 'id' } }, privateTargets);
      if (!res.ok) return { ok: false, message: res.error };
      return res.body.id === settings.accountId ? { ok: true, message: `connected to ${channel} account ${settings.accountId}` } : { ok: false, message: `Graph answered for another account (${String(res.body.id)})` };
    },
    sendWindow(lastInboundAt, now, settings) {
      const { freeText, closesAt } = metaSendWindow(channel, lastInboundAt, now, settings);
      return { freeText, closesAt };
    },
  };
}

export const whatsAppAdapter = createMetaAdapter('whatsapp');
export const messengerAdapter = createMetaAdapter('messenger');
export const instagramAdapter = createMetaAdapter('instagram');
