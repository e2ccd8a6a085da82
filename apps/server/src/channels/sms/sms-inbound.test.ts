import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../../test/http.ts';
import type { InboxRow } from '../../db/schema.ts';
import { ACCOUNTS, NUMBERS, VONAGE_SIGNATURE_SECRET, startSmsKit, type SmsKit } from './testing/sms-test-kit.ts';
import { signLikeVonage } from './testing/fake-sms-provider.ts';
import { flushStaleParts } from './long-sms.ts';

// Provider webhooks into SMS inboxes: each provider's inbound shape becomes a routed
// conversation, retries store nothing new, and every refused request says why, stores nothing
// and leaves a channel error for the admin.

let kit: SmsKit;

beforeAll(async () => {
  kit = await startSmsKit();
});
afterAll(async () => {
  await kit?.stop();
});

const messagesOf = (inbox: InboxRow) =>
  kit.t.db.selectFrom('messages as m').innerJoin('conversations as c', 'c.id', 'm.conversation_id').selectAll('m').where('c.inbox_id', '=', inbox.id).where('m.tenant_id', '=', inbox.tenant_id).execute();
const errorsOf = (inbox: InboxRow) => kit.t.db.selectFrom('channel_errors').selectAll().where('inbox_id', '=', inbox.id).orderBy('created_at', 'desc').execute();

async function expectRoutedConversation(inbox: InboxRow, from: string, text: string) {
  const stored = (await messagesOf(inbox)).filter((m) => m.content === text);
  expect(stored).toHaveLength(1);
  const message = stored[0]!;
  expect(message).toMatchObject({ direction: 'in', sender_type: 'contact', status: 'received' });
  const conversation = await kit.api('GET', `/conversations/${message.conversation_id}`);
  expect(conversation.body).toMatchObject({ inboxId: inbox.id, channelType: 'sms', status: 'open' });
  const handle = await kit.t.db.selectFrom('contact_handles').selectAll().where('tenant_id', '=', inbox.tenant_id).where('channel_type', '=', 'sms').where('handle', '=', from).executeTakeFirstOrThrow();
  expect(handle.contact_id).toBe(message.sender_id);
  // Agents see the number (the contact has no name yet).
  expect(await kit.t.db.selectFrom('contacts').select('phone').where('id', '=', handle.contact_id).executeTakeFirstOrThrow()).toEqual({ phone: from });
  // Routed like web chat: in the tenant's queue, waiting for an agent.
  const routing = await kit.api('GET', `/conversations/${message.conversation_id}/routing`);
  expect(routing.body.queueId).toBeTruthy();
  expect(['waiting', 'offered', 'assigned']).toContain(routing.body.state);
  return message;
}

