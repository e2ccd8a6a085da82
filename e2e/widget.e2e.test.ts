/**
 * CH-1 web chat widget, end to end: a real Chromium loads a customer's page from another
 * origin (routed by Playwright) with hostile CSS, the widget talks to a real Parley server,
 * and the "agent" acts through the REST API with the tenant's API key.
 */
import { createHmac } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import WebSocket from 'ws';
import { launchBrowser, startParley, startHostSite, screenshots } from './harness.ts';

type Parley = Awaited<ReturnType<typeof startParley>>;
type Tenant = Awaited<ReturnType<Parley['createTenant']>>;

/** The customer's site, on another origin than Parley: CORS and storage are exercised cross-origin. */
let host: Awaited<ReturnType<typeof startHostSite>>;

const HOSTILE_CSS = `
  div, span, p, button, form, input, textarea, a, img, label, h2 { color: red !important; font-size: 40px !important; background: lime !important; font-family: "Comic Sans MS", cursive !important; }
  body > *:not(main) { display: none !important; opacity: 0 !important; visibility: hidden !important; }
  * { box-sizing: content-box !important; line-height: 3 !important; letter-spacing: 4px !important; }
`;

let parley: Parley;
let browser: Browser;

beforeAll(async () => {
  parley = await startParley();
  host = await startHostSite(parley.baseUrl);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await parley?.stop();
  await host?.stop();
});

// ───────────────────────────── agent side, through the public API ─────────────────────────────

