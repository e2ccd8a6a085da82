import type { ConversationRow, InboxRow, MessageRow } from '../db/schema.ts';
import type { Db } from '../db/database.ts';
import { getTenantSettings } from './tenant-settings.ts';
import { sendPolicyOf } from './send-policy.ts';
import { sendLimitsOf, takeSendSlot } from './send-rate.ts';
import { isKeywordReply } from './keyword-reply.ts';

export type SendGate = { go: true } | { go: false; fail: string } | { go: false; retryAt: Date };

/**
 * The send job's last look before the provider is called: consent and countries again (they
 * may have changed while the message waited in the queue), then a slot in the rate windows.
 */
export async function gateSend(db: Db, message: MessageRow, conversation: ConversationRow, inbox: InboxRow): Promise<SendGate> {
  const policy = await sendPolicyOf(db, conversation, { exemptConsent: isKeywordReply({ senderType: message.sender_type, clientMessageId: message.client_message_id }) });
  if (policy.reason === 'opted_out' || policy.reason === 'country_unavailable') return { go: false, fail: policy.message! };
  const { settings } = await getTenantSettings(db, inbox.tenant_id);
  const slot = await takeSendSlot(db, sendLimitsOf(inbox, settings));
  return slot.ok ? { go: true } : { go: false, retryAt: slot.retryAt };
}
