import { expect } from 'vitest';
import type { InboxRow } from '../db/schema.ts';
import { ACCOUNTS, startSmsKit, waitForStatus, type SmsKit } from '../channels/sms/testing/sms-test-kit.ts';
import { smsSettingsOf } from '../channels/sms/settings.ts';
import type { TestTenant } from '../../test/test-parley.ts';

/** Tenant A's numbers for compliance tests: two Mexican numbers (consent is per number) and a Brazilian one. */
export const OWN = { mx: '+5215512340001', mx2: '+5215512340002', br: '+5511912340001' } as const;

export interface ComplianceKit extends SmsKit {
  own: { mx: InboxRow; mx2: InboxRow; br: InboxRow };
  /** A customer texts one of tenant A's numbers through the Twilio webhook; returns the stored message. */
  text(inbox: InboxRow, from: string, body: string, sid?: string): Promise<{ id: string; conversationId: string }>;
  /** Creates an SMS inbox of a tenant on the fake Twilio with these extra settings. */
  smsInbox(tenant: TestTenant, number: string, extra?: Record<string, unknown>): Promise<InboxRow>;
  /** The automatic replies (keyword confirmations) of a conversation, once sent. */
  keywordReplies(conversationId: string): Promise<{ id: string; content: string; status: string }[]>;
}

let sid = 0;

export async function startComplianceKit(): Promise<ComplianceKit> {
  const kit = await startSmsKit();
  const smsInbox = async (tenant: TestTenant, number: string, extra: Record<string, unknown> = {}) => {
    const created = await kit.api('POST', '/inboxes', { name: `SMS ${number}`, channelType: 'sms', settings: { sms: { number, provider: 'twilio', twilio: { ...ACCOUNTS.twilio, baseUrl: kit.fake.baseUrl }, ...extra } } }, tenant);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return kit.t.db.selectFrom('inboxes').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
  };
  const own = { mx: await smsInbox(kit.a, OWN.mx), mx2: await smsInbox(kit.a, OWN.mx2), br: await smsInbox(kit.a, OWN.br) };
  return {
    ...kit,
    own,
    smsInbox,
    async text(inbox, from, body, messageSid) {
      sid += 1;
      const MessageSid = messageSid ?? `SMcompliance${sid}`;
      const res = await kit.twilioWebhook(inbox, { MessageSid, AccountSid: ACCOUNTS.twilio.accountSid, From: from, To: smsSettingsOf(inbox.settings)!.number, Body: body });
      expect(res.status, res.text).toBe(200);
      const row = await kit.t.db.selectFrom('messages').select(['id', 'conversation_id']).where('tenant_id', '=', inbox.tenant_id).where('source_id', '=', `sms:${inbox.id}:${MessageSid}`).executeTakeFirstOrThrow();
      return { id: row.id, conversationId: row.conversation_id };
    },
    async keywordReplies(conversationId) {
      const rows = await kit.t.db.selectFrom('messages').select(['id', 'content', 'status']).where('conversation_id', '=', conversationId).where('client_message_id', 'like', 'keyword-reply:%').orderBy('created_at').execute();
      for (const r of rows) r.status = (await waitForStatus(kit.t, r.id, ['sent', 'failed'])).status;
      return rows;
    },
  };
}
