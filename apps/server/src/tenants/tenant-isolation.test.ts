import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { startTestParley, type TestParley, type TestTenant } from '../../test/test-parley.ts';
import { TestSocket } from '../../test/sockets.ts';
import { call, login, upload as uploadFile, type Answer, type Auth } from '../../test/http.ts';

// Tenant isolation (TN-1): nothing of tenant A is readable or writable with tenant B's API key,
// B's session, or any visitor token but the one of the conversation it was issued for.

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

let t: TestParley;

const api = (method: string, path: string, auth: Auth | undefined, body?: unknown) => call(t.baseUrl, method, path, { auth, body });
const upload = (path: string, auth: Auth | undefined, file: { name: string; type: string; bytes: Buffer }) => uploadFile(t.baseUrl, path, auth, file);
const loginAs = (tenant: TestTenant) => login(t.baseUrl, tenant.adminEmail, tenant.adminPassword);

function expectOk(answer: Answer, status = 201) {
  expect(answer.status, answer.text).toBe(status);
  return answer.body;
}

/** Everything tenant A has, row by row, plus its attachment files: compared before and after B's attempts. */
async function snapshotOf(tenantId: string) {
  const tables = [
    'users', 'sessions', 'api_keys', 'invitations', 'inboxes', 'contacts', 'contact_handles', 'conversations', 'messages',
    'attachments', 'conversation_events', 'realtime_events', 'canned_replies', 'webhook_endpoints', 'webhook_deliveries', 'jobs', 'tenant_event_seq',
    'routing_queues', 'routing_queue_members', 'agent_routing_profiles', 'agent_states', 'agent_state_events', 'routing_offers', 'routing_state', 'routing_snapshots', 'routing_journal',
    'channel_messages', 'imap_cursors', 'channel_consents', 'channel_errors', 'early_delivery_reports',
  ];
  const rows: Record<string, unknown> = {};
  for (const table of tables) {
    const result = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} WHERE tenant_id = ${tenantId}`.execute(t.db);
    rows[table] = result.rows.map((r) => JSON.stringify(r)).sort();
  }
  rows.tenants = (await t.db.selectFrom('tenants').selectAll().where('id', '=', tenantId).execute()).map((r) => JSON.stringify(r));
  const dir = join(t.parley.deps.config.dataDir, 'attachments', tenantId);
  const files: Record<string, string> = {};
  for (const name of await readdir(dir)) files[name] = (await readFile(join(dir, name))).toString('base64');
  rows.files = files;
  return rows;
}

interface World {
  tenant: TestTenant;
  session: { cookie: string; csrf: string };
  inbox: { id: string; publicId: string };
  /** An email inbox that signs with DKIM. */
  emailInbox: string;
  conversationX: string;
  conversationY: string;
  apiConversation: string;
  contact: string;
  message: string;
  note: string;
  canned: string;
  webhook: string;
  /** A delivery of that webhook (queued: no job worker runs here). */
  delivery: string;
  apiKey: string;
  agentAttachment: string;
  visitorAttachmentX: string;
  visitorAttachmentY: string;
  invitation: string;
  tokenX: string;
  tokenY: string;
  queue: string;
  offer: string;
  socket: TestSocket;
}

/** One tenant with one of everything. */
async function populate(name: string): Promise<World> {
  const tenant = await t.createTenant(name);
  const key = { bearer: tenant.apiKey };
  const inbox = expectOk(await api('POST', '/inboxes', key, { name: `${name} chat`, channelType: 'webchat', settings: { prechat: { enabled: false, fields: [] } } }));
  const x = expectOk(await api('POST', `/widget/inboxes/${inbox.publicId}/conversations`, undefined, { name: `${name} visitor X`, email: 'x@example.com', message: 'hello from X', clientMessageId: 'x-1' }));
  const y = expectOk(await api('POST', `/widget/inboxes/${inbox.publicId}/conversations`, undefined, { name: `${name} visitor Y`, message: 'hello from Y' }));
  const apiConversation = expectOk(
    await api('POST', '/conversations', key, { inboxId: inbox.id, contact: { name: `${name} API contact`, identifier: `${name}-crm-1` }, message: { content: 'opened by API' } }),
  );
  const slug = name.replace(/\W/g, '').toLowerCase();
  const emailInbox = expectOk(await api('POST', '/inboxes', key, { name: `${name} mail`, channelType: 'email', settings: { email: { address: `support@${slug}.example.test` } } }));
  expectOk(await api('POST', `/inboxes/${emailInbox.id}/email/dkim`, key, {}), 201);
  const session = await loginAs(tenant);
  const agentAttachment = expectOk(await upload('/attachments', session, { name: 'agent.png', type: 'image/png', bytes: PNG }));
  const message = expectOk(await api('POST', `/conversations/${x.conversation.id}/messages`, session, { content: 'agent reply', attachmentIds: [agentAttachment.id] }));
  const note = expectOk(await api('POST', `/conversations/${x.conversation.id}/messages`, session, { content: `@${name} Admin look`, private: true }));
  const visitorAttachmentX = expectOk(await upload('/widget/conversation/attachments', { bearer: x.token }, { name: 'x.png', type: 'image/png', bytes: PNG }));
  const visitorAttachmentY = expectOk(await upload('/widget/conversation/attachments', { bearer: y.token }, { name: 'y.txt', type: 'text/plain', bytes: Buffer.from('Y secret') }));
  expectOk(await api('POST', '/widget/conversation/messages', { bearer: y.token }, { content: 'file', clientMessageId: 'y-file', attachmentIds: [visitorAttachmentY.id] }));
  const canned = expectOk(await api('POST', '/canned-replies', key, { shortCode: 'hi', content: 'Hi {{contact.name}}' }));
  const webhook = expectOk(await api('POST', '/webhooks', key, { url: 'http://127.0.0.1:9/hook', events: ['message.created'] }));
  expectOk(await api('POST', `/conversations/${x.conversation.id}/messages`, key, { content: 'For the webhook' }));
  const delivery = (await api('GET', `/webhooks/${webhook.id}/deliveries`, key)).body.items[0].id as string;
  const apiKey = expectOk(await api('POST', '/api-keys', key, { name: 'extra' }));
  const invitation = expectOk(await api('POST', '/invitations', key, { email: `invitee-${name.replace(/\W/g, '').toLowerCase()}-${Date.now()}@example.com`, role: 'agent' }));
  await api('PATCH', `/conversations/${x.conversation.id}`, key, { labels: [`${name.replace(/\W/g, '').toLowerCase()}-vip`] });
  // Routing: the admin comes online and is offered a waiting conversation (offers last an hour here,
  // so nothing expires while the snapshots are compared).
  const queue = (await api('GET', '/routing/queues', key)).body.items[0].id as string;
  expectOk(await api('PATCH', `/routing/queues/${queue}`, key, { offerTimeoutSeconds: 3600, serviceLevelTargetSeconds: 30 }), 200);
  const socket = await TestSocket.open(`${t.baseUrl.replace('http', 'ws')}/api/v1/realtime`, { cookie: session.cookie, origin: t.baseUrl });
  await socket.hello(null);
  const offered = await socket.next((f) => f.type === 'event' && f.event?.type === 'routing.offer');
  const offer = (offered.event!.data as { offer: { id: string } }).offer.id;
  return {
    queue,
    offer,
    socket,
    tenant,
    session,
    inbox: { id: inbox.id, publicId: inbox.publicId },
    emailInbox: emailInbox.id,
    conversationX: x.conversation.id,
    conversationY: y.conversation.id,
    apiConversation: apiConversation.id,
    contact: x.contact.id,
    message: message.id,
    note: note.id,
    canned: canned.id,
    webhook: webhook.id,
    delivery,
    apiKey: apiKey.id,
    agentAttachment: agentAttachment.id,
    visitorAttachmentX: visitorAttachmentX.id,
    visitorAttachmentY: visitorAttachmentY.id,
    invitation: invitation.id,
    tokenX: x.token,
    tokenY: y.token,
  };
}

let a: World;
let b: World;
let idsOfA: string[];

beforeAll(async () => {
  // No job worker: A's webhook deliveries must stay exactly as queued while we compare snapshots.
  t = await startTestParley({ config: { workers: false } });
  a = await populate('Alpha');
  b = await populate('Beta');
  idsOfA = [a.inbox.id, a.inbox.publicId, a.conversationX, a.conversationY, a.apiConversation, a.contact, a.message, a.note, a.canned, a.webhook, a.delivery, a.apiKey, a.agentAttachment, a.visitorAttachmentX, a.visitorAttachmentY, a.invitation, a.tenant.tenantId, a.tenant.adminUserId];
}, 120_000);
afterAll(async () => {
  a?.socket.close();
  b?.socket.close();
  await t?.stop();
});

/** Tenant A's id for a path parameter, by the collection it follows; unknown kinds fail the test. */
function idFor(path: string, param: string): string {
  // Email settings of an inbox: A's email inbox.
  if (path.startsWith('/api/v1/inboxes/{id}/email/')) return a.emailInbox;
  const collection = path.split('/').slice(0, path.split('/').indexOf(`{${param}}`)).pop();
  const byCollection: Record<string, string> = {
    inboxes: a.inbox.id,
    contacts: a.contact,
    conversations: a.conversationX,
    'canned-replies': a.canned,
    webhooks: a.webhook,
    deliveries: a.delivery,
    'api-keys': a.apiKey,
    attachments: a.agentAttachment,
    // The accept route takes the secret token, which only its invitee holds; A's invitation id must not work as one.
    invitations: a.invitation,
    queues: a.queue,
    agents: a.tenant.adminUserId,
    offers: a.offer,
    messages: a.message,
    // A contact's consent per sending inbox (compliance/).
    consents: a.inbox.id,
  };
  const id = collection ? byCollection[collection] : undefined;
  if (!id) throw new Error(`route ${path}: no id kind known for {${param}} after "${collection}"; classify it in this test`);
  return id;
}

/** A minimal valid body per route, so the answer is about the id and not about the body. */
function bodyFor(method: string, path: string, takesBody: boolean): unknown {
  const bodies: Record<string, unknown> = {
    'PATCH /api/v1/inboxes/{id}': { name: 'Renamed by B', settings: { color: '#000000' } },
    'POST /api/v1/inboxes/{id}/email/dkim': { selector: 'intruder' },
    'PATCH /api/v1/contacts/{id}': { name: 'Renamed by B', customAttributes: { owner: 'B' } },
    'PATCH /api/v1/conversations/{id}': { status: 'resolved', priority: 5, labels: ['b'], customAttributes: { owner: 'B' } },
    'POST /api/v1/conversations/{id}/messages': { content: 'hello from B', clientMessageId: 'x-1' },
    'PATCH /api/v1/canned-replies/{id}': { content: 'Changed by B' },
    'PATCH /api/v1/webhooks/{id}': { enabled: false },
    'POST /api/v1/canned-replies/{id}/render': { conversationId: a.conversationX },
    'POST /api/v1/invitations/{token}/accept': { name: 'Intruder', password: 'intruder password' },
    'PATCH /api/v1/routing/queues/{id}': { name: 'Renamed by B', members: [] },
    'PUT /api/v1/routing/agents/{userId}/profile': { skills: { b: 1 }, capacity: { chat: 1 } },
    'PUT /api/v1/routing/inboxes/{id}/queue': { queueId: null },
    'POST /api/v1/conversations/{id}/transfer': { queueId: a.queue },
    'POST /api/v1/conversations/{id}/force-assign': { agentId: a.tenant.adminUserId },
    'PUT /api/v1/contacts/{id}/consents/{inboxId}': { status: 'opted_out' },
    'POST /api/v1/conversations/{id}/template-messages': { name: 'order_update', language: 'en', parameters: ['B'] },
  };
  const key = `${method} ${path}`;
  if (key in bodies) return bodies[key];
  if (takesBody) throw new Error(`route ${key} needs a body in this test`);
  return undefined;
}

async function agentRoutesWithPathParams() {
  const doc = (await api('GET', '/api/openapi.json', undefined)).body as { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: unknown }>> };
  const routes: { method: string; path: string; params: string[]; takesBody: boolean }[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    // Widget routes are public (their ids are the inbox's public id and the visitor token): tested below with visitor tokens.
    // Provider webhooks (/channels/…) are public too, authenticated by the provider's signature: each channel's tests cover them.
    if (!path.startsWith('/api/v1/') || path.startsWith('/api/v1/widget/') || path.startsWith('/api/v1/channels/')) continue;
    for (const [method, operation] of Object.entries(operations)) {
      const params = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      if (params.length > 0) routes.push({ method: method.toUpperCase(), path, params, takesBody: operation.requestBody !== undefined });
    }
  }
  return routes;
}

describe('tenant B against tenant A', () => {
  it('every agent route with a path id answers 404 or 403 to B (API key and session) and A is unchanged', async () => {
    const routes = await agentRoutesWithPathParams();
    expect(routes.length).toBeGreaterThanOrEqual(20);
    const before = await snapshotOf(a.tenant.tenantId);
    const answers: string[] = [];
    for (const credentials of [{ bearer: b.tenant.apiKey }, b.session] as const) {
      for (const route of routes) {
        let url = route.path;
        for (const p of route.params) url = url.replace(`{${p}}`, encodeURIComponent(idFor(route.path, p)));
        const answer = await api(route.method, url, credentials, bodyFor(route.method, route.path, route.takesBody));
        answers.push(`${route.method} ${url} -> ${answer.status}`);
        expect([403, 404], `${'bearer' in credentials ? 'API key' : 'session'} ${route.method} ${url}: ${answer.text}`).toContain(answer.status);
        for (const id of idsOfA) expect(answer.text).not.toContain(id);
      }
    }
    expect(answers.length).toBe(routes.length * 2);
    expect(await snapshotOf(a.tenant.tenantId)).toEqual(before);

    // Control: the same ids do work for A, so the refusals above are about the tenant, not the ids.
    for (const route of routes.filter((r) => r.method === 'GET')) {
      let url = route.path;
      for (const p of route.params) url = url.replace(`{${p}}`, encodeURIComponent(idFor(route.path, p)));
      expect((await api('GET', url, { bearer: a.tenant.apiKey })).status, url).toBe(200);
    }
  });

  it('ids of A inside B\'s own requests are refused and change nothing of A', async () => {
    const before = await snapshotOf(a.tenant.tenantId);
    const key = { bearer: b.tenant.apiKey };
    const render = await api('POST', `/canned-replies/${b.canned}/render`, key, { conversationId: a.conversationX });
    expect(render.status).toBe(404);
    expect(render.text).not.toContain('Alpha visitor X');
    const open = await api('POST', '/conversations', key, { inboxId: a.inbox.id, contact: { name: 'Sneaky' } });
    expect(open.status).toBe(404);
    const assign = await api('PATCH', `/conversations/${b.conversationX}`, key, { assigneeId: a.tenant.adminUserId });
    expect(assign.status).toBe(400);
    const attach = await api('POST', `/conversations/${b.conversationX}/messages`, key, { content: 'steal', attachmentIds: [a.agentAttachment] });
    expect(attach.status).toBe(400);
    const visitorAttach = await api('POST', '/widget/conversation/messages', { bearer: b.tokenX }, { content: 'steal', clientMessageId: 'steal-1', attachmentIds: [a.visitorAttachmentX] });
    expect(visitorAttach.status).toBe(400);
    // B's messages list does not mention A's users when B writes "@Alpha Admin".
    const note = await api('POST', `/conversations/${b.conversationX}/messages`, b.session, { content: '@Alpha Admin hello', private: true });
    expect(note.status).toBe(201);
    expect(note.body.mentions).toEqual([]);
    expect(await snapshotOf(a.tenant.tenantId)).toEqual(before);
    // The B conversation was not touched by the refused assignment either.
    expect((await api('GET', `/conversations/${b.conversationX}`, key)).body.assigneeId).toBeNull();
  });

  it('B\'s list endpoints return none of A\'s ids, also when filtered by them', async () => {
    const doc = (await api('GET', '/api/openapi.json', undefined)).body as { paths: Record<string, Record<string, unknown>> };
    const lists = Object.entries(doc.paths)
      .filter(([path, ops]) => path.startsWith('/api/v1/') && !path.includes('{') && !path.startsWith('/api/v1/widget/') && !path.startsWith('/api/v1/channels/') && 'get' in ops)
      .map(([path]) => path);
    expect(lists).toEqual(expect.arrayContaining(['/api/v1/conversations', '/api/v1/contacts', '/api/v1/inboxes', '/api/v1/users', '/api/v1/canned-replies', '/api/v1/webhooks', '/api/v1/api-keys', '/api/v1/invitations', '/api/v1/labels']));
    const filtered = [
      `/api/v1/conversations?inboxId=${a.inbox.id}&status=all`,
      `/api/v1/conversations?contactId=${a.contact}&status=all`,
      '/api/v1/conversations?label=alpha-vip&status=all',
      '/api/v1/conversations?status=all&assignee=all',
      '/api/v1/contacts?q=Alpha',
    ];
    for (const credentials of [{ bearer: b.tenant.apiKey }, b.session] as const) {
      for (const path of [...lists, ...filtered]) {
        const answer = await api('GET', path, credentials);
        if ((path === '/api/v1/auth/me' || path === '/api/v1/routing/me') && 'bearer' in credentials) {
          expect(answer.status).toBe(400); // an API key has no user session
          continue;
        }
        expect(answer.status, `${path}: ${answer.text}`).toBe(200);
        for (const id of idsOfA) expect(answer.text, `${path} leaks ${id}`).not.toContain(id);
        expect(answer.text).not.toContain('Alpha');
      }
    }
    const counts = (await api('GET', `/api/v1/conversations?inboxId=${a.inbox.id}&status=all`, { bearer: b.tenant.apiKey })).body.counts;
    expect(counts).toEqual({ mine: 0, unassigned: 0, all: 0 });
    // B does see its own.
    const own = await api('GET', '/api/v1/conversations?status=all', { bearer: b.tenant.apiKey });
    expect(own.body.items.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining([b.conversationX, b.conversationY, b.apiConversation]));
  });
});

describe('visitor tokens', () => {
  it('a token reads and writes only its own conversation', async () => {
    const x = await api('GET', '/widget/conversation', { bearer: a.tokenX });
    expect(x.status).toBe(200);
    expect(x.body.conversation.id).toBe(a.conversationX);
    expect(x.body.messages.every((m: { conversationId: string }) => m.conversationId === a.conversationX)).toBe(true);
    expect(x.text).not.toContain('hello from Y');
    expect(x.text).not.toContain(a.note);

    const yBefore = await t.db.selectFrom('messages').select('id').where('conversation_id', '=', a.conversationY).execute();
    const posted = await api('POST', '/widget/conversation/messages', { bearer: a.tokenX }, { content: 'only for X', clientMessageId: 'x-only' });
    expect(posted.status).toBe(201);
    expect(posted.body.conversationId).toBe(a.conversationX);
    expect(await t.db.selectFrom('messages').select('id').where('conversation_id', '=', a.conversationY).execute()).toEqual(yBefore);

    // Y's attachment through X's token: no.
    const other = await fetch(`${t.baseUrl}/api/v1/widget/conversation/attachments/${a.visitorAttachmentY}`, { headers: { authorization: `Bearer ${a.tokenX}` } });
    expect(other.status).toBe(404);
    expect(await other.text()).not.toContain('Y secret');
    const own = await fetch(`${t.baseUrl}/api/v1/widget/conversation/attachments/${a.visitorAttachmentY}`, { headers: { authorization: `Bearer ${a.tokenY}` } });
    expect(own.status).toBe(200);
    expect(await own.text()).toBe('Y secret');
  });

  it('a forged token (altered claims, other secret, garbage, none) is 401 and writes nothing', async () => {
    const [version, body, mac] = a.tokenX.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as string[];
    const reencode = (c: unknown[]) => Buffer.from(JSON.stringify(c)).toString('base64url');
    const forged = [
      `${version}.${reencode([claims[0], claims[1], a.conversationY, claims[3]])}.${mac}`,
      `${version}.${reencode([b.tenant.tenantId, b.inbox.id, b.conversationX, claims[3]])}.${mac}`,
      `${version}.${body}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`,
      `${version}.${body}.${b.tokenX.split('.')[2]}`,
      `vt2.${body}.${mac}`,
      'vt1.e30.x',
      'garbage',
      '',
    ];
    const before = await snapshotOf(a.tenant.tenantId);
    for (const token of forged) {
      const auth = token ? { bearer: token } : undefined;
      const read = await api('GET', '/widget/conversation', auth);
      expect(read.status, token).toBe(401);
      const write = await api('POST', '/widget/conversation/messages', auth, { content: 'forged', clientMessageId: `forged-${forged.indexOf(token)}` });
      expect(write.status, token).toBe(401);
      const file = await api('GET', `/widget/conversation/attachments/${a.visitorAttachmentY}`, auth);
      expect(file.status).toBe(401);
      const read2 = await api('POST', '/widget/conversation/read', auth);
      expect(read2.status).toBe(401);
    }
    expect(await snapshotOf(a.tenant.tenantId)).toEqual(before);
  });

  it('a visitor token of tenant A gets nothing of tenant B and opens no agent route', async () => {
    const file = await api('GET', `/widget/conversation/attachments/${b.visitorAttachmentY}`, { bearer: a.tokenY });
    expect(file.status).toBe(404);
    const agentFile = await api('GET', `/widget/conversation/attachments/${b.agentAttachment}`, { bearer: a.tokenX });
    expect(agentFile.status).toBe(404);
    const own = await api('GET', '/widget/conversation', { bearer: a.tokenX });
    for (const id of [b.conversationX, b.conversationY, b.message, b.contact]) expect(own.text).not.toContain(id);
    for (const path of ['/conversations', `/conversations/${b.conversationX}`, `/conversations/${a.conversationX}`, `/attachments/${a.visitorAttachmentX}`, '/contacts', '/users']) {
      const answer = await api('GET', path, { bearer: a.tokenX });
      expect(answer.status, path).toBe(401);
    }
    // An inbox's public id names its tenant: starting a chat on B's inbox puts it in B, never in A.
    const started = await api('POST', `/widget/inboxes/${b.inbox.publicId}/conversations`, { bearer: a.tokenX }, { name: 'Visitor', message: 'hi B' });
    expect(started.status).toBe(201);
    const row = await t.db.selectFrom('conversations').select('tenant_id').where('id', '=', started.body.conversation.id).executeTakeFirstOrThrow();
    expect(row.tenant_id).toBe(b.tenant.tenantId);
  });
});
