import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import type { InboxRow } from '../../db/schema.ts';
import { upload } from '../../../test/http.ts';
import { adapter } from './adapter.ts';
import { smsSettingsOf } from './settings.ts';
import { ACCOUNTS, NUMBERS, PUBLIC_URL, startSmsKit, waitForStatus, type SmsKit } from './testing/sms-test-kit.ts';

// Agents' replies in SMS conversations leave through the inbox's provider (the fake speaks each
// provider's REST shape), come back as delivery reports through the same webhook, and fail or
// retry the way the provider's answer says.

let kit: SmsKit;
let seq = 0;

beforeAll(async () => {
  kit = await startSmsKit();
});
afterAll(async () => {
  await kit?.stop();
});

/** A customer texts the inbox (through its provider's webhook) and an agent answers; returns the reply's id and the customer's number. */
async function customerThenReply(inbox: InboxRow, reply: string): Promise<{ replyId: string; customer: string }> {
  seq += 1;
  const customer = `+52155${String(10_000_000 + seq)}`;
  let res;
  if (inbox.id === kit.inboxes.sinch.id) {
    res = await kit.sinchWebhook(inbox, { type: 'mo_text', id: `sinch-out-${seq}`, from: customer.slice(1), to: NUMBERS.sinch.slice(1), body: `pregunta ${seq}` });
  } else if (inbox.id === kit.inboxes.vonage.id) {
    res = await kit.vonageWebhook(inbox, { msisdn: customer.slice(1), to: NUMBERS.vonage.slice(1), messageId: `VOUT${seq}`, text: `pregunta ${seq}`, type: 'text' });
  } else {
    res = await kit.twilioWebhook(inbox, { MessageSid: `SMout${seq}`, From: customer, To: inbox.id === kit.inboxes.twilio.id ? NUMBERS.twilio : NUMBERS.tenantB, Body: `pregunta ${seq}` });
  }
  expect(res.status, res.text).toBe(200);
  const inbound = await kit.t.db.selectFrom('messages').select('conversation_id').where('tenant_id', '=', inbox.tenant_id).where('content', '=', `pregunta ${seq}`).executeTakeFirstOrThrow();
  const tenant = inbox.tenant_id === kit.a.tenantId ? kit.a : kit.b;
  const posted = await kit.api('POST', `/conversations/${inbound.conversation_id}/messages`, { content: reply }, tenant);
  expect(posted.status, JSON.stringify(posted.body)).toBe(201);
  expect(posted.body.status).toBe('queued');
  return { replyId: posted.body.id, customer };
}

/** The send requests the fake got for Twilio / Vonage while `run` ran (each test's replies go one at a time). */
async function sendRequestsDuring(path: RegExp, run: () => Promise<void>): Promise<number> {
  const before = kit.fake.requests.length;
  await run();
  return kit.fake.requests.slice(before).filter((r) => path.test(r)).length;
}
const TWILIO_SEND = /^POST \/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/;
const VONAGE_SEND = /^POST \/sms\/json$/;
const sendJobOf = async (messageId: string) =>
  (await kit.t.db.selectFrom('jobs').selectAll().where('kind', '=', 'channel.send').execute()).find((j) => (j.payload as unknown as { messageId: string }).messageId === messageId);
const updatesOf = async (messageId: string) =>
  (await kit.t.db.selectFrom('realtime_events').select(['type', 'payload']).where('type', '=', 'message.updated').execute())
    .map((e) => e.payload as unknown as { id: string; status: string; error: string | null })
    .filter((p) => p.id === messageId)
    .map((p) => p.status);
const webhookUrl = (inbox: InboxRow) => `${PUBLIC_URL}/api/v1/channels/sms/${inbox.public_id}/webhook`;

