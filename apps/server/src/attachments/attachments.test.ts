import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestParley, type TestParley, type TestTenant } from '../../test/test-parley.ts';
import { authHeaders, call, upload as uploadFile, type Auth } from '../../test/http.ts';

// Uploads by agents and visitors, and how files are served back: only true raster images inline,
// everything else as a sandboxed download; size and type limits; who may download.

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const LIMIT = 1024;

let t: TestParley;
let a: TestTenant;
let b: TestTenant;
let session: { cookie: string; csrf: string };
let inboxPublicId: string;
let x: { token: string; conversationId: string };
let y: { token: string; conversationId: string };

const upload = (path: string, auth: Auth | undefined, file: { name: string; type: string; bytes: Buffer | string }) => uploadFile(t.baseUrl, path, auth, file);
const json = (method: string, path: string, auth: Auth | undefined, body?: unknown) => call(t.baseUrl, method, path, { auth, body });

async function download(url: string, auth?: Auth) {
  const res = await fetch(`${t.baseUrl}${url}`, { headers: authHeaders(auth) });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** Every file under the attachments dir, recursively (temporary .part files included). */
async function storedFiles(): Promise<string[]> {
  const root = join(t.parley.deps.config.dataDir, 'attachments');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

const attachmentCount = async () => Number((await t.db.selectFrom('attachments').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

function expectSandboxedDownload(headers: Headers) {
  expect(headers.get('content-type')).toBe('application/octet-stream');
  expect(headers.get('content-disposition')).toMatch(/^attachment;/);
  expect(headers.get('content-security-policy')).toMatch(/sandbox/);
  expect(headers.get('content-security-policy')).toMatch(/default-src 'none'/);
  expect(headers.get('x-content-type-options')).toBe('nosniff');
}

beforeAll(async () => {
  t = await startTestParley({ config: { maxAttachmentBytes: LIMIT, workers: false } });
  a = await t.createTenant('Files A');
  b = await t.createTenant('Files B');
  const login = await fetch(`${t.baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: a.adminEmail, password: a.adminPassword }),
  });
  session = { cookie: login.headers.getSetCookie()[0]!.split(';')[0]!, csrf: ((await login.json()) as { csrfToken: string }).csrfToken };
  const inbox = await json('POST', '/inboxes', { bearer: a.apiKey }, { name: 'Chat', channelType: 'webchat', settings: { prechat: { enabled: false, fields: [] } } });
  inboxPublicId = inbox.body.publicId;
  const start = async (name: string) => {
    const r = await json('POST', `/widget/inboxes/${inboxPublicId}/conversations`, undefined, { name, message: 'hi' });
    expect(r.status).toBe(201);
    return { token: r.body.token as string, conversationId: r.body.conversation.id as string };
  };
  x = await start('Xena');
  y = await start('Yuri');
});
afterAll(async () => {
  await t?.stop();
});

describe('uploads', () => {
  it('an agent uploads a PNG; it is served inline as image/png with its exact bytes', async () => {
    const up = await upload('/attachments', session, { name: 'photo.png', type: 'image/png', bytes: PNG });
    expect(up.status, up.text).toBe(201);
    expect(up.body).toMatchObject({ filename: 'photo.png', contentType: 'image/png', size: PNG.length, url: `/api/v1/attachments/${up.body.id}` });
    const row = await t.db.selectFrom('attachments').selectAll().where('id', '=', up.body.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ tenant_id: a.tenantId, uploader_type: 'user', conversation_id: null, size: PNG.length });

    const file = await download(up.body.url, session);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(file.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(file.headers.get('content-security-policy')).toMatch(/sandbox/);
    expect(file.bytes.equals(PNG)).toBe(true);
    expect((await download(up.body.url, { bearer: a.apiKey })).status).toBe(200);
    expect((await download(up.body.url)).status).toBe(401);
  });

  it('a visitor uploads into their conversation and downloads it through the widget route', async () => {
    const up = await upload('/widget/conversation/attachments', { bearer: x.token }, { name: 'receipt.png', type: 'image/png', bytes: PNG });
    expect(up.status, up.text).toBe(201);
    expect(up.body.url).toBe(`/api/v1/widget/conversation/attachments/${up.body.id}`);
    const row = await t.db.selectFrom('attachments').selectAll().where('id', '=', up.body.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ uploader_type: 'contact', conversation_id: x.conversationId });

    const message = await json('POST', '/widget/conversation/messages', { bearer: x.token }, { content: 'here', clientMessageId: 'with-file', attachmentIds: [up.body.id] });
    expect(message.status).toBe(201);
    expect(message.body.attachments).toEqual([expect.objectContaining({ id: up.body.id, url: up.body.url })]);

    const mine = await download(up.body.url, { bearer: x.token });
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-type')).toBe('image/png');
    expect(mine.bytes.equals(PNG)).toBe(true);
    // The agents of the tenant see it under their route.
    expect((await download(`/api/v1/attachments/${up.body.id}`, session)).status).toBe(200);
  });

  it('an agent file sent in a conversation becomes downloadable by that conversation\'s visitor only', async () => {
    const up = await upload('/attachments', session, { name: 'guide.pdf', type: 'application/pdf', bytes: '%PDF-1.4 fake' });
    expect(up.status).toBe(201);
    const widgetUrl = `/api/v1/widget/conversation/attachments/${up.body.id}`;
    expect((await download(widgetUrl, { bearer: x.token })).status).toBe(404); // not sent yet
    const sent = await json('POST', `/conversations/${x.conversationId}/messages`, session, { content: 'see attached', attachmentIds: [up.body.id] });
    expect(sent.status).toBe(201);
    const seen = await json('GET', '/widget/conversation', { bearer: x.token });
    const att = seen.body.messages.find((m: { id: string }) => m.id === sent.body.id).attachments[0];
    expect(att.url).toBe(widgetUrl);
    const got = await download(widgetUrl, { bearer: x.token });
    expect(got.status).toBe(200);
    expectSandboxedDownload(got.headers);
    expect((await download(widgetUrl, { bearer: y.token })).status).toBe(404);
    // Once sent in X, the file cannot be reused in Y.
    const reuse = await json('POST', `/conversations/${y.conversationId}/messages`, session, { content: 'again', attachmentIds: [up.body.id] });
    expect(reuse.status).toBe(400);
  });
});

describe('active content is never served as such', () => {
  it('an SVG with script is served as a sandboxed octet-stream download', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>';
    const up = await upload('/attachments', session, { name: 'logo.svg', type: 'image/svg+xml', bytes: svg });
    expect(up.status, up.text).toBe(201);
    const file = await download(up.body.url, session);
    expect(file.status).toBe(200);
    expectSandboxedDownload(file.headers);
    expect(file.headers.get('content-disposition')).toContain("filename*=UTF-8''logo.svg");
    expect(file.bytes.toString()).toBe(svg);
  });

  it('an HTML file is served as a sandboxed octet-stream download, to agents and visitors', async () => {
    const html = '<html><body><script>fetch("/api/v1/auth/me")</script></body></html>';
    const agentUp = await upload('/attachments', session, { name: 'page.html', type: 'text/html', bytes: html });
    expect(agentUp.status).toBe(201);
    expectSandboxedDownload((await download(agentUp.body.url, session)).headers);
    const visitorUp = await upload('/widget/conversation/attachments', { bearer: x.token }, { name: 'page.html', type: 'text/html', bytes: html });
    expect(visitorUp.status).toBe(201);
    expectSandboxedDownload((await download(visitorUp.body.url, { bearer: x.token })).headers);
    expectSandboxedDownload((await download(`/api/v1/attachments/${visitorUp.body.id}`, session)).headers);
  });

  it('HTML bytes declared as image/png are not served as image/png', async () => {
    const up = await upload('/attachments', session, { name: 'cat.png', type: 'image/png', bytes: '<html><script>alert(1)</script></html>' });
    expect(up.status).toBe(201);
    expect(up.body.contentType).not.toBe('image/png');
    const file = await download(up.body.url, session);
    expect(file.headers.get('content-type')).not.toBe('image/png');
    expectSandboxedDownload(file.headers);
  });

  it('a file name with path parts or odd characters is stored cleaned', async () => {
    const up = await upload('/attachments', session, { name: '../../etc/"pass"wd;.txt', type: 'text/plain', bytes: 'x' });
    expect(up.status).toBe(201);
    expect(up.body.filename).not.toMatch(/[/\\";]/);
    const file = await download(up.body.url, session);
    expect(file.headers.get('content-disposition')).not.toContain('"pass"');
    expect(file.headers.get('content-disposition')).not.toContain('..');
  });
});

describe('limits', () => {
  it('a file over the size limit is 413 and leaves no row and no file', async () => {
    const rows = await attachmentCount();
    const files = await storedFiles();
    for (const [path, auth] of [['/attachments', session], ['/widget/conversation/attachments', { bearer: x.token }]] as const) {
      const up = await upload(path, auth, { name: 'big.png', type: 'image/png', bytes: Buffer.concat([PNG, Buffer.alloc(LIMIT * 3)]) });
      expect(up.status, up.text).toBe(413);
      expect(up.body.error.code).toBe('PARLEY_ERR_PAYLOAD_TOO_LARGE');
    }
    // Exactly one byte over.
    const edge = await upload('/attachments', session, { name: 'edge.txt', type: 'text/plain', bytes: Buffer.alloc(LIMIT + 1, 0x61) });
    expect(edge.status).toBe(413);
    expect(await attachmentCount()).toBe(rows);
    expect(await storedFiles()).toEqual(files);
    // At the limit is fine.
    const exact = await upload('/attachments', session, { name: 'exact.txt', type: 'text/plain', bytes: Buffer.alloc(LIMIT, 0x61) });
    expect(exact.status).toBe(201);
    expect(exact.body.size).toBe(LIMIT);
    const health = await fetch(`${t.baseUrl}/healthz`);
    expect(health.status).toBe(200);
  });

  it('a disallowed type is 415 and leaves no row and no file', async () => {
    const rows = await attachmentCount();
    const files = await storedFiles();
    for (const [path, auth] of [['/attachments', session], ['/widget/conversation/attachments', { bearer: x.token }]] as const) {
      const up = await upload(path, auth, { name: 'setup.exe', type: 'application/x-msdownload', bytes: Buffer.from('MZ\x90\x00 fake exe') });
      expect(up.status).toBe(415);
      expect(up.body.error.code).toBe('PARLEY_ERR_UNSUPPORTED_MEDIA_TYPE');
    }
    expect(await attachmentCount()).toBe(rows);
    expect(await storedFiles()).toEqual(files);
  });

  it('an upload that is not multipart, or has no file, is refused', async () => {
    const notMultipart = await json('POST', '/attachments', session, { file: 'abc' });
    expect(notMultipart.status).toBe(415);
    const form = new FormData();
    form.append('note', 'no file here');
    const noFile = await fetch(`${t.baseUrl}/api/v1/attachments`, { method: 'POST', headers: authHeaders(session), body: form });
    expect(noFile.status).toBe(400);
  });
});

describe('who may download', () => {
  it('another tenant, another conversation\'s visitor, or a forged token gets 404/401', async () => {
    const agentFile = await upload('/attachments', session, { name: 'a.png', type: 'image/png', bytes: PNG });
    const visitorFile = await upload('/widget/conversation/attachments', { bearer: x.token }, { name: 'x.txt', type: 'text/plain', bytes: 'private to X' });
    expect(agentFile.status).toBe(201);
    expect(visitorFile.status).toBe(201);

    for (const id of [agentFile.body.id, visitorFile.body.id]) {
      const other = await download(`/api/v1/attachments/${id}`, { bearer: b.apiKey });
      expect(other.status).toBe(404);
      expect(other.bytes.toString()).not.toContain('private to X');
    }
    const bVisitor = await json('POST', '/inboxes', { bearer: b.apiKey }, { name: 'B chat', channelType: 'webchat', settings: { prechat: { enabled: false, fields: [] } } });
    const bStart = await json('POST', `/widget/inboxes/${bVisitor.body.publicId}/conversations`, undefined, { message: 'hi' });
    for (const token of [y.token, bStart.body.token as string]) {
      const got = await download(`/api/v1/widget/conversation/attachments/${visitorFile.body.id}`, { bearer: token });
      expect(got.status).toBe(404);
      expect(got.bytes.toString()).not.toContain('private to X');
    }
    // A visitor cannot fetch an agent's file by id, sent or not, through the agents' route.
    expect((await download(`/api/v1/attachments/${agentFile.body.id}`, { bearer: x.token })).status).toBe(401);
    expect((await download(`/api/v1/widget/conversation/attachments/${agentFile.body.id}`, { bearer: x.token })).status).toBe(404);
    expect((await download(`/api/v1/widget/conversation/attachments/${visitorFile.body.id}`, { bearer: 'vt1.e30.forged' })).status).toBe(401);
    // B cannot attach A's file to B's own conversation.
    const bConversation = bStart.body.conversation.id as string;
    const steal = await json('POST', `/conversations/${bConversation}/messages`, { bearer: b.apiKey }, { content: 'mine now', attachmentIds: [agentFile.body.id] });
    expect(steal.status).toBe(400);
  });
});
