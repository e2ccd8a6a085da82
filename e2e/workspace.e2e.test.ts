/**
 * CC-10 agent workspace, end to end: a real Chromium runs the agent app (apps/agent-web) against
 * a real Parley server while a visitor chats through the web chat widget on a customer's page of
 * another origin. Covers live updates without reload, replies, history after a visitor reload,
 * tenant isolation (TN-1), private notes with @mentions, invitations, language switch, and that
 * visitor HTML stays text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newAgentPage, signIn, startParley, startHostSite, screenshots } from './harness.ts';

type Parley = Awaited<ReturnType<typeof startParley>>;
type Tenant = Awaited<ReturnType<Parley['createTenant']>>;

const EVIL = `<img src=x onerror="window.__pwned='img'"><script>window.__pwned='script'</script><b>bold?</b>`;

let parley: Parley;
let browser: Browser;
/** The customer's site, on loopback under the other host name: a different origin from Parley. */
let host: Awaited<ReturnType<typeof startHostSite>>;

beforeAll(async () => {
  parley = await startParley();
  host = await startHostSite(parley.baseUrl);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await parley?.stop();
  await host?.stop();
});

const shot = screenshots('workspace');

/** Shows every conversation of every status, so a new one is visible wherever it lands. */
async function showAll(page: Page): Promise<void> {
  await page.locator('.tab[data-filter=all]').click();
  await page.locator('.filter-row select').first().selectOption('all');
}

/** A web chat visitor on the customer's page, with the widget opened and the pre-chat form filled. */
async function visitor(publicId: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 }, locale: 'en-US' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  const path = `/shop-${publicId}`;
  host.page(path, `<!doctype html><html><head><title>Acme shop</title></head>
    <body><main><h1>Acme shop</h1><p>Fine things for fine people.</p></main>
    <script src="${parley.baseUrl}/widget.js" data-inbox="${publicId}" async></script></body></html>`);
  await page.goto(`${host.origin}${path}`);
  await page.locator('parley-widget .launcher').click();
  await page.locator('parley-widget form.prechat').waitFor();
  await page.locator('parley-widget #parley-name').fill('Vera Visitor');
  await page.locator('parley-widget #parley-email').fill('vera@example.com');
  await page.locator('parley-widget form.prechat button[type=submit]').click();
  await page.locator('parley-widget .composer textarea').waitFor();
  return { context, page, errors };
}

async function visitorSend(page: Page, text: string): Promise<void> {
  await page.locator('parley-widget .composer textarea').fill(text);
  await page.locator('parley-widget .composer textarea').press('Enter');
}

async function visitorRows(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelector('parley-widget')?.shadowRoot?.querySelectorAll('.list .row[data-key] .bubble') ?? []).map(
      (b) => b.textContent ?? '',
    ),
  );
}

/** Texts of the messages shown in the open conversation of the agent app. */
async function agentMessages(page: Page): Promise<{ kind: string; text: string }[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('.messages .msg')).map((m) => ({
      kind: m.dataset.kind ?? '',
      text: m.querySelector('.msg-text')?.textContent ?? '',
    })),
  );
}

