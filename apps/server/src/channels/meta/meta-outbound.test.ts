import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { call } from '../../../test/http.ts';
import { loadFixture } from './fixtures/load-fixture.ts';
import { sign, startMetaWorld, type MetaWorld, type TestInbox } from './testing/meta-test-kit.ts';
import { GRAPH_FAILURES } from './testing/fake-graph.ts';
import { whatsAppAdapter, messengerAdapter } from './adapter.ts';
import { sendMetaMessage } from './send-meta-message.ts';
import type { MetaSettings } from './settings.ts';

// Agents' replies leave through the durable send job to the fake Graph API: the Cloud API and
// Send API shapes, the customer-service window and templates, retries on 5xx and rate limits,
// Meta's error on the message for a definitive refusal, delivery statuses moving forward only.

let w: MetaWorld;
let seq = 0;
const uid = (p: string) => `${p}${Date.now()}${(seq += 1)}`;
const HOUR = 3_600_000;

beforeAll(async () => {
  w = await startMetaWorld();
});
afterAll(async () => {
  await w?.t.stop();
  await w?.graph.close();
});

const api = (inbox: TestInbox, method: string, path: string, body?: unknown) => call(w.t.baseUrl, method, path, { auth: { apiKey: inbox.tenant.apiKey }, body });

/** A customer writes on WhatsApp; returns the conversation and the customer's wamid. */
async function customerWritesOnWhatsApp(waId: string) {
  const wa = w.inboxes.wa;
  const wamid = uid('wamid.in');
  const body = loadFixture('whatsapp-text', { WABA_ID: '1', PHONE_NUMBER_ID: wa.accountId, WA_ID: waId, WAMID: wamid });
  expect((await w.deliver(`/channels/meta/${wa.publicId}/webhook`, body, sign(body, wa.appSecret))).status).toBe(200);
  const row = await w.t.db.selectFrom('messages').select('conversation_id').where('source_id', 'like', `%${wamid}`).executeTakeFirstOrThrow();
  return { conversationId: row.conversation_id, wamid };
}

async function customerWritesOnPage(inbox: TestInbox, handle: string) {
  const mid = uid('m_in');
  const body = inbox.channel === 'instagram'
    ? loadFixture('instagram-text', { ACCOUNT_ID: inbox.accountId, IGSID: handle, MID: mid, REPLY_TO: 'x' })
    : loadFixture('messenger-text', { ACCOUNT_ID: inbox.accountId, PSID: handle, MID: mid });
  expect((await w.deliver('/channels/meta/webhook', body, sign(body, inbox.appSecret))).status).toBe(200);
  return (await w.t.db.selectFrom('messages').select('conversation_id').where('source_id', 'like', `%${mid}`).executeTakeFirstOrThrow()).conversation_id;
}

/** Time passes for one conversation: its customer messages are moved back by this much. */
async function ageCustomerMessages(conversationId: string, ms: number) {
  const rows = await w.t.db.selectFrom('messages').select(['id', 'created_at']).where('conversation_id', '=', conversationId).where('direction', '=', 'in').execute();
  for (const r of rows) await w.t.db.updateTable('messages').set({ created_at: new Date(r.created_at.getTime() - ms) }).where('id', '=', r.id).execute();
}

async function settled(messageId: string, statuses = ['sent', 'failed']) {
  return w.waitFor(`message ${messageId} ${statuses.join('/')}`, async () => {
    const row = await w.t.db.selectFrom('messages').selectAll().where('id', '=', messageId).executeTakeFirstOrThrow();
    return statuses.includes(row.status) ? row : null;
  });
}

const externalIdOf = async (messageId: string) => (await w.t.db.selectFrom('channel_messages').select('external_id').where('message_id', '=', messageId).executeTakeFirstOrThrow()).external_id!;
const statusOf = async (messageId: string) => (await w.t.db.selectFrom('messages').select(['status', 'error']).where('id', '=', messageId).executeTakeFirstOrThrow());

