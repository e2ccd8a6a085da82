import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNTS, PUBLIC_URL, startSmsKit, type SmsKit } from './sms/testing/sms-test-kit.ts';
import { recordChannelError } from './channel-errors.ts';
import { call, login } from '../../test/http.ts';

// The admin's view of a channel connection: test it with the stored settings, see its last
// errors, get the URLs to configure at the provider; all per tenant, admins only.

let kit: SmsKit;
beforeAll(async () => {
  kit = await startSmsKit();
});
afterAll(async () => {
  await kit?.stop();
});

describe('channel admin API', () => {
  it('test connection reaches the provider with the stored credentials and reports a refusal; web chat has nothing to test', async () => {
    const ok = await kit.api('POST', `/inboxes/${kit.inboxes.twilio.id}/test-connection`);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toEqual({ ok: true, message: expect.stringContaining('Twilio account') });
    expect(kit.fake.requests).toContain(`GET /2010-04-01/Accounts/${ACCOUNTS.twilio.accountSid}.json`);

    const wrong = await kit.api('POST', '/inboxes', { name: 'Wrong token', channelType: 'sms', settings: { sms: { number: '+5215512348888', provider: 'twilio', twilio: { accountSid: ACCOUNTS.twilio.accountSid, authToken: 'not-the-token', baseUrl: kit.fake.baseUrl } } } });
    const refused = await kit.api('POST', `/inboxes/${wrong.body.id}/test-connection`);
    expect(refused.status).toBe(200);
    expect(refused.body.ok).toBe(false);
    expect(refused.body.message).toMatch(/401|authenticat/i);
    // …and stays in that inbox's error list for the admin.
    const errors = await kit.api('GET', `/inboxes/${wrong.body.id}/errors`);
    expect(errors.body.items).toEqual([expect.objectContaining({ kind: 'test-connection', message: refused.body.message })]);

    const webchat = await kit.api('POST', '/inboxes', { name: 'Chat', channelType: 'webchat' });
    const none = await kit.api('POST', `/inboxes/${webchat.body.id}/test-connection`);
    expect(none.status).toBe(422);
    expect(none.body.error.code).toBe('PARLEY_ERR_NOT_SUPPORTED');
  });

  it("refuses provider addresses inside the server's network when inbox settings are saved, and changes nothing", async () => {
    // The kit allows only 127.0.0.1 (its fake providers) as a private target.
    const sms = (twilio: object) => ({ sms: { number: '+5215512347777', provider: 'twilio', twilio: { accountSid: ACCOUNTS.twilio.accountSid, authToken: 't', ...twilio } } });
    const created = await kit.api('POST', '/inboxes', { name: 'Metadata', channelType: 'sms', settings: sms({ baseUrl: 'http://169.254.169.254/latest' }) });
    expect(created.status).toBe(422);
    expect(created.body.error).toMatchObject({ code: 'PARLEY_ERR_TARGET_NOT_ALLOWED', message: expect.stringContaining('provider address refused: 169.254.169.254: 169.254.169.254 is a private or reserved address') });
    const graph = await kit.api('POST', '/inboxes', { name: 'Inside', channelType: 'whatsapp', settings: { meta: { accountId: '1077', accessToken: 'x', appSecret: 'y', verifyToken: 'z', graphBaseUrl: 'http://10.0.0.5' } } });
    expect(graph.status).toBe(422);
    expect((await kit.api('GET', '/inboxes')).body.items.map((i: { name: string }) => i.name)).not.toEqual(expect.arrayContaining(['Metadata', 'Inside']));

    const before = (await kit.api('GET', `/inboxes/${kit.inboxes.twilio.id}`)).body.settings;
    const changed = await kit.api('PATCH', `/inboxes/${kit.inboxes.twilio.id}`, { settings: sms({ baseUrl: 'http://[::1]:8080' }) });
    expect(changed.status).toBe(422);
    expect((await kit.api('GET', `/inboxes/${kit.inboxes.twilio.id}`)).body.settings).toEqual(before);
    // Mail and SMPP servers too.
    const imap = await kit.api('POST', '/inboxes', { name: 'Inside mail', channelType: 'email', settings: { email: { address: 'inside@mail.example.test', imap: { host: '10.1.2.3', port: 143, secure: false, user: 'u', password: 'p' } } } });
    expect(imap.status).toBe(422);
    expect(imap.body.error.message).toContain('provider address refused: 10.1.2.3');
    // The allowed fake provider is still accepted.
    expect((await kit.api('PATCH', `/inboxes/${kit.inboxes.twilio.id}`, { settings: { sms: before.sms } })).status).toBe(200);
  });

  it('last errors newest first; webhook URLs per channel from the public URL', async () => {
    const inbox = kit.inboxes.sinch;
    await recordChannelError(kit.t.db, { tenantId: inbox.tenant_id, inboxId: inbox.id, kind: 'send', message: 'first problem' });
    await recordChannelError(kit.t.db, { tenantId: inbox.tenant_id, inboxId: inbox.id, kind: 'webhook', message: 'second problem' });
    const errors = await kit.api('GET', `/inboxes/${inbox.id}/errors`);
    expect(errors.body.items.map((e: { kind: string; message: string }) => [e.kind, e.message]).slice(0, 2)).toEqual([
      ['webhook', 'second problem'],
      ['send', 'first problem'],
    ]);
    expect(errors.body.items[0]).toEqual({ id: expect.any(String), kind: 'webhook', message: 'second problem', createdAt: expect.any(String) });

    expect((await kit.api('GET', `/inboxes/${inbox.id}/webhook-urls`)).body).toEqual({ items: [{ name: 'messages', url: `${PUBLIC_URL}/api/v1/channels/sms/${inbox.public_id}/webhook` }] });
    const meta = await kit.api('POST', '/inboxes', { name: 'Page', channelType: 'messenger', settings: { meta: { accountId: '1234567890', appSecret: 's', accessToken: 't', verifyToken: 'v' } } });
    expect(meta.status, JSON.stringify(meta.body)).toBe(201);
    expect((await kit.api('GET', `/inboxes/${meta.body.id}/webhook-urls`)).body).toEqual({ items: [{ name: 'messages', url: `${PUBLIC_URL}/api/v1/channels/meta/${meta.body.publicId}/webhook` }] });
  });

  it("tenant B's admin can neither test, nor read the errors or URLs of tenant A's inboxes", async () => {
    const a = kit.inboxes.twilio.id;
    const before = kit.fake.requests.length;
    expect((await kit.api('POST', `/inboxes/${a}/test-connection`, undefined, kit.b)).status).toBe(404);
    expect((await kit.api('GET', `/inboxes/${a}/errors`, undefined, kit.b)).status).toBe(404);
    expect((await kit.api('GET', `/inboxes/${a}/webhook-urls`, undefined, kit.b)).status).toBe(404);
    expect(kit.fake.requests.length).toBe(before);
  });

  it('agents cannot use the admin routes, tenant settings or change consents; they may read the send policy', async () => {
    const email = `agent-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const invitation = await kit.api('POST', '/invitations', { email, role: 'agent' });
    expect(invitation.status, JSON.stringify(invitation.body)).toBe(201);
    const token = String(invitation.body.acceptUrl).split('/invite/')[1];
    expect((await call(kit.t.baseUrl, 'POST', `/invitations/${token}/accept`, { body: { name: 'Agent', password: 'a long enough password' } })).status).toBe(200);
    const session = await login(kit.t.baseUrl, email, 'a long enough password');
    const asAgent = (method: string, path: string, body?: unknown) => call(kit.t.baseUrl, method, path, { auth: session, ...(body === undefined ? {} : { body }) });
    const inbox = kit.inboxes.twilio.id;
    expect((await asAgent('POST', `/inboxes/${inbox}/test-connection`)).status).toBe(403);
    expect((await asAgent('GET', `/inboxes/${inbox}/errors`)).status).toBe(403);
    expect((await asAgent('GET', `/inboxes/${inbox}/webhook-urls`)).status).toBe(403);
    expect((await asAgent('GET', '/tenant/settings')).status).toBe(403);
    expect((await asAgent('PATCH', '/tenant/settings', { unavailableCountries: ['US'] })).status).toBe(403);

    const texted = await kit.twilioWebhook(kit.inboxes.twilio, { MessageSid: 'SMadmin1', AccountSid: ACCOUNTS.twilio.accountSid, From: '+5215587659001', To: '+15005550006', Body: 'hola' });
    expect(texted.status).toBe(200);
    const conversation = await kit.t.db.selectFrom('conversations').select(['id', 'contact_id']).where('inbox_id', '=', inbox).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect((await asAgent('PUT', `/contacts/${conversation.contact_id}/consents/${inbox}`, { status: 'opted_out' })).status).toBe(403);
    expect((await asAgent('GET', `/conversations/${conversation.id}/send-policy`)).body).toMatchObject({ canSend: true, freeText: true, reason: null });
  });
});