async function api<T>(tenant: Tenant, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${parley.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${tenant.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

async function createInbox(tenant: Tenant): Promise<{ id: string; publicId: string; identitySecret?: string }> {
  return api(tenant, 'POST', '/api/v1/inboxes', {
    name: 'Acme Support',
    channelType: 'webchat',
    settings: {
      color: '#7c3aed',
      greeting: 'Hi there! Ask us anything.',
      prechat: { enabled: true, fields: [{ name: 'name', required: true }, { name: 'email', required: true }] },
    },
  });
}

interface AgentSocket {
  /** Every frame the agent app received, parsed. */
  frames: { type: string; event?: { type: string; data: Record<string, unknown> } }[];
  send(frame: unknown): void;
  close(): void;
}

/** An agent with the workspace open: logged in, holding the agent realtime socket, counted by routing (this makes the inbox "online"). */
async function agentOnline(tenant: Tenant): Promise<AgentSocket> {
  const res = await fetch(`${parley.baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: tenant.adminEmail, password: tenant.adminPassword }),
  });
  expect(res.status).toBe(200);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const ws = new WebSocket(`${parley.baseUrl.replace(/^http/, 'ws')}/api/v1/realtime`, { headers: { cookie, origin: parley.baseUrl } });
  const frames: AgentSocket['frames'] = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', lastSeq: null })));
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString());
      frames.push(frame);
      if (frame.type === 'ready') resolve();
    });
    ws.once('error', reject);
  });
  // Routing counts the connection (for every node) just after `ready`: the widget asks routing.
  for (let i = 0; i < 100 && !(await api<{ connected: boolean }>(tenant, 'GET', `/api/v1/routing/agents/${tenant.adminUserId}`)).connected; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return { frames, send: (frame) => ws.send(JSON.stringify(frame)), close: () => ws.close() };
}

async function onlyConversation(tenant: Tenant, inboxId: string): Promise<string> {
  const { items } = await api<{ items: { id: string }[] }>(tenant, 'GET', `/api/v1/conversations?inboxId=${inboxId}&assignee=all&status=all`);
  expect(items).toHaveLength(1);
  return items[0]!.id;
}

async function messagesOf(tenant: Tenant, conversationId: string): Promise<{ id: string; content: string; direction: string }[]> {
  return (await api<{ items: { id: string; content: string; direction: string }[] }>(tenant, 'GET', `/api/v1/conversations/${conversationId}/messages?limit=100`)).items;
}

// ───────────────────────────── browser side ─────────────────────────────

async function openHostPage(
  publicId: string,
  opts: { locale?: string; settings?: Record<string, string>; viewport?: { width: number; height: number } } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[]; sockets: string[] }> {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1100, height: 760 }, locale: 'en-US' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  const path = `/shop-${publicId}`;
  host.page(
    path,
    `<!doctype html><html><head><title>Acme shop</title><style>${HOSTILE_CSS}</style></head>
      <body><main><h1>Acme shop</h1><p>Welcome to our store. Browse our catalogue of fine things.</p></main>
      ${opts.settings ? `<script>window.parleySettings = ${JSON.stringify(opts.settings)};</script>` : ''}
      <script src="${parley.baseUrl}/widget.js" data-inbox="${publicId}"${opts.locale ? ` data-locale="${opts.locale}"` : ''} async></script>
      </body></html>`,
  );
  await page.goto(`${host.origin}${path}`);
  await page.locator('parley-widget .launcher').waitFor({ state: 'visible' });
  return { context, page, errors, sockets };
}

/** A real, visible PNG (a two-colour gradient) so the thumbnail can be judged on the screenshot. */
function makePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) raw.set([40 + (180 * x) / width, 120, 220 - (160 * y) / height], y * (width * 3 + 1) + 1 + x * 3);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const shot = screenshots('widget');

/** Rows of the message list as the visitor sees them. */
async function rows(page: Page): Promise<{ key: string; id: string | null; text: string; cls: string }[]> {
  return page.evaluate(() => {
    const root = document.querySelector('parley-widget')?.shadowRoot;
    return Array.from(root?.querySelectorAll<HTMLElement>('.list .row[data-key]') ?? []).map((r) => ({
      key: r.dataset.key ?? '',
      id: r.dataset.id ?? null,
      text: r.querySelector('.bubble')?.textContent ?? '',
      cls: r.className,
    }));
  });
}

async function startChat(page: Page, name = 'Vera Visitor', email = 'vera@example.com'): Promise<void> {
  await page.locator('parley-widget .launcher').click();
  await page.locator('parley-widget form.prechat').waitFor();
  await page.locator('parley-widget #parley-name').fill(name);
  await page.locator('parley-widget #parley-email').fill(email);
  await page.locator('parley-widget form.prechat button[type=submit]').click();
  await page.locator('parley-widget .composer textarea').waitFor();
}

async function send(page: Page, text: string): Promise<void> {
  await page.locator('parley-widget .composer textarea').fill(text);
  await page.locator('parley-widget .composer textarea').press('Enter');
}

describe('web chat widget (CH-1)', () => {
  it('chats from a hostile page: pre-chat form, send, agent reply, read receipt, reload keeps history, HTML stays text', async () => {
    const tenant = await parley.createTenant('Widget Acme');
    const inbox = await createInbox(tenant);
    const agent = await agentOnline(tenant);
    const { context, page, errors } = await openHostPage(inbox.publicId);
    try {
      // The page's CSS hides every body child but <main> and restyles every div: the widget is untouched.
      const launcher = page.locator('parley-widget .launcher');
      expect(await launcher.isVisible()).toBe(true);
      expect(await page.evaluate(() => !!document.querySelector('parley-widget')?.shadowRoot)).toBe(true);
      await shot(page, '1-launcher');

      await page.locator('parley-widget .launcher').click();
      await page.locator('parley-widget form.prechat').waitFor();
      // Validation: name required, email must look like one.
      await page.locator('parley-widget #parley-email').fill('not-an-email');
      await page.locator('parley-widget form.prechat button[type=submit]').click();
      expect(await page.locator('parley-widget #parley-name-err').textContent()).toBe('This field is required.');
      expect(await page.locator('parley-widget #parley-email-err').textContent()).toBe('Enter a valid email address.');
      await shot(page, '2-prechat-errors');
      await page.locator('parley-widget #parley-name').fill('Vera Visitor');
      await page.locator('parley-widget #parley-email').fill('vera@example.com');
      await page.locator('parley-widget form.prechat button[type=submit]').click();
      await page.locator('parley-widget .composer textarea').waitFor();

      const styles = await page.evaluate(() => {
        const root = document.querySelector('parley-widget')!.shadowRoot!;
        const title = getComputedStyle(root.querySelector('.title')!);
        const panel = getComputedStyle(root.querySelector('.panel')!);
        return { fontSize: title.fontSize, color: title.color, family: title.fontFamily, panelBg: panel.backgroundColor, letterSpacing: title.letterSpacing };
      });
      expect(styles.fontSize).toBe('17px');
      expect(styles.color).not.toBe('rgb(255, 0, 0)');
      expect(styles.family).not.toContain('Comic');
      expect(styles.panelBg).toBe('rgb(255, 255, 255)');
      expect(styles.letterSpacing).toBe('normal');

      await send(page, 'Hello, I need help with my order https://shop.test/orders/42');
      await expect.poll(async () => (await rows(page)).map((r) => r.cls.includes('pending')), { timeout: 10_000 }).toEqual([false]);
      const conversationId = await onlyConversation(tenant, inbox.id);

      await api(tenant, 'POST', `/api/v1/conversations/${conversationId}/messages`, { content: 'Sure! What is the order number?' });
      await expect.poll(async () => (await rows(page)).map((r) => r.text), { timeout: 10_000 }).toEqual([
        'Hello, I need help with my order https://shop.test/orders/42',
        'Sure! What is the order number?',
      ]);
      // The URL became a safe link.
      expect(await page.locator('parley-widget .row.in .bubble a').getAttribute('href')).toBe('https://shop.test/orders/42');

      // Typing both ways: the agent sees the visitor typing, the visitor sees "Agent is typing…".
      await page.locator('parley-widget .composer textarea').pressSequentially('Let me', { delay: 20 });
      await expect
        .poll(() => agent.frames.some((f) => f.type === 'ephemeral' && f.event?.type === 'typing' && f.event.data.who === 'contact' && f.event.data.on === true), { timeout: 10_000 })
        .toBe(true);
      agent.send({ type: 'typing', conversationId, on: true });
      await page.locator('parley-widget .typing').waitFor({ state: 'visible', timeout: 10_000 });
      await shot(page, '3a-agent-typing');
      agent.send({ type: 'typing', conversationId, on: false });
      await page.locator('parley-widget .typing').waitFor({ state: 'hidden', timeout: 10_000 });
      await page.locator('parley-widget .composer textarea').fill('');
      // The panel is open and visible, so the widget told the server the visitor read the reply.
      await expect
        .poll(() => agent.frames.some((f) => f.type === 'event' && f.event?.type === 'conversation.read' && f.event.data.by === 'contact'), { timeout: 10_000 })
        .toBe(true);

      // Script and event-handler markup from the agent side is shown as text and never runs.
      const evil = `<img src=x onerror="window.__pwned='img'"><script>window.__pwned='script'</script>`;
      await api(tenant, 'POST', `/api/v1/conversations/${conversationId}/messages`, { content: evil });
      await expect.poll(async () => (await rows(page)).at(-1)?.text, { timeout: 10_000 }).toBe(evil);
      expect(await page.evaluate(() => (window as { __pwned?: string }).__pwned)).toBeUndefined();
      expect(await page.evaluate(() => document.querySelector('parley-widget')!.shadowRoot!.querySelectorAll('.bubble img, .bubble script').length)).toBe(0);

      // Read receipt: the agent reads, the visitor sees "Read" under their last message.
      await api(tenant, 'POST', `/api/v1/conversations/${conversationId}/read`);
      await page.locator('parley-widget .meta.read').waitFor({ timeout: 10_000 });
      await shot(page, '3-conversation');

      // Reload: same conversation, same history, panel still open, nothing duplicated.
      await page.reload();
      await page.locator('parley-widget .composer textarea').waitFor();
      await expect.poll(async () => (await rows(page)).length, { timeout: 10_000 }).toBe(3);
      expect((await rows(page)).map((r) => r.text)).toEqual([
        'Hello, I need help with my order https://shop.test/orders/42',
        'Sure! What is the order number?',
        evil,
      ]);
      await send(page, 'It is #42');
      await expect.poll(async () => (await messagesOf(tenant, conversationId)).filter((m) => m.direction === 'in').map((m) => m.content), { timeout: 10_000 }).toEqual([
        'Hello, I need help with my order https://shop.test/orders/42',
        'It is #42',
      ]);
      expect(errors).toEqual([]);
    } finally {
      agent.close();
      await context.close();
    }
  });

  it('shows the offline form when no agent is online, and confirms the message', async () => {
    const tenant = await parley.createTenant('Widget Offline');
    const inbox = await createInbox(tenant);
    const { context, page, errors } = await openHostPage(inbox.publicId, { locale: 'es-MX' });
    try {
      await page.locator('parley-widget .launcher').click();
      await page.locator('parley-widget form.offline').waitFor();
      expect(await page.locator('parley-widget form.offline h2').textContent()).toBe('Ahora no estamos disponibles');
      await page.locator('parley-widget #parley-name').fill('Óscar');
      await page.locator('parley-widget #parley-email').fill('oscar@example.com');
      await page.locator('parley-widget #parley-message').fill('¿Abren el domingo?');
      await shot(page, '4-offline-form');
      await page.locator('parley-widget form.offline button[type=submit]').click();
      await page.locator('parley-widget .offline-sent').waitFor({ timeout: 10_000 });
      expect(await page.locator('parley-widget .offline-sent p').textContent()).toContain('Gracias');
      await shot(page, '5-offline-sent');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('loses the network, keeps writing, and ends with every message exactly once', async () => {
    const tenant = await parley.createTenant('Widget Flaky');
    const inbox = await createInbox(tenant);
    const agent = await agentOnline(tenant);
    const { context, page, errors, sockets } = await openHostPage(inbox.publicId);
    // The widget's socket goes through Playwright so the test can cut it like a dead network
    // path would, and refuse reconnections for a while.
    let live: WebSocketRoute | null = null;
    let refuse = false;
    await page.routeWebSocket(/\/api\/v1\/widget\/realtime/, (ws) => {
      if (refuse) return void ws.close({ code: 1011, reason: 'network down' });
      ws.connectToServer();
      live = ws;
    });
    try {
      await startChat(page);
      await send(page, 'first');
      await expect.poll(async () => (await rows(page)).filter((r) => !r.cls.includes('pending')).length, { timeout: 10_000 }).toBe(1);
      const conversationId = await onlyConversation(tenant, inbox.id);

      await context.setOffline(true);
      await send(page, 'written while offline');
      await api(tenant, 'POST', `/api/v1/conversations/${conversationId}/messages`, { content: 'agent reply 1 (visitor offline)' });
      await api(tenant, 'POST', `/api/v1/conversations/${conversationId}/messages`, { content: 'agent reply 2 (visitor offline)' });
      await page.waitForTimeout(1500);
      expect((await rows(page)).find((r) => r.text === 'written while offline')?.cls).toContain('pending');
      await shot(page, '6-offline-pending');

      await context.setOffline(false);
      await expect
        .poll(async () => (await rows(page)).map((r) => `${r.text}${r.cls.includes('pending') ? ' (pending)' : ''}`).sort(), { timeout: 20_000 })
        .toEqual(['agent reply 1 (visitor offline)', 'agent reply 2 (visitor offline)', 'first', 'written while offline'].sort());
      // The socket was really cut and re-opened (not just paused).
      expect(sockets.length).toBeGreaterThanOrEqual(2);
      const shown = await rows(page);
      expect(new Set(shown.map((r) => r.id)).size).toBe(4);
      // The server stored the offline message once, whatever the retries.
      const stored = await messagesOf(tenant, conversationId);
      expect(stored.filter((m) => m.content === 'written while offline')).toHaveLength(1);
      expect(stored).toHaveLength(4);

      // The socket dies on its own (HTTP still works): events missed meanwhile are replayed from lastSeq.
      refuse = true;
      await (live as WebSocketRoute | null)?.close({ code: 1011, reason: 'cut' });
      await api(tenant, 'POST', `/api/v1/conversations/${conversationId}/messages`, { content: 'agent reply 3 (socket cut)' });
      await send(page, 'sent while the socket was cut');
      await page.waitForTimeout(1000);
      refuse = false;
      await expect.poll(async () => (await rows(page)).filter((r) => r.text === 'agent reply 3 (socket cut)').length, { timeout: 40_000 }).toBe(1);
      await expect.poll(async () => (await rows(page)).filter((r) => r.text === 'sent while the socket was cut' && !r.cls.includes('pending')).length, { timeout: 10_000 }).toBe(1);
      expect(new Set((await rows(page)).map((r) => r.id)).size).toBe(6);
      expect(await messagesOf(tenant, conversationId)).toHaveLength(6);

      // A message typed and not yet sent survives a reload: it is sent on the next load.
      await context.setOffline(true);
      await send(page, 'typed, then the page reloaded');
      await page.waitForTimeout(300);
      await context.setOffline(false);
      await page.reload();
      await expect.poll(async () => (await messagesOf(tenant, conversationId)).filter((m) => m.content === 'typed, then the page reloaded').length, { timeout: 15_000 }).toBe(1);
      await expect.poll(async () => (await rows(page)).filter((r) => r.text === 'typed, then the page reloaded' && !r.cls.includes('pending')).length, { timeout: 10_000 }).toBe(1);
      await shot(page, '7-after-reconnect');
      expect(errors).toEqual([]);
    } finally {
      agent.close();
      await context.close();
    }
  });

  it('uploads an image shown as a thumbnail, offers other files as downloads, refuses files over 10 MB', async () => {
    const tenant = await parley.createTenant('Widget Files');
    const inbox = await createInbox(tenant);
    const agent = await agentOnline(tenant);
    const { context, page, errors } = await openHostPage(inbox.publicId, { locale: 'pt-BR' });
    try {
      await startChat(page, 'Paula', 'paula@example.com');
      const png = makePng(200, 120);
      const input = page.locator('parley-widget .composer input[type=file]');
      await input.setInputFiles({ name: 'pixel.png', mimeType: 'image/png', buffer: png });
      await page.locator('parley-widget .thumb img[src^="blob:"]').waitFor({ timeout: 10_000 });
      await input.setInputFiles({ name: 'page.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=1"/>') });
      await page.locator('parley-widget .file span', { hasText: 'page.svg' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('parley-widget .thumb').count()).toBe(1);
      await input.setInputFiles({ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(10 * 1024 * 1024 + 1) });
      expect(await page.locator('parley-widget .notice').textContent()).toContain('10 MB');
      await expect.poll(async () => (await rows(page)).filter((r) => !r.cls.includes('pending')).length, { timeout: 10_000 }).toBe(2);
      await shot(page, '8-attachments');
      expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(errors).toEqual([]);
    } finally {
      agent.close();
      await context.close();
    }
  });

  it('verifies a logged-in visitor by HMAC: no pre-chat form, and a wrong hash is refused', async () => {
    const tenant = await parley.createTenant('Widget Identity');
    const inbox = await createInbox(tenant);
    expect(inbox.identitySecret).toBeTruthy();
    const agent = await agentOnline(tenant);
    const identifier = 'customer-1234';
    const identifierHash = createHmac('sha256', inbox.identitySecret!).update(identifier).digest('hex');
    const phone = { width: 390, height: 760 };
    const good = await openHostPage(inbox.publicId, { settings: { identifier, identifierHash, name: 'Logged In Lu', email: 'lu@example.com' }, viewport: phone });
    const bad = await openHostPage(inbox.publicId, { settings: { identifier, identifierHash: '0'.repeat(64), name: 'Mallory', email: 'mallory@example.com' }, viewport: phone });
    try {
      await good.page.locator('parley-widget .launcher').click();
      await good.page.locator('parley-widget .composer textarea').waitFor();
      expect(await good.page.locator('parley-widget form.prechat').count()).toBe(0);
      await send(good.page, 'Hi, it is me');
      await expect.poll(async () => (await rows(good.page)).filter((r) => !r.cls.includes('pending')).length, { timeout: 10_000 }).toBe(1);
      const conversationId = await onlyConversation(tenant, inbox.id);
      const conversation = await api<{ contact: { identifier: string | null; verified: boolean; name: string | null } }>(tenant, 'GET', `/api/v1/conversations/${conversationId}`);
      expect(conversation.contact).toMatchObject({ identifier, verified: true, name: 'Logged In Lu' });
      await shot(good.page, '9-phone-identified');

      await bad.page.locator('parley-widget .launcher').click();
      await send(bad.page, 'Let me in');
      await bad.page.locator('parley-widget .notice').waitFor({ timeout: 10_000 });
      // Said in the visitor's words; the server's reason (the hash) is for the site's developers, in the console.
      expect(await bad.page.locator('parley-widget .notice').textContent()).toContain('We could not confirm who you are.');
      await bad.page.locator('parley-widget .row.failed').waitFor();
      await shot(bad.page, '10-phone-identity-refused');
      expect(good.errors.concat(bad.errors)).toEqual([]);
    } finally {
      agent.close();
      await good.context.close();
      await bad.context.close();
    }
  });
});