function sendStatus(outId: string, status: string, waId: string) {
  const wa = w.inboxes.wa;
  const body = loadFixture('whatsapp-status', { WABA_ID: '1', PHONE_NUMBER_ID: wa.accountId, WA_ID: waId, OUT_ID: outId, STATUS: status });
  return w.deliver('/channels/meta/webhook', body, sign(body, wa.appSecret));
}

describe('WhatsApp replies', () => {
  it('sends a reply inside the window as text with the context of the customer message, then follows sent → delivered → read, never backwards', async () => {
    const waId = '5215520000001';
    const { conversationId, wamid } = await customerWritesOnWhatsApp(waId);
    const reply = await api(w.inboxes.wa, 'POST', `/conversations/${conversationId}/messages`, { content: 'Ya revisamos tu pedido 4471.' });
    expect(reply.status, reply.text).toBe(201);
    expect(reply.body.status).toBe('queued');
    expect(await settled(reply.body.id)).toMatchObject({ status: 'sent', error: null });

    const request = w.graph.sent().find((r) => r.json?.to === waId)!;
    expect(request.path).toBe(`/v21.0/${w.inboxes.wa.accountId}/messages`);
    expect(request.authorization).toBe(`Bearer ${w.inboxes.wa.accessToken}`);
    expect(request.json).toEqual({ messaging_product: 'whatsapp', recipient_type: 'individual', to: waId, context: { message_id: wamid }, type: 'text', text: { preview_url: false, body: 'Ya revisamos tu pedido 4471.' } });

    const out = await externalIdOf(reply.body.id);
    expect(out).toMatch(/^wamid\./);
    // Meta may deliver statuses out of order: read, then a late delivered and sent.
    expect((await sendStatus(out, 'delivered', waId)).status).toBe(200);
    expect((await statusOf(reply.body.id)).status).toBe('delivered');
    await sendStatus(out, 'read', waId);
    expect((await statusOf(reply.body.id)).status).toBe('read');
    await sendStatus(out, 'delivered', waId);
    await sendStatus(out, 'sent', waId);
    expect(await statusOf(reply.body.id)).toEqual({ status: 'read', error: null });
    // The agent app's channel view shows the same.
    const channel = await api(w.inboxes.wa, 'GET', `/messages/${reply.body.id}/channel`);
    expect(channel.body).toMatchObject({ status: 'read', externalId: out, to: waId });
  });

  it('marks a message failed with the reason of a failed status', async () => {
    const waId = '5215520000002';
    const { conversationId } = await customerWritesOnWhatsApp(waId);
    const reply = await api(w.inboxes.wa, 'POST', `/conversations/${conversationId}/messages`, { content: '¿Sigues ahí?' });
    await settled(reply.body.id);
    const out = await externalIdOf(reply.body.id);
    const wa = w.inboxes.wa;
    const body = loadFixture('whatsapp-status-failed', { WABA_ID: '1', PHONE_NUMBER_ID: wa.accountId, WA_ID: waId, OUT_ID: out });
    expect((await w.deliver('/channels/meta/webhook', body, sign(body, wa.appSecret))).status).toBe(200);
    expect(await statusOf(reply.body.id)).toEqual({ status: 'failed', error: "131026 Message undeliverable: The recipient's phone number is not a WhatsApp number." });
  });

  it('uploads a file to the number\'s media endpoint and sends it by id with the text as caption', async () => {
    const waId = '5215520000003';
    const { conversationId, wamid } = await customerWritesOnWhatsApp(waId);
    const form = new FormData();
    // A real PNG header: Parley checks the bytes of an upload against its declared type.
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('receipt')]);
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'recibo.png');
    const uploaded = await fetch(`${w.t.baseUrl}/api/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${w.inboxes.wa.tenant.apiKey}` }, body: form });
    expect(uploaded.status).toBe(201);
    const attachment = (await uploaded.json()) as { id: string };
    const reply = await api(w.inboxes.wa, 'POST', `/conversations/${conversationId}/messages`, { content: 'Aquí tu recibo', attachmentIds: [attachment.id] });
    expect(reply.status, reply.text).toBe(201);
    expect(await settled(reply.body.id)).toMatchObject({ status: 'sent' });
    const upload = w.graph.requests.find((r) => r.path.endsWith('/media') && (r.form?.file as { filename: string } | undefined)?.filename === 'recibo.png')!;
    expect(upload.form).toMatchObject({ messaging_product: 'whatsapp', type: 'image/png' });
    const sent = w.graph.sent().find((r) => r.json?.to === waId && r.json?.type === 'image')!;
    expect(sent.json).toMatchObject({ type: 'image', context: { message_id: wamid }, image: { caption: 'Aquí tu recibo' } });
    expect(w.graph.requests.some((r) => r.method === 'POST' && r.path.endsWith('/media') && (sent.json!.image as { id: string }).id.length > 0)).toBe(true);
    // One message to WhatsApp: the text went as the caption.
    expect(w.graph.sent().filter((r) => r.json?.to === waId)).toHaveLength(1);
  });

  it('retries a Graph 500 and a rate-limit code until the message is sent', async () => {
    for (const failure of [GRAPH_FAILURES.serverError, GRAPH_FAILURES.rateLimited]) {
      const waId = `52155200001${failure.code % 100}`;
      const { conversationId } = await customerWritesOnWhatsApp(waId);
      w.graph.failNext(failure, 1, `/${w.inboxes.wa.accountId}/messages`);
      const reply = await api(w.inboxes.wa, 'POST', `/conversations/${conversationId}/messages`, { content: `try again (${failure.code})` });
      expect(await settled(reply.body.id)).toMatchObject({ status: 'sent', error: null });
      // The failed attempt and the one that went through.
      expect(w.graph.requests.filter((r) => r.json?.to === waId && r.path.endsWith('/messages')).length).toBeGreaterThanOrEqual(2);
    }
  });

  it("fails at once on a definitive 400, with Meta's error message on the message", async () => {
    const waId = '5215520000005';
    const { conversationId } = await customerWritesOnWhatsApp(waId);
    w.graph.failNext(GRAPH_FAILURES.invalidRecipient, 1, `/${w.inboxes.wa.accountId}/messages`);
    const reply = await api(w.inboxes.wa, 'POST', `/conversations/${conversationId}/messages`, { content: 'hello?' });
    expect(await settled(reply.body.id)).toMatchObject({ status: 'failed', error: 'Graph API error 131030: Recipient phone number not in allowed list' });
    expect(w.graph.requests.filter((r) => r.json?.to === waId)).toHaveLength(1);
    const shown = await api(w.inboxes.wa, 'GET', `/messages/${reply.body.id}/channel`);
    expect(shown.body).toMatchObject({ status: 'failed', error: 'Graph API error 131030: Recipient phone number not in allowed list' });
  });
});

