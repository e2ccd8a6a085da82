import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { startTestParley, type TestParley, type TestTenant } from '../../test/test-parley.ts';
import { call, type Answer } from '../../test/http.ts';

// Bad input is refused at the boundary with a stable error code, leaves no partial rows behind,
// and does not hurt the server.


let t: TestParley;
let tenant: TestTenant;
let inbox: { id: string; publicId: string; identitySecret: string };
let prechatInbox: { publicId: string };
let conversationId: string;
let visitorToken: string;
let cannedId: string;

/** Sends a raw body (string) or JSON; the tenant's API key unless `key` says otherwise (null: none). */
const send = (method: string, path: string, opts: { json?: unknown; raw?: string; headers?: Record<string, string>; key?: string | null } = {}) => {
  const key = opts.key === undefined ? tenant.apiKey : opts.key;
  return call(t.baseUrl, method, path, { auth: key ? { apiKey: key } : undefined, body: opts.json, raw: opts.raw, headers: opts.headers });
};

const visitor = (token = visitorToken) => ({ key: null, headers: { authorization: `Bearer ${token}` } });

async function rowCounts() {
  const count = async (table: 'conversations' | 'messages' | 'contacts' | 'conversation_events' | 'attachments') =>
    Number((await t.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { conversations: await count('conversations'), messages: await count('messages'), contacts: await count('contacts'), events: await count('conversation_events'), attachments: await count('attachments') };
}

function expectError(answer: Answer, status: number, code?: string) {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.body?.error?.message, answer.text).toEqual(expect.any(String));
  if (code) expect(answer.body.error.code).toBe(code);
}

let countsBefore: Awaited<ReturnType<typeof rowCounts>>;

beforeAll(async () => {
  t = await startTestParley({ config: { workers: false } });
  tenant = await t.createTenant('Bad Input Co');
  const created = await send('POST', '/inboxes', { json: { name: 'Chat', channelType: 'webchat', settings: { prechat: { enabled: false, fields: [] } } } });
  expect(created.status).toBe(201);
  inbox = created.body;
  prechatInbox = (await send('POST', '/inboxes', { json: { name: 'Prechat', channelType: 'webchat' } })).body;
  const started = await send('POST', `/widget/inboxes/${inbox.publicId}/conversations`, { key: null, json: { name: 'Vera', message: 'first' } });
  expect(started.status).toBe(201);
  conversationId = started.body.conversation.id;
  visitorToken = started.body.token;
  cannedId = (await send('POST', '/canned-replies', { json: { shortCode: 'hello', content: 'Hello' } })).body.id;
});
afterAll(async () => {
  await t?.stop();
});

describe('bad input', () => {
  // Every test here sends only bad requests: afterwards nothing was written and the server is fine.
  beforeAll(async () => {
    countsBefore = await rowCounts();
  });
  afterEach(async () => {
    expect(await rowCounts()).toEqual(countsBefore);
    const health = await fetch(`${t.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
  });

  it('malformed or empty JSON is 400 PARLEY_ERR_MALFORMED_JSON', async () => {
    const cases: [string, string, Parameters<typeof send>[2]][] = [
      ['POST', '/auth/login', { key: null, raw: '{"email": "a@b.c", "password": ' }],
      ['POST', `/conversations/${conversationId}/messages`, { raw: '{"content": "hi",}' }],
      ['PATCH', `/conversations/${conversationId}`, { raw: "{'status': 'resolved'}" }],
      ['POST', `/widget/inboxes/${inbox.publicId}/conversations`, { key: null, raw: '{"name": "V", "message": "x"' }],
      ['POST', '/widget/conversation/messages', { ...visitor(), raw: 'not json at all' }],
      ['POST', `/conversations/${conversationId}/messages`, { raw: '' }],
    ];
    for (const [method, path, opts] of cases) expectError(await send(method, path, opts), 400, 'PARLEY_ERR_MALFORMED_JSON');
  });

  it('wrong types are 400 PARLEY_ERR_VALIDATION with details', async () => {
    const cases: [string, string, Parameters<typeof send>[2]][] = [
      ['POST', '/auth/login', { key: null, json: { email: 42, password: true } }],
      ['POST', `/conversations/${conversationId}/messages`, { json: { content: 123 } }],
      ['POST', `/conversations/${conversationId}/messages`, { json: { content: 'x', private: 'yes' } }],
      ['POST', `/conversations/${conversationId}/messages`, { json: { content: 'x', attachmentIds: 'att_1' } }],
      ['POST', `/conversations/${conversationId}/messages`, { json: ['content'] }],
      ['POST', `/conversations/${conversationId}/messages`, { json: 'content' }],
      ['POST', `/conversations/${conversationId}/messages`, { json: null }],
      ['PATCH', `/conversations/${conversationId}`, { json: { priority: 'high' } }],
      ['PATCH', `/conversations/${conversationId}`, { json: { priority: 1000 } }],
      ['PATCH', `/conversations/${conversationId}`, { json: { status: 'closed' } }],
      ['PATCH', `/conversations/${conversationId}`, { json: { labels: ['<script>'] } }],
      ['PATCH', `/conversations/${conversationId}`, { json: { snoozedUntil: 'tomorrow', status: 'snoozed' } }],
      ['POST', '/conversations', { json: { inboxId: inbox.id, contact: { email: 'not an email' } } }],
      ['POST', `/widget/inboxes/${inbox.publicId}/conversations`, { key: null, json: { name: 5, message: 'x' } }],
      ['POST', `/widget/inboxes/${inbox.publicId}/conversations`, { key: null, json: { email: 'nope', message: 'x' } }],
      ['POST', '/widget/conversation/messages', { ...visitor(), json: { content: 'x', clientMessageId: 'has spaces and /' } }],
      ['POST', '/widget/conversation/messages', { ...visitor(), json: { content: 'x' } }],
      ['GET', '/conversations?limit=99999', {}],
      ['GET', '/conversations?status=closed', {}],
      ['GET', `/conversations?cursor=${encodeURIComponent('garbage|cnv_x')}`, {}],
      ['GET', `/conversations?cursor=${encodeURIComponent("2030-01-01T00:00:00Z' OR 1=1|cnv_x")}`, {}],
      ['GET', '/conversations?cursor=no-separator', {}],
    ];
    for (const [method, path, opts] of cases) {
      const answer = await send(method, path, opts);
      expectError(answer, 400, 'PARLEY_ERR_VALIDATION');
      if (!path.includes('cursor=')) expect(answer.body.error.details, `${method} ${path} ${JSON.stringify(opts)}`).toEqual(expect.any(Array));
    }
  });

  it('an object where a string belongs (operator injection) is 400', async () => {
    const cases: [string, string, Parameters<typeof send>[2]][] = [
      ['POST', '/auth/login', { key: null, json: { email: { $ne: null }, password: 'x' } }],
      ['POST', '/auth/login', { key: null, json: { email: 'a@example.com', password: { $gt: '' } } }],
      ['POST', `/conversations/${conversationId}/messages`, { json: { content: { $ne: null } } }],
      ['POST', `/conversations/${conversationId}/messages`, { json: { content: 'x', clientMessageId: { $ne: null } } }],
      ['PATCH', `/conversations/${conversationId}`, { json: { assigneeId: { $ne: null } } }],
      ['POST', `/canned-replies/${cannedId}/render`, { json: { conversationId: { $ne: null } } }],
      ['POST', `/widget/inboxes/${inbox.publicId}/conversations`, { key: null, json: { name: { $ne: null }, message: 'x' } }],
      ['POST', `/widget/inboxes/${inbox.publicId}/conversations`, { key: null, json: { identifier: { $ne: null }, identifierHash: { $ne: null } } }],
      ['POST', `/widget/inboxes/${inbox.publicId}/offline-messages`, { key: null, json: { name: 'V', email: 'v@example.com', message: { $ne: null } } }],
      ['POST', '/widget/conversation/messages', { ...visitor(), json: { content: 'x', clientMessageId: { $ne: null } } }],
      ['POST', '/widget/conversation/messages', { ...visitor(), json: { content: 'x', clientMessageId: 'c1', attachmentIds: [{ $ne: null }] } }],
      ['POST', '/invitations/inv_aaaaaaaaaaaaaaaa/accept', { key: null, json: { name: { $ne: null }, password: { $ne: null } } }],
    ];
    for (const [method, path, opts] of cases) expectError(await send(method, path, opts), 400, 'PARLEY_ERR_VALIDATION');
  });

  it('a body over 256 KB is 413 PARLEY_ERR_PAYLOAD_TOO_LARGE', async () => {
    const big = 'x'.repeat(300 * 1024);
    expectError(await send('POST', `/conversations/${conversationId}/messages`, { json: { content: big } }), 413, 'PARLEY_ERR_PAYLOAD_TOO_LARGE');
    expectError(await send('POST', `/widget/inboxes/${inbox.publicId}/conversations`, { key: null, json: { name: 'V', message: big } }), 413, 'PARLEY_ERR_PAYLOAD_TOO_LARGE');
    expectError(await send('POST', '/widget/conversation/messages', { ...visitor(), json: { content: big, clientMessageId: 'big' } }), 413, 'PARLEY_ERR_PAYLOAD_TOO_LARGE');
    expectError(await send('POST', '/auth/login', { key: null, json: { email: 'a@example.com', password: big } }), 413, 'PARLEY_ERR_PAYLOAD_TOO_LARGE');
    // Under the body limit but over the message limit: a validation error.
    expectError(await send('POST', `/conversations/${conversationId}/messages`, { json: { content: 'y'.repeat(20_001) } }), 400, 'PARLEY_ERR_VALIDATION');
  });

  it('a message of only whitespace is refused', async () => {
    expectError(await send('POST', `/conversations/${conversationId}/messages`, { json: { content: '   \n\t ' } }), 400, 'PARLEY_ERR_VALIDATION');
    expectError(await send('POST', '/widget/conversation/messages', { ...visitor(), json: { content: '  ', clientMessageId: 'blank' } }), 400, 'PARLEY_ERR_VALIDATION');
  });

  it('an unknown widget inbox is 404', async () => {
    expectError(await send('GET', '/widget/inboxes/wc_doesnotexist', { key: null }), 404, 'PARLEY_ERR_NOT_FOUND');
    expectError(await send('POST', '/widget/inboxes/wc_doesnotexist/conversations', { key: null, json: { name: 'V', message: 'hi' } }), 404, 'PARLEY_ERR_NOT_FOUND');
    expectError(await send('POST', '/widget/inboxes/wc_doesnotexist/offline-messages', { key: null, json: { name: 'V', email: 'v@example.com', message: 'hi' } }), 404, 'PARLEY_ERR_NOT_FOUND');
    // A public id with characters it never has is refused before any lookup.
    expectError(await send('GET', `/widget/inboxes/${encodeURIComponent("x' OR 1=1 --")}`, { key: null }), 400, 'PARLEY_ERR_VALIDATION');
  });

  it('the pre-chat form\'s required fields are enforced', async () => {
    expectError(await send('POST', `/widget/inboxes/${prechatInbox.publicId}/conversations`, { key: null, json: { message: 'no name, no email' } }), 400, 'PARLEY_ERR_VALIDATION');
    expectError(await send('POST', `/widget/inboxes/${prechatInbox.publicId}/conversations`, { key: null, json: { name: 'Only Name', message: 'x' } }), 400, 'PARLEY_ERR_VALIDATION');
  });

  it('a missing or wrong identity hash is 401 and creates no contact or conversation', async () => {
    const good = createHmac('sha256', inbox.identitySecret).update('user-42').digest('hex');
    const other = createHmac('sha256', 'some other secret').update('user-42').digest('hex');
    const cases = [
      { identifier: 'user-42' },
      { identifier: 'user-42', identifierHash: other },
      { identifier: 'user-42', identifierHash: good.replace(/.$/, (c) => (c === '0' ? '1' : '0')) },
      { identifier: 'user-43', identifierHash: good },
      { identifierHash: good },
      { identifier: '', identifierHash: good },
    ];
    for (const json of cases) {
      const answer = await send('POST', `/widget/inboxes/${inbox.publicId}/conversations`, { key: null, json: { name: 'Mallory', message: 'I am user 42', ...json } });
      expect([400, 401], JSON.stringify(json)).toContain(answer.status);
      if (answer.status === 401) expect(answer.body.error.code).toBe('PARLEY_ERR_IDENTITY_HASH_INVALID');
    }
    // The exact cases of the brief are 401, not mere validation errors.
    expectError(await send('POST', `/widget/inboxes/${inbox.publicId}/conversations`, { key: null, json: { identifier: 'user-42', message: 'x' } }), 401, 'PARLEY_ERR_IDENTITY_HASH_INVALID');
    expectError(await send('POST', `/widget/inboxes/${inbox.publicId}/conversations`, { key: null, json: { identifier: 'user-42', identifierHash: other, message: 'x' } }), 401, 'PARLEY_ERR_IDENTITY_HASH_INVALID');
    expect(await t.db.selectFrom('contacts').select('id').where('identifier', '=', 'user-42').execute()).toEqual([]);
  });

  it('unknown fields are refused where the schema is closed', async () => {
    const cases: [string, string, Parameters<typeof send>[2]][] = [
      ['POST', `/conversations/${conversationId}/messages`, { json: { content: 'x', senderType: 'contact' } }],
      ['POST', `/conversations/${conversationId}/messages`, { json: { content: 'x', tenantId: 'ten_other' } }],
      ['PATCH', `/conversations/${conversationId}`, { json: { status: 'resolved', tenant_id: 'ten_other' } }],
      ['PATCH', `/contacts/${(await send('GET', `/conversations/${conversationId}`)).body.contact.id}`, { json: { verified: true } }],
      ['POST', '/conversations', { json: { inboxId: inbox.id, contact: { name: 'X', verified: true } } }],
      ['POST', '/conversations', { json: { inboxId: inbox.id, contact: { name: 'X' }, status: 'resolved' } }],
      ['POST', '/inboxes', { json: { name: 'I', channelType: 'webchat', tenantId: 'ten_other' } }],
      ['POST', '/inboxes', { json: { name: 'I', channelType: 'webchat', settings: { color: '#000000', script: 'alert(1)' } } }],
      ['PATCH', '/auth/me', { json: { role: 'admin' } }],
      ['POST', '/invitations', { json: { email: 'new@example.com', role: 'agent', tenantId: 'ten_other' } }],
      ['POST', '/webhooks', { json: { url: 'https://example.com/h', events: ['message.created'], secret: 'mine' } }],
      ['POST', '/canned-replies', { json: { shortCode: 'x', content: 'y', tenantId: 'ten_other' } }],
      ['PATCH', `/canned-replies/${cannedId}`, { json: { content: 'y', tenantId: 'ten_other' } }],
      ['POST', `/widget/inboxes/${inbox.publicId}/conversations`, { key: null, json: { name: 'V', message: 'x', verified: true } }],
      ['POST', `/widget/inboxes/${inbox.publicId}/offline-messages`, { key: null, json: { name: 'V', email: 'v@example.com', message: 'x', status: 'open' } }],
      ['POST', '/widget/conversation/messages', { ...visitor(), json: { content: 'x', clientMessageId: 'c2', private: true } }],
    ];
    for (const [method, path, opts] of cases) {
      const answer = await send(method, path, opts);
      expect(answer.status, `${method} ${path} ${JSON.stringify(opts?.json)}: ${answer.text}`).toBe(400);
      expect(answer.body.error.code).toBe('PARLEY_ERR_VALIDATION');
    }
    expect((await send('GET', '/canned-replies')).body.items).toEqual([{ id: cannedId, shortCode: 'hello', content: 'Hello' }]);
    expect((await send('GET', '/webhooks')).body.items).toEqual([]);
  });

  it('a JSON route refuses other content types with 415', async () => {
    const answer = await send('POST', `/conversations/${conversationId}/messages`, { raw: 'content=hi', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectError(answer, 415, 'PARLEY_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('a snooze without snoozedUntil is refused', async () => {
    expectError(await send('PATCH', `/conversations/${conversationId}`, { json: { status: 'snoozed' } }), 400, 'PARLEY_ERR_VALIDATION');
    expect((await send('GET', `/conversations/${conversationId}`)).body.status).toBe('open');
  });
});

describe('text no database column can hold as sent', () => {
  it('a NUL or half an emoji (lone surrogate) from a visitor or an agent is stored, the half as U+FFFD, not refused with a 500', async () => {
    const fromVisitor = await send('POST', '/widget/conversation/messages', { ...visitor(), json: { content: 'hola\u0000 a\uD83D medias', clientMessageId: 'half-emoji-1' } });
    expect(fromVisitor.status, fromVisitor.text).toBe(201);
    const fromAgent = await send('POST', `/conversations/${conversationId}/messages`, { json: { content: 'respuesta\uDE00 ok' } });
    expect(fromAgent.status, fromAgent.text).toBe(201);
    const contents = (await t.db.selectFrom('messages').select('content').where('conversation_id', '=', conversationId).execute()).map((m) => m.content);
    expect(contents).toEqual(expect.arrayContaining(['hola a\uFFFD medias', 'respuesta\uFFFD ok']));
  });

  it('elsewhere in the API too: names and canned replies with a NUL or half a surrogate pair are stored, not a 500', async () => {
    const canned = await send('POST', '/canned-replies', { json: { shortCode: 'nul\u0000code', content: 'a\u0000b \uD800' } });
    expect(canned.status, canned.text).toBe(201);
    expect(canned.body).toMatchObject({ shortCode: 'nulcode', content: 'ab \uFFFD' });
    const named = await send('POST', '/inboxes', { json: { name: 'Chat\u0000 two\uDFFF', channelType: 'webchat' } });
    expect(named.status, named.text).toBe(201);
    expect(named.body.name).toBe('Chat two\uFFFD');
    const search = await send('GET', `/conversations?q=${encodeURIComponent('x\u0000')}`);
    expect(search.status, search.text).toBeLessThan(500);
  });
});
