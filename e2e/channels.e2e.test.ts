/**
 * Channel screens and composer rules in the agent app, end to end (issue 4): a real Chromium runs
 * the agent app against a real Parley server. An admin connects an SMS number through Twilio
 * (a local server speaking Twilio's REST shapes), tests the connection, breaks it and sees why;
 * customer texts arrive as correctly signed Twilio webhooks, the agent's replies go out and their
 * delivery status moves, a refused send shows its reason, STOP blocks the composer. A WhatsApp
 * inbox whose customer last wrote over 24 hours ago offers only its approved templates.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startFakeGraph, type FakeGraph } from '../apps/server/src/channels/meta/testing/fake-graph.ts';
import { launchBrowser, newAgentPage, signIn, startParley, screenshots } from './harness.ts';

type Parley = Awaited<ReturnType<typeof startParley>>;
type Tenant = Awaited<ReturnType<Parley['createTenant']>>;

const ACCOUNT_SID = 'AC5ef8732a3c49700934481addd5ce1659';
const AUTH_TOKEN = 'twilio-auth-token-0f1e2d3c';
const SMS_NUMBER = '+5215550001111';
const CUSTOMER = '+5215512340000';
const WA_PHONE_ID = '555000111';
const WA_SECRET = 'whatsapp-app-secret-7a6b';
const WA_CUSTOMER = '5215598765432';

let parley: Parley;
let browser: Browser;
let tenant: Tenant;
let twilio: FakeTwilio;
let graph: FakeGraph;

beforeAll(async () => {
  parley = await startParley();
  tenant = await parley.createTenant('Canales Acme');
  twilio = await startFakeTwilio();
  graph = await startFakeGraph([{ id: WA_PHONE_ID, kind: 'whatsapp', accessToken: 'wa-access-token' }]);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await twilio?.close();
  await graph?.close();
  await parley?.stop();
});

// ---------------------------------------------------------------- a local Twilio (its documented REST shapes)

interface FakeTwilio {
  baseUrl: string;
  /** Messages Twilio accepted: the form Parley posted and the sid it got back. */
  sent: { to: string; from: string; body: string; sid: string }[];
  /** The next message send is refused with this Twilio error (a definitive 4xx: no retry). */
  refuseNext(error: { status: number; code: number; message: string }): void;
  close(): Promise<void>;
}

async function startFakeTwilio(): Promise<FakeTwilio> {
  const sent: FakeTwilio['sent'] = [];
  let refusal: { status: number; code: number; message: string } | null = null;
  const expectedAuth = `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== expectedAuth) return json(401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method === 'GET' && path === `/2010-04-01/Accounts/${ACCOUNT_SID}.json`) {
        return json(200, { sid: ACCOUNT_SID, friendly_name: 'Acme MX', status: 'active', type: 'Full' });
      }
      if (req.method === 'POST' && path === `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`) {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        if (refusal) {
          const r = refusal;
          refusal = null;
          return json(r.status, { code: r.code, message: r.message, more_info: `https://www.twilio.com/docs/errors/${r.code}`, status: r.status });
        }
        const sid = `SM${randomBytes(16).toString('hex')}`;
        sent.push({ to: form.get('To') ?? '', from: form.get('From') ?? '', body: form.get('Body') ?? '', sid });
        return json(201, {
          sid, account_sid: ACCOUNT_SID, to: form.get('To'), from: form.get('From'), body: form.get('Body'), status: 'queued',
          num_segments: '1', direction: 'outbound-api', api_version: '2010-04-01', date_created: new Date().toUTCString(),
        });
      }
      json(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent,
    refuseNext: (error) => { refusal = error; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Twilio's X-Twilio-Signature: base64 HMAC-SHA1 (key: auth token) of the URL and the POST parameters sorted by name. */
function twilioSignature(token: string, url: string, params: Record<string, string>): string {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', token).update(data).digest('base64');
}

/** Posts a Twilio webhook the way Twilio does (form-encoded, signed); returns the HTTP status. */
async function twilioWebhook(url: string, params: Record<string, string>, token = AUTH_TOKEN): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(token, url, params) },
    body: new URLSearchParams(params).toString(),
  });
  await res.text();
  return res.status;
}

