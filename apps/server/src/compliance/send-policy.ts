import type { Transaction } from 'kysely';
import type { Db } from '../db/database.ts';
import type { ConversationRow, Database, InboxRow, TenantSettings } from '../db/schema.ts';
import { ParleyError } from '../errors.ts';
import { adapterFor } from '../channels/adapters.ts';
import { channelSettingsKey } from '../channels/channel-settings.ts';
import { recipientHandleOf } from '../channels/outbound.ts';
import { smsSettingsOf } from '../channels/sms/settings.ts';
import { metaSettingsOf } from '../channels/meta/settings.ts';
import { isOptedOut } from './consents.repository.ts';
import { unavailableCountryOf } from './phone-country.ts';

type Q = Db | Transaction<Database>;

export type SendBlockReason = 'opted_out' | 'country_unavailable' | 'window_closed' | 'no_channel';

export interface SendPolicy {
  /** Anything may be sent at all (false: nothing, not even a template). */
  canSend: boolean;
  /** Free text may be sent (false outside WhatsApp's 24-hour window: templates only). */
  freeText: boolean;
  reason: SendBlockReason | null;
  /** A stable English explanation naming the number or country; the agent app translates by `reason`. */
  message: string | null;
  windowClosesAt: Date | null;
  templates: { name: string; language: string; body: string }[];
}

const OPEN: SendPolicy = { canSend: true, freeText: true, reason: null, message: null, windowClosesAt: null, templates: [] };

/** Channels whose addresses are phone numbers: the unavailable-countries rule applies to them. */
const PHONE_CHANNELS = new Set(['sms', 'whatsapp']);

export interface PolicyOptions {
  /** The message is the confirmation of a STOP/START/HELP keyword: it goes even to an opted-out contact. */
  exemptConsent?: boolean;
  now?: Date;
}

/**
 * What may be sent now in a conversation: the contact's consent for the inbox's number, the
 * tenant's unavailable countries (recipient and sending number), the channel's free-text
 * window after the customer's last message. One function for the composer's policy route,
 * postMessage and the send job, so they never disagree. Web chat and API conversations have
 * no provider and no policy.
 */
export async function sendPolicyOf(db: Q, conversation: ConversationRow, options: PolicyOptions = {}): Promise<SendPolicy> {
  if (!channelSettingsKey[conversation.channel_type]) return OPEN;
  const tenantId = conversation.tenant_id;
  const inbox = await db.selectFrom('inboxes').selectAll().where('tenant_id', '=', tenantId).where('id', '=', conversation.inbox_id).executeTakeFirstOrThrow();
  const adapter = adapterFor(conversation.channel_type);
  const templates = conversation.channel_type === 'whatsapp' ? (metaSettingsOf(inbox.settings)?.templates ?? []) : [];
  const blocked = (reason: SendBlockReason, message: string): SendPolicy => ({ canSend: false, freeText: false, reason, message, windowClosesAt: null, templates });
  if (!adapter || !adapter.settingsOf(inbox.settings)) return blocked('no_channel', `the inbox "${inbox.name}" is not connected to a ${conversation.channel_type} provider`);

  const lastInbound = await db
    .selectFrom('messages as m')
    .leftJoin('channel_messages as cm', (j) => j.onRef('cm.message_id', '=', 'm.id').onRef('cm.tenant_id', '=', 'm.tenant_id'))
    .select(['m.created_at', 'cm.from_handle'])
    .where('m.tenant_id', '=', tenantId)
    .where('m.conversation_id', '=', conversation.id)
    .where('m.direction', '=', 'in')
    .where('m.private', '=', false)
    .where('m.sender_type', '=', 'contact')
    .orderBy('m.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const handle = await recipientHandleOf(db, conversation, lastInbound?.from_handle);
  const sender = sendingNumberOf(inbox);

  if (handle && !options.exemptConsent && (await isOptedOut(db, tenantId, inbox.id, handle))) {
    return blocked('opted_out', `${handle} opted out of messages from ${sender ?? `the inbox "${inbox.name}"`}`);
  }
  if (PHONE_CHANNELS.has(conversation.channel_type)) {
    const unavailable = await unavailableCountries(db, tenantId);
    const toCountry = unavailableCountryOf(handle, unavailable);
    if (toCountry) return blocked('country_unavailable', `messages to ${handle} (${toCountry}) are not available: ${toCountry} is on the tenant's unavailable countries`);
    const fromCountry = unavailableCountryOf(sender, unavailable);
    if (fromCountry) return blocked('country_unavailable', `messages from ${sender} (${fromCountry}) are not available: ${fromCountry} is on the tenant's unavailable countries`);
  }
  const window = adapter.sendWindow?.(lastInbound?.created_at ?? null, options.now ?? new Date(), adapter.settingsOf(inbox.settings));
  if (window && !window.freeText) {
    return { canSend: true, freeText: false, reason: 'window_closed', message: 'the customer has not written within the channel\'s window: only an approved template can be sent', windowClosesAt: null, templates };
  }
  return { ...OPEN, windowClosesAt: window?.closesAt ?? null, templates };
}

/**
 * postMessage's check of an agent's or program's public message before anything is stored:
 * refused with the policy's reason; a template passes a closed window.
 */
export async function assertMaySend(db: Q, conversation: ConversationRow, message: { template: boolean; exemptConsent: boolean }): Promise<void> {
  const policy = await sendPolicyOf(db, conversation, { exemptConsent: message.exemptConsent });
  switch (policy.reason) {
    case 'opted_out':
      throw new ParleyError('PARLEY_ERR_OPTED_OUT', policy.message!);
    case 'country_unavailable':
      throw new ParleyError('PARLEY_ERR_COUNTRY_UNAVAILABLE', policy.message!);
    case 'window_closed':
      if (!message.template) throw new ParleyError('PARLEY_ERR_CHANNEL_WINDOW_CLOSED', policy.message!, { templates: policy.templates.map((t) => t.name) });
      return;
    // 'no_channel': the send job fails the message with the reason, as for any unsendable inbox.
  }
}

/** The number an inbox sends from: an SMS number, a WhatsApp business number; null for other channels. */
export function sendingNumberOf(inbox: InboxRow): string | null {
  if (inbox.channel_type === 'sms') return smsSettingsOf(inbox.settings)?.number ?? null;
  if (inbox.channel_type === 'whatsapp') return metaSettingsOf(inbox.settings)?.displayNumber ?? null;
  return null;
}

async function unavailableCountries(db: Q, tenantId: string): Promise<string[]> {
  const row = await db.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirst();
  return (row?.settings as TenantSettings | undefined)?.unavailableCountries ?? [];
}