describe('agent replies by SMS', () => {
  it('Twilio: sent as Messages.json with StatusCallback; delivery reports move it forward only, agents hear each step', async () => {
    const { replyId, customer } = await customerThenReply(kit.inboxes.twilio, 'Sí, enviamos a Monterrey.');
    expect(await waitForStatus(kit.t, replyId, ['sent', 'failed'])).toMatchObject({ status: 'sent', error: null });
    const [sent] = kit.fake.sendsTo(customer);
    expect(sent!.fields).toEqual({ To: customer, From: NUMBERS.twilio, Body: 'Sí, enviamos a Monterrey.', StatusCallback: webhookUrl(kit.inboxes.twilio) });
    const sid = sent!.providerId;
    const status = (MessageStatus: string) => kit.twilioWebhook(kit.inboxes.twilio, { MessageSid: sid, AccountSid: ACCOUNTS.twilio.accountSid, MessageStatus, From: NUMBERS.twilio, To: customer });

    expect((await status('delivered')).status).toBe(200);
    expect((await kit.api('GET', `/messages/${replyId}/channel`)).body).toMatchObject({ status: 'delivered', externalId: sid });
    // A late 'sent' (providers do not promise order) does not move it back.
    expect((await status('sent')).status).toBe(200);
    expect((await kit.t.db.selectFrom('messages').select('status').where('id', '=', replyId).executeTakeFirstOrThrow()).status).toBe('delivered');
    expect((await status('read')).status).toBe(200);
    expect((await kit.t.db.selectFrom('messages').select('status').where('id', '=', replyId).executeTakeFirstOrThrow()).status).toBe('read');
    expect(await updatesOf(replyId)).toEqual(['sent', 'delivered', 'read']);
  });

  it('a delivery report that arrives before the provider has answered the send is applied once the send is recorded', async () => {
    const reported: number[] = [];
    kit.fake.beforeTwilioAnswer = async (sid, fields) => {
      const report = await kit.twilioWebhook(kit.inboxes.twilio, { MessageSid: sid, AccountSid: ACCOUNTS.twilio.accountSid, MessageStatus: 'delivered', From: fields.From!, To: fields.To! });
      reported.push(report.status);
    };
    try {
      const { replyId } = await customerThenReply(kit.inboxes.twilio, 'Ya va en camino.');
      expect(await waitForStatus(kit.t, replyId, ['delivered', 'failed'])).toMatchObject({ status: 'delivered', error: null });
      expect(reported).toEqual([200]);
      // Waiting reports are consumed, not kept.
      expect(await kit.t.db.selectFrom('early_delivery_reports').selectAll().where('tenant_id', '=', kit.a.tenantId).execute()).toEqual([]);
    } finally {
      kit.fake.beforeTwilioAnswer = null;
    }
  });

  it('Sinch: sent as a batch with a per-recipient delivery report to the inbox webhook; a Failed report fails it with the code', async () => {
    const { replyId, customer } = await customerThenReply(kit.inboxes.sinch, 'Abrimos de 9 a 18.');
    await waitForStatus(kit.t, replyId, ['sent']);
    const [sent] = kit.fake.sendsTo(customer);
    expect(sent!.fields).toEqual({ from: NUMBERS.sinch, to: [customer], body: 'Abrimos de 9 a 18.', delivery_report: 'per_recipient', client_reference: replyId, callback_url: webhookUrl(kit.inboxes.sinch) });
    const report = await kit.sinchWebhook(kit.inboxes.sinch, { type: 'recipient_delivery_report_sms', batch_id: sent!.providerId, recipient: customer.slice(1), code: 402, status: 'Failed', at: '2026-11-22T10:00:00Z' });
    expect(report.status).toBe(200);
    expect(await kit.t.db.selectFrom('messages').select(['status', 'error']).where('id', '=', replyId).executeTakeFirstOrThrow()).toEqual({ status: 'failed', error: 'Sinch failed (code 402)' });
  });

  it("a report or an error body with a NUL and half an emoji (the provider's text) is stored, with U+FFFD for the half, not refused at every retry", async () => {
    const { replyId, customer } = await customerThenReply(kit.inboxes.sinch, 'Mañana abrimos.');
    await waitForStatus(kit.t, replyId, ['sent']);
    const [sent] = kit.fake.sendsTo(customer);
    const report = await kit.sinchWebhook(kit.inboxes.sinch, { type: 'recipient_delivery_report_sms', batch_id: sent!.providerId, recipient: customer.slice(1), code: '40\u00002\uD83D', status: 'Failed', at: '2026-11-22T10:00:00Z' });
    expect(report.status, report.text).toBe(200);
    expect(await kit.t.db.selectFrom('messages').select(['status', 'error']).where('id', '=', replyId).executeTakeFirstOrThrow()).toEqual({ status: 'failed', error: 'Sinch failed (code 402\uFFFD)' });
    // A report about a send not recorded yet is kept for it, under the id as it can be stored.
    const early = await kit.sinchWebhook(kit.inboxes.sinch, { type: 'recipient_delivery_report_sms', batch_id: '01NUL\u0000BATCH', recipient: customer.slice(1), code: 0, status: 'Delivered', at: '2026-11-22T10:00:00Z' });
    expect(early.status, early.text).toBe(200);
    expect(await kit.t.db.selectFrom('early_delivery_reports').select('provider_id').where('tenant_id', '=', kit.a.tenantId).execute()).toEqual([{ provider_id: '01NULBATCH' }]);

    kit.fake.failNext({ httpStatus: 400, body: { code: 21211, message: 'Número\u0000 inválido \uDE00', status: 400 } });
    const refused = await customerThenReply(kit.inboxes.twilio, 'Esto tampoco sale.');
    expect(await waitForStatus(kit.t, refused.replyId, ['failed', 'sent'])).toMatchObject({ status: 'failed', error: 'Twilio HTTP 400: Número inválido \uFFFD (Twilio error 21211)' });
  });

  it('Vonage: sent by sms/json (unicode for text outside GSM-7) with the callback; a signed receipt marks it delivered', async () => {
    const { replyId, customer } = await customerThenReply(kit.inboxes.vonage, 'Olá! Já estamos vendo isso, obrigado pela atenção.');
    await waitForStatus(kit.t, replyId, ['sent']);
    const [sent] = kit.fake.sendsTo(customer);
    expect(sent!.fields).toEqual({
      api_key: ACCOUNTS.vonage.apiKey,
      api_secret: ACCOUNTS.vonage.apiSecret,
      from: NUMBERS.vonage.slice(1),
      to: customer.slice(1),
      text: 'Olá! Já estamos vendo isso, obrigado pela atenção.',
      'client-ref': replyId,
      type: 'unicode',
      callback: webhookUrl(kit.inboxes.vonage),
    });
    const receipt = await kit.vonageWebhook(kit.inboxes.vonage, { msisdn: customer.slice(1), to: NUMBERS.vonage.slice(1), messageId: sent!.providerId, status: 'delivered', 'err-code': '0', 'network-code': '72405', scts: '2611221000', 'client-ref': replyId });
    expect(receipt.status, receipt.text).toBe(200);
    expect((await kit.t.db.selectFrom('messages').select('status').where('id', '=', replyId).executeTakeFirstOrThrow()).status).toBe('delivered');
  });

  it('a provider answering 500 then 429 is retried with backoff, and the reply is sent once', async () => {
    kit.fake.failNext({ httpStatus: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } }, { httpStatus: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 } });
    let customer = '';
    const requests = await sendRequestsDuring(TWILIO_SEND, async () => {
      const reply = await customerThenReply(kit.inboxes.twilio, 'Tercera es la vencida.');
      customer = reply.customer;
      expect(await waitForStatus(kit.t, reply.replyId, ['sent', 'failed'])).toMatchObject({ status: 'sent', error: null });
    });
    expect(requests).toBe(3);
    expect(kit.fake.sendsTo(customer)).toHaveLength(1);
  });

  it("a definitive 400 fails the reply at once, with the provider's reason on the message", async () => {
    kit.fake.failNext({ httpStatus: 400, body: { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 } });
    const { replyId } = await customerThenReply(kit.inboxes.twilio, 'Esto no sale.');
    const failed = await waitForStatus(kit.t, replyId, ['failed', 'sent']);
    expect(failed).toMatchObject({ status: 'failed', error: "Twilio HTTP 400: The 'To' number is not a valid phone number. (Twilio error 21211)" });
    expect((await sendJobOf(replyId))?.attempts).toBe(1);
    expect((await kit.api('GET', `/messages/${replyId}/channel`)).body.error).toMatch(/21211/);
    expect(await updatesOf(replyId)).toEqual(['failed']);
  });

  it('Vonage: status 1 (throttled) is retried; status 15 (illegal sender) fails at once', async () => {
    kit.fake.failNext({ vonageStatus: '1', errorText: 'Throughput Rate Exceeded - please wait [ 30 ] and retry' });
    const requests = await sendRequestsDuring(VONAGE_SEND, async () => {
      const throttled = await customerThenReply(kit.inboxes.vonage, 'Second try works.');
      expect(await waitForStatus(kit.t, throttled.replyId, ['sent', 'failed'])).toMatchObject({ status: 'sent' });
    });
    expect(requests).toBe(2);
    kit.fake.failNext({ vonageStatus: '15', errorText: 'Illegal Sender Address - rejected' });
    const refused = await customerThenReply(kit.inboxes.vonage, 'Never leaves.');
    expect(await waitForStatus(kit.t, refused.replyId, ['failed', 'sent'])).toMatchObject({ status: 'failed', error: 'Vonage status 15: Illegal Sender Address - rejected' });
    expect((await sendJobOf(refused.replyId))?.attempts).toBe(1);
  });

  it('a reply with a file fails with the reason instead of leaving without it', async () => {
    seq += 1;
    const customer = `+52155${String(10_000_000 + seq)}`;
    expect((await kit.twilioWebhook(kit.inboxes.twilio, { MessageSid: `SMout${seq}`, From: customer, To: NUMBERS.twilio, Body: `pregunta ${seq}` })).status).toBe(200);
    const inbound = await kit.t.db.selectFrom('messages').select('conversation_id').where('content', '=', `pregunta ${seq}`).executeTakeFirstOrThrow();
    const file = await upload(kit.t.baseUrl, '/attachments', { apiKey: kit.a.apiKey }, { name: 'factura.pdf', type: 'application/pdf', bytes: '%PDF-1.4 test' });
    expect(file.status).toBe(201);
    const posted = await kit.api('POST', `/conversations/${inbound.conversation_id}/messages`, { content: 'Le mando la factura', attachmentIds: [file.body.id] });
    expect(posted.status).toBe(201);
    expect(await waitForStatus(kit.t, posted.body.id, ['failed', 'sent'])).toMatchObject({ status: 'failed', error: 'SMS carries text only: this reply has attachments' });
    expect(kit.fake.sendsTo(customer)).toHaveLength(0);
  });

  it("tenant B's webhook cannot change the status of tenant A's message", async () => {
    const { replyId, customer } = await customerThenReply(kit.inboxes.twilio, 'Solo para A.');
    await waitForStatus(kit.t, replyId, ['sent']);
    const sid = kit.fake.sendsTo(customer)[0]!.providerId;
    const res = await kit.twilioWebhook(kit.inboxes.tenantBTwilio, { MessageSid: sid, MessageStatus: 'failed', ErrorCode: '30003' });
    expect(res.status).toBe(200);
    expect((await kit.t.db.selectFrom('messages').select('status').where('id', '=', replyId).executeTakeFirstOrThrow()).status).toBe('sent');
  });
});

