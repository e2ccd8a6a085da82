import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestParley, type TestParley, type TestTenant } from '../../test/test-parley.ts';
import { call, login } from '../../test/http.ts';
import { signWebhook, verifyWebhook } from './webhook-signature.ts';

// Outbound webhooks (CH-7): signed POSTs to a real local receiver, retried with backoff by the
// durable job queue, and their delivery log.

const MAX_ATTEMPTS = 3;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let t: TestParley;
let tenant: TestTenant;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
/** Per path, the statuses to answer in turn; the last one repeats. */
const script: Record<string, number[]> = { '/ok': [200], '/flaky': [500, 500, 200], '/down': [500], '/recovers': [503, 503, 503, 503, 503, 503, 503, 200], '/gone': [410] };

const api = (method: string, path: string, body?: unknown) => call(t.baseUrl, method, path, { auth: { apiKey: tenant.apiKey }, body });

async function register(path: string, events: string[] = ['message.created']) {
  const created = await api('POST', '/webhooks', { url: `${receiverUrl}${path}`, events });
  expect(created.status).toBe(201);
  expect(created.body.secret).toMatch(/^whsec_/);
  return created.body as { id: string; secret: string };
}

type Delivery = { id: string; event: string; status: string; attempts: number; lastStatusCode: number | null; lastError: string | null; deliveredAt: string | null };