let smsSequence = 0;
const customerText = (url: string, body: string) =>
  twilioWebhook(url, { MessageSid: `SM${String(++smsSequence).padStart(32, '0')}`, AccountSid: ACCOUNT_SID, From: CUSTOMER, To: SMS_NUMBER, Body: body, NumMedia: '0', NumSegments: '1' });

// ---------------------------------------------------------------- the agent app

const shot = screenshots('channels');

async function rest<T>(path: string): Promise<T> {
  const res = await fetch(`${parley.baseUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${path} → ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

async function openAdmin(): Promise<{ page: Page; errors: string[] }> {
  const { page, errors } = await newAgentPage(browser);
  await signIn(page, parley.baseUrl, tenant.adminEmail, tenant.adminPassword);
  await page.locator('.conn[data-status=online]').waitFor({ timeout: 15_000 });
  return { page, errors };
}

async function conversationOf(inboxId: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const page = await rest<{ items: { id: string; inboxId: string }[] }>('/conversations?assignee=all&status=all');
    const found = page.items.find((c) => c.inboxId === inboxId);
    if (found) return found.id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no conversation in inbox ${inboxId}`);
}

/** Saves the open channel form and waits for the server's answer. */
async function saveChannelForm(page: Page) {
  await page.locator('.channel-form button[type=submit]').click();
  await page.locator('.channel-form [role=status]').filter({ hasText: 'Saved' }).waitFor();
}

