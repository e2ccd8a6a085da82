/**
 * Routing in the agent app, end to end (issue 3; CC-4, CC-5, CC-8, CC-9): a real Chromium runs the
 * agent app for two agents with different skills and capacities and a supervisor, against a real
 * Parley server. An admin sets up the queue, skills and capacities in the routing admin screens;
 * web chats arrive through the widget API. One agent declines an offer, one lets an offer time out
 * (and is set away), each conversation lands with the right agent, capacity holds, SLA badges show,
 * and the supervisor's wallboard numbers change live.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, pageErrors, signIn, startParley, screenshots } from './harness.ts';

type Parley = Awaited<ReturnType<typeof startParley>>;
type Tenant = Awaited<ReturnType<Parley['createTenant']>>;

const QUEUE = 'Soporte MX';
/** Short on purpose: the test watches an offer time out. */
const OFFER_TIMEOUT_S = 6;

let parley: Parley;
let browser: Browser;
let tenant: Tenant;

beforeAll(async () => {
  parley = await startParley();
  tenant = await parley.createTenant('Routing Acme');
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await parley?.stop();
});

const shot = screenshots('routing');

async function rest<T>(path: string, opts: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`${parley.baseUrl}/api/v1${path}`, {
    method: opts.method ?? 'GET',
    headers: { authorization: `Bearer ${tenant.apiKey}`, ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${opts.method ?? 'GET'} ${path} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

interface Person { id: string; name: string; email: string; password: string }

/** A teammate invited by the admin (API key) who accepted the invitation. */
async function teammate(name: string, role: 'agent' | 'supervisor'): Promise<Person> {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}@acme.test`;
  const password = `${name}-password-123`;
  const inv = await rest<{ acceptUrl: string }>('/invitations', { method: 'POST', body: { email, role } });
  const token = inv.acceptUrl.split('#/invite/')[1]!;
  const res = await fetch(`${parley.baseUrl}/api/v1/invitations/${token}/accept`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }),
  });
  expect(res.status).toBeLessThan(300);
  const session = (await res.json()) as { user: { id: string } };
  return { id: session.user.id, name, email, password };
}

/**
 * A browser for one person. Desktop notifications are recorded by a stand-in for `Notification`,
 * and the test can pretend the tab is in the background (`window.__hidden`).
 */
async function open(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
  await context.addInitScript(() => {
    const w = window as unknown as { __notes: string[]; __hidden: boolean };
    w.__notes = [];
    w.__hidden = false;
    class FakeNotification {
      static permission = 'granted';
      static requestPermission = async () => 'granted';
      onclick: (() => void) | null = null;
      constructor(title: string, opts?: { body?: string }) {
        w.__notes.push(`${title} | ${opts?.body ?? ''}`);
      }
      close() {}
    }
    Object.defineProperty(window, 'Notification', { value: FakeNotification, configurable: true, writable: true });
    Object.defineProperty(Document.prototype, 'visibilityState', { get: () => (w.__hidden ? 'hidden' : 'visible'), configurable: true });
  });
  const page = await context.newPage();
  return { context, page, errors: pageErrors(page) };
}

async function login(page: Page, email: string, password: string): Promise<void> {
  await signIn(page, parley.baseUrl, email, password);
  await page.locator('.conn[data-status=online]').waitFor({ timeout: 15_000 });
}

/** A visitor starts a web chat through the widget API; returns the conversation id. */
async function arrive(publicId: string, name: string, message: string): Promise<string> {
  const res = await fetch(`${parley.baseUrl}/api/v1/widget/inboxes/${publicId}/conversations`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, email: `${name.split(' ')[0]!.toLowerCase()}@example.com`, message }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { conversation: { id: string } }).conversation.id;
}

const assigneeOf = async (id: string) => (await rest<{ assigneeId: string | null }>(`/conversations/${id}`)).assigneeId;
const offerCard = (page: Page, conversationId: string) => page.locator(`.offer-card[data-conversation-id="${conversationId}"]`);
const wbQueue = (page: Page) => page.locator(`.wb-queue[data-queue-name="${QUEUE}"]`);
const wbStat = (page: Page, name: string) => wbQueue(page).locator(`.wb-stats [data-stat=${name}] .wb-value`).textContent();
const wbToday = (page: Page, name: string) => wbQueue(page).locator(`.wb-today [data-stat=${name}] b`).textContent();

describe('routing in the agent app (CC-4, CC-5, CC-8, CC-9)', () => {
  it('offers by skill and capacity: decline, timeout to away, accept by keyboard; SLA badges; live wallboard', async () => {
    const ana = await teammate('Ana Experta', 'agent');
    const bruno = await teammate('Bruno Basico', 'agent');
    const sofia = await teammate('Sofia Supervisora', 'supervisor');
    await rest(`/routing/agents/${bruno.id}/profile`, { method: 'PUT', body: { skills: { spanish: 2 }, capacity: { chat: 2 } } });
    const inbox = await rest<{ id: string; publicId: string }>('/inboxes', { method: 'POST', body: { name: 'Tienda', channelType: 'webchat' } });

    const admin = await open();
    const contexts: BrowserContext[] = [admin.context];
    try {
      // ── Admin: a queue for Spanish chats, best skill first, short offers, away on timeout, an SLA ──
      await login(admin.page, tenant.adminEmail, tenant.adminPassword);
      const p = admin.page;
      await p.goto(`${parley.baseUrl}/app/#/admin/queues`);
      await p.locator('input[name=queueName]').fill(QUEUE);
      await p.locator('.admin-list button[type=submit]').click();
      await p.locator('.admin-detail .section-header h2', { hasText: QUEUE }).waitFor();
      await p.locator('select[name=strategy]').selectOption('best-skill-match');
      await p.locator('input[name=offerTimeoutSeconds]').fill(String(OFFER_TIMEOUT_S));
      await p.locator('input[name=declineCooldownSeconds]').fill('600');
      await p.locator('input[name=setAwayOnOfferTimeout]').check();
      await p.locator(`[data-testid=queue-members] input[data-user-id="${ana.id}"]`).check();
      await p.locator(`[data-testid=queue-members] input[data-user-id="${bruno.id}"]`).check();
      await p.locator('button', { hasText: 'Add skill' }).click();
      await p.locator('.skill-input').first().fill('spanish');
      // Business hours: several intervals a day, a holiday, a time zone — open around the clock so the test runs any time.
      await p.locator('input[name=hoursEnabled]').check();
      await p.locator('input[name=timeZone]').fill('America/Mexico_City');
      for (const day of ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) {
        const row = p.locator(`.hours-table tr[data-day=${day}]`);
        while (await row.locator('.interval').count() > 0) await row.locator('.interval .icon-btn').first().click();
        await row.locator('button', { hasText: 'Add hours' }).click();
        await row.locator('.interval').nth(0).locator('input').nth(0).fill('00:00');
        await row.locator('.interval').nth(0).locator('input').nth(1).fill('12:00');
        await row.locator('button', { hasText: 'Add hours' }).click();
        await row.locator('.interval').nth(1).locator('input').nth(0).fill('12:00');
        await row.locator('.interval').nth(1).locator('input').nth(1).fill('23:59');
      }
      await p.locator('button', { hasText: 'Add holiday' }).click();
      await p.locator('.holiday-row input[type=date]').fill('2099-12-25');
      await p.locator('.holiday-row input').nth(1).fill('Navidad');
      await p.locator('input[name=slaEnabled]').check();
      // First reply within 30 s, warned 24 s before: the warning comes 6 s after arrival.
      await p.locator('.sla-table tbody tr').first().locator('input').nth(1).fill('0.5');
      await p.locator('.sla-options input[type=number]').first().fill('0.4');
      await p.locator('.admin-content').evaluate((el) => el.scrollTo(0, 0));
      await shot(p, '01a-admin-queue-top');
      await p.locator('.hours-table').scrollIntoViewIfNeeded();
      await shot(p, '01b-admin-queue-hours');
      await p.locator('.sla-table').scrollIntoViewIfNeeded();
      await shot(p, '01c-admin-queue-sla');
      await p.locator('.queue-editor button[type=submit]').click();
      await expect.poll(() => p.locator('.queue-editor [role=status]').textContent()).toBe('Saved');
      const queues = await rest<{ items: { id: string; name: string; strategy: string; members: string[]; offerTimeoutSeconds: number; businessHours: { weekly: Record<string, unknown[]>; holidays: unknown[] } | null; requiredSkills: unknown[] }[] }>('/routing/queues');
      const queue = queues.items.find((q) => q.name === QUEUE)!;
      expect(queue).toMatchObject({
        strategy: 'best-skill-match', offerTimeoutSeconds: OFFER_TIMEOUT_S, requiredSkills: [{ skill: 'spanish', minLevel: 1 }],
      });
      expect(queue.members.sort()).toEqual([ana.id, bruno.id].sort());
      expect(queue.businessHours?.weekly.mon).toEqual([{ start: '00:00', end: '12:00' }, { start: '12:00', end: '24:00' }]);
      expect(queue.businessHours?.holidays).toEqual([{ date: '2099-12-25', name: 'Navidad' }]);

      // ── Admin: Ana's skills and capacity (expert, one chat at a time) ──
      await p.goto(`${parley.baseUrl}/app/#/admin/routing-agents/${ana.id}`);
      await p.locator('.agent-editor h2', { hasText: 'Ana Experta' }).waitFor();
      await p.locator('.agent-editor button', { hasText: 'Add skill' }).click();
      await p.locator('.agent-editor .skill-input').first().fill('spanish');
      await p.locator('.agent-editor .level-select').first().selectOption('5');
      await p.locator('input[name=capacity-chat]').fill('1');
      await p.locator('.agent-editor button[type=submit]').click();
      await expect.poll(() => p.locator('.agent-editor [role=status]').textContent()).toBe('Saved');
      await p.locator('.agent-item[data-agent-name="Bruno Basico"] .skill-chip', { hasText: 'spanish 2' }).waitFor();
      await shot(p, '02-admin-skills');
      const anaProfile = await rest<{ skills: Record<string, number>; capacity: Record<string, number> }>(`/routing/agents/${ana.id}`);
      expect(anaProfile).toMatchObject({ skills: { spanish: 5 }, capacity: { chat: 1 } });

      // ── Admin: the web chat inbox sends its conversations to the queue ──
      await p.goto(`${parley.baseUrl}/app/#/admin/inboxes/${inbox.id}`);
      await p.locator('select[name=queueId]').selectOption({ label: QUEUE });
      await expect.poll(() => p.locator('.admin-detail [role=status]').textContent()).toBe('Saved');

      // ── Everyone signs in: two agents and the supervisor on the wallboard ──
      const a = await open();
      const b = await open();
      const s = await open();
      contexts.push(a.context, b.context, s.context);
      await login(a.page, ana.email, ana.password);
      await login(b.page, bruno.email, bruno.password);
      await login(s.page, sofia.email, sofia.password);
      await a.page.locator('.state-button[data-state=available]').waitFor();
      await b.page.locator('.state-button[data-state=available]').waitFor();
      expect(await a.page.locator('.rail [data-nav=wallboard]').count()).toBe(0);
      await s.page.locator('.rail [data-nav=wallboard]').click();
      await wbQueue(s.page).waitFor();
      expect(await wbStat(s.page, 'waiting')).toBe('0');
      expect(await wbToday(s.page, 'answered')).toBe('0');
      expect(await wbToday(s.page, 'offered')).toBe('0');

      // ── 1. Carla: offered to Ana (best skill); Ana declines; Bruno accepts with Alt+A ──
      const carla = await arrive(inbox.publicId, 'Carla Cliente', 'Hola, necesito ayuda con mi pedido');
      await offerCard(a.page, carla).waitFor({ timeout: 15_000 });
      expect(await offerCard(a.page, carla).locator('.offer-name').textContent()).toBe('Carla Cliente');
      expect(await offerCard(a.page, carla).locator('.offer-queue').textContent()).toContain(QUEUE);
      expect(await offerCard(a.page, carla).locator('.offer-preview').textContent()).toBe('Hola, necesito ayuda con mi pedido');
      expect(await b.page.locator('.offer-card').count()).toBe(0);
      await expect.poll(() => wbToday(s.page, 'offered'), { timeout: 10_000 }).toBe('1');
      await shot(a.page, '03-offer-ana');
      await offerCard(a.page, carla).locator('.offer-decline').click();
      await offerCard(a.page, carla).waitFor({ state: 'detached', timeout: 10_000 });
      await offerCard(b.page, carla).waitFor({ timeout: 15_000 });
      await shot(b.page, '04-offer-bruno');
      await b.page.keyboard.press('Alt+A');
      await b.page.locator('.conv-header h2', { hasText: 'Carla Cliente' }).waitFor({ timeout: 10_000 });
      expect(b.page.url()).toContain(`#/conversations/${carla}`);
      expect(await assigneeOf(carla)).toBe(bruno.id);
      await expect.poll(() => wbToday(s.page, 'answered'), { timeout: 10_000 }).toBe('1');

      // ── SLA: Bruno has not replied; the first-reply clock warns, in the header and the list ──
      await b.page.locator('.conv-header .sla[data-clock=first-response][data-sla=warning]').waitFor({ timeout: 20_000 });
      await b.page.locator(`.conv-row[data-conversation-id="${carla}"] .sla[data-sla=warning]`).waitFor({ timeout: 10_000 });
      await shot(b.page, '05-sla-warning');
      // Bruno replies: the first-reply clock is met and its badge goes.
      await b.page.locator('.composer-input').fill('¡Hola Carla! Con gusto te ayudo.');
      await b.page.locator('.composer-input').press('Enter');
      await b.page.locator('.messages .msg-out', { hasText: 'Con gusto' }).waitFor({ timeout: 10_000 });
      await expect.poll(() => b.page.locator('.conv-header .sla[data-clock=first-response]').count(), { timeout: 10_000 }).toBe(0);
      await b.page.locator('.composer-input').blur();

      // ── 2. Diego: offered to Ana while her tab is in the background; she lets it time out ──
      await a.page.evaluate(() => { (window as unknown as { __hidden: boolean }).__hidden = true; });
      const diego = await arrive(inbox.publicId, 'Diego Díaz', '¿Tienen envío a Monterrey?');
      await offerCard(a.page, diego).waitFor({ timeout: 15_000 });
      await expect.poll(() => a.page.evaluate(() => (window as unknown as { __notes: string[] }).__notes)).toEqual([
        'New conversation for you | Diego Díaz is waiting. Open Parley to accept.',
      ]);
      await a.page.evaluate(() => { (window as unknown as { __hidden: boolean }).__hidden = false; });
      const countdown = await offerCard(a.page, diego).locator('.offer-countdown').textContent();
      expect(countdown).toMatch(/^0:0[0-6]$/);
      expect(await b.page.locator('.offer-card').count()).toBe(0);
      await offerCard(a.page, diego).waitFor({ state: 'detached', timeout: (OFFER_TIMEOUT_S + 8) * 1000 });
      // The queue sets an agent who let an offer expire away; her header says so.
      await a.page.locator('.state-button[data-state=away]').waitFor({ timeout: 10_000 });
      await offerCard(b.page, diego).waitFor({ timeout: 15_000 });
      await offerCard(b.page, diego).locator('.offer-accept').click();
      await b.page.locator('.conv-header h2', { hasText: 'Diego Díaz' }).waitFor({ timeout: 10_000 });
      expect(await assigneeOf(diego)).toBe(bruno.id);
      await shot(a.page, '06-ana-away');

      // ── 3. Ana is back; Bruno is full (2 chats); Elena goes to Ana, who accepts with Enter ──
      await a.page.locator('.state-button').click();
      await a.page.locator('.state-popup').waitFor();
      await shot(a.page, '07-state-menu');
      await a.page.locator('.state-option[data-choice=available]').click();
      await a.page.locator('.state-button[data-state=available]').waitFor({ timeout: 10_000 });
      const elena = await arrive(inbox.publicId, 'Elena Estrada', 'Quiero cambiar la talla');
      await offerCard(a.page, elena).waitFor({ timeout: 15_000 });
      await a.page.locator('body').click({ position: { x: 700, y: 500 } }).catch(() => undefined);
      await a.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await a.page.keyboard.press('Enter');
      await a.page.locator('.conv-header h2', { hasText: 'Elena Estrada' }).waitFor({ timeout: 10_000 });
      expect(await assigneeOf(elena)).toBe(ana.id);
      expect(await b.page.locator('.offer-card').count()).toBe(0);

      // ── 4. Fiona: nobody has room (Ana 1/1, Bruno 2/2): she waits, and the wallboard shows it ──
      const fiona = await arrive(inbox.publicId, 'Fiona Flores', '¿Hay alguien?');
      await expect.poll(() => wbStat(s.page, 'waiting'), { timeout: 10_000 }).toBe('1');
      expect(await a.page.locator('.offer-card').count()).toBe(0);
      expect(await b.page.locator('.offer-card').count()).toBe(0);
      await expect.poll(() => wbToday(s.page, 'answered'), { timeout: 10_000 }).toBe('3');
      const brunoRow = s.page.locator(`.wb-agents tr[data-agent-id="${bruno.id}"]`);
      await expect.poll(() => brunoRow.locator('.load[data-channel=chat] b').textContent(), { timeout: 10_000 }).toBe('2/2');
      await expect.poll(() => s.page.locator(`.wb-agents tr[data-agent-id="${ana.id}"] .load[data-channel=chat] b`).textContent()).toBe('1/1');
      expect(await s.page.locator(`.wb-agents tr[data-agent-id="${ana.id}"] .state-pill`).getAttribute('data-state')).toBe('available');
      await shot(s.page, '08-wallboard');

      // ── 5. Ana resolves Elena: her slot frees and Fiona is offered to her ──
      await a.page.locator('.conv-header button', { hasText: 'Resolve' }).click();
      await offerCard(a.page, fiona).waitFor({ timeout: 15_000 });
      await a.page.keyboard.press('Alt+A');
      await a.page.locator('.conv-header h2', { hasText: 'Fiona Flores' }).waitFor({ timeout: 10_000 });
      expect(await assigneeOf(fiona)).toBe(ana.id);
      await expect.poll(() => wbStat(s.page, 'waiting'), { timeout: 10_000 }).toBe('0');
      await expect.poll(() => wbToday(s.page, 'answered'), { timeout: 10_000 }).toBe('4');
      await shot(a.page, '09-ana-fiona');

      // ── 6. Transfers: Bruno resolves Diego (room for one more); Ana hands Fiona to him, he hands her back to the queue ──
      await b.page.goto(`${parley.baseUrl}/app/#/conversations/${diego}`);
      await b.page.locator('.conv-header h2', { hasText: 'Diego Díaz' }).waitFor({ timeout: 10_000 });
      await b.page.locator('.conv-header button', { hasText: 'Resolve' }).click();
      await expect.poll(() => brunoRow.locator('.load[data-channel=chat] b').textContent(), { timeout: 10_000 }).toBe('1/2');
      const transferMenu = a.page.locator('.conv-header [data-testid=transfer]');
      // The menu says who is working (Bruno is available) and lists the queue.
      await expect.poll(() => transferMenu.locator(`option[value="agent:${bruno.id}"]`).textContent(), { timeout: 10_000 }).toBe('Bruno Basico · Available');
      expect(await transferMenu.locator(`option[value="queue:${queue.id}"]`).textContent()).toBe(QUEUE);
      await transferMenu.selectOption(`agent:${bruno.id}`);
      await a.page.locator('.conv-labels [role=status]', { hasText: 'Transferred to Bruno Basico' }).waitFor({ timeout: 10_000 });
      await shot(a.page, '10-transferred');
      // A transfer to an agent is offered to them, as any routed work.
      await offerCard(b.page, fiona).waitFor({ timeout: 15_000 });
      await offerCard(b.page, fiona).locator('.offer-accept').click();
      await b.page.locator('.conv-header h2', { hasText: 'Fiona Flores' }).waitFor({ timeout: 10_000 });
      expect(await assigneeOf(fiona)).toBe(bruno.id);
      // Back to the queue: Bruno is not offered it again; Ana, who has room now, is.
      await b.page.locator('.conv-header [data-testid=transfer]').selectOption(`queue:${queue.id}`);
      await offerCard(a.page, fiona).waitFor({ timeout: 15_000 });
      expect(await b.page.locator('.offer-card').count()).toBe(0);
      await offerCard(a.page, fiona).locator('.offer-accept').click();
      await expect.poll(() => assigneeOf(fiona), { timeout: 10_000 }).toBe(ana.id);
      // Both hand-offs are in the conversation's history, who did them and where to.
      const history = await rest<{ items: { type: string; actorId: string | null; data: { to?: unknown } }[] }>(`/conversations/${fiona}/events`);
      expect(history.items.filter((e) => e.type === 'transferred').map((e) => [e.actorId, e.data.to])).toEqual([[ana.id, { agentId: bruno.id }], [bruno.id, { queueId: queue.id }]]);

      // ── 7. Taking from the queue: Bruno steps away, Gabi waits (Ana is full); Ana is refused, Bruno picks her ──
      await b.page.locator('.state-button').click();
      await b.page.locator('.state-option[data-choice=away]').click();
      await b.page.locator('.state-button[data-state=away]').waitFor({ timeout: 10_000 });
      const gabi = await arrive(inbox.publicId, 'Gabi García', '¿Puedo pagar en tienda?');
      await expect.poll(() => wbStat(s.page, 'waiting'), { timeout: 10_000 }).toBe('1');
      await a.page.goto(`${parley.baseUrl}/app/#/conversations/${gabi}`);
      await a.page.locator('.conv-header h2', { hasText: 'Gabi García' }).waitFor({ timeout: 10_000 });
      await a.page.locator('.conv-header [data-testid=take]').click();
      // Ana holds one chat of one: routing refuses, in her words, and Gabi keeps waiting.
      await a.page.locator('.conv-labels [role=alert]', { hasText: 'No room left' }).waitFor({ timeout: 10_000 });
      expect(await assigneeOf(gabi)).toBeNull();
      await shot(a.page, '11-take-refused');
      await b.page.goto(`${parley.baseUrl}/app/#/conversations/${gabi}`);
      await b.page.locator('.conv-header h2', { hasText: 'Gabi García' }).waitFor({ timeout: 10_000 });
      await b.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await b.page.keyboard.press('a');
      await expect.poll(() => assigneeOf(gabi), { timeout: 10_000 }).toBe(bruno.id);
      // Picked through routing: it counts toward his capacity, and the history says how it came.
      await expect.poll(() => brunoRow.locator('.load[data-channel=chat] b').textContent(), { timeout: 10_000 }).toBe('2/2');
      await expect.poll(() => wbStat(s.page, 'waiting'), { timeout: 10_000 }).toBe('0');
      const gabiHistory = await rest<{ items: { type: string; data: { via?: string } }[] }>(`/conversations/${gabi}/events`);
      expect(gabiHistory.items.find((e) => e.type === 'assigned')?.data.via).toBe('manual-pick');

      // ── The wallboard speaks the supervisor's language ──
      await s.page.goto(`${parley.baseUrl}/app/#/settings`);
      await s.page.locator('#locale').selectOption('es-MX');
      await s.page.locator('.page-header h1', { hasText: 'Configuración' }).waitFor();
      await s.page.goto(`${parley.baseUrl}/app/#/wallboard`);
      await s.page.locator('.page-header h1', { hasText: 'Tablero en vivo' }).waitFor();
      await wbQueue(s.page).locator('.wb-today', { hasText: 'Atendidas' }).waitFor();
      expect(await s.page.locator('.state-button').textContent()).toContain('Disponible');
      await shot(s.page, '12-wallboard-es');

      // ── Sofia gives Gabi (Bruno's) to Ana from the assignee menu: routed, so refused while Ana is full, in Spanish ──
      await s.page.goto(`${parley.baseUrl}/app/#/conversations/${gabi}`);
      await s.page.locator('.conv-header h2', { hasText: 'Gabi García' }).waitFor({ timeout: 10_000 });
      // The menu says each agent's state; the admin goes offline and is offered no work.
      const assigneeMenu = s.page.locator('.conv-header select[aria-label="Asignada a"]');
      await p.locator('.state-button').click();
      await p.locator('.state-option[data-choice=offline]').click();
      const adminOption = assigneeMenu.locator(`option[value="${tenant.adminUserId}"]`);
      await expect.poll(() => adminOption.isDisabled(), { timeout: 10_000 }).toBe(true);
      expect(await adminOption.textContent()).toContain('· Desconectado');
      expect(await assigneeMenu.locator(`option[value="${bruno.id}"]`).textContent()).toBe('Bruno Basico · Ausente');
      await assigneeMenu.selectOption(ana.id);
      await s.page.locator('.conv-labels [role=alert]', { hasText: 'Sin espacio: el agente ya tiene' }).waitFor({ timeout: 10_000 });
      expect(await assigneeOf(gabi)).toBe(bruno.id);
      expect(await assigneeMenu.inputValue()).toBe(bruno.id);
      await shot(s.page, '13-reassign-refused-es');

      // ── Presence: Sofia closes the app; Bruno's transfer menu says so at once and will not send her work ──
      const sofiaOption = b.page.locator(`.conv-header [data-testid=transfer] option[value="agent:${sofia.id}"]`);
      await expect.poll(() => sofiaOption.textContent(), { timeout: 10_000 }).toBe('Sofia Supervisora · Available');
      expect(await sofiaOption.isDisabled()).toBe(false);
      await s.context.close();
      await expect.poll(() => sofiaOption.textContent(), { timeout: 10_000 }).toBe('Sofia Supervisora · Available · not connected');
      expect(await sofiaOption.isDisabled()).toBe(true);

      // ── The shortcut help lists the offer keys ──
      await a.page.locator('.composer-input').blur();
      await a.page.keyboard.press('?');
      await a.page.locator('.modal .shortcut-table', { hasText: 'Alt + A' }).waitFor();
      await a.page.keyboard.press('Escape');

      expect(admin.errors).toEqual([]);
      expect(a.errors).toEqual([]);
      expect(b.errors).toEqual([]);
      expect(s.errors).toEqual([]);
    } finally {
      for (const c of contexts) await c.close();
    }
  }, 240_000);
});
