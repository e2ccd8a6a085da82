import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../../test/http.ts';
import { loadFixture } from './fixtures/load-fixture.ts';
import { sign, startMetaWorld, type MetaWorld } from './testing/meta-test-kit.ts';
import { GRAPH_FAILURES } from './testing/fake-graph.ts';
import { downloadMedia } from './graph-client.ts';

// Meta's webhooks against a running Parley: the verification handshake, X-Hub-Signature-256,
// every message type landing as the agent sees it, exactly-once storage under redelivery,
// delivery statuses, and tenant isolation. Media are served by the fake Graph API.

let w: MetaWorld;
let seq = 0;
const uid = (p: string) => `${p}${Date.now()}${(seq += 1)}`;

beforeAll(async () => {
  w = await startMetaWorld();
});
afterAll(async () => {
  await w?.t.stop();
  await w?.graph.close();
});

const inboxUrl = (publicId: string) => `/channels/meta/${publicId}/webhook`;
const APP_URL = '/channels/meta/webhook';

function waText(opts: { wamid: string; waId?: string; phoneNumberId?: string }) {
  return loadFixture('whatsapp-text', { WABA_ID: '1', PHONE_NUMBER_ID: opts.phoneNumberId ?? w.inboxes.wa.accountId, WA_ID: opts.waId ?? '5215512345678', WAMID: opts.wamid });
}

async function channelErrors(inboxId: string) {
  return w.t.db.selectFrom('channel_errors').selectAll().where('inbox_id', '=', inboxId).execute();
}

describe('media URLs inside the server network', () => {
  it('are not downloaded, for good (no redelivery would change the URL), and say why', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.8/x.jpg', 'http://[::1]:8080/x.jpg']) {
      const got = await downloadMedia({ accessToken: 'token' } as Parameters<typeof downloadMedia>[0], url, true, false);
      expect(got, url).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('is a private or reserved address') });
    }
  });
});