describe('inbound SMS by provider webhooks', () => {
  it('Twilio: a form-encoded, signed message becomes a routed conversation; the answer is empty TwiML', async () => {
    const res = await kit.twilioWebhook(kit.inboxes.twilio, { MessageSid: 'SMin0001', AccountSid: ACCOUNTS.twilio.accountSid, From: '+5215512340001', To: NUMBERS.twilio, Body: '¿Tienen envío a Monterrey?', NumMedia: '0' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(res.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    const message = await expectRoutedConversation(kit.inboxes.twilio, '+5215512340001', '¿Tienen envío a Monterrey?');
    const channel = await kit.api('GET', `/messages/${message.id}/channel`);
    expect(channel.body).toMatchObject({ externalId: 'SMin0001', from: '+5215512340001', to: NUMBERS.twilio });
  });

  it('Twilio MMS: the media is fetched with the account credentials and stored as an attachment', async () => {
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('fake jpeg body')]);
    kit.fake.media.set('ME0001', { contentType: 'image/jpeg', content: jpeg });
    const res = await kit.twilioWebhook(kit.inboxes.twilio, {
      MessageSid: 'MMin0001',
      AccountSid: ACCOUNTS.twilio.accountSid,
      From: '+5215512340002',
      To: NUMBERS.twilio,
      Body: 'Mira la foto',
      NumMedia: '1',
      MediaUrl0: `${kit.fake.baseUrl}/media/ME0001`,
      MediaContentType0: 'image/jpeg',
    });
    expect(res.status).toBe(200);
    const message = await expectRoutedConversation(kit.inboxes.twilio, '+5215512340002', 'Mira la foto');
    expect(message.attachments).toHaveLength(1);
    const file = await fetch(`${kit.t.baseUrl}/api/v1/attachments/${message.attachments[0]!.id}`, { headers: { authorization: `Bearer ${kit.a.apiKey}` } });
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer())).toEqual(jpeg);
  });

  it('MMS media that cannot be fetched: the text is stored all the same, the URL kept, the admin told', async () => {
    const missing = `${kit.fake.baseUrl}/media/ME-gone`;
    const res = await kit.twilioWebhook(kit.inboxes.twilio, { MessageSid: 'MMin0002', AccountSid: ACCOUNTS.twilio.accountSid, From: '+5215512340006', To: NUMBERS.twilio, Body: 'La foto no llega', NumMedia: '1', MediaUrl0: missing, MediaContentType0: 'image/png' });
    expect(res.status).toBe(200);
    const message = await expectRoutedConversation(kit.inboxes.twilio, '+5215512340006', 'La foto no llega');
    expect(message.attachments).toEqual([]);
    const channel = await kit.api('GET', `/messages/${message.id}/channel`);
    expect(channel.body.details).toMatchObject({ media: [missing], mediaNotFetched: 1, mediaProblems: [`media 1 (${missing}): HTTP 404`] });
    expect((await errorsOf(kit.inboxes.twilio))[0]).toMatchObject({ kind: 'media', message: `twilio MMin0002: media 1 (${missing}): HTTP 404` });
  });

  it('MMS media inside the server network (cloud metadata, another loopback host) is not fetched: the text is stored, the admin told why', async () => {
    const port = new URL(kit.fake.baseUrl).port;
    const inside = ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', `http://127.0.0.2:${port}/media/ME0001`];
    const res = await kit.twilioWebhook(kit.inboxes.twilio, {
      MessageSid: 'MMin0003',
      AccountSid: ACCOUNTS.twilio.accountSid,
      From: '+5215512340007',
      To: NUMBERS.twilio,
      Body: 'Una foto rara',
      NumMedia: '2',
      MediaUrl0: inside[0]!,
      MediaContentType0: 'image/png',
      MediaUrl1: inside[1]!,
      MediaContentType1: 'image/jpeg',
    });
    expect(res.status).toBe(200);
    const message = await expectRoutedConversation(kit.inboxes.twilio, '+5215512340007', 'Una foto rara');
    expect(message.attachments).toEqual([]);
    const channel = await kit.api('GET', `/messages/${message.id}/channel`);
    expect(channel.body.details).toMatchObject({ media: inside, mediaNotFetched: 2 });
    expect(channel.body.details.mediaProblems).toEqual([
      `media 1 (${inside[0]}): 169.254.169.254: 169.254.169.254 is a private or reserved address`,
      `media 2 (${inside[1]}): 127.0.0.2: 127.0.0.2 is a private or reserved address`,
    ]);
  });

  it('Vonage: an inbound POSTed as JSON is read the same way', async () => {
    const now = String(Math.floor(Date.now() / 1000));
    const fields = { msisdn: '5511988880007', to: NUMBERS.vonage.slice(1), messageId: '1700000000000AB7', text: 'Por JSON', type: 'text', timestamp: now, nonce: 'n-json' };
    const body = { ...fields, sig: signLikeVonage(fields, VONAGE_SIGNATURE_SECRET, 'sha256') };
    const res = await call(kit.t.baseUrl, 'POST', `/api/v1/channels/sms/${kit.inboxes.vonage.public_id}/webhook`, { body });
    expect(res.status, res.text).toBe(200);
    await expectRoutedConversation(kit.inboxes.vonage, '+5511988880007', 'Por JSON');
  });

  it('Sinch: an mo_text with the callback bearer token becomes a routed conversation', async () => {
    const res = await kit.sinchWebhook(kit.inboxes.sinch, { type: 'mo_text', id: '01FC66621VHDBN119Z8PMV1QPQ', from: '5215512340003', to: NUMBERS.sinch.slice(1), body: 'Hola, ¿siguen abiertos?', received_at: '2026-11-22T10:00:00.000Z', operator_id: '33410' });
    expect(res.status).toBe(200);
    await expectRoutedConversation(kit.inboxes.sinch, '+5215512340003', 'Hola, ¿siguen abiertos?');
  });

  it('Sinch: a text with a NUL and half an emoji (lone surrogate) is stored, with U+FFFD for the half, not refused at every retry', async () => {
    const text = 'Hola\u0000 ¿sigue\uD83D en pie?';
    const delivery = { type: 'mo_text', id: '01FC66621VHDBN119Z8PMV1QNUL', from: '5215512340010', to: NUMBERS.sinch.slice(1), body: text, received_at: '2026-11-22T10:00:00.000Z' };
    const res = await kit.sinchWebhook(kit.inboxes.sinch, delivery);
    expect(res.status, res.text).toBe(200);
    await expectRoutedConversation(kit.inboxes.sinch, '+5215512340010', 'Hola ¿sigue\uFFFD en pie?');
    // The provider retrying finds it stored.
    expect((await kit.sinchWebhook(kit.inboxes.sinch, delivery)).status).toBe(200);
    expect((await messagesOf(kit.inboxes.sinch)).filter((m) => m.content.startsWith('Hola ¿sigue'))).toHaveLength(1);
  });

  it('Vonage: a signed GET inbound becomes a routed conversation', async () => {
    const res = await kit.vonageWebhook(kit.inboxes.vonage, { msisdn: '5511988880004', to: NUMBERS.vonage.slice(1), messageId: '1700000000000AB1', text: 'Olá, quero falar com alguém', type: 'text', 'api-key': ACCOUNTS.vonage.apiKey, 'message-timestamp': '2026-11-22 10:00:00' });
    expect(res.status, res.text).toBe(200);
    await expectRoutedConversation(kit.inboxes.vonage, '+5511988880004', 'Olá, quero falar com alguém');
  });

  it('Vonage: a long text delivered part by part, out of order and with a part sent twice, is stored once, whole', async () => {
    const base = { msisdn: '5511988880008', to: NUMBERS.vonage.slice(1), type: 'text', 'api-key': ACCOUNTS.vonage.apiKey, concat: 'true', 'concat-ref': '108', 'concat-total': '3' };
    const parts = ['Bom dia! Comprei o modelo azul na semana passada e ', 'ele chegou com a tampa quebrada. Posso trocar ', 'na loja do centro?'];
    const send = (n: number, id: string) => kit.vonageWebhook(kit.inboxes.vonage, { ...base, messageId: id, 'concat-part': String(n), text: parts[n - 1]! });
    const flushJobs = () => kit.t.db.selectFrom('jobs').select(['id', 'run_at', 'payload']).where('kind', '=', 'sms.flush-parts').where('tenant_id', '=', kit.inboxes.vonage.tenant_id).execute();
    const jobsBefore = new Set((await flushJobs()).map((j) => j.id));
    expect((await send(3, '1700000000000C03')).status).toBe(200);
    expect((await send(1, '1700000000000C01')).status).toBe(200);
    // Nothing is stored while a part is missing.
    expect((await messagesOf(kit.inboxes.vonage)).filter((m) => m.sender_name === '+5511988880008' || m.content.includes('modelo azul'))).toEqual([]);
    expect((await send(1, '1700000000000C01')).status).toBe(200);
    expect((await send(2, '1700000000000C02')).status).toBe(200);
    const message = await expectRoutedConversation(kit.inboxes.vonage, '+5511988880008', parts.join(''));
    // The part sent again after the text was stored is recognized, not kept as a new text.
    expect((await send(2, '1700000000000C02')).status).toBe(200);
    expect((await messagesOf(kit.inboxes.vonage)).filter((m) => m.conversation_id === message.conversation_id)).toHaveLength(1);
    // The part that began the set left one job that, once the wait is over, stores whatever never completed.
    const jobs = (await flushJobs()).filter((j) => !jobsBefore.has(j.id));
    expect(jobs).toHaveLength(1);
    for (const job of jobs) {
      expect(job.payload).toEqual({ inboxId: kit.inboxes.vonage.id });
      expect(new Date(job.run_at).getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);
    }
  });

  it('Vonage: a long text whose parts hold a NUL and half an emoji is kept part by part and stored whole, not refused at every retry', async () => {
    const base = { msisdn: '5511988880011', to: NUMBERS.vonage.slice(1), type: 'text', 'api-key': ACCOUNTS.vonage.apiKey, concat: 'true', 'concat-ref': '11', 'concat-total': '2' };
    const first = await kit.vonageWebhook(kit.inboxes.vonage, { ...base, messageId: '1700000000000E01', 'concat-part': '1', text: 'Oi\u0000 tudo ' });
    expect(first.status, first.text).toBe(200);
    const second = await kit.vonageWebhook(kit.inboxes.vonage, { ...base, messageId: '1700000000000E02', 'concat-part': '2', text: 'bem\uD83D?' });
    expect(second.status, second.text).toBe(200);
    await expectRoutedConversation(kit.inboxes.vonage, '+5511988880011', 'Oi tudo bem\uFFFD?');
  });

  it('Vonage: a long text whose last part never comes is stored with a mark where it is missing once the wait is over', async () => {
    const base = { msisdn: '5511988880009', to: NUMBERS.vonage.slice(1), type: 'text', 'api-key': ACCOUNTS.vonage.apiKey, concat: 'true', 'concat-ref': '7', 'concat-total': '2' };
    expect((await kit.vonageWebhook(kit.inboxes.vonage, { ...base, messageId: '1700000000000D01', 'concat-part': '1', text: 'Preciso da segunda via do boleto, ' })).status).toBe(200);
    // The wait is over (the job that does this runs PARTS_WAIT_MS later).
    expect(await flushStaleParts(kit.t.parley.deps, kit.inboxes.vonage, 0)).toBe(1);
    const stored = await expectRoutedConversation(kit.inboxes.vonage, '+5511988880009', 'Preciso da segunda via do boleto,  […]');
    expect((await kit.api('GET', `/messages/${stored.id}/channel`)).body.details).toMatchObject({ parts: 2, missingParts: [2] });
    // A part numbered beyond the total is refused.
    const bad = await kit.vonageWebhook(kit.inboxes.vonage, { ...base, messageId: '1700000000000D03', 'concat-part': '3', text: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/concat-part between 1 and concat-total/);
  });

  it('a provider retrying the same message, one after the other or at once, stores it once', async () => {
    const fields = { MessageSid: 'SMretry0001', AccountSid: ACCOUNTS.twilio.accountSid, From: '+5215512340005', To: NUMBERS.twilio, Body: 'Solo una vez' };
    expect((await kit.twilioWebhook(kit.inboxes.twilio, fields)).status).toBe(200);
    expect((await kit.twilioWebhook(kit.inboxes.twilio, fields)).status).toBe(200);
    const concurrent = { ...fields, MessageSid: 'SMretry0002', Body: 'Dos copias a la vez' };
    const answers = await Promise.all([kit.twilioWebhook(kit.inboxes.twilio, concurrent), kit.twilioWebhook(kit.inboxes.twilio, concurrent), kit.twilioWebhook(kit.inboxes.twilio, concurrent)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const sinchCopy = { type: 'mo_text', id: 'sinch-retry-1', from: '5215512340005', to: NUMBERS.sinch.slice(1), body: 'Sinch retry' };
    await Promise.all([kit.sinchWebhook(kit.inboxes.sinch, sinchCopy), kit.sinchWebhook(kit.inboxes.sinch, sinchCopy)]);
    const all = [...(await messagesOf(kit.inboxes.twilio)), ...(await messagesOf(kit.inboxes.sinch))];
    expect(all.filter((m) => m.content === 'Solo una vez')).toHaveLength(1);
    expect(all.filter((m) => m.content === 'Dos copias a la vez')).toHaveLength(1);
    expect(all.filter((m) => m.content === 'Sinch retry')).toHaveLength(1);
    // The same sender's three texts are one conversation, not three.
    const conversations = await kit.t.db.selectFrom('conversations').select('id').where('inbox_id', '=', kit.inboxes.twilio.id).where('contact_id', '=', all.find((m) => m.content === 'Solo una vez')!.sender_id!).execute();
    expect(conversations).toHaveLength(1);
  });

  it('a burst from new senders at once (batched together): one contact and one conversation per sender, every text once, each conversation queued', async () => {
    const senders = ['+5215512341001', '+5215512341002', '+5215512341003'];
    const deliveries = senders.flatMap((from, s) => [0, 1, 2].map((n) => ({ MessageSid: `SMburst${s}${n}`, AccountSid: ACCOUNTS.twilio.accountSid, From: from, To: NUMBERS.twilio, Body: `burst ${s}.${n}` })));
    // Each delivery twice (a provider retrying while the first is in flight).
    const answers = await Promise.all([...deliveries, ...deliveries].map((fields) => kit.twilioWebhook(kit.inboxes.twilio, fields)));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const stored = (await messagesOf(kit.inboxes.twilio)).filter((m) => m.content.startsWith('burst '));
    expect(stored.map((m) => m.content).sort()).toEqual(deliveries.map((d) => d.Body).sort());
    for (const [s, from] of senders.entries()) {
      const handles = await kit.t.db.selectFrom('contact_handles').select('contact_id').where('channel_type', '=', 'sms').where('handle', '=', from).execute();
      expect(handles).toHaveLength(1);
      const conversations = await kit.t.db.selectFrom('conversations').select(['id', 'routing_state', 'queue_id']).where('inbox_id', '=', kit.inboxes.twilio.id).where('contact_id', '=', handles[0]!.contact_id).execute();
      expect(conversations).toHaveLength(1);
      expect(conversations[0]!.routing_state).toBe('waiting');
      expect(conversations[0]!.queue_id).not.toBeNull();
      const mine = stored.filter((m) => m.content.startsWith(`burst ${s}.`));
      expect(new Set(mine.map((m) => m.conversation_id))).toEqual(new Set([conversations[0]!.id]));
      expect(mine.every((m) => m.sender_id === handles[0]!.contact_id)).toBe(true);
    }
  });
});

describe('refused webhooks: a precise 4xx, nothing stored, the reason kept for the admin', () => {
  async function expectRefused(inbox: InboxRow, send: () => Promise<{ status: number; body: any }>, status: number, code: string, message: RegExp) {
    const before = (await messagesOf(inbox)).length;
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toMatch(message);
    expect((await messagesOf(inbox)).length).toBe(before);
    const [latest] = await errorsOf(inbox);
    expect(latest).toMatchObject({ kind: 'webhook.rejected', tenant_id: inbox.tenant_id });
    expect(latest!.message).toMatch(message);
  }
  const twilioFields = { MessageSid: 'SMbad0001', AccountSid: ACCOUNTS.twilio.accountSid, From: '+5215512349999', To: NUMBERS.twilio, Body: 'should not be stored' };

  it('Twilio: bad signature, missing signature, missing MessageSid', async () => {
    await expectRefused(kit.inboxes.twilio, () => kit.twilioWebhook(kit.inboxes.twilio, twilioFields, { authToken: 'not-the-token' }), 401, 'PARLEY_ERR_UNAUTHENTICATED', /bad X-Twilio-Signature/);
    await expectRefused(kit.inboxes.twilio, () => kit.twilioWebhook(kit.inboxes.twilio, twilioFields, { authToken: null }), 401, 'PARLEY_ERR_UNAUTHENTICATED', /missing X-Twilio-Signature header/);
    const { MessageSid: _, ...noSid } = twilioFields;
    await expectRefused(kit.inboxes.twilio, () => kit.twilioWebhook(kit.inboxes.twilio, noSid), 400, 'PARLEY_ERR_BAD_REQUEST', /MessageSid missing/);
  });

  it('Sinch: wrong token, missing token, malformed JSON', async () => {
    const mo = { type: 'mo_text', id: 'sinch-bad-1', from: '5215512349999', to: NUMBERS.sinch.slice(1), body: 'should not be stored' };
    await expectRefused(kit.inboxes.sinch, () => kit.sinchWebhook(kit.inboxes.sinch, mo, { token: 'wrong' }), 401, 'PARLEY_ERR_UNAUTHENTICATED', /wrong Sinch callback token/);
    await expectRefused(kit.inboxes.sinch, () => kit.sinchWebhook(kit.inboxes.sinch, mo, { token: null }), 401, 'PARLEY_ERR_UNAUTHENTICATED', /missing Authorization header/);
    await expectRefused(kit.inboxes.sinch, () => kit.sinchWebhook(kit.inboxes.sinch, null, { raw: '{"type":"mo_text","id":' }), 400, 'PARLEY_ERR_BAD_REQUEST', /not valid JSON/);
  });

  it('Vonage: unsigned, wrongly signed, stale', async () => {
    const fields = { msisdn: '5511988889999', to: NUMBERS.vonage.slice(1), messageId: 'VBAD0001', text: 'should not be stored', type: 'text' };
    await expectRefused(kit.inboxes.vonage, () => kit.vonageWebhook(kit.inboxes.vonage, fields, { sign: false }), 401, 'PARLEY_ERR_UNAUTHENTICATED', /missing sig/);
    await expectRefused(kit.inboxes.vonage, () => kit.vonageWebhook(kit.inboxes.vonage, fields, { secret: 'not-the-secret' }), 401, 'PARLEY_ERR_UNAUTHENTICATED', /bad sig/);
    await expectRefused(kit.inboxes.vonage, () => kit.vonageWebhook(kit.inboxes.vonage, fields, { timestamp: Math.floor(Date.now() / 1000) - 3600 }), 401, 'PARLEY_ERR_UNAUTHENTICATED', /more than 5 minutes/);
  });

  it('an unknown inbox, or the public id of an inbox that is not SMS, is a 404', async () => {
    const unknown = await call(kit.t.baseUrl, 'POST', '/api/v1/channels/sms/wc_doesnotexist/webhook', { raw: 'MessageSid=SM1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toEqual({ code: 'PARLEY_ERR_NOT_FOUND', message: 'unknown SMS inbox' });
    const chat = await kit.api('POST', '/inboxes', { name: 'Chat', channelType: 'webchat' });
    const notSms = await call(kit.t.baseUrl, 'POST', `/api/v1/channels/sms/${chat.body.publicId}/webhook`, { raw: 'MessageSid=SM1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(notSms.status).toBe(404);
    expect(notSms.body.error.message).toBe('unknown SMS inbox');
  });
});

describe('tenant isolation', () => {
  it("tenant B's token cannot deliver into tenant A's inbox, and B's URL only ever reaches B's inbox", async () => {
    const fields = { MessageSid: 'SMiso0001', From: '+5215512348888', To: NUMBERS.twilio, Body: 'from B into A?' };
    // Signed with B's auth token, posted to A's inbox URL.
    const intoA = await kit.twilioWebhook(kit.inboxes.twilio, fields, { authToken: 'twilio-auth-token-b' });
    expect(intoA.status).toBe(401);
    // Posted to B's URL with A's number as the recipient: it lands in B's inbox, never in A's.
    const intoB = await kit.twilioWebhook(kit.inboxes.tenantBTwilio, fields);
    expect(intoB.status).toBe(200);
    const anyTenant = await kit.t.db.selectFrom('messages').select(['tenant_id', 'conversation_id']).where('content', '=', 'from B into A?').execute();
    expect(anyTenant).toHaveLength(1);
    expect(anyTenant[0]!.tenant_id).toBe(kit.b.tenantId);
    expect((await kit.api('GET', `/conversations/${anyTenant[0]!.conversation_id}`)).status).toBe(404);
  });
});