describe('agent workspace (CC-10)', () => {
  let tenantA: Tenant;
  let tenantB: Tenant;

  beforeAll(async () => {
    tenantA = await parley.createTenant('Workspace Acme');
    tenantB = await parley.createTenant('Workspace Beta');
  });

  it('serves a live inbox: widget chat appears without reload, reply, notes with @mentions, i18n, isolation, HTML as text', async () => {
    const agent = await newAgentPage(browser);
    const agentPage = agent.page;
    let visitorSide: Awaited<ReturnType<typeof visitor>> | null = null;
    const others: BrowserContext[] = [];
    try {
      // ── Login ──
      await agentPage.goto(`${parley.baseUrl}/app/`);
      await agentPage.locator('.auth-card').waitFor();
      expect(agentPage.url()).toContain('#/login');
      await shot(agentPage, '01-login');
      await agentPage.locator('input[name=email]').fill(tenantA.adminEmail);
      await agentPage.locator('input[name=password]').fill('wrong password');
      await agentPage.locator('button[type=submit]').click();
      await expect.poll(() => agentPage.locator('.form-error').textContent()).toBe('Wrong email or password.');
      await agentPage.locator('input[name=password]').fill(tenantA.adminPassword);
      await agentPage.locator('button[type=submit]').click();
      await agentPage.locator('.list-pane').waitFor();
      await agentPage.locator('.conn[data-status=online]').waitFor({ timeout: 15_000 });

      // ── Admin creates a web chat inbox and sees its widget snippet ──
      await agentPage.goto(`${parley.baseUrl}/app/#/admin/inboxes`);
      await agentPage.locator('input[name=inboxName]').fill('Acme Support');
      await agentPage.locator('.admin-list button[type=submit]').click();
      await agentPage.locator('.admin-detail .section-header h2', { hasText: 'Acme Support' }).waitFor();
      const publicId = (await agentPage.locator('.admin-detail .section-header .mono').textContent())!.trim();
      expect(publicId.length).toBeGreaterThan(3);
      await expect.poll(() => agentPage.locator('[data-testid=snippet]').textContent()).toContain('widget.js');
      expect(await agentPage.locator('[data-testid=snippet]').textContent()).toContain(publicId);
      await shot(agentPage, '02-admin-inbox');

      // ── Workspace open on "all" before the visitor writes ──
      await agentPage.goto(`${parley.baseUrl}/app/#/conversations`);
      await showAll(agentPage);
      await expect.poll(() => agentPage.locator('.conv-row').count()).toBe(0);
      await shot(agentPage, '03-empty-inbox');

      // ── Visitor writes; the agent sees it appear live (no reload) ──
      const navigations: string[] = [];
      agentPage.on('framenavigated', (f) => f === agentPage.mainFrame() && navigations.push(f.url()));
      visitorSide = await visitor(publicId);
      await visitorSend(visitorSide.page, 'Hi, I need help with order #42');
      const row = agentPage.locator('.conv-row', { hasText: 'Vera Visitor' });
      await row.waitFor({ timeout: 15_000 });
      await expect.poll(() => row.locator('.conv-preview').textContent(), { timeout: 10_000 }).toBe('Hi, I need help with order #42');
      await expect.poll(() => agentPage.locator('[data-count=all]').textContent(), { timeout: 10_000 }).toBe('1');
      expect(await row.locator('.badge').textContent()).toBe('1');
      await expect.poll(() => agentPage.title()).toBe('(1) Parley');
      expect(navigations.filter((u) => !u.includes('#'))).toEqual([]);
      await shot(agentPage, '04-live-conversation');

      // ── Agent opens it (marks read), replies with Enter ──
      await row.click();
      await agentPage.locator('.conv-header h2', { hasText: 'Vera Visitor' }).waitFor();
      await expect.poll(() => agentMessages(agentPage)).toEqual([{ kind: 'in', text: 'Hi, I need help with order #42' }]);
      await expect.poll(() => row.locator('.badge').count()).toBe(0);
      await expect.poll(() => agentPage.title()).toBe('Parley');
      expect(await agentPage.locator('.contact-pane').textContent()).toContain('vera@example.com');
      const conversationId = agentPage.url().split('#/conversations/')[1]!;
      await agentPage.locator('.composer-input').fill('Sure! Which size did you order?');
      await agentPage.locator('.composer-input').press('Enter');
      await expect.poll(() => agentMessages(agentPage)).toEqual([
        { kind: 'in', text: 'Hi, I need help with order #42' },
        { kind: 'out', text: 'Sure! Which size did you order?' },
      ]);
      expect(await agentPage.locator('.composer-input').inputValue()).toBe('');

      // ── The visitor sees the reply live, and after a reload the history is there ──
      await expect.poll(() => visitorRows(visitorSide!.page), { timeout: 10_000 }).toEqual([
        'Hi, I need help with order #42',
        'Sure! Which size did you order?',
      ]);
      await visitorSide.page.reload();
      await visitorSide.page.locator('parley-widget .composer textarea').waitFor();
      await expect.poll(() => visitorRows(visitorSide!.page), { timeout: 10_000 }).toEqual([
        'Hi, I need help with order #42',
        'Sure! Which size did you order?',
      ]);

      // ── Contact typing shows in the agent app; visitor HTML arrives as inert text ──
      await visitorSide.page.locator('parley-widget .composer textarea').pressSequentially('Medi', { delay: 30 });
      await agentPage.locator('.typing').waitFor({ timeout: 10_000 });
      await visitorSend(visitorSide.page, EVIL);
      await expect.poll(() => agentMessages(agentPage), { timeout: 10_000 }).toContainEqual({ kind: 'in', text: EVIL });
      expect(await agentPage.evaluate(() => (window as { __pwned?: string }).__pwned)).toBeUndefined();
      expect(await agentPage.locator('.messages .msg-text img, .messages .msg-text script, .messages .msg-text b').count()).toBe(0);
      expect(await row.locator('.conv-preview').textContent()).toBe(EVIL);
      await shot(agentPage, '05-conversation');

      // ── Invite a teammate, who accepts the link and lands in the workspace ──
      await agentPage.goto(`${parley.baseUrl}/app/#/admin/users`);
      await agentPage.locator('input[name=inviteEmail]').fill('sam@acme.test');
      await agentPage.locator('.inline-form button[type=submit]').click();
      const acceptUrl = (await agentPage.locator('[data-testid=accept-url]').textContent())!.trim();
      expect(acceptUrl).toContain('#/invite/');
      await shot(agentPage, '06-admin-users');
      const sam = await newAgentPage(browser);
      others.push(sam.context);
      await sam.page.goto(acceptUrl);
      await sam.page.locator('input[name=name]').fill('Sam Support');
      await sam.page.locator('input[name=password]').fill('sam-password-123');
      await sam.page.locator('input[name=confirm]').fill('sam-password-123');
      await shot(sam.page, '07-accept-invite');
      await sam.page.locator('button[type=submit]').click();
      await sam.page.locator('.list-pane').waitFor();

      // ── Private note with an @mention, picked from the autocomplete ──
      await agentPage.goto(`${parley.baseUrl}/app/#/conversations/${conversationId}`);
      await agentPage.locator('.conv-header h2', { hasText: 'Vera Visitor' }).waitFor();
      await agentPage.locator('body').press('n');
      await expect.poll(() => agentPage.locator('.composer').getAttribute('class')).toContain('composer-note');
      await agentPage.locator('.composer-input').pressSequentially('@Sa');
      await agentPage.locator('.popup-item', { hasText: 'Sam Support' }).waitFor({ timeout: 10_000 });
      await shot(agentPage, '08-mention-autocomplete');
      await agentPage.locator('.composer-input').press('Enter');
      expect(await agentPage.locator('.composer-input').inputValue()).toBe('@Sam Support ');
      await agentPage.locator('.composer-input').pressSequentially('can you check the stock?');
      await agentPage.locator('.composer-input').press('Enter');
      const note = agentPage.locator('.msg-note').last();
      await note.locator('.mention.resolved', { hasText: '@Sam Support' }).waitFor({ timeout: 10_000 });
      expect(await note.locator('.msg-text').textContent()).toBe('@Sam Support can you check the stock?');
      await shot(agentPage, '09-private-note');
      // The visitor never sees the note.
      await agentPage.locator('.composer-tab').first().click();
      await agentPage.locator('.composer-input').fill('We have it in medium.');
      await agentPage.locator('.composer-input').press('Enter');
      await expect.poll(() => visitorRows(visitorSide!.page), { timeout: 10_000 }).toContain('We have it in medium.');
      expect((await visitorRows(visitorSide.page)).some((r) => r.includes('stock'))).toBe(false);

      // ── Keyboard: ? shows help; e resolves ──
      await agentPage.locator('.composer-input').blur();
      await agentPage.keyboard.press('?');
      await agentPage.locator('.modal .shortcut-table').waitFor();
      await agentPage.keyboard.press('Escape');
      await agentPage.keyboard.press('e');
      await agentPage.locator('.conv-header .pill[data-status=resolved]').waitFor({ timeout: 10_000 });
      await agentPage.locator('.conv-header button', { hasText: 'Reopen' }).click();
      await agentPage.locator('.conv-header .pill[data-status=open]').waitFor({ timeout: 10_000 });

      // ── Language: es-MX switches the UI at once and is kept for the next login ──
      await agentPage.goto(`${parley.baseUrl}/app/#/settings`);
      await agentPage.locator('#locale').selectOption('es-MX');
      await agentPage.locator('.page-header h1', { hasText: 'Configuración' }).waitFor();
      await shot(agentPage, '10-settings-es');
      await agentPage.goto(`${parley.baseUrl}/app/#/conversations/${conversationId}`);
      await agentPage.locator('.tab[data-filter=mine]', { hasText: 'Mías' }).waitFor();
      expect(await agentPage.locator('.composer-tab').first().textContent()).toBe('Responder');
      expect(await agentPage.locator('.conv-header').textContent()).toContain('Resolver');
      await shot(agentPage, '11-workspace-es');
      await agentPage.goto(`${parley.baseUrl}/app/#/settings`);
      await agentPage.locator('button', { hasText: 'Cerrar sesión' }).click();
      await agentPage.locator('.auth-card').waitFor();
      await agentPage.locator('input[name=email]').fill(tenantA.adminEmail);
      await agentPage.locator('input[name=password]').fill(tenantA.adminPassword);
      await agentPage.locator('button[type=submit]').click();
      await agentPage.locator('.list-header h1', { hasText: 'Conversaciones' }).waitFor();
      await agentPage.goto(`${parley.baseUrl}/app/#/conversations/${conversationId}`);
      await agentPage.locator('.conv-header h2', { hasText: 'Vera Visitor' }).waitFor();

      // ── Tenant B sees nothing of tenant A ──
      const b = await newAgentPage(browser);
      others.push(b.context);
      await signIn(b.page, parley.baseUrl, tenantB.adminEmail, tenantB.adminPassword);
      await showAll(b.page);
      await b.page.locator('.conn[data-status=online]').waitFor({ timeout: 15_000 });
      await expect.poll(() => b.page.locator('[data-count=all]').textContent()).toBe('0');
      expect(await b.page.locator('.conv-row').count()).toBe(0);
      // A new message in A's conversation reaches A live but never B.
      await visitorSend(visitorSide.page, 'Thanks a lot!');
      await expect.poll(() => agentMessages(agentPage), { timeout: 10_000 }).toContainEqual({ kind: 'in', text: 'Thanks a lot!' });
      await b.page.waitForTimeout(500);
      expect(await b.page.locator('.conv-row').count()).toBe(0);
      const status = await b.page.evaluate(async (id) => (await fetch(`/api/v1/conversations/${id}`)).status, conversationId);
      expect(status).toBe(404);
      await b.page.goto(`${parley.baseUrl}/app/#/conversations/${conversationId}`);
      await b.page.locator('.conv-pane .form-error').waitFor();
      expect(await b.page.locator('body').textContent()).not.toContain('Vera');
      await shot(b.page, '12-tenant-b');

      expect(await agentPage.evaluate(() => (window as { __pwned?: string }).__pwned)).toBeUndefined();
      expect(agent.errors).toEqual([]);
      expect(b.errors).toEqual([]);
      expect(visitorSide.errors).toEqual([]);
    } finally {
      await visitorSide?.context.close();
      for (const c of others) await c.close();
      await agent.context.close();
    }
  }, 180_000);

  it('keeps the inbox current across a dropped socket and the browser going offline (hello with the last seq)', async () => {
    const agent = await newAgentPage(browser);
    let visitorSide: Awaited<ReturnType<typeof visitor>> | null = null;
    // The agent's realtime socket passes through a proxy the test can cut, like a network loss or a laptop asleep.
    const hellos: { lastSeq: number | null }[] = [];
    let cut = false;
    const sockets: { close: () => Promise<void> }[] = [];
    await agent.page.routeWebSocket(/\/api\/v1\/realtime$/, (ws) => {
      if (cut) {
        void ws.close({ code: 1006, reason: 'network down' }).catch(() => undefined);
        return;
      }
      const server = ws.connectToServer();
      ws.onMessage((m) => {
        const frame = JSON.parse(String(m)) as { type: string; lastSeq?: number | null };
        if (frame.type === 'hello') hellos.push({ lastSeq: frame.lastSeq ?? null });
        server.send(m);
      });
      sockets.push({ close: async () => { await server.close(); await ws.close(); } });
    });
    try {
      const inbox = await fetch(`${parley.baseUrl}/api/v1/inboxes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenantB.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Beta Chat', channelType: 'webchat' }),
      }).then((r) => r.json() as Promise<{ publicId: string }>);
      await signIn(agent.page, parley.baseUrl, tenantB.adminEmail, tenantB.adminPassword);
      await showAll(agent.page);
      await agent.page.locator('.conn[data-status=online]').waitFor({ timeout: 15_000 });
      expect(hellos).toEqual([{ lastSeq: null }]);
      visitorSide = await visitor(inbox.publicId);
      await visitorSend(visitorSide.page, 'first message');
      const row = agent.page.locator('.conv-row', { hasText: 'Vera Visitor' });
      await row.waitFor({ timeout: 15_000 });
      // The row appears with the conversation; its first message follows in its own event.
      await row.locator('.conv-preview', { hasText: 'first message' }).waitFor({ timeout: 15_000 });

      // Cut: the socket dies and reconnects fail; meanwhile the visitor writes twice.
      cut = true;
      await agent.context.setOffline(true);
      for (const s of sockets.splice(0)) await s.close();
      await agent.page.locator('.conn:not([data-status=online])').waitFor({ timeout: 15_000 });
      await visitorSend(visitorSide.page, 'sent while the agent was offline');
      await visitorSend(visitorSide.page, 'and once more');
      await agent.page.waitForTimeout(1500);
      expect(await row.locator('.conv-preview').textContent()).toBe('first message');
      await shot(agent.page, '13-offline');

      // Back: the client reconnects by itself and resumes from the last seq it applied.
      cut = false;
      await agent.context.setOffline(false);
      await agent.page.locator('.conn[data-status=online]').waitFor({ timeout: 30_000 });
      expect(hellos.length).toBeGreaterThanOrEqual(2);
      expect(typeof hellos.at(-1)?.lastSeq).toBe('number');
      await expect.poll(() => row.locator('.conv-preview').textContent(), { timeout: 15_000 }).toBe('and once more');
      expect(await row.locator('.badge').textContent()).toBe('3');
      await expect.poll(() => agent.page.locator('[data-count=all]').textContent(), { timeout: 10_000 }).toBe('1');
      expect(agent.errors).toEqual([]);
    } finally {
      await visitorSide?.context.close();
      await agent.context.close();
    }
  }, 120_000);

  it('admin screens: API key shown once and revoked, webhook with secret and deliveries, canned reply inserted in the composer', async () => {
    const agent = await newAgentPage(browser);
    const page = agent.page;
    page.on('dialog', (d) => void d.accept());
    try {
      await signIn(page, parley.baseUrl, tenantA.adminEmail, tenantA.adminPassword);
      // The first test left this admin in Spanish: back to English from the settings.
      await page.goto(`${parley.baseUrl}/app/#/settings`);
      await page.locator('#locale').selectOption('en');
      await page.locator('.page-header h1', { hasText: 'Settings' }).waitFor();

      // API keys: the key is shown once, listed by name, then revoked.
      await page.goto(`${parley.baseUrl}/app/#/admin/api-keys`);
      await page.locator('.inline-form input').fill('CRM integration');
      await page.locator('.inline-form button[type=submit]').click();
      const key = (await page.locator('.secret-box .secret-value').textContent())!.trim();
      expect(key.length).toBeGreaterThan(16);
      await page.locator('.table td', { hasText: 'CRM integration' }).waitFor();
      expect(await page.locator('.table').textContent()).not.toContain(key);
      await shot(page, '14-admin-api-keys');
      const keyWorks = async () => (await fetch(`${parley.baseUrl}/api/v1/labels`, { headers: { authorization: `Bearer ${key}` } })).status;
      expect(await keyWorks()).toBe(200);
      await page.locator('.table tr', { hasText: 'CRM integration' }).locator('button', { hasText: 'Revoke' }).click();
      await expect.poll(() => page.locator('.table td', { hasText: 'CRM integration' }).count()).toBe(0);
      expect(await keyWorks()).toBe(401);

      // Webhooks: secret shown once; a delivery to an endpoint that refuses shows its error.
      await page.goto(`${parley.baseUrl}/app/#/admin/webhooks`);
      await page.locator('input[type=url]').fill('http://127.0.0.1:9/parley-hook');
      await page.locator('label.check', { hasText: 'conversation.updated' }).locator('input').check();
      await page.locator('button[type=submit]', { hasText: 'Add webhook' }).click();
      expect((await page.locator('.secret-box .secret-value').textContent())!.trim().length).toBeGreaterThan(10);
      await page.locator('.table td', { hasText: '127.0.0.1:9/parley-hook' }).waitFor();

      // Canned reply, then used from the composer with "/".
      await page.goto(`${parley.baseUrl}/app/#/admin/canned-replies`);
      await page.locator('.field input').first().fill('thanks');
      await page.locator('.field textarea').fill('Thanks {{contact.name}}, anything else?');
      await page.locator('button[type=submit]', { hasText: 'Add canned reply' }).click();
      await page.locator('.table td', { hasText: '/thanks' }).waitFor();
      await shot(page, '15-admin-canned');

      await page.goto(`${parley.baseUrl}/app/#/conversations`);
      await showAll(page);
      await page.locator('.conv-row', { hasText: 'Vera Visitor' }).click();
      await page.locator('.conv-header h2', { hasText: 'Vera Visitor' }).waitFor();
      await page.locator('.composer-tab').first().click();
      await page.locator('.composer-input').pressSequentially('/tha');
      await page.locator('.popup-item', { hasText: '/thanks' }).waitFor();
      await shot(page, '16-canned-picker');
      await page.locator('.composer-input').press('Enter');
      await expect.poll(() => page.locator('.composer-input').inputValue()).toBe('Thanks Vera Visitor, anything else?');
      // Labels and priority from the header (these also fire the webhook's conversation.updated).
      await page.locator('.conv-labels button', { hasText: 'Add label' }).click();
      await page.locator('.label-form input').fill('vip');
      await page.locator('.label-form input').press('Enter');
      await page.locator('.conv-labels .label-chip', { hasText: 'vip' }).waitFor();
      await page.locator('.conv-actions select[aria-label=Priority]').selectOption('3');
      await page.locator('.conv-row .pill-prio-3').waitFor();

      // Attachments: a PNG is shown inline from a blob: URL, an SVG only as a download.
      await page.locator('.composer-input').fill('Here are the files');
      const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
      await page.locator('[data-testid=file-input]').setInputFiles([
        { name: 'pixel.png', mimeType: 'image/png', buffer: png },
        { name: 'drawing.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=1"/>') },
      ]);
      await expect.poll(() => page.locator('.file-chip').count()).toBe(2);
      await expect.poll(() => page.locator('.composer .btn-primary').isEnabled(), { timeout: 10_000 }).toBe(true);
      await page.locator('.composer .btn-primary').click();
      const sent = page.locator('.msg-out', { hasText: 'Here are the files' });
      await sent.locator('.att-image img[src^="blob:"]').waitFor({ timeout: 10_000 });
      await sent.locator('.att-file', { hasText: 'drawing.svg' }).waitFor();
      expect(await sent.locator('img').count()).toBe(1);
      expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();

      // Snooze for an hour from the status menu.
      await page.locator('.conv-actions select[aria-label="Change status"]').selectOption('snooze1h');
      await page.locator('.conv-header .pill[data-status=snoozed]').waitFor({ timeout: 10_000 });
      await shot(page, '17-labels-priority-files-snoozed');

      await page.goto(`${parley.baseUrl}/app/#/admin/webhooks`);
      await page.locator('.table tr', { hasText: 'parley-hook' }).locator('a', { hasText: 'Deliveries' }).click();
      await expect.poll(async () => {
        await page.locator('button', { hasText: 'Refresh' }).click();
        return page.locator('.card tbody tr', { hasText: 'conversation.updated' }).count();
      }, { timeout: 20_000, interval: 1000 }).toBeGreaterThan(0);
      await shot(page, '18-admin-webhook-deliveries');

      // Hours later its retries are spent (the receiver never answered): the admin sends them again.
      const hook = await parley.db.selectFrom('webhook_endpoints').select('id').where('url', '=', 'http://127.0.0.1:9/parley-hook').executeTakeFirstOrThrow();
      // Their retries stop first, and any attempt under way ends, so that no job rewrites the rows set below.
      await expect.poll(async () => {
        // Counted as the statement found them: done when none was queued (all stopped before) nor running.
        const { rows } = await sql<{ running: number }>`
          WITH stopped AS (
            UPDATE jobs SET status = 'failed' WHERE kind = 'webhook.deliver' AND status = 'queued'
              AND payload->>'deliveryId' IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = ${hook.id}))
          SELECT count(*)::int AS running FROM jobs WHERE kind = 'webhook.deliver' AND status IN ('queued', 'running')
            AND payload->>'deliveryId' IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = ${hook.id})`.execute(parley.db);
        return rows[0]!.running;
      }).toBe(0);
      const spent = await parley.db.updateTable('webhook_deliveries').set({ status: 'failed', attempts: 8, last_error: 'TypeError: fetch failed' }).where('endpoint_id', '=', hook.id).returning('id').execute();
      await page.locator('button', { hasText: 'Refresh' }).click();
      await page.locator('.card tbody .pill', { hasText: 'Failed' }).first().waitFor();
      await page.locator('button', { hasText: `Send failed again (${spent.length})` }).click();
      await page.locator('.card p', { hasText: `Queued again: ${spent.length}.` }).waitFor();
      await expect.poll(() => page.locator('.card tbody .pill', { hasText: 'Failed' }).count()).toBe(0);
      expect(await page.locator('.card tbody .pill', { hasText: 'Trying' }).count()).toBe(spent.length);
      await shot(page, '19-admin-webhook-sent-again');
      // Paused, the endpoint says so and by whom.
      const hookRow = page.locator('.table tr', { hasText: 'parley-hook' });
      await hookRow.locator('button', { hasText: 'Pause' }).click();
      await hookRow.locator('.pill', { hasText: 'Paused' }).waitFor();
      expect(await hookRow.textContent()).toContain('Paused by an admin on');
      await shot(page, '20-admin-webhook-paused');
      await hookRow.locator('button', { hasText: 'Resume' }).click();
      await expect.poll(() => hookRow.locator('.pill', { hasText: 'Paused' }).count()).toBe(0);
      expect(agent.errors).toEqual([]);
    } finally {
      await agent.context.close();
    }
  }, 120_000);
});