describe('webhook verification handshake', () => {
  it('answers the challenge as text for the inbox verify token, and 403 for any other', async () => {
    const wa = w.inboxes.wa;
    const ok = await call(w.t.baseUrl, 'GET', `${inboxUrl(wa.publicId)}?hub.mode=subscribe&hub.verify_token=${wa.verifyToken}&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('1158201444');
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    const bad = await call(w.t.baseUrl, 'GET', `${inboxUrl(wa.publicId)}?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444`);
    expect(bad.status).toBe(403);
    expect(bad.text).not.toContain('1158201444');
    // Another inbox's token does not open this one.
    const other = await call(w.t.baseUrl, 'GET', `${inboxUrl(wa.publicId)}?hub.mode=subscribe&hub.verify_token=${w.inboxes.waB.verifyToken}&hub.challenge=1`);
    expect(other.status).toBe(403);
    const notSubscribe = await call(w.t.baseUrl, 'GET', `${inboxUrl(wa.publicId)}?hub.mode=unsubscribe&hub.verify_token=${wa.verifyToken}&hub.challenge=1`);
    expect(notSubscribe.status).toBe(403);
    // The app-level URL accepts any Meta inbox's token.
    const app = await call(w.t.baseUrl, 'GET', `${APP_URL}?hub.mode=subscribe&hub.verify_token=${w.inboxes.fb.verifyToken}&hub.challenge=42`);
    expect(app).toMatchObject({ status: 200, text: '42' });
    expect((await call(w.t.baseUrl, 'GET', `${APP_URL}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=42`)).status).toBe(403);
  });
});

describe('webhook signatures', () => {
  it('refuses a missing, malformed, wrong or other-secret signature with 401, stores nothing, and shows the admin why', async () => {
    const wa = w.inboxes.wa;
    const wamid = uid('wamid.sig');
    const body = waText({ wamid });
    const before = (await channelErrors(wa.id)).length;
    for (const signature of [null, 'sha256=', 'sha1=abc', sign(body, 'not-the-secret'), sign(body, w.inboxes.waB.appSecret), sign(`${body} `, wa.appSecret)]) {
      const res = await w.deliver(inboxUrl(wa.publicId), body, signature);
      expect(res.status, String(signature)).toBe(401);
      expect(res.body.error.code).toBe('PARLEY_ERR_UNAUTHENTICATED');
      const app = await w.deliver(APP_URL, body, signature);
      expect(app.status).toBe(401);
    }
    expect((await w.messagesOf(wa)).some((m) => m.source_id?.endsWith(wamid))).toBe(false);
    const errors = await channelErrors(wa.id);
    expect(errors.length - before).toBe(12);
    expect(errors.every((e) => e.kind === 'meta.signature' && e.tenant_id === wa.tenant.tenantId)).toBe(true);
    expect(errors.map((e) => e.message)).toContain('webhook delivery refused: X-Hub-Signature-256 is missing');

    const ok = await w.deliver(inboxUrl(wa.publicId), body, sign(body, wa.appSecret));
    expect(ok).toMatchObject({ status: 200, text: 'EVENT_RECEIVED' });
    expect((await w.messagesOf(wa)).filter((m) => m.source_id?.endsWith(wamid))).toHaveLength(1);
  });

  it('answers malformed JSON with 400 and a delivery for an unknown account with 404, storing nothing', async () => {
    const wa = w.inboxes.wa;
    const count = (await w.messagesOf(wa)).length;
    const broken = '{"object":"whatsapp_business_account","entry":[';
    expect((await w.deliver(inboxUrl(wa.publicId), broken, sign(broken, wa.appSecret))).body.error.code).toBe('PARLEY_ERR_MALFORMED_JSON');
    expect((await w.deliver(APP_URL, broken, sign(broken, wa.appSecret))).status).toBe(400);
    const notMeta = JSON.stringify({ object: 'user', entry: [] });
    const refused = await w.deliver(APP_URL, notMeta, sign(notMeta, wa.appSecret));
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/unknown webhook object/);

    // A subscription field other than messages (a template's review) is acknowledged and ignored.
    const templateStatus = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED', message_template_name: 'order_update' } }] }] });
    expect((await w.deliver(APP_URL, templateStatus, sign(templateStatus, wa.appSecret))).status).toBe(200);
    const unknown = waText({ wamid: uid('wamid.unknown'), phoneNumberId: '999999999' });
    const res = await w.deliver(APP_URL, unknown, sign(unknown, wa.appSecret));
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('999999999');
    expect((await w.deliver(inboxUrl('wc_nosuchinbox'), unknown, sign(unknown, wa.appSecret))).status).toBe(404);
    expect((await w.messagesOf(wa)).length).toBe(count);
  });
});

describe('tenant isolation', () => {
  it("tenant B's app secret cannot deliver into tenant A's inbox, by either URL", async () => {
    const { waB } = w.inboxes;
    const wamid = uid('wamid.iso');
    const intoA = waText({ wamid });
    expect((await w.deliver(APP_URL, intoA, sign(intoA, waB.appSecret))).status).toBe(401);
    // B's own URL and secret, naming A's number: not B's account, refused.
    const viaB = await w.deliver(inboxUrl(waB.publicId), intoA, sign(intoA, waB.appSecret));
    expect(viaB.status).toBe(404);
    const stored = await w.t.db.selectFrom('messages').select('id').where('source_id', 'like', `%${wamid}`).execute();
    expect(stored).toHaveLength(0);
  });
});

describe('WhatsApp messages', () => {
  it('stores a text with the contact name and number, opening a conversation routed like any other', async () => {
    const wa = w.inboxes.wa;
    const wamid = uid('wamid.text');
    const body = waText({ wamid, waId: '5215500000001' });
    expect((await w.deliver(inboxUrl(wa.publicId), body, sign(body, wa.appSecret))).status).toBe(200);
    const m = (await w.messagesOf(wa)).find((x) => x.source_id?.endsWith(wamid))!;
    expect(m).toMatchObject({ content: 'Hola, mi pedido 4471 no llegó', direction: 'in', status: 'received', sender_name: 'Lucía Fernández', from_handle: '5215500000001', external_id: wamid });
    const list = await call(w.t.baseUrl, 'GET', `/conversations/${m.conversation_id}`, { auth: { apiKey: wa.tenant.apiKey } });
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ channelType: 'whatsapp', status: 'open' });
  });

  it('downloads an image through the media id with the access token and stores it as an attachment with its caption', async () => {
    const wa = w.inboxes.wa;
    const bytes = Buffer.from('\xff\xd8\xff\xe0 a jpeg of a crushed box', 'latin1');
    const mediaId = String(Date.now());
    w.graph.addMedia(mediaId, bytes, 'image/jpeg');
    const wamid = uid('wamid.img');
    const body = loadFixture('whatsapp-image', { WABA_ID: '1', PHONE_NUMBER_ID: wa.accountId, WA_ID: '5215500000002', WAMID: wamid, MEDIA_ID: mediaId });
    expect((await w.deliver(APP_URL, body, sign(body, wa.appSecret))).status).toBe(200);
    const m = (await w.messagesOf(wa)).find((x) => x.source_id?.endsWith(wamid))!;
    expect(m.content).toBe('La caja llegó así');
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0]).toMatchObject({ contentType: 'image/jpeg', filename: 'image.jpg', size: bytes.length });
    const file = await fetch(`${w.t.baseUrl}/api/v1/attachments/${m.attachments[0]!.id}`, { headers: { authorization: `Bearer ${wa.tenant.apiKey}` } });
    expect(Buffer.from(await file.arrayBuffer())).toEqual(bytes);
    const download = w.graph.requests.find((r) => r.path === `/media-download/${mediaId}`);
    expect(download?.authorization).toBe(`Bearer ${wa.accessToken}`);
  });

  it('stores a document under its file name, and says so when the media is gone', async () => {
    const wa = w.inboxes.wa;
    const mediaId = `${Date.now()}7`;
    w.graph.addMedia(mediaId, Buffer.from('%PDF-1.4 invoice'), 'application/pdf');
    const wamid = uid('wamid.doc');
    const body = loadFixture('whatsapp-document', { WABA_ID: '1', PHONE_NUMBER_ID: wa.accountId, WA_ID: '5215500000002', WAMID: wamid, MEDIA_ID: mediaId });
    expect((await w.deliver(APP_URL, body, sign(body, wa.appSecret))).status).toBe(200);
    const doc = (await w.messagesOf(wa)).find((x) => x.source_id?.endsWith(wamid))!;
    expect(doc.attachments[0]).toMatchObject({ filename: 'factura-4471.pdf', contentType: 'application/pdf' });

    const goneId = uid('wamid.gone');
    const gone = loadFixture('whatsapp-document', { WABA_ID: '1', PHONE_NUMBER_ID: wa.accountId, WA_ID: '5215500000002', WAMID: goneId, MEDIA_ID: '404404' });
    expect((await w.deliver(APP_URL, gone, sign(gone, wa.appSecret))).status).toBe(200);
    const m = (await w.messagesOf(wa)).find((x) => x.source_id?.endsWith(goneId))!;
    expect(m.content).toMatch(/^\[document not available: Graph API error 100: Unsupported get request/);
    expect(m.attachments).toHaveLength(0);
  });

  it('answers 500 when a media file cannot be fetched for now, storing the rest once, and takes the redelivery', async () => {
    const wa = w.inboxes.wa;
    const mediaId = `${Date.now()}9`;
    w.graph.addMedia(mediaId, Buffer.from('\xff\xd8\xff later', 'latin1'), 'image/jpeg');
    w.graph.failNext(GRAPH_FAILURES.serverError, 1, `/${mediaId}`, 'GET');
    const wamid = uid('wamid.later');
    const body = loadFixture('whatsapp-image', { WABA_ID: '1', PHONE_NUMBER_ID: wa.accountId, WA_ID: '5215500000008', WAMID: wamid, MEDIA_ID: mediaId });
    const first = await w.deliver(APP_URL, body, sign(body, wa.appSecret));
    expect(first.status).toBe(500);
    expect((await w.messagesOf(wa)).some((m) => m.source_id?.endsWith(wamid))).toBe(false);
    // Meta delivers again: now the file is there.
    expect((await w.deliver(APP_URL, body, sign(body, wa.appSecret))).status).toBe(200);
    const stored = (await w.messagesOf(wa)).filter((m) => m.source_id?.endsWith(wamid));
    expect(stored).toHaveLength(1);
    expect(stored[0]!.attachments).toHaveLength(1);
  });

  it('turns a location into text with the place and keeps the coordinates', async () => {
    const wa = w.inboxes.wa;
    const wamid = uid('wamid.loc');
    const body = loadFixture('whatsapp-location', { WABA_ID: '1', PHONE_NUMBER_ID: wa.accountId, WA_ID: '5215500000003', WAMID: wamid });
    expect((await w.deliver(APP_URL, body, sign(body, wa.appSecret))).status).toBe(200);
    const m = (await w.messagesOf(wa)).find((x) => x.source_id?.endsWith(wamid))!;
    expect(m.content).toBe('📍 Oficina Centro, Av. Juárez 10, CDMX (19.4326, -99.1332)');
    expect(m.details).toMatchObject({ type: 'location', location: { latitude: 19.4326, longitude: -99.1332, name: 'Oficina Centro' } });
  });

  it('links a reply (context) and a reaction to the message they refer to, in its conversation; an empty emoji removes the reaction', async () => {
    const wa = w.inboxes.wa;
    const waId = '5215500000004';
    const first = uid('wamid.first');
    const original = waText({ wamid: first, waId });
    await w.deliver(APP_URL, original, sign(original, wa.appSecret));
    const fixtureIds = { WABA_ID: '1', PHONE_NUMBER_ID: wa.accountId, WA_ID: waId };
    const replyId = uid('wamid.reply');
    const reply = loadFixture('whatsapp-reply', { ...fixtureIds, WAMID: replyId, CONTEXT_ID: first });
    const reactId = uid('wamid.react');
    const react = loadFixture('whatsapp-reaction', { ...fixtureIds, WAMID: reactId, REACTED_ID: first, EMOJI: '👍' });
    const unreactId = uid('wamid.unreact');
    const unreact = loadFixture('whatsapp-reaction', { ...fixtureIds, WAMID: unreactId, REACTED_ID: first, EMOJI: '' });
    for (const body of [reply, react, unreact]) expect((await w.deliver(APP_URL, body, sign(body, wa.appSecret))).status).toBe(200);
    const all = await w.messagesOf(wa);
    const [orig, r, re, un] = [first, replyId, reactId, unreactId].map((id) => all.find((m) => m.source_id?.endsWith(id))!);
    expect(r!.thread_keys).toEqual([first, `whatsapp-thread:${waId}`]);
    expect(r!.details).toMatchObject({ replyTo: first });
    expect(re).toMatchObject({ content: 'Reacted 👍', conversation_id: orig!.conversation_id });
    expect(re!.details!.reaction).toEqual({ messageId: first, emoji: '👍', removed: false, parleyMessageId: orig!.id });
    expect(un!.content).toBe('Removed a reaction');
    expect(un!.details!.reaction).toMatchObject({ emoji: '', removed: true, parleyMessageId: orig!.id });
    expect(new Set([r, re, un].map((m) => m!.conversation_id))).toEqual(new Set([orig!.conversation_id]));
  });

  it('takes button replies by their title and keeps unsupported messages with Meta\'s explanation', async () => {
    const wa = w.inboxes.wa;
    const ids = { WABA_ID: '1', PHONE_NUMBER_ID: wa.accountId, WA_ID: '5215500000005' };
    const buttonId = uid('wamid.btn');
    const unsupportedId = uid('wamid.unsup');
    const button = loadFixture('whatsapp-interactive', { ...ids, WAMID: buttonId, CONTEXT_ID: 'wamid.template-sent' });
    const unsupported = loadFixture('whatsapp-unsupported', { ...ids, WAMID: unsupportedId });
    for (const body of [button, unsupported]) expect((await w.deliver(APP_URL, body, sign(body, wa.appSecret))).status).toBe(200);
    const all = await w.messagesOf(wa);
    expect(all.find((m) => m.source_id?.endsWith(buttonId))).toMatchObject({ content: 'Rastrear pedido', details: { interactive: { type: 'button_reply', id: 'track-order' } } });
    expect(all.find((m) => m.source_id?.endsWith(unsupportedId))!.content).toBe('(unsupported WhatsApp message: Message type unknown)');
  });
});

describe('exactly once', () => {
  it('stores each message of a multi-entry batch once; a redelivered batch stores nothing new', async () => {
    const wa = w.inboxes.wa;
    const wamid = uid('wamid.batch');
    const body = loadFixture('whatsapp-batch', { WABA_ID: '1', PHONE_NUMBER_ID: wa.accountId, WA_ID: '5511900000001', WA_ID_2: '5511900000002', WAMID: wamid });
    for (let i = 0; i < 3; i += 1) expect((await w.deliver(APP_URL, body, sign(body, wa.appSecret))).status).toBe(200);
    const mine = (await w.messagesOf(wa)).filter((m) => m.source_id?.includes(wamid));
    expect(mine.map((m) => m.content)).toEqual(['Olá, preciso de ajuda', 'É sobre a fatura', 'Bom dia']);
    expect(mine[0]!.conversation_id).toBe(mine[1]!.conversation_id);
    expect(mine[2]!.conversation_id).not.toBe(mine[0]!.conversation_id);
  });

  it('stores a message once when Meta delivers it many times at once, on both URLs', async () => {
    const wa = w.inboxes.wa;
    const wamid = uid('wamid.race');
    const body = waText({ wamid, waId: '5215500000099' });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => w.deliver(i % 2 ? APP_URL : inboxUrl(wa.publicId), body, sign(body, wa.appSecret))));
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
    const stored = await w.t.db.selectFrom('messages').select(['id', 'conversation_id']).where('source_id', 'like', `%${wamid}`).execute();
    expect(stored).toHaveLength(1);
    const conversations = await w.t.db.selectFrom('conversations as c').innerJoin('contact_handles as h', 'h.contact_id', 'c.contact_id').select('c.id').where('h.handle', '=', '5215500000099').execute();
    expect(conversations).toHaveLength(1);
  });
});

describe('Messenger and Instagram', () => {
  it('stores Messenger text, image attachments, quick replies and postbacks; ignores echoes of the page\'s own sends', async () => {
    const fb = w.inboxes.fb;
    const psid = `24${Date.now()}`;
    const ids = { ACCOUNT_ID: fb.accountId, PSID: psid };
    const cdn = w.graph.addMedia(`photo-${Date.now()}.png`, Buffer.from('\x89PNG fake', 'latin1'), 'image/png');
    const textMid = uid('m_text');
    const imageMid = uid('m_img');
    const quickMid = uid('m_quick');
    const echoMid = uid('m_echo');
    const postbackMid = uid('m_postback');
    const bodies = [
      loadFixture('messenger-text', { ...ids, MID: textMid }),
      loadFixture('messenger-image', { ...ids, MID: imageMid, CDN_URL: cdn.cdnUrl }),
      loadFixture('messenger-quick-reply', { ...ids, MID: quickMid, REPLY_TO: textMid }),
      loadFixture('messenger-echo', { ...ids, MID: echoMid }),
      loadFixture('messenger-postback', { ...ids, MID: postbackMid }),
    ];
    for (const body of bodies) expect((await w.deliver(inboxUrl(fb.publicId), body, sign(body, fb.appSecret))).status).toBe(200);
    const all = await w.messagesOf(fb);
    expect(all.find((m) => m.source_id?.endsWith(textMid))).toMatchObject({ content: 'Hi, is the store open on Sunday?', from_handle: psid });
    const image = all.find((m) => m.source_id?.endsWith(imageMid))!;
    expect(image.attachments[0]).toMatchObject({ contentType: 'image/png' });
    // The CDN link is signed by Meta: the token is not sent along.
    expect(w.graph.requests.find((r) => r.path.startsWith('/cdn/photo-'))?.authorization).toBeNull();
    expect(all.find((m) => m.source_id?.endsWith(quickMid))).toMatchObject({ thread_keys: [textMid, `messenger-thread:${psid}`], details: { quickReply: 'HUMAN' } });
    expect(all.some((m) => m.source_id?.endsWith(echoMid))).toBe(false);
    expect(all.find((m) => m.source_id?.endsWith(postbackMid))).toMatchObject({ content: 'Talk to support', details: { postback: { payload: 'SUPPORT' } } });
    expect(new Set(all.filter((m) => m.from_handle === psid).map((m) => m.conversation_id)).size).toBe(1);
  });

  it('stores Messenger reactions linked to the reacted message, once per redelivery', async () => {
    const fb = w.inboxes.fb;
    const psid = `25${Date.now()}`;
    const mid = uid('m_reacted');
    const text = loadFixture('messenger-text', { ACCOUNT_ID: fb.accountId, PSID: psid, MID: mid });
    await w.deliver(APP_URL, text, sign(text, fb.appSecret));
    const reaction = loadFixture('messenger-reaction', { ACCOUNT_ID: fb.accountId, PSID: psid, REACTED_ID: mid });
    for (let i = 0; i < 2; i += 1) expect((await w.deliver(APP_URL, reaction, sign(reaction, fb.appSecret))).status).toBe(200);
    const mine = (await w.messagesOf(fb)).filter((m) => m.from_handle === psid);
    expect(mine.map((m) => m.content)).toEqual(['Hi, is the store open on Sunday?', 'Reacted ❤️']);
    expect(mine[1]!.details!.reaction).toMatchObject({ messageId: mid, parleyMessageId: mine[0]!.id });
  });

  it('stores an Instagram message with the story or message it replies to', async () => {
    const ig = w.inboxes.ig;
    const mid = uid('ig_mid');
    const body = loadFixture('instagram-text', { ACCOUNT_ID: ig.accountId, IGSID: '17800000000042', MID: mid, REPLY_TO: 'ig_earlier' });
    expect((await w.deliver(APP_URL, body, sign(body, ig.appSecret))).status).toBe(200);
    const m = (await w.messagesOf(ig)).find((x) => x.source_id?.endsWith(mid))!;
    expect(m).toMatchObject({ content: 'Do you ship to Porto Alegre?', from_handle: '17800000000042', thread_keys: ['ig_earlier', 'instagram-thread:17800000000042'] });
    // An Instagram delivery does not reach the Messenger inbox of the same app.
    expect((await w.messagesOf(w.inboxes.fb)).some((x) => x.source_id?.endsWith(mid))).toBe(false);
  });
});