async function settledDeliveries(endpointId: string, count: number, timeoutMs = 15_000): Promise<Delivery[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await api('GET', `/webhooks/${endpointId}/deliveries`);
    const items = list.body.items as Delivery[];
    if (items.length >= count && items.every((d) => d.status !== 'pending')) return items;
    if (Date.now() > deadline) throw new Error(`deliveries did not settle: ${JSON.stringify(items)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let inboxId: string;
let conversationId: string;

beforeAll(async () => {
  const hits: Record<string, number> = {};
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const statuses = script[path] ?? [404];
      const n = hits[path] ?? 0;
      hits[path] = n + 1;
      res.statusCode = statuses[Math.min(n, statuses.length - 1)]!;
      res.end('thanks');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  t = await startTestParley({ jobs: { backoffBaseMs: 50, pollMs: 50, maxAttempts: MAX_ATTEMPTS } });
  tenant = await t.createTenant('Hooks Co');
  inboxId = (await api('POST', '/inboxes', { name: 'API', channelType: 'api' })).body.id;
  conversationId = (await api('POST', '/conversations', { inboxId, contact: { name: 'Hook Contact' } })).body.id;
});
afterAll(async () => {
  await t?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe('webhook deliveries', () => {
  it('a message.created event reaches the receiver, signed over the raw body and timestamp', async () => {
    const endpoint = await register('/ok');
    const posted = await api('POST', `/conversations/${conversationId}/messages`, { content: 'Hello webhook' });
    expect(posted.status).toBe(201);
    const [delivery] = await settledDeliveries(endpoint.id, 1);
    expect(delivery).toMatchObject({ event: 'message.created', status: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null });
    expect(delivery!.deliveredAt).toEqual(expect.any(String));

    const hits = received.filter((r) => r.path === '/ok');
    expect(hits).toHaveLength(1);
    const hit = hits[0]!;
    expect(hit.headers['content-type']).toBe('application/json');
    expect(hit.headers['x-parley-event']).toBe('message.created');
    expect(hit.headers['x-parley-delivery']).toBe(delivery!.id);
    const timestamp = Number(hit.headers['x-parley-timestamp']);
    const signature = String(hit.headers['x-parley-signature']);
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(60);
    expect(verifyWebhook(endpoint.secret, timestamp, hit.body, signature, Math.floor(Date.now() / 1000))).toBe(true);

    const body = JSON.parse(hit.body);
    expect(body).toMatchObject({ id: delivery!.id, event: 'message.created', tenantId: tenant.tenantId });
    expect(body.data).toMatchObject({ id: posted.body.id, conversationId, content: 'Hello webhook', direction: 'out' });

    // Other endpoints' secrets, a tampered body or an old timestamp do not verify.
    expect(verifyWebhook('whsec_other', timestamp, hit.body, signature, timestamp)).toBe(false);
    expect(verifyWebhook(endpoint.secret, timestamp, hit.body.replace('Hello webhook', 'Hello webhooK'), signature, timestamp)).toBe(false);
    expect(verifyWebhook(endpoint.secret, timestamp + 1, hit.body, signature, timestamp)).toBe(false);
    await api('DELETE', `/webhooks/${endpoint.id}`);
  });

  it('only subscribed events are delivered', async () => {
    const endpoint = await register('/ok', ['conversation.created']);
    const before = received.length;
    await api('POST', `/conversations/${conversationId}/messages`, { content: 'not for this endpoint' });
    const created = await api('POST', '/conversations', { inboxId, contact: { name: 'New One' } });
    const [delivery, ...more] = await settledDeliveries(endpoint.id, 1);
    expect(more).toEqual([]);
    expect(delivery).toMatchObject({ event: 'conversation.created', status: 'delivered' });
    const hit = received.slice(before).find((r) => r.headers['x-parley-delivery'] === delivery!.id)!;
    expect(JSON.parse(hit.body).data.id).toBe(created.body.id);
    await api('DELETE', `/webhooks/${endpoint.id}`);
  });

  it('a receiver failing twice with 500 gets the delivery 3 times and it ends delivered', async () => {
    const endpoint = await register('/flaky');
    await api('POST', `/conversations/${conversationId}/messages`, { content: 'try again' });
    const [delivery] = await settledDeliveries(endpoint.id, 1);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200, lastError: null });
    const hits = received.filter((r) => r.path === '/flaky');
    expect(hits).toHaveLength(3);
    // Each attempt carries the same delivery id and body, freshly signed.
    expect(new Set(hits.map((h) => h.headers['x-parley-delivery']))).toEqual(new Set([delivery!.id]));
    expect(new Set(hits.map((h) => h.body)).size).toBe(1);
    for (const h of hits) expect(verifyWebhook(endpoint.secret, Number(h.headers['x-parley-timestamp']), h.body, String(h.headers['x-parley-signature']), Math.floor(Date.now() / 1000))).toBe(true);
    await api('DELETE', `/webhooks/${endpoint.id}`);
  });

  it('a receiver that always fails ends failed after maxAttempts, and is not called again', async () => {
    const endpoint = await register('/down');
    await api('POST', `/conversations/${conversationId}/messages`, { content: 'nobody home' });
    const [delivery] = await settledDeliveries(endpoint.id, 1);
    expect(delivery).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS, lastStatusCode: 500, lastError: 'HTTP 500', deliveredAt: null });
    await new Promise((r) => setTimeout(r, 500));
    expect(received.filter((r) => r.path === '/down')).toHaveLength(MAX_ATTEMPTS);
    const job = await t.db.selectFrom('jobs').selectAll().where('tenant_id', '=', tenant.tenantId).where('status', '=', 'failed').execute();
    expect(job.map((j) => j.payload.deliveryId)).toContain(delivery!.id);
    await api('DELETE', `/webhooks/${endpoint.id}`);
  });

  it('an unreachable receiver is recorded with its error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const created = await api('POST', '/webhooks', { url: `http://127.0.0.1:${port}/nothing`, events: ['message.created'] });
    await api('POST', `/conversations/${conversationId}/messages`, { content: 'into the void' });
    const [delivery] = await settledDeliveries(created.body.id, 1);
    expect(delivery).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS, lastStatusCode: null });
    expect(delivery!.lastError).toEqual(expect.any(String));
    await api('DELETE', `/webhooks/${created.body.id}`);
  });

  it('a deleted endpoint gets no more deliveries and its log is gone', async () => {
    const endpoint = await register('/ok');
    expect((await api('DELETE', `/webhooks/${endpoint.id}`)).status).toBe(204);
    const before = received.length;
    await api('POST', `/conversations/${conversationId}/messages`, { content: 'after delete' });
    await new Promise((r) => setTimeout(r, 300));
    expect(received.length).toBe(before);
    expect((await api('GET', `/webhooks/${endpoint.id}/deliveries`)).status).toBe(404);
    expect((await api('GET', '/webhooks')).body.items.map((e: { id: string }) => e.id)).not.toContain(endpoint.id);
  });

  it('an endpoint deleted by another node, still in this node\'s cache, costs no event its transaction', async () => {
    const endpoint = await register('/ok');
    // This node reads and caches the tenant's endpoints with the first delivery.
    await api('POST', `/conversations/${conversationId}/messages`, { content: 'cached now' });
    // At once (the cache lasts a second), another node deletes it: this node is not told.
    await t.db.deleteFrom('webhook_endpoints').where('id', '=', endpoint.id).execute();
    const lastJob = await t.db.selectFrom('jobs').select((eb) => eb.fn.max('id').as('id')).executeTakeFirstOrThrow();
    const posted = await api('POST', `/conversations/${conversationId}/messages`, { content: 'after another node deleted it' });
    expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    expect(await t.db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', endpoint.id).execute()).toEqual([]);
    // Nor a job for a delivery that was not written (the first message's may still be queued).
    const newJobs = await t.db.selectFrom('jobs').select('payload').where('tenant_id', '=', tenant.tenantId).where('kind', '=', 'webhook.deliver').where('id', '>', lastJob.id ?? '0').execute();
    expect(newJobs).toEqual([]);
  });

  it('an admin sends failed deliveries again, one or all, once the receiver is back: same id and body, freshly signed', async () => {
    const endpoint = await register('/recovers');
    for (const content of ['lost one', 'lost two']) await api('POST', `/conversations/${conversationId}/messages`, { content });
    const failed = await settledDeliveries(endpoint.id, 2);
    expect(failed.map((d) => d.status)).toEqual(['failed', 'failed']);
    const attemptsBefore = received.filter((r) => r.path === '/recovers').length;
    expect(attemptsBefore).toBe(2 * MAX_ATTEMPTS);

    // The receiver still fails once: the redelivered one is tried again by the queue, then delivered.
    const [newer, older] = failed as [Delivery, Delivery];
    const again = await api('POST', `/webhooks/${endpoint.id}/deliveries/${older.id}/redeliver`);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ id: older.id, status: 'pending', attempts: 0 });
    // Still being tried: not twice at once.
    const twice = await api('POST', `/webhooks/${endpoint.id}/deliveries/${older.id}/redeliver`);
    expect([409, 200]).toContain(twice.status); // 200 only if the queue finished it in between
    if (twice.status === 409) expect(twice.body.error.code).toBe('PARLEY_ERR_CONFLICT');
    await expect.poll(async () => (await settledDeliveries(endpoint.id, 2)).find((d) => d.id === older.id)?.status, { timeout: 15_000 }).toBe('delivered');
    expect((await settledDeliveries(endpoint.id, 2)).find((d) => d.id === older.id)).toMatchObject({ attempts: 2, lastStatusCode: 200, lastError: null });

    const all = await api('POST', `/webhooks/${endpoint.id}/redeliver-failed`);
    expect(all.body).toEqual({ redelivered: 1 });
    const settled = await settledDeliveries(endpoint.id, 2);
    expect(settled.map((d) => [d.id, d.status])).toEqual([[newer.id, 'delivered'], [older.id, 'delivered']]);
    expect((await api('POST', `/webhooks/${endpoint.id}/redeliver-failed`)).body).toEqual({ redelivered: 0 });

    const hits = received.filter((r) => r.path === '/recovers');
    for (const d of [newer, older]) {
      const mine = hits.filter((h) => h.headers['x-parley-delivery'] === d.id);
      expect(new Set(mine.map((h) => h.body)).size).toBe(1);
      const last = mine.at(-1)!;
      expect(verifyWebhook(endpoint.secret, Number(last.headers['x-parley-timestamp']), last.body, String(last.headers['x-parley-signature']), Math.floor(Date.now() / 1000))).toBe(true);
    }

    // Unknown ids, another tenant's admin, and an agent get nothing done.
    expect((await api('POST', `/webhooks/${endpoint.id}/deliveries/whd_nope/redeliver`)).status).toBe(404);
    const other = await t.createTenant('Other Hooks Co');
    const asOther = (path: string) => call(t.baseUrl, 'POST', path, { auth: { apiKey: other.apiKey } });
    expect((await asOther(`/webhooks/${endpoint.id}/deliveries/${older.id}/redeliver`)).status).toBe(404);
    expect((await asOther(`/webhooks/${endpoint.id}/redeliver-failed`)).status).toBe(404);
    const invitation = await api('POST', '/invitations', { email: 'hook-agent@example.com', role: 'agent' });
    await call(t.baseUrl, 'POST', `/invitations/${String(invitation.body.acceptUrl).split('/invite/')[1]}/accept`, { body: { name: 'Hook Agent', password: 'a long enough password' } });
    const agent = await login(t.baseUrl, 'hook-agent@example.com', 'a long enough password');
    const asAgent = await call(t.baseUrl, 'POST', `/webhooks/${endpoint.id}/redeliver-failed`, { auth: agent });
    expect(asAgent.status).toBe(403);
    await api('DELETE', `/webhooks/${endpoint.id}`);
  });

  it('an admin pauses and resumes an endpoint: nothing is queued for it while paused', async () => {
    const endpoint = await register('/ok');
    const paused = await api('PATCH', `/webhooks/${endpoint.id}`, { enabled: false });
    expect(paused.body).toMatchObject({ id: endpoint.id, enabled: false, disabledReason: 'admin', disabledAt: expect.any(String) });
    expect(JSON.stringify(paused.body)).not.toContain(endpoint.secret);
    await api('POST', `/conversations/${conversationId}/messages`, { content: 'while paused' });
    expect((await api('GET', `/webhooks/${endpoint.id}/deliveries`)).body.items).toEqual([]);
    expect((await api('POST', `/webhooks/${endpoint.id}/redeliver-failed`)).status).toBe(409);
    expect((await api('PATCH', `/webhooks/${endpoint.id}`, { enabled: true })).body).toMatchObject({ enabled: true, disabledAt: null, disabledReason: null });
    await api('POST', `/conversations/${conversationId}/messages`, { content: 'resumed' });
    const [delivery] = await settledDeliveries(endpoint.id, 1);
    expect(delivery).toMatchObject({ status: 'delivered' });
    expect(JSON.parse(received.find((r) => r.headers['x-parley-delivery'] === delivery!.id)!.body).data.content).toBe('resumed');
    for (const bad of [{ enabled: 'no' }, {}, { enabled: true, url: 'https://example.com' }]) expect((await api('PATCH', `/webhooks/${endpoint.id}`, bad)).status).toBe(400);
    expect((await api('PATCH', '/webhooks/whk_nope', { enabled: false })).status).toBe(404);
    await api('DELETE', `/webhooks/${endpoint.id}`);
  });

  it('a receiver answering 410 Gone pauses its endpoint at once, with that reason, and gets nothing more', async () => {
    const endpoint = await register('/gone');
    await api('POST', `/conversations/${conversationId}/messages`, { content: 'are you there?' });
    const [delivery] = await settledDeliveries(endpoint.id, 1);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 410, lastError: 'HTTP 410 Gone: webhook paused' });
    const listed = (await api('GET', '/webhooks')).body.items.find((e: { id: string }) => e.id === endpoint.id);
    expect(listed).toMatchObject({ enabled: false, disabledReason: 'gone' });
    await api('POST', `/conversations/${conversationId}/messages`, { content: 'hello again' });
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((r) => r.path === '/gone')).toHaveLength(1);
    expect(await settledDeliveries(endpoint.id, 1)).toHaveLength(1);
    await api('DELETE', `/webhooks/${endpoint.id}`);
  });

  it('the endpoint list never shows the secret again', async () => {
    const endpoint = await register('/ok');
    const list = await api('GET', '/webhooks');
    expect(JSON.stringify(list.body)).not.toContain(endpoint.secret);
    await api('DELETE', `/webhooks/${endpoint.id}`);
  });

  it('an endpoint URL must be http(s)', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x', 'javascript:alert(1)', 'not a url']) {
      expect((await api('POST', '/webhooks', { url, events: ['message.created'] })).status).toBe(400);
    }
    expect((await api('POST', '/webhooks', { url: 'https://example.com/h', events: ['user.deleted'] })).status).toBe(400);
    expect((await api('POST', '/webhooks', { url: 'https://example.com/h', events: [] })).status).toBe(400);
  });
});

