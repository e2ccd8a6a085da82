import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestParley, type TestParley, type TestTenant } from '../../../test/test-parley.ts';
import { call, type Answer } from '../../../test/http.ts';
import { freePort, skipWithoutKannel, startKannel, type KannelPeer } from './testing/kannel.ts';

// End to end through a real Kannel (Debian `kannel` + `kannel-extras`): fakesmsc plays the
// customer's handset on Kannel's fake SMSC; smsbox calls Parley's SMS webhook by its get-url
// and dlr-url; agent replies leave through Parley's durable send job to smsbox's sendsms.

const INBOX_NUMBER = '+5215533334444';
const CUSTOMER = '+5215511112222';
const WEBHOOK_TOKEN = 'kannel-hook-7f3a9c';

describe.skipIf(skipWithoutKannel('Kannel end-to-end tests'))('Kannel end to end', () => {
  let t: TestParley;
  let a: TestTenant;
  let peer: KannelPeer;
  let inbox: { id: string; publicId: string };
  let conversationId: string;
  const api = (method: string, path: string, body?: unknown): Promise<Answer> => call(t.baseUrl, method, path, { auth: { apiKey: a.apiKey }, body });
  const messagesOf = async (conversation: string) => (await api('GET', `/conversations/${conversation}/messages`)).body.items as { id: string; direction: string; content: string; status: string; error?: string | null }[];
  const messageRow = (id: string) => t.db.selectFrom('messages').select(['status', 'error']).where('tenant_id', '=', a.tenantId).where('id', '=', id).executeTakeFirstOrThrow();

  beforeAll(async () => {
    // The dlr-url Parley hands Kannel is built from publicUrl, so the server's port is chosen first.
    const port = await freePort();
    t = await startTestParley({ config: { port, publicUrl: `http://127.0.0.1:${port}` }, jobs: { pollMs: 50, maxAttempts: 3, backoffBaseMs: 200 } });
    a = await t.createTenant('Kannel Tenant');
    const created = await api('POST', '/inboxes', {
      name: 'SMS México',
      channelType: 'sms',
      settings: { sms: { number: INBOX_NUMBER, provider: 'kannel', kannel: { sendUrl: 'http://127.0.0.1:9/cgi-bin/sendsms', username: 'parley', password: 'placeholder', webhookToken: WEBHOOK_TOKEN } } },
    });
    expect(created.status, created.text).toBe(201);
    inbox = created.body;
    const webhook = `${t.baseUrl}/api/v1/channels/sms/${inbox.publicId}/webhook`;
    const getUrl = (token: string) => `${webhook}?token=${token}&kind=mo&id=%I&from=%p&to=%P&text=%b&coding=%c&charset=%C&ts=%T`;
    peer = await startKannel({ getUrl: getUrl(WEBHOOK_TOKEN), keywordServices: [{ keyword: 'wrongtoken', getUrl: getUrl('not-the-token') }], httpRetries: 2 });
    // smsbox's address and sendsms-user are known once it runs; the admin enters them in the inbox.
    const patched = await api('PATCH', `/inboxes/${inbox.id}`, { settings: { sms: { number: INBOX_NUMBER, provider: 'kannel', kannel: { sendUrl: peer.sendUrl, username: peer.username, password: peer.password } } } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.settings.sms.kannel).toMatchObject({ sendUrl: peer.sendUrl, passwordSet: true, webhookTokenSet: true });
    expect(patched.body.settings.sms.kannel.password).toBeUndefined();
  }, 60_000);

  afterAll(async () => {
    await peer?.stop();
    await t?.stop();
  });

  it('stores a text from the handset once, accents and emoji intact, as a conversation of the SMS inbox', async () => {
    const text = '¿Me ayudan?  Mi pedido no llegó 😀 — ação';
    await peer.handsetSends(CUSTOMER, INBOX_NUMBER, text);
    await expect.poll(async () => (await api('GET', `/conversations?inboxId=${inbox.id}&status=all`)).body.items.length, { timeout: 15_000 }).toBe(1);
    const conversation = (await api('GET', `/conversations?inboxId=${inbox.id}&status=all`)).body.items[0];
    conversationId = conversation.id;
    const messages = await messagesOf(conversationId);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ direction: 'in', content: text });
    const handle = await t.db.selectFrom('contact_handles').select(['handle', 'channel_type']).where('tenant_id', '=', a.tenantId).executeTakeFirstOrThrow();
    expect(handle).toEqual({ handle: CUSTOMER, channel_type: 'sms' });

    // smsbox retries a get-url call with the very same URL (same %I): replaying it stores nothing new.
    const calls = (await peer.calledUrls()).filter((u) => u.includes('kind=mo'));
    expect(calls).toHaveLength(1);
    const replays = await Promise.all([fetch(calls[0]!), fetch(calls[0]!)]);
    expect(replays.map((r) => r.status)).toEqual([200, 200]);
    expect(await messagesOf(conversationId)).toHaveLength(1);
  });

  it("refuses Kannel's calls with a wrong token (401, retried by smsbox, nothing stored) and shows the admin why", async () => {
    const before = await t.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', a.tenantId).executeTakeFirstOrThrow();
    await peer.handsetSends('+5215599990000', INBOX_NUMBER, 'wrongtoken hola');
    // smsbox's own retries (http-request-retry = 2): three calls, each refused.
    await expect.poll(async () => (await peer.calledUrls()).filter((u) => u.includes('token=not-the-token')).length, { timeout: 15_000 }).toBe(3);
    // smsbox logs a call as it makes it; the refusal's error row lands as the server answers it.
    const refusals = async () =>
      (await t.db.selectFrom('channel_errors').select(['kind', 'message']).where('tenant_id', '=', a.tenantId).where('inbox_id', '=', inbox.id).execute()).filter((e) =>
        e.message.includes('token does not match the inbox webhookToken'),
      ).length;
    await expect.poll(refusals, { timeout: 15_000 }).toBe(3);
    const after = await t.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', a.tenantId).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    const direct = await fetch(`${t.baseUrl}/api/v1/channels/sms/${inbox.publicId}/webhook?kind=mo&id=x&from=1&to=2&text=x`);
    expect(direct.status).toBe(401);
    expect(await direct.json()).toEqual({ error: { code: 'PARLEY_ERR_UNAUTHENTICATED', message: 'token parameter missing from the Kannel callback URL' } });
    const malformed = await fetch(`${t.baseUrl}/api/v1/channels/sms/${inbox.publicId}/webhook?token=${WEBHOOK_TOKEN}&kind=mo&from=1&to=2&text=x`);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: { code: 'PARLEY_ERR_BAD_REQUEST', message: "id parameter missing (Kannel's message id, %I)" } });
  });

  it("sends an agent's reply through Kannel to the handset, and Kannel's delivery reports move it to delivered", async () => {
    // The phone is off while Parley sends: smsbox accepts the text ("3: Queued for later delivery"), Parley
    // records it as sent, and the delivery reports come once the phone is back. With the phone on, the fake
    // SMSC reports delivery within milliseconds, which can beat Parley's record of the send (docs/channels/sms.md).
    await peer.handsetOffline();
    const reply = 'Claro, José: tu pedido sale mañana 📦';
    const posted = await api('POST', `/conversations/${conversationId}/messages`, { content: reply });
    expect(posted.status, posted.text).toBe(201);
    expect(posted.body.status).toBe('queued');
    await expect.poll(async () => (await messageRow(posted.body.id)).status, { timeout: 15_000 }).toBe('sent');
    expect(peer.handsetReceived().filter((m) => m.text === reply)).toEqual([]);
    await peer.handsetOnline();
    const got = await peer.waitForHandset((m) => m.text === reply);
    expect(got).toEqual({ from: INBOX_NUMBER, to: CUSTOMER, text: reply });
    await expect.poll(async () => (await messageRow(posted.body.id)).status, { timeout: 15_000 }).toBe('delivered');
    // Kannel called back with Parley's message id as the reference: "SMSC accepted" (8) and "delivered" (1).
    const dlrs = (await peer.calledUrls()).filter((u) => u.includes(`ref=${posted.body.id}`));
    expect(dlrs.map((u) => new URL(u).searchParams.get('status')).sort()).toEqual(['1', '8']);
    expect((await messagesOf(conversationId)).filter((m) => m.direction === 'out')).toHaveLength(1);
  });

  it("keeps tenants apart: another tenant's token opens nothing here, and its webhook cannot touch this tenant's messages", async () => {
    const b = await t.createTenant('Other Tenant');
    const other = await call(t.baseUrl, 'POST', '/inboxes', {
      auth: { apiKey: b.apiKey },
      body: { name: 'SMS B', channelType: 'sms', settings: { sms: { number: '+5215577778888', provider: 'kannel', kannel: { sendUrl: peer.sendUrl, username: 'b', password: 'b', webhookToken: 'tenant-b-token' } } } },
    });
    expect(other.status, other.text).toBe(201);
    const delivered = (await messagesOf(conversationId)).find((m) => m.direction === 'out')!;
    const intoA = await fetch(`${t.baseUrl}/api/v1/channels/sms/${inbox.publicId}/webhook?token=tenant-b-token&kind=dlr&ref=${delivered.id}&status=2`);
    expect(intoA.status).toBe(401);
    const viaB = await fetch(`${t.baseUrl}/api/v1/channels/sms/${other.body.publicId}/webhook?token=tenant-b-token&kind=dlr&ref=${delivered.id}&status=2&answer=NACK`);
    expect(viaB.status).toBe(200);
    expect(await messageRow(delivered.id)).toEqual({ status: 'delivered', error: null });
    const moViaB = await fetch(`${t.baseUrl}/api/v1/channels/sms/${other.body.publicId}/webhook?token=tenant-b-token&kind=mo&id=b-1&from=%2B5215511112222&to=%2B5215577778888&text=hola`);
    expect(moViaB.status).toBe(200);
    expect(await messagesOf(conversationId)).toHaveLength(2);
  });

  it('retries a send while Kannel is down and shows the failure on the message when the attempts run out', async () => {
    await peer.stop();
    const posted = await api('POST', `/conversations/${conversationId}/messages`, { content: 'Are you still there?' });
    expect(posted.status).toBe(201);
    await expect.poll(async () => (await messageRow(posted.body.id)).status, { timeout: 20_000 }).toBe('failed');
    const row = await messageRow(posted.body.id);
    expect(row.error).toMatch(/^127\.0\.0\.1:\d+ unreachable: ECONNREFUSED$/);
    const jobs = await t.db.selectFrom('jobs').select(['attempts', 'status', 'payload']).where('tenant_id', '=', a.tenantId).where('kind', '=', 'channel.send').execute();
    expect(jobs.filter((j) => j.payload.messageId === posted.body.id).map((j) => [j.attempts, j.status])).toEqual([[3, 'failed']]);
  }, 30_000);
});
