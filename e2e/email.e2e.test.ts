/**
 * Email in the agent app (issue 4): mail arrives over SMTP from a real client (nodemailer) at
 * Parley's own listener, whose SPF / DKIM / DMARC checks read a real DNS server (dnsmasq).
 * The agent sees the subject and who could be verified; the original formatting opens in a
 * frame that runs nothing and loads remote images only when asked.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDnsmasq, startDnsServer, type TestDnsServer } from '../apps/server/test/dns-server.ts';
import { dkimKey, dkimSigned, listForwarded } from '../apps/server/test/dkim-signer.ts';
import { createDnsResolver } from '../apps/server/src/net/dns-resolver.ts';
import { launchBrowser, newAgentPage, signIn, startParley, screenshots } from './harness.ts';

type Parley = Awaited<ReturnType<typeof startParley>>;
type Tenant = Awaited<ReturnType<Parley['createTenant']>>;

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const key = dkimKey();
const listKey = dkimKey();

let dns: TestDnsServer;
let parley: Parley;
let tenant: Tenant;
let browser: Browser;
/** A remote image host (a sender's tracking pixel): counts every fetch. */
let pixel: Server;
let pixelUrl: string;
let pixelHits = 0;

if (!hasDnsmasq) console.warn('SKIPPED email browser tests: dnsmasq not installed (run scripts/install-test-deps.sh)');

beforeAll(async () => {
  if (!hasDnsmasq) return;
  dns = await startDnsServer({
    'tienda.test': 'v=spf1 ip4:127.0.0.1 -all',
    'mail._domainkey.tienda.test': key.record,
    '_dmarc.tienda.test': 'v=DMARC1; p=quarantine',
    'banco.test': 'v=spf1 ip4:192.0.2.10 -all',
    '_dmarc.banco.test': 'v=DMARC1; p=reject',
    'lists.test': 'v=spf1 ip4:127.0.0.1 -all',
    'arc._domainkey.lists.test': listKey.record,
  });
  parley = await startParley({ smtpPort: 0, smtpHost: '127.0.0.1', smtpHostname: 'mx.parley.test', dnsServers: [dns.server], arcTrustedSealers: ['lists.test'] });
  tenant = await parley.createTenant('Correo Acme');
  const res = await fetch(`${parley.baseUrl}/api/v1/inboxes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Soporte', channelType: 'email', settings: { email: { address: 'soporte@ayuda.example.test' } } }),
  });
  expect(res.status).toBe(201);
  pixel = createServer((_req, res) => {
    pixelHits++;
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(PNG);
  });
  await new Promise<void>((resolve) => pixel.listen(0, '127.0.0.1', resolve));
  pixelUrl = `http://127.0.0.1:${(pixel.address() as AddressInfo).port}/open.png`;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await parley?.stop();
  await dns?.stop();
  await new Promise((resolve) => (pixel ? pixel.close(resolve) : resolve(undefined)));
});

/** Sends over SMTP to Parley's listener, as another mail server would. */
async function smtpSend(message: SendMailOptions, dkim?: { domainName: string; keySelector: string; privateKey: string }) {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: parley.smtpPort!, secure: false, ignoreTLS: true, ...(dkim ? { dkim } : {}) });
  await transport.sendMail(message);
  transport.close();
}

async function conversationWith(handle: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${parley.baseUrl}/api/v1/conversations?assignee=all&status=all`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
    const page = (await res.json()) as { items: { id: string; contact: { email: string | null } }[] };
    const found = page.items.find((c) => c.contact.email === handle);
    if (found) return found.id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no conversation with ${handle}`);
}

async function signInAsAdmin(): Promise<{ page: Page; errors: string[] }> {
  const { page, errors } = await newAgentPage(browser);
  await signIn(page, parley.baseUrl, tenant.adminEmail, tenant.adminPassword);
  return { page, errors };
}

const shot = screenshots('email');