describe('webhook targets inside the operator network (server-side request forgery)', () => {
  it('by default refuses to register URLs at private, loopback, link-local or reserved addresses, also by name, and stores nothing', async () => {
    const guarded = await startTestParley({ config: { privateTargets: false }, jobs: { backoffBaseMs: 50, pollMs: 50, maxAttempts: 1 } });
    try {
      const owner = await guarded.createTenant('Guarded Co');
      const send = (method: string, path: string, body?: unknown) => call(guarded.baseUrl, method, path, { auth: { apiKey: owner.apiKey }, body });
      const port = (receiver.address() as AddressInfo).port;
      const inside = [
        `http://127.0.0.1:${port}/ok`,
        `http://localhost:${port}/ok`, // a name that resolves to loopback
        'http://169.254.169.254/latest/meta-data/', // cloud metadata
        'http://10.0.0.5/hook',
        'http://192.168.1.10/hook',
        `http://[::1]:${port}/ok`,
        `http://[::ffff:127.0.0.1]:${port}/ok`,
        'http://0.0.0.0/hook',
      ];
      for (const url of inside) {
        const refused = await send('POST', '/webhooks', { url, events: ['message.created'] });
        expect(refused.status, url).toBe(422);
        expect(refused.body.error.code).toBe('PARLEY_ERR_TARGET_NOT_ALLOWED');
        expect(refused.body.error.message).toContain('PARLEY_PRIVATE_TARGETS');
      }
      expect((await send('GET', '/webhooks')).body.items).toEqual([]);

      // A name that pointed elsewhere when it was registered and at the inside when delivering
      // (DNS rebinding) is refused where the delivery connects: stored here as if registered earlier.
      await guarded.db
        .insertInto('webhook_endpoints')
        .values({ id: 'whk_rebound', tenant_id: owner.tenantId, url: `http://localhost:${port}/ok`, events: JSON.stringify(['message.created']), secret: 'whsec_x' })
        .execute();
      const before = received.length;
      const inbox = (await send('POST', '/inboxes', { name: 'API', channelType: 'api' })).body.id;
      const conversation = (await send('POST', '/conversations', { inboxId: inbox, contact: { name: 'Guarded Contact' } })).body.id;
      await send('POST', `/conversations/${conversation}/messages`, { content: 'stays inside' });
      const deadline = Date.now() + 15_000;
      let delivery: Delivery | undefined;
      while (!delivery || delivery.status === 'pending') {
        if (Date.now() > deadline) throw new Error('the delivery did not settle');
        await new Promise((r) => setTimeout(r, 50));
        delivery = ((await send('GET', '/webhooks/whk_rebound/deliveries')).body.items as Delivery[])[0];
      }
      expect(delivery).toMatchObject({ status: 'failed', lastStatusCode: null });
      expect(delivery.lastError).toContain('private or reserved address');
      expect(received.length).toBe(before);
    } finally {
      await guarded.stop();
    }
  });
});