describe('channel screens and composer rules (issue 4)', () => {
  it('connects Twilio SMS, tests the connection, shows errors, delivery status, failures and STOP', async () => {
    const { page, errors } = await openAdmin();
    await page.goto(`${parley.baseUrl}/app/#/admin/inboxes`);

    // Connect an SMS number through Twilio.
    await page.locator('select[name=channelType]').selectOption('sms');
    await page.locator('.connect-form button[type=submit]').click();
    const form = page.locator('.channel-form[data-channel=sms]');
    await form.waitFor();
    expect(await form.locator('select[name="sms.provider"] option').allTextContents()).toEqual(['Twilio', 'Sinch', 'Vonage', 'Kannel', 'SMPP 3.4']);
    // Each provider has its own fields: Kannel asks for its sendsms URL, SMPP for a host and port.
    await form.locator('select[name="sms.provider"]').selectOption('smpp');
    await form.locator('input[name="smpp.port"]').waitFor();
    await form.locator('select[name="sms.provider"]').selectOption('kannel');
    await form.locator('input[name="kannel.sendUrl"]').waitFor();
    await form.locator('select[name="sms.provider"]').selectOption('twilio');
    // Bad input is refused in the form, precisely, before anything is sent.
    await form.locator('input[name=inboxName]').fill('Soporte SMS');
    await form.locator('input[name="sms.number"]').fill('55 1234');
    await form.locator('button[type=submit]').click();
    const problems = await form.locator('.form-problems li').allTextContents();
    expect(problems).toEqual(['Phone number: use the international form, e.g. +5215512345678.', 'Account SID: required.', 'Auth token: required.']);
    await form.locator('input[name="sms.number"]').fill(SMS_NUMBER);
    await form.locator('input[name="twilio.accountSid"]').fill(ACCOUNT_SID);
    await form.locator('input[name="twilio.authToken"]').fill(AUTH_TOKEN);
    await form.locator('input[name="twilio.baseUrl"]').fill(twilio.baseUrl);
    await form.locator('button[type=submit]').click();

    // The new inbox opens: its secret reads "set", never shown; the webhook URL to paste at Twilio.
    await page.locator('.section-header h2').filter({ hasText: 'Soporte SMS' }).waitFor();
    await expect.poll(() => page.locator('[data-secret-state=set]').count()).toBe(1);
    expect(await page.locator('input[name="twilio.authToken"]').inputValue()).toBe('');
    expect(await page.locator('.item-list').textContent()).toContain(SMS_NUMBER);
    const webhookUrl = (await page.locator('[data-testid=webhook-urls] code').first().textContent())!;
    const inbox = (await rest<{ items: { id: string; publicId: string; channelType: string; settings: { sms: Record<string, unknown> } }[] }>('/inboxes')).items.find((i) => i.channelType === 'sms')!;
    expect(webhookUrl).toBe(`${parley.baseUrl}/api/v1/channels/sms/${inbox.publicId}/webhook`);
    expect(JSON.stringify(inbox.settings)).not.toContain(AUTH_TOKEN);

    // Test connection: Twilio answers for the account.
    await page.locator('[data-testid=test-connection]').click();
    await page.locator('[data-testid=test-result][data-ok=true]').waitFor();
    expect(await page.locator('[data-testid=test-result]').textContent()).toContain('Acme MX');
    await shot(page, '1-sms-connected');

    // Point it at a dead port (the auth token left empty is kept): the test fails and says why.
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    await page.locator('input[name="twilio.baseUrl"]').fill(deadUrl);
    await saveChannelForm(page);
    await page.locator('[data-testid=test-connection]').click();
    await page.locator('[data-testid=test-result][data-ok=false]').waitFor();
    const failure = (await page.locator('[data-testid=test-result]').textContent())!;
    expect(failure).toContain('Connection failed');
    expect(failure.length).toBeGreaterThan('Connection failed — '.length);

    // A callback signed with a stale token is refused and lands in the inbox's last errors.
    expect(await twilioWebhook(webhookUrl, { MessageSid: 'SMstale', AccountSid: ACCOUNT_SID, From: CUSTOMER, To: SMS_NUMBER, Body: 'hi' }, 'old-token')).toBe(401);
    await page.locator('[data-testid=channel-health] button', { hasText: 'Refresh' }).click();
    const errorRows = page.locator('[data-testid=channel-errors] li');
    await errorRows.nth(1).waitFor();
    // Newest first: the refused callback, then the failed connection test.
    expect(await errorRows.nth(0).textContent()).toMatch(/webhook\.rejected.*X-Twilio-Signature/);
    expect(await errorRows.nth(1).textContent()).toMatch(/test-connection/);
    await shot(page, '2-sms-test-failed');

    // Back to the working Twilio.
    await page.locator('input[name="twilio.baseUrl"]').fill(twilio.baseUrl);
    await saveChannelForm(page);
    await page.locator('[data-testid=test-connection]').click();
    await page.locator('[data-testid=test-result][data-ok=true]').waitFor();

    // A customer texts; the agent replies; Twilio takes it and the status moves queued → sent → delivered.
    expect(await customerText(webhookUrl, 'Hola, ¿tienen envío a Monterrey?')).toBe(200);
    const conversationId = await conversationOf(inbox.id);
    await page.goto(`${parley.baseUrl}/app/#/conversations/${conversationId}`);
    await page.locator('.conv-header .channel-icon[data-channel=sms]').waitFor();
    await page.locator('.tab[data-filter=all]').click();
    await page.locator(`.conv-row[data-conversation-id="${conversationId}"] .channel-icon[data-channel=sms]`).waitFor();
    await page.locator('.msg[data-kind=in]', { hasText: 'Monterrey' }).waitFor();
    await page.locator('textarea[name=composer]').fill('¡Claro! Enviamos a todo México.');
    await page.locator('textarea[name=composer]').press('Enter');
    const reply = page.locator('.msg[data-kind=out]', { hasText: 'Enviamos a todo' });
    await reply.locator('[data-delivery=sent]').waitFor({ timeout: 15_000 });
    expect(await reply.getAttribute('data-status')).toBe('sent');
    expect(await reply.locator('[data-delivery]').textContent()).toContain('Sent');
    expect(twilio.sent.at(-1)).toMatchObject({ to: CUSTOMER, from: SMS_NUMBER, body: '¡Claro! Enviamos a todo México.' });
    const sid = twilio.sent.at(-1)!.sid;
    expect(await twilioWebhook(webhookUrl, { MessageSid: sid, AccountSid: ACCOUNT_SID, MessageStatus: 'delivered', From: SMS_NUMBER, To: CUSTOMER })).toBe(200);
    await reply.and(page.locator('[data-status=delivered]')).waitFor();
    expect(await reply.locator('[data-delivery]').textContent()).toContain('Delivered');

    // Twilio refuses the next send for good: the message shows "failed to send" with Twilio's reason.
    twilio.refuseNext({ status: 400, code: 21408, message: 'Permission to send an SMS has not been enabled for the region indicated by the \'To\' number' });
    await page.locator('textarea[name=composer]').fill('Su pedido sale mañana.');
    await page.locator('textarea[name=composer]').press('Enter');
    const refused = page.locator('.msg[data-kind=out]', { hasText: 'Su pedido sale' });
    await refused.and(page.locator('[data-status=failed]')).waitFor({ timeout: 15_000 });
    expect(await refused.locator('[data-testid=send-failure]').textContent()).toMatch(/Failed to send: .*21408/);
    await shot(page, '3-sms-delivery-and-failure');

    // The window of an SMS never closes: no countdown, the composer is open.
    expect(await page.locator('[data-testid=send-window]').count()).toBe(0);
    expect(await page.locator('[data-testid=send-policy]').count()).toBe(0);

    // STOP: the composer says why and will not send; private notes still work; consent shows it.
    expect(await customerText(webhookUrl, 'STOP')).toBe(200);
    await page.locator('[data-testid=send-policy][data-reason=opted_out]').waitFor();
    expect(await page.locator('[data-testid=send-policy]').textContent()).toContain('opted out of messages from this number (STOP)');
    expect(await page.locator('.composer button.btn-primary').isDisabled()).toBe(true);
    expect(await page.locator('textarea[name=composer]').isDisabled()).toBe(true);
    await page.locator('[data-testid=consents] [data-consent=opted_out]').waitFor();
    expect(await page.locator('[data-testid=consents]').textContent()).toContain('STOP');
    await shot(page, '4-sms-opted-out');
    await page.locator('.composer-tab', { hasText: 'Private note' }).click();
    await page.locator('textarea[name=composer]').fill('Pidió baja por SMS.');
    expect(await page.locator('.composer button.btn-note').isDisabled()).toBe(false);
    await page.locator('textarea[name=composer]').press('Enter');
    await page.locator('.msg[data-kind=note]', { hasText: 'Pidió baja' }).waitFor();

    // The admin opts the contact back in by hand: the composer opens again.
    await page.locator('.composer-tab', { hasText: 'Reply' }).click();
    await page.locator('[data-testid=consents] button', { hasText: 'Mark opted in' }).click();
    await page.locator('[data-testid=consents] [data-consent=opted_in]').waitFor();
    await expect.poll(() => page.locator('[data-testid=send-policy]').count()).toBe(0);
    expect(await page.locator('textarea[name=composer]').isDisabled()).toBe(false);

    // Compliance: Mexico becomes an unavailable country (names in the user's language) — the composer says so.
    await page.goto(`${parley.baseUrl}/app/#/admin/compliance`);
    await page.locator('select[name=addCountry]').selectOption('MX');
    await page.locator('[data-testid=unavailable-countries] [data-country=MX]', { hasText: 'Mexico' }).waitFor();
    await page.locator('input[name=maxSendsPerSecond]').fill('20');
    await page.locator('.form-actions button[type=submit]').click();
    await page.locator('.form-actions [role=status]', { hasText: 'Saved' }).waitFor();
    expect(await rest('/tenant/settings')).toMatchObject({ unavailableCountries: ['MX'], maxSendsPerSecond: 20 });
    await shot(page, '5-compliance');
    await page.goto(`${parley.baseUrl}/app/#/conversations/${conversationId}`);
    await page.locator('[data-testid=send-policy][data-reason=country_unavailable]').waitFor();
    expect(await page.locator('.composer button.btn-primary').isDisabled()).toBe(true);
    await page.goto(`${parley.baseUrl}/app/#/admin/compliance`);
    await page.locator('[data-country=MX] button').click();
    await page.locator('.form-actions button[type=submit]').click();
    await page.locator('.form-actions [role=status]', { hasText: 'Saved' }).waitFor();
    expect(await rest('/tenant/settings')).toMatchObject({ unavailableCountries: [] });
    expect(errors).toEqual([]);
  });

  it('a WhatsApp conversation past the 24-hour window offers only its templates', async () => {
    const { page, errors } = await openAdmin();
    await page.goto(`${parley.baseUrl}/app/#/admin/inboxes`);
    await page.locator('select[name=channelType]').selectOption('whatsapp');
    await page.locator('.connect-form button[type=submit]').click();
    const form = page.locator('.channel-form[data-channel=whatsapp]');
    await form.locator('input[name=inboxName]').fill('WhatsApp Ventas');
    await form.locator('input[name="meta.accountId"]').fill(WA_PHONE_ID);
    await form.locator('input[name="meta.displayNumber"]').fill('+15550001111');
    await form.locator('input[name="meta.appSecret"]').fill(WA_SECRET);
    await form.locator('input[name="meta.accessToken"]').fill('wa-access-token');
    await form.locator('input[name="meta.verifyToken"]').fill('wa-verify');
    await form.locator('input[name="meta.graphBaseUrl"]').fill(graph.baseUrl);
    await form.locator('input[name="meta.apiVersion"]').fill('v21.0');
    await form.locator('button', { hasText: 'Add template' }).click();
    await form.locator('input[name="template.0.name"]').fill('order_update');
    await form.locator('input[name="template.0.language"]').fill('es_MX');
    await form.locator('textarea[name="template.0.body"]').fill('Hola {{1}}, tu pedido {{2}} está en camino.');
    await form.locator('button[type=submit]').click();
    await page.locator('.section-header h2').filter({ hasText: 'WhatsApp Ventas' }).waitFor();
    await expect.poll(() => page.locator('[data-secret-state=set]').count()).toBe(3);
    await shot(page, '6-whatsapp-connected');
    const webhookUrl = (await page.locator('[data-testid=webhook-urls] code').first().textContent())!;
    const inbox = (await rest<{ items: { id: string; channelType: string }[] }>('/inboxes')).items.find((i) => i.channelType === 'whatsapp')!;

    // The customer wrote (a signed Cloud API webhook) — then 25 hours passed.
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '15550001111', phone_number_id: WA_PHONE_ID },
        contacts: [{ profile: { name: 'Lucía Fernández' }, wa_id: WA_CUSTOMER }],
        messages: [{ from: WA_CUSTOMER, id: `wamid.${randomBytes(12).toString('hex')}`, timestamp: String(Math.floor(Date.now() / 1000) - 25 * 3600), type: 'text', text: { body: 'Hola, mi pedido 4471 no llegó' } }],
      } }] }],
    });
    const res = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', WA_SECRET).update(body).digest('hex')}` },
      body,
    });
    expect(res.status).toBe(200);
    const conversationId = await conversationOf(inbox.id);
    // Just written: free text is open, and the composer says for how long.
    await page.goto(`${parley.baseUrl}/app/#/conversations/${conversationId}`);
    await page.locator('[data-testid=send-window]').waitFor();
    expect(await page.locator('[data-testid=send-window]').textContent()).toMatch(/Window closes in (23|24) hr/);
    expect(await page.locator('textarea[name=composer]').isDisabled()).toBe(false);
    await sql`update messages set created_at = now() - interval '25 hours' where tenant_id = ${tenant.tenantId} and conversation_id = ${conversationId} and direction = 'in'`.execute(parley.db);

    await page.reload();
    await page.locator('.conv-header .channel-icon[data-channel=whatsapp]').waitFor();
    await page.locator('[data-testid=send-policy][data-reason=window_closed]').waitFor();
    expect(await page.locator('[data-testid=send-policy]').textContent()).toContain('only an approved template can be sent');
    const picker = page.locator('[data-testid=template-picker]');
    await picker.waitFor();
    expect(await page.locator('textarea[name=composer]').count()).toBe(0);
    // The picker shows the body and a field per parameter; sending needs them all.
    expect(await picker.locator('[data-testid=template-preview]').textContent()).toBe('Hola {{1}}, tu pedido {{2}} está en camino.');
    await picker.locator('input[name=param-1]').fill('Lucía');
    expect(await picker.locator('button', { hasText: 'Send template' }).isDisabled()).toBe(true);
    await picker.locator('input[name=param-2]').fill('4471');
    expect(await picker.locator('[data-testid=template-preview]').textContent()).toBe('Hola Lucía, tu pedido 4471 está en camino.');
    await shot(page, '7-whatsapp-template-picker');
    await picker.locator('button', { hasText: 'Send template' }).click();
    const sent = page.locator('.msg[data-kind=out]', { hasText: 'Hola Lucía, tu pedido 4471' });
    // The send is a durable job: on a loaded 2-core CI machine a first attempt that fails is retried ~10 s later.
    await sent.locator('[data-delivery=sent]').waitFor({ timeout: 30_000 });
    const graphSend = graph.sent().at(-1)!;
    expect(graphSend.json).toMatchObject({ to: WA_CUSTOMER, type: 'template', template: { name: 'order_update', language: { code: 'es_MX' } } });
    // Private notes stay possible in a closed window.
    await page.locator('.composer-tab', { hasText: 'Private note' }).click();
    await page.locator('textarea[name=composer]').waitFor();

    // In Spanish, the same rules speak Spanish.
    await page.goto(`${parley.baseUrl}/app/#/settings`);
    await page.locator('select#locale').selectOption('es-MX');
    await page.locator('h1', { hasText: 'Conversaciones' }).or(page.locator('text=Idioma')).first().waitFor();
    await page.goto(`${parley.baseUrl}/app/#/conversations/${conversationId}`);
    await page.locator('.composer-tab', { hasText: 'Responder' }).click();
    await page.locator('[data-testid=send-policy]', { hasText: 'solo se puede enviar una plantilla aprobada' }).waitFor();
    expect(await page.locator('[data-testid=template-picker] button').textContent()).toContain('Enviar plantilla');
    await page.locator('.msg[data-kind=out] [data-delivery]', { hasText: 'Enviado' }).waitFor();
    await shot(page, '7b-whatsapp-es-MX');
    await page.goto(`${parley.baseUrl}/app/#/settings`);
    await page.locator('select#locale').selectOption('en');
    await page.locator('text=Language').first().waitFor();
    expect(errors).toEqual([]);
  });

  it('connects an email inbox: address, SMTP relay with a write-only password', async () => {
    const { page, errors } = await openAdmin();
    await page.goto(`${parley.baseUrl}/app/#/admin/inboxes`);
    await page.locator('select[name=channelType]').selectOption('email');
    await page.locator('.connect-form button[type=submit]').click();
    const form = page.locator('.channel-form[data-channel=email]');
    await form.locator('input[name=inboxName]').fill('Correo Soporte');
    await form.locator('input[name="email.address"]').fill('soporte+ventas@ayuda.example.mx');
    await form.locator('input[name="smtp.host"]').fill('smtp.example.mx');
    await form.locator('button[type=submit]').click();
    expect(await form.locator('.form-problems li').allTextContents()).toEqual([
      'Address: a plain address such as support@example.com (no +).',
      'Outgoing mail (SMTP relay) · Port: required.',
    ]);
    await form.locator('input[name="email.address"]').fill('soporte@ayuda.example.mx');
    await form.locator('input[name="smtp.port"]').fill('587');
    await form.locator('input[name="smtp.user"]').fill('soporte@ayuda.example.mx');
    await form.locator('input[name="smtp.password"]').fill('relay-password-1');
    await form.locator('input[name="smtp.requireTls"]').check();
    await form.locator('button[type=submit]').click();
    await page.locator('.section-header h2').filter({ hasText: 'Correo Soporte' }).waitFor();
    await expect.poll(() => page.locator('[data-secret-state=set]').count()).toBe(1);
    expect(await page.locator('.item-list').textContent()).toContain('soporte@ayuda.example.mx');
    const inbox = (await rest<{ items: { channelType: string; settings: { email: unknown } }[] }>('/inboxes')).items.find((i) => i.channelType === 'email')!;
    expect(inbox.settings.email).toEqual({
      address: 'soporte@ayuda.example.mx',
      smtp: { host: 'smtp.example.mx', port: 587, user: 'soporte@ayuda.example.mx', passwordSet: true, secure: false, requireTls: true, verifyCertificate: true },
    });
    await shot(page, '8-email-connected');
    expect(errors).toEqual([]);
  });
});