describe.skipIf(!hasDnsmasq)('email in the agent app', () => {
  it('shows subject and a verified sender; the original formatting runs no script and loads remote images only on request', async () => {
    await smtpSend(
      {
        from: 'Erin Ruiz <erin@tienda.test>',
        to: 'soporte@ayuda.example.test',
        subject: 'Factura del pedido 2291',
        text: 'Hola, adjunto el logo para la factura. ¿Me la reenvían?',
        html:
          '<p style="color:red">Hola, adjunto el <b>logo</b> para la factura.</p><p><img alt="logo" src="cid:logo@tienda.test" width="48" height="48"></p>' +
          `<p>¿Me la reenvían?</p><img alt="tracker" src="${pixelUrl}" width="1" height="1"><img src="x" onerror="parent.__pwned = 1"><script>parent.__pwned = 2</script>`,
        attachments: [{ filename: 'logo.png', content: PNG, cid: 'logo@tienda.test' }],
        messageId: '<factura-2291@tienda.test>',
      },
      { domainName: 'tienda.test', keySelector: 'mail', privateKey: key.privateKey },
    );
    const conversationId = await conversationWith('erin@tienda.test');
    const { page, errors } = await signInAsAdmin();
    await page.goto(`${parley.baseUrl}/app/#/conversations/${conversationId}`);
    const email = page.locator('.msg[data-kind=in] [data-testid=email-content]');
    await email.locator('.email-subject', { hasText: 'Factura del pedido 2291' }).waitFor();
    await email.locator('.email-auth[data-verdict=verified]', { hasText: 'Verified sender' }).waitFor();
    expect(await email.locator('.email-auth').textContent()).toContain('SPF pass · DKIM pass (tienda.test) · DMARC pass (checked by mx.parley.test)');
    expect(await email.locator('.msg-text').textContent()).toContain('adjunto el logo');
    await shot(page, '1-verified');

    await email.getByRole('button', { name: 'Show original formatting' }).click();
    const frame = page.frameLocator('iframe.email-html');
    await frame.locator('b', { hasText: 'logo' }).waitFor();
    // The inline image is the stored attachment, loaded from Parley; the remote one is not loaded at all.
    await expect.poll(() => frame.locator('img[alt=logo]').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1);
    expect(await frame.locator('img[alt=tracker]').getAttribute('src')).toBeNull();
    expect(pixelHits).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await shot(page, '2-formatted');

    await email.getByRole('button', { name: 'Load remote images (1)' }).click();
    await expect.poll(() => pixelHits).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await email.getByRole('button', { name: 'Show plain text' }).click();
    await email.locator('.msg-text').waitFor();
    expect(errors).toEqual([]);
  });

  it('warns when the sender fails verification, whatever the message claims about itself', async () => {
    await smtpSend({
      envelope: { from: 'seguridad@banco.test', to: ['soporte@ayuda.example.test'] },
      from: 'Banco <seguridad@banco.test>',
      to: 'soporte@ayuda.example.test',
      subject: 'Verifique su cuenta',
      text: 'Su cuenta fue bloqueada. Responda con su contraseña.',
      headers: { 'Authentication-Results': 'mx.parley.test; spf=pass; dkim=pass header.d=banco.test; dmarc=pass' },
      messageId: '<phish-1@banco.test>',
    });
    const conversationId = await conversationWith('seguridad@banco.test');
    const { page, errors } = await signInAsAdmin();
    await page.goto(`${parley.baseUrl}/app/#/settings`);
    await page.locator('select#locale').selectOption('es-MX');
    await page.goto(`${parley.baseUrl}/app/#/conversations/${conversationId}`);
    const warning = page.locator('.msg[data-kind=in] .email-auth[data-verdict=suspicious]');
    await warning.waitFor();
    expect(await warning.getAttribute('role')).toBe('alert');
    expect(await warning.textContent()).toContain('El remitente no pasó la verificación');
    expect(await warning.textContent()).toContain('SPF fail · DKIM none · DMARC fail');
    expect(await page.locator('.email-actions').count()).toBe(0);
    await shot(page, '3-suspicious-es-MX');
    await page.goto(`${parley.baseUrl}/app/#/settings`);
    await page.locator('select#locale').selectOption('en');
    expect(errors).toEqual([]);
  });

  it('shows a message a trusted mailing list passed on (its footer broke DKIM, its ARC seal vouches) as verified, forwarded by the list', async () => {
    const original = await dkimSigned(
      { from: 'Gil Ortega <gil@tienda.test>', to: 'clientes@lists.test', subject: 'Pedido 3310 sin llegar', text: 'Mi pedido 3310 no ha llegado.', messageId: '<pedido-3310@tienda.test>' },
      'tienda.test', 'mail', key.privateKey,
    );
    const forwarded = await listForwarded(original, { domain: 'lists.test', selector: 'arc', privateKey: listKey.privateKey, resolver: createDnsResolver([dns.server]) }, { ip: '127.0.0.1', helo: 'mail.tienda.test', sender: 'gil@tienda.test' });
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: parley.smtpPort!, secure: false, ignoreTLS: true });
    await transport.sendMail({ envelope: { from: 'clientes-bounces@lists.test', to: ['soporte@ayuda.example.test'] }, raw: forwarded });
    transport.close();
    const conversationId = await conversationWith('gil@tienda.test');
    const { page, errors } = await signInAsAdmin();
    await page.goto(`${parley.baseUrl}/app/#/conversations/${conversationId}`);
    const email = page.locator('.msg[data-kind=in] [data-testid=email-content]');
    await email.locator('.email-auth[data-verdict=forwarded]', { hasText: 'Verified sender, forwarded by lists.test' }).waitFor();
    expect(await email.locator('.email-auth').textContent()).toContain('DMARC fail (checked by mx.parley.test) · ARC pass (lists.test)');
    await shot(page, '3b-forwarded-by-list');
    expect(errors).toEqual([]);
  });

  it("tests the inbox's SMTP relay from the admin screen: signed in, nothing sent", async () => {
    let mails = 0;
    const relay = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      logger: false,
      onAuth: (auth, _session, cb) => (auth.username === 'soporte' && auth.password === 'clave-relay' ? cb(null, { user: 'soporte' }) : cb(new Error('535 5.7.8 bad credentials'))),
      onData: (stream, _session, cb) => {
        mails++;
        stream.resume();
        stream.on('end', () => cb());
      },
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', () => resolve()));
    try {
      const relayPort = (relay.server.address() as AddressInfo).port;
      const inboxes = (await (await fetch(`${parley.baseUrl}/api/v1/inboxes`, { headers: { authorization: `Bearer ${tenant.apiKey}` } })).json()) as { items: { id: string; channelType: string }[] };
      const inbox = inboxes.items.find((i) => i.channelType === 'email')!;
      const patched = await fetch(`${parley.baseUrl}/api/v1/inboxes/${inbox.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ settings: { email: { address: 'soporte@ayuda.example.test', smtp: { host: '127.0.0.1', port: relayPort, secure: false, verifyCertificate: false, user: 'soporte', password: 'clave-relay' } } } }),
      });
      expect(patched.status).toBe(200);
      const { page, errors } = await signInAsAdmin();
      await page.goto(`${parley.baseUrl}/app/#/admin/inboxes/${inbox.id}`);
      await page.locator('[data-testid=channel-health]').waitFor();
      // Email has no provider callbacks: no webhook URLs to paste.
      expect(await page.locator('[data-testid=webhook-urls]').count()).toBe(0);
      await page.locator('[data-testid=test-connection]').click();
      const result = page.locator('[data-testid=test-result]');
      await result.waitFor();
      expect(await result.getAttribute('data-ok'), (await result.textContent()) ?? '').toBe('true');
      expect(await result.textContent()).toContain(`SMTP relay 127.0.0.1:${relayPort}: signed in as soporte`);
      expect(mails).toBe(0);
      await shot(page, '4-test-connection');

      // Replies unsigned so far: the admin makes a DKIM key and is shown the record to publish.
      const dkim = page.locator('[data-testid=dkim]');
      expect(await dkim.textContent()).toContain('Replies are not signed');
      await page.locator('[data-testid=dkim-make]').click();
      const record = page.locator('[data-testid=dkim-record]');
      await record.waitFor();
      expect(await record.textContent()).toContain('parley._domainkey.ayuda.example.test');
      expect(await record.textContent()).toMatch(/v=DKIM1; k=rsa; p=[A-Za-z0-9+/]{300,}/);
      expect(await page.locator('[data-testid=dkim-make]').textContent()).toBe('Replace key');
      await shot(page, '5-dkim-record');
      expect(errors).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });
});