describe('verifyWebhook', () => {
  const secret = 'whsec_test';
  const body = '{"event":"message.created","data":{"content":"hi"}}';
  const now = 1_700_000_000;

  it('accepts the signature of the raw body within five minutes', () => {
    expect(verifyWebhook(secret, now, body, signWebhook(secret, now, body), now)).toBe(true);
    expect(verifyWebhook(secret, now - 300, body, signWebhook(secret, now - 300, body), now)).toBe(true);
  });

  it('rejects a tampered body, a re-serialized body, a timestamp older than 5 minutes, or a forged signature', () => {
    const signature = signWebhook(secret, now, body);
    expect(verifyWebhook(secret, now, body.replace('hi', 'ho'), signature, now)).toBe(false);
    expect(verifyWebhook(secret, now, JSON.stringify(JSON.parse(body), null, 2), signature, now)).toBe(false);
    expect(verifyWebhook(secret, now - 301, body, signWebhook(secret, now - 301, body), now)).toBe(false);
    expect(verifyWebhook(secret, now + 301, body, signWebhook(secret, now + 301, body), now)).toBe(false);
    expect(verifyWebhook(secret, Number.NaN, body, signature, now)).toBe(false);
    expect(verifyWebhook(secret, now, body, signature.replace(/.$/, (c) => (c === '0' ? '1' : '0')), now)).toBe(false);
    expect(verifyWebhook(secret, now, body, '', now)).toBe(false);
    expect(verifyWebhook('other', now, body, signature, now)).toBe(false);
  });
});