describe('the 24-hour window and templates', () => {
  it('refuses free text after 24 hours with 422 and sends an approved template as a template', async () => {
    const waId = '5215520000010';
    const { conversationId } = await customerWritesOnWhatsApp(waId);
    await ageCustomerMessages(conversationId, 25 * HOUR);
    const before = w.graph.sent().filter((r) => r.json?.to === waId).length;
    const refused = await api(w.inboxes.wa, 'POST', `/conversations/${conversationId}/messages`, { content: 'are you there?' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('PARLEY_ERR_CHANNEL_WINDOW_CLOSED');
    // Nothing stored for the refused text.
    expect((await w.t.db.selectFrom('messages').select('id').where('conversation_id', '=', conversationId).where('content', '=', 'are you there?').execute())).toHaveLength(0);

    const template = await api(w.inboxes.wa, 'POST', `/conversations/${conversationId}/template-messages`, { name: 'order_update', language: 'es_MX', parameters: ['Lucía', '4471'] });
    expect(template.status, template.text).toBe(201);
    expect(template.body.content).toBe('Hola Lucía, tu pedido 4471 está en camino.');
    expect(await settled(template.body.id)).toMatchObject({ status: 'sent' });
    const sent = w.graph.sent().filter((r) => r.json?.to === waId);
    expect(sent).toHaveLength(before + 1);
    expect(sent.at(-1)!.json).toMatchObject({
      messaging_product: 'whatsapp',
      to: waId,
      type: 'template',
      template: { name: 'order_update', language: { code: 'es_MX' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Lucía' }, { type: 'text', text: '4471' }] }] },
    });
    expect(sent.at(-1)!.json!.text).toBeUndefined();
    const channel = await api(w.inboxes.wa, 'GET', `/messages/${template.body.id}/channel`);
    expect(channel.body.details).toEqual({ template: { name: 'order_update', language: 'es_MX', parameters: ['Lucía', '4471'] } });
  });

  it('checks the template: known to the inbox, the right number of parameters, WhatsApp only, the own tenant only', async () => {
    const waId = '5215520000011';
    const { conversationId } = await customerWritesOnWhatsApp(waId);
    const unknown = await api(w.inboxes.wa, 'POST', `/conversations/${conversationId}/template-messages`, { name: 'order_update', language: 'pt_BR', parameters: ['a', 'b'] });
    expect(unknown).toMatchObject({ status: 400, body: { error: { code: 'PARLEY_ERR_VALIDATION', message: 'the inbox has no approved template order_update in pt_BR' } } });
    const count = await api(w.inboxes.wa, 'POST', `/conversations/${conversationId}/template-messages`, { name: 'order_update', language: 'es_MX', parameters: ['only one'] });
    expect(count).toMatchObject({ status: 400, body: { error: { message: 'the template takes 2 parameters, 1 given' } } });
    const fbConversation = await customerWritesOnPage(w.inboxes.fb, `26${Date.now()}`);
    const notWhatsApp = await api(w.inboxes.fb, 'POST', `/conversations/${fbConversation}/template-messages`, { name: 'we_are_back', language: 'en_US', parameters: [] });
    expect(notWhatsApp.status).toBe(422);
    // Tenant B has the same template name on its own number, and still cannot reach A's conversation.
    const fromB = await api(w.inboxes.waB, 'POST', `/conversations/${conversationId}/template-messages`, { name: 'order_update', language: 'es_MX', parameters: ['x', 'y'] });
    expect(fromB.status).toBe(404);
    expect(w.graph.sent().filter((r) => r.json?.to === waId && r.json?.type === 'template')).toHaveLength(0);
  });

  it('states the window per channel: WhatsApp and Messenger 24 h, Messenger with the human-agent permission 7 days', () => {
    const last = new Date('2026-03-01T10:00:00Z');
    const at = (hours: number) => new Date(last.getTime() + hours * HOUR);
    expect(whatsAppAdapter.sendWindow!(last, at(23))).toEqual({ freeText: true, closesAt: at(24) });
    expect(whatsAppAdapter.sendWindow!(last, at(25))).toEqual({ freeText: false, closesAt: at(24) });
    expect(whatsAppAdapter.sendWindow!(null, at(0))).toEqual({ freeText: false, closesAt: null });
    expect(messengerAdapter.sendWindow!(last, at(25))).toEqual({ freeText: false, closesAt: at(24) });
    const human = { accountId: '1', humanAgentTag: true } as MetaSettings;
    expect(messengerAdapter.sendWindow!(last, at(25), human)).toEqual({ freeText: true, closesAt: at(24 * 7) });
    expect(messengerAdapter.sendWindow!(last, at(24 * 7 + 1), human)).toEqual({ freeText: false, closesAt: at(24) });
    // The human-agent permission is Messenger's and Instagram's; WhatsApp stays at 24 h.
    expect(whatsAppAdapter.sendWindow!(last, at(25), human).freeText).toBe(false);
  });
});

describe('Messenger and Instagram replies', () => {
  it('sends a Messenger reply as RESPONSE through the Send API; delivery and read watermarks move its status', async () => {
    const fb = w.inboxes.fb;
    const psid = `27${Date.now()}`;
    const conversationId = await customerWritesOnPage(fb, psid);
    const reply = await api(fb, 'POST', `/conversations/${conversationId}/messages`, { content: 'Yes, 10:00 to 14:00.' });
    expect(reply.status).toBe(201);
    expect(await settled(reply.body.id)).toMatchObject({ status: 'sent' });
    const request = w.graph.sent().find((r) => (r.json?.recipient as { id?: string } | undefined)?.id === psid)!;
    expect(request.path).toBe(`/v21.0/${fb.accountId}/messages`);
    expect(request.authorization).toBe(`Bearer ${fb.accessToken}`);
    expect(request.json).toEqual({ recipient: { id: psid }, messaging_type: 'RESPONSE', message: { text: 'Yes, 10:00 to 14:00.' } });
    const mid = await externalIdOf(reply.body.id);
    expect(mid).toMatch(/^m_/);

    const delivery = loadFixture('messenger-delivery', { ACCOUNT_ID: fb.accountId, PSID: psid, OUT_ID: mid, WATERMARK: Date.now() });
    expect((await w.deliver('/channels/meta/webhook', delivery, sign(delivery, fb.appSecret))).status).toBe(200);
    expect((await statusOf(reply.body.id)).status).toBe('delivered');
    const read = loadFixture('messenger-read', { ACCOUNT_ID: fb.accountId, PSID: psid, WATERMARK: Date.now() + 1000 });
    expect((await w.deliver('/channels/meta/webhook', read, sign(read, fb.appSecret))).status).toBe(200);
    expect((await statusOf(reply.body.id)).status).toBe('read');
  });

  it('sends an Instagram reply and takes its read receipt by message id', async () => {
    const ig = w.inboxes.ig;
    const igsid = `178${Date.now()}`;
    const conversationId = await customerWritesOnPage(ig, igsid);
    const reply = await api(ig, 'POST', `/conversations/${conversationId}/messages`, { content: 'Sim, enviamos!' });
    expect(await settled(reply.body.id)).toMatchObject({ status: 'sent' });
    const request = w.graph.sent().find((r) => (r.json?.recipient as { id?: string } | undefined)?.id === igsid)!;
    expect(request.json).toEqual({ recipient: { id: igsid }, messaging_type: 'RESPONSE', message: { text: 'Sim, enviamos!' } });
    const read = loadFixture('instagram-read', { ACCOUNT_ID: ig.accountId, IGSID: igsid, OUT_ID: await externalIdOf(reply.body.id) });
    expect((await w.deliver('/channels/meta/webhook', read, sign(read, ig.appSecret))).status).toBe(200);
    expect((await statusOf(reply.body.id)).status).toBe('read');
  });

  it('refuses Messenger free text after 24 hours', async () => {
    const fb = w.inboxes.fb;
    const conversationId = await customerWritesOnPage(fb, `28${Date.now()}`);
    await ageCustomerMessages(conversationId, 25 * HOUR);
    const refused = await api(fb, 'POST', `/conversations/${conversationId}/messages`, { content: 'late answer' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('PARLEY_ERR_CHANNEL_WINDOW_CLOSED');
  });

  it('tags a human agent\'s answer after 24 hours with HUMAN_AGENT when the page has the permission, and refuses it after 7 days', async () => {
    const fb = w.inboxes.fb;
    const settings: MetaSettings = { accountId: fb.accountId, accessToken: fb.accessToken, graphBaseUrl: w.graph.baseUrl, apiVersion: 'v21.0', humanAgentTag: true };
    const psid = `29${Date.now()}`;
    const message = (hoursAgo: number) => ({
      messageId: uid('msg_'),
      conversationId: 'cnv_x',
      to: { handle: psid, name: null },
      subject: null,
      text: 'Following up on your question',
      attachments: [],
      replyTo: { externalId: 'm_q', threadKeys: [], from: psid, text: 'q', sentAt: new Date(Date.now() - hoursAgo * HOUR) },
    });
    expect(await sendMetaMessage('messenger', settings, message(30), true)).toMatchObject({ ok: true });
    const tagged = w.graph.sent().find((r) => (r.json?.recipient as { id?: string } | undefined)?.id === psid)!;
    expect(tagged.json).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'Following up on your question' } });
    expect(await sendMetaMessage('messenger', settings, message(24 * 8), true)).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('7-day human-agent') });
    expect(await sendMetaMessage('messenger', { ...settings, humanAgentTag: false }, message(30), true)).toMatchObject({ ok: false, retryable: false });
    expect(w.graph.sent().filter((r) => (r.json?.recipient as { id?: string } | undefined)?.id === psid)).toHaveLength(1);
  });

  it('uploads a file to Messenger along with the send, then sends the text', async () => {
    const fb = w.inboxes.fb;
    const settings: MetaSettings = { accountId: fb.accountId, accessToken: fb.accessToken, graphBaseUrl: w.graph.baseUrl, apiVersion: 'v21.0' };
    const psid = `30${Date.now()}`;
    const result = await sendMetaMessage('messenger', settings, {
      messageId: uid('msg_'),
      conversationId: 'cnv_x',
      to: { handle: psid, name: null },
      subject: null,
      text: 'the manual',
      attachments: [{ filename: 'manual.pdf', contentType: 'application/pdf', open: () => Readable.from([Buffer.from('%PDF-1.4 manual')]) }],
      replyTo: { externalId: 'm_q', threadKeys: [], from: psid, text: 'q', sentAt: new Date() },
    }, true);
    expect(result).toMatchObject({ ok: true });
    const upload = w.graph.sent().find((r) => r.form && r.form.recipient === JSON.stringify({ id: psid }))!;
    expect(JSON.parse(upload.form!.message as string)).toEqual({ attachment: { type: 'file', payload: { is_reusable: false } } });
    expect(upload.form!.filedata).toMatchObject({ filename: 'manual.pdf', type: 'application/pdf' });
  });
});

describe('test connection', () => {
  it('reaches the account with the token, and says why when it cannot', async () => {
    const wa = w.inboxes.wa;
    const settings: MetaSettings = { accountId: wa.accountId, accessToken: wa.accessToken, graphBaseUrl: w.graph.baseUrl, apiVersion: 'v21.0' };
    expect(await whatsAppAdapter.testConnection!(settings, true)).toEqual({ ok: true, message: `connected to whatsapp account ${wa.accountId}` });
    const check = w.graph.requests.filter((r) => r.path === `/v21.0/${wa.accountId}`).at(-1)!;
    expect(check.query).toEqual({ fields: 'id' });
    expect(await whatsAppAdapter.testConnection!({ ...settings, accessToken: 'expired' }, true)).toEqual({ ok: false, message: 'Graph API error 190: Invalid OAuth access token - Cannot parse access token' });
  });

  it("refuses a Graph base URL inside the server's network for good, and nothing reaches it", async () => {
    const wa = w.inboxes.wa;
    const settings: MetaSettings = { accountId: wa.accountId, accessToken: wa.accessToken, graphBaseUrl: w.graph.baseUrl, apiVersion: 'v21.0' };
    const before = w.graph.requests.length;
    // The fake Graph API listens on 127.0.0.1: without PARLEY_PRIVATE_TARGETS it is inside.
    expect(await whatsAppAdapter.testConnection!(settings, false)).toEqual({ ok: false, message: 'Graph API address refused: 127.0.0.1: 127.0.0.1 is a private or reserved address' });
    const sent = await whatsAppAdapter.send(settings, { messageId: 'msg_inside', conversationId: 'cnv_x', to: { handle: '5215511112222', name: null }, subject: null, text: 'hi', attachments: [], replyTo: null }, false);
    expect(sent).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('refused') });
    expect(w.graph.requests.length).toBe(before);
  });
});
