import type { Deps } from '../deps.ts';
import type { InboxRow } from '../db/schema.ts';
import type { InboundMessage } from '../channels/channel.ts';
import { postMessage } from '../conversations/post-message.ts';
import { recordConversationEvent } from '../conversations/conversations.repository.ts';
import { matchKeyword, type KeywordMatch } from './opt-out-keywords.ts';
import { keywordReplyText } from './compliance-texts.ts';
import { keywordReplyClientId } from './keyword-reply.ts';
import { setConsent } from './consents.repository.ts';
import { getTenantSettings } from './tenant-settings.ts';
import { sendingNumberOf } from './send-policy.ts';
import { unavailableCountryOf } from './phone-country.ts';

type ComplianceDeps = Pick<Deps, 'db' | 'committer' | 'routing' | 'log'>;

/** Channels whose customers opt out by keyword (CO-2) and whose numbers have countries (CO-3). */
const KEYWORD_CHANNELS = new Set(['sms', 'whatsapp']);

export interface InboundCompliance {
  keyword: KeywordMatch | null;
  /** The listed country the message came from or arrived at, or null. */
  unavailableCountry: string | null;
  /** Work for agents: false for a bare keyword and for a message from an unavailable country (stored, seen, never routed). */
  isWork: boolean;
}

const NOTHING: InboundCompliance = { keyword: null, unavailableCountry: null, isWork: true };

/** What the compliance rules make of an inbound message, before it is stored (so a conversation it opens is opened resolved when it is no work). */
export async function inboundComplianceOf(db: Deps['db'], inbox: InboxRow, message: InboundMessage): Promise<InboundCompliance> {
  if (!KEYWORD_CHANNELS.has(inbox.channel_type) || message.autoReply || message.bounce) return NOTHING;
  const keyword = message.attachments.length === 0 ? matchKeyword(message.text, message.from.handle) : null;
  const { settings } = await getTenantSettings(db, inbox.tenant_id);
  const unavailable = settings.unavailableCountries ?? [];
  const unavailableCountry = unavailableCountryOf(message.from.handle, unavailable) ?? unavailableCountryOf(sendingNumberOf(inbox), unavailable);
  return { keyword, unavailableCountry, isWork: !keyword && !unavailableCountry };
}

/**
 * After the inbound message is stored: a keyword sets the contact's consent for this inbox's
 * number and is confirmed by one automatic reply in the keyword's language, through the normal
 * durable send path; a message from an unavailable country is marked and gets no reply. Safe to
 * run again for a redelivered message: consent only moves forward in time, the event is
 * recorded when the status changes, the reply has a client id derived from the message.
 */
export async function applyInboundCompliance(
  deps: ComplianceDeps,
  inbox: InboxRow,
  stored: { messageId: string; conversationId: string; contactId: string; receivedAt: Date; created: boolean },
  handle: string,
  compliance: InboundCompliance,
): Promise<void> {
  const tenantId = inbox.tenant_id;
  const actor = { actorType: 'contact' as const, actorId: stored.contactId };
  if (compliance.unavailableCountry && stored.created) {
    await recordConversationEvent(deps.db, { tenantId, conversationId: stored.conversationId, type: 'compliance.country_unavailable', ...actor, data: { messageId: stored.messageId, country: compliance.unavailableCountry } });
  }
  const keyword = compliance.keyword;
  if (!keyword) return;
  if (keyword.action !== 'help') {
    const status = keyword.action === 'opt_out' ? 'opted_out' : 'opted_in';
    const changed = await setConsent(deps.db, { tenantId, inboxId: inbox.id, handle, status, keyword: keyword.keyword, at: stored.receivedAt });
    if (changed) {
      await recordConversationEvent(deps.db, { tenantId, conversationId: stored.conversationId, type: `consent.${status}`, ...actor, data: { inboxId: inbox.id, handle, keyword: keyword.keyword, messageId: stored.messageId } });
    }
  }
  // Nothing leaves for a country the tenant may not message, not even the confirmation.
  if (compliance.unavailableCountry) return;
  const { name } = await getTenantSettings(deps.db, tenantId);
  await postMessage(deps, {
    tenantId,
    conversationId: stored.conversationId,
    direction: 'out',
    senderType: 'system',
    senderId: null,
    senderName: name,
    content: keywordReplyText(keyword.action, keyword.language, name),
    clientMessageId: keywordReplyClientId(stored.messageId),
  });
}
