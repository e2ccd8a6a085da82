import { expect } from 'vitest';
import { startTestParley, type TestParley, type TestTenant } from '../../../../test/test-parley.ts';
import { call } from '../../../../test/http.ts';
import type { InboxRow } from '../../../db/schema.ts';
import { FakeSmsProvider, signLikeTwilio, signLikeVonage } from './fake-sms-provider.ts';

/** Where Parley says it lives (behind a proxy): providers sign and call back this URL, tests post to the real port. */
export const PUBLIC_URL = 'https://parley.example.test';

export const NUMBERS = { twilio: '+15005550006', sinch: '+5215544440000', vonage: '+5511955550000', tenantB: '+15005550099' } as const;

export interface SmsKit {
  t: TestParley;
  fake: FakeSmsProvider;
  a: TestTenant;
  b: TestTenant;
  inboxes: { twilio: InboxRow; sinch: InboxRow; vonage: InboxRow; tenantBTwilio: InboxRow };
  api(method: string, path: string, body?: unknown, tenant?: TestTenant): Promise<{ status: number; body: any }>;
  twilioWebhook(inbox: InboxRow, fields: Record<string, string>, opts?: { authToken?: string | null }): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  sinchWebhook(inbox: InboxRow, body: unknown, opts?: { token?: string | null; raw?: string }): Promise<{ status: number; body: any; text: string }>;
  vonageWebhook(inbox: InboxRow, fields: Record<string, string>, opts?: { sign?: boolean; secret?: string; timestamp?: number }): Promise<{ status: number; body: any; text: string }>;
  stop(): Promise<void>;
}

export const ACCOUNTS = {
  twilio: { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: 'twilio-auth-token-a' },
  sinch: { servicePlanId: 'plan-a', apiToken: 'sinch-api-token-a' },
  vonage: { apiKey: 'vonage-key-a', apiSecret: 'vonage-secret-a' },
};
export const SINCH_CALLBACK_SECRET = 'sinch-callback-secret-a';
export const VONAGE_SIGNATURE_SECRET = 'vonage-signature-secret-a';
export const TENANT_B_TWILIO_TOKEN = 'twilio-auth-token-b';

const webhookPath = (inbox: InboxRow) => `/api/v1/channels/sms/${inbox.public_id}/webhook`;

/** One Parley with a fake provider, tenant A with a Twilio, a Sinch and a signed Vonage inbox, tenant B with a Twilio inbox. */
export async function startSmsKit(jobs = { pollMs: 30, backoffBaseMs: 50, maxAttempts: 4 }): Promise<SmsKit> {
  const fake = new FakeSmsProvider(ACCOUNTS);
  const baseUrl = await fake.start();
  // Media may come only from the fake provider's address: other private targets are refused as in production.
  const t = await startTestParley({ config: { publicUrl: PUBLIC_URL, imapPolling: false, privateTargets: ['127.0.0.1'] }, jobs });
  const a = await t.createTenant('SMS A');
  const b = await t.createTenant('SMS B');
  const api = async (method: string, path: string, body?: unknown, tenant: TestTenant = a) => call(t.baseUrl, method, path, { auth: { apiKey: tenant.apiKey }, ...(body === undefined ? {} : { body }) });
  const create = async (tenant: TestTenant, name: string, sms: Record<string, unknown>) => {
    const created = await api('POST', '/inboxes', { name, channelType: 'sms', settings: { sms } }, tenant);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return t.db.selectFrom('inboxes').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
  };
  const inboxes = {
    twilio: await create(a, 'Twilio', { number: NUMBERS.twilio, provider: 'twilio', twilio: { ...ACCOUNTS.twilio, baseUrl } }),
    sinch: await create(a, 'Sinch', { number: NUMBERS.sinch, provider: 'sinch', sinch: { ...ACCOUNTS.sinch, callbackSecret: SINCH_CALLBACK_SECRET, baseUrl } }),
    vonage: await create(a, 'Vonage', { number: NUMBERS.vonage, provider: 'vonage', vonage: { ...ACCOUNTS.vonage, signatureSecret: VONAGE_SIGNATURE_SECRET, signatureMethod: 'sha256', baseUrl } }),
    tenantBTwilio: await create(b, 'Twilio B', { number: NUMBERS.tenantB, provider: 'twilio', twilio: { accountSid: 'ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', authToken: TENANT_B_TWILIO_TOKEN, baseUrl } }),
  };
  const tokenOf = (inbox: InboxRow) => (inbox.id === inboxes.tenantBTwilio.id ? TENANT_B_TWILIO_TOKEN : ACCOUNTS.twilio.authToken);

  return {
    t,
    fake,
    a,
    b,
    inboxes,
    api,
    async twilioWebhook(inbox, fields, opts = {}) {
      const token = opts.authToken === undefined ? tokenOf(inbox) : opts.authToken;
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (token) headers['x-twilio-signature'] = signLikeTwilio(token, `${PUBLIC_URL}${webhookPath(inbox)}`, fields);
      return call(t.baseUrl, 'POST', webhookPath(inbox), { raw: new URLSearchParams(fields).toString(), headers });
    },
    async sinchWebhook(inbox, body, opts = {}) {
      const token = opts.token === undefined ? SINCH_CALLBACK_SECRET : opts.token;
      return call(t.baseUrl, 'POST', webhookPath(inbox), { raw: opts.raw ?? JSON.stringify(body), headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    },
    async vonageWebhook(inbox, fields, opts = {}) {
      // Vonage's default: a GET with the parameters in the query string.
      const params = { ...fields, timestamp: String(opts.timestamp ?? Math.floor(Date.now() / 1000)), nonce: Math.random().toString(36).slice(2) };
      const signed = opts.sign === false ? params : { ...params, sig: signLikeVonage(params, opts.secret ?? VONAGE_SIGNATURE_SECRET, 'sha256') };
      return call(t.baseUrl, 'GET', `${webhookPath(inbox)}?${new URLSearchParams(signed)}`);
    },
    async stop() {
      await t.stop();
      await fake.stop();
    },
  };
}

/** Waits until the message has one of these statuses (the send job runs on its own). */
export async function waitForStatus(t: TestParley, messageId: string, statuses: string[], ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    const row = await t.db.selectFrom('messages').selectAll().where('id', '=', messageId).executeTakeFirstOrThrow();
    if (statuses.includes(row.status)) return row;
    if (Date.now() > until) throw new Error(`message ${messageId} is ${row.status}, not ${statuses.join('/')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