describe('test connection', () => {
  it("reaches each provider's account resource with the inbox's credentials, and says what is wrong when it cannot", async () => {
    for (const inbox of [kit.inboxes.twilio, kit.inboxes.sinch, kit.inboxes.vonage]) {
      const settings = smsSettingsOf(inbox.settings)!;
      expect(await adapter.testConnection!(settings, true)).toMatchObject({ ok: true });
    }
    expect(kit.fake.requests).toEqual(expect.arrayContaining([`GET /2010-04-01/Accounts/${ACCOUNTS.twilio.accountSid}.json`, `GET /xms/v1/${ACCOUNTS.sinch.servicePlanId}/batches`, 'GET /account/get-balance']));
    const twilio = smsSettingsOf(kit.inboxes.twilio.settings)!;
    expect(await adapter.testConnection!({ ...twilio, twilio: { ...twilio.twilio!, authToken: 'wrong' } }, true)).toEqual({ ok: false, message: 'Twilio HTTP 401: Authenticate (Twilio error 20003)' });
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const down = await adapter.testConnection!({ ...twilio, twilio: { ...twilio.twilio!, baseUrl: `http://127.0.0.1:${closedPort}` } }, true);
    expect(down).toEqual({ ok: false, message: `127.0.0.1:${closedPort} unreachable: ECONNREFUSED` });
  });

  it("refuses a provider address inside the server's network (a tenant's base URL at the metadata service or loopback) for good, and nothing reaches it", async () => {
    const before = kit.fake.requests.length;
    for (const inbox of [kit.inboxes.twilio, kit.inboxes.sinch, kit.inboxes.vonage]) {
      // The fake provider listens on 127.0.0.1: without PARLEY_PRIVATE_TARGETS it is inside.
      const settings = smsSettingsOf(inbox.settings)!;
      expect(await adapter.testConnection!(settings, false)).toMatchObject({ ok: false, message: expect.stringContaining('refused: 127.0.0.1: 127.0.0.1 is a private or reserved address') });
      const sent = await adapter.send(settings, { messageId: 'msg_inside', conversationId: 'cnv_x', to: { handle: '+5215511112222', name: null }, subject: null, text: 'hi', attachments: [], replyTo: null }, false);
      expect(sent).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('refused') });
    }
    const twilio = smsSettingsOf(kit.inboxes.twilio.settings)!;
    const metadata = await adapter.testConnection!({ ...twilio, twilio: { ...twilio.twilio!, baseUrl: 'http://169.254.169.254/latest/meta-data' } }, ['127.0.0.1']);
    expect(metadata).toMatchObject({ ok: false, message: expect.stringContaining('169.254.169.254 is a private or reserved address') });
    expect(kit.fake.requests.length).toBe(before);
  });
});
