import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestParley, type TestParley, type TestTenant } from '../../../test/test-parley.ts';
import type { InboxRow } from '../../db/schema.ts';
import { ingestInbound } from '../ingest.ts';
import { adapter } from './adapter.ts';
import { parseEmail, defaultParseLimits, RAW_FILENAME } from './parse-email.ts';
import { sanitizeEmailHtml } from './sanitize-email-html.ts';
import { SHARED_FIXTURES } from '../../../test/shared-fixtures.ts';

// The inbound path of the email channel without network peers: real-world MIME samples (from
// mailparser's fixtures, written by nobody on Parley), sanitizing, threading, auto-replies and
// bounces, exactly-once storage, and the inbox settings API.

const FIXTURES = `${SHARED_FIXTURES}/email`;

let t: TestParley;
let a: TestTenant;
let inbox: InboxRow;

async function api(method: string, path: string, body?: unknown, key = a.apiKey) {
  const res = await fetch(`${t.baseUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function ingestRaw(raw: string | Buffer) {
  const parsed = await adapter.parseInbound(Buffer.isBuffer(raw) ? raw : Buffer.from(raw.replace(/\n/g, '\r\n')));
  return ingestInbound(t.parley.deps, inbox, parsed);
}

const messageRow = (id: string) => t.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const conversationRow = (id: string) => t.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const channelRow = (id: string) => t.db.selectFrom('channel_messages').selectAll().where('message_id', '=', id).executeTakeFirstOrThrow();

function mail(opts: { id: string; from?: string; to?: string; subject?: string; body?: string; headers?: string[] }) {
  return [
    `From: ${opts.from ?? 'Alice Customer <alice@customer.test>'}`,
    `To: ${opts.to ?? 'support@help.example.test'}`,
    `Subject: ${opts.subject ?? 'Order 1234'}`,
    `Message-ID: <${opts.id}>`,
    'Date: Sun, 22 Nov 2026 10:00:00 +0000',
    ...(opts.headers ?? []),
    'Content-Type: text/plain; charset=utf-8',
    '',
    opts.body ?? 'Hello, where is my order?',
    '',
  ].join('\n');
}

beforeAll(async () => {
  t = await startTestParley({ config: { workers: false, imapPolling: false } });
  a = await t.createTenant('Mail A');
  const created = await api('POST', '/inboxes', {
    name: 'Support',
    channelType: 'email',
    settings: { email: { address: 'support@help.example.test', smtp: { host: '127.0.0.1', port: 2525, secure: false, user: 'relay', password: 's3cret' } } },
  });
  expect(created.status).toBe(201);
  inbox = await t.db.selectFrom('inboxes').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
});

afterAll(async () => {
  await t?.stop();
});

describe('real-world samples through the inbound path', async () => {
  const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.eml')).sort();

  it('has the ten samples', () => {
    expect(files).toHaveLength(10);
  });

  for (const file of files) {
    it(`stores ${file} without crash, hang or loss`, async () => {
      const raw = await readFile(join(FIXTURES, file));
      const started = Date.now();
      const result = await ingestRaw(raw);
      expect(Date.now() - started).toBeLessThan(20_000);
      const message = await messageRow(result.messageId);
      const channel = await channelRow(result.messageId);
      // Something to read, or the raw message to download.
      expect(message.content.length > 0 || message.attachments.length > 0).toBe(true);
      expect(message.content.length).toBeLessThanOrEqual(20_000);
      if (channel.html) {
        expect(/<script|\son[a-z]+=|javascript:/i.test(channel.html)).toBe(false);
        expect(/<img[^>]+\ssrc="https?:/i.test(channel.html)).toBe(false);
      }
      // The same message again is the same row.
      const again = await ingestRaw(raw);
      expect(again).toMatchObject({ messageId: result.messageId, created: false });
    });
  }

  it('recognizes the bounce as not new work: a private system note in a resolved conversation, marked by an event', async () => {
    const result = await ingestRaw(await readFile(join(FIXTURES, 'delivery-status.eml')));
    const message = await messageRow(result.messageId);
    expect(message).toMatchObject({ private: true, sender_type: 'system' });
    expect((await conversationRow(result.conversationId)).status).toBe('resolved');
    const events = await t.db.selectFrom('conversation_events').select('type').where('conversation_id', '=', result.conversationId).execute();
    expect(events.map((e) => e.type)).toContain('email.bounce');
    expect((await channelRow(result.messageId)).details).toMatchObject({ bounce: true });
  });

  it('keeps the whole 1.1 MB text of large_text.eml: the message shows the start, the full text is attached', async () => {
    const result = await ingestRaw(await readFile(join(FIXTURES, 'large_text.eml')));
    const message = await messageRow(result.messageId);
    const file = message.attachments.find((x) => x.filename === 'message.txt');
    expect(file?.size).toBeGreaterThan(1_000_000);
    expect(message.content).toMatch(/full text is attached/);
  });

  it('turns inline cid: images of nodemailer.eml into Parley attachments the HTML points at', async () => {
    const result = await ingestRaw(await readFile(join(FIXTURES, 'nodemailer.eml')));
    const message = await messageRow(result.messageId);
    const channel = await channelRow(result.messageId);
    const images = message.attachments.filter((x) => x.contentType.startsWith('image/'));
    expect(images.length).toBeGreaterThanOrEqual(2);
    expect(channel.html).toContain(`src="/api/v1/attachments/${images[0]!.id}"`);
    expect(channel.html).not.toContain('cid:');
    const download = await fetch(`${t.baseUrl}/api/v1/attachments/${images[0]!.id}`, { headers: { authorization: `Bearer ${a.apiKey}` } });
    expect(download.status).toBe(200);
  });

  it('bounds parsing: over the size limit or over the time limit, the raw message is kept as an attachment', async () => {
    const raw = await readFile(join(FIXTURES, 'outofmemory.eml'));
    const tooBig = await parseEmail(raw, { ...defaultParseLimits, maxBytes: 100_000 });
    expect(tooBig.attachments.map((x) => x.filename)).toEqual([RAW_FILENAME]);
    expect(tooBig.attachments[0]!.content.length).toBe(raw.length);
    expect(tooBig.details.parseError).toMatch(/parse limit/);
    const tooSlow = await parseEmail(raw, { ...defaultParseLimits, timeoutMs: 1 });
    expect(tooSlow.attachments.map((x) => x.filename)).toEqual([RAW_FILENAME]);
    expect(tooSlow.subject).toBe('Cause out of memory error in the mailparser');
    const stored = await ingestInbound(t.parley.deps, inbox, { ...tooBig, sourceId: 'bounded-1' });
    const message = await messageRow(stored.messageId);
    expect(message.attachments.map((x) => x.filename)).toEqual([RAW_FILENAME]);
    expect(message.content).toMatch(/could not be shown/);
  });
});

describe('auto-reply recognition', () => {
  it('takes Auto-Submitted, X-Autoreply and Precedence as automatic, and a plain message as not', async () => {
    const parse = (headers: string[]) => parseEmail(Buffer.from(mail({ id: `auto-${headers.join()}@x.test`, headers }).replace(/\n/g, '\r\n')));
    expect((await parse(['Auto-Submitted: auto-replied'])).autoReply).toBe(true);
    expect((await parse(['Auto-Submitted: no'])).autoReply).toBe(false);
    expect((await parse(['X-Autoreply: yes'])).autoReply).toBe(true);
    expect((await parse(['Precedence: auto_reply'])).autoReply).toBe(true);
    expect((await parse(['Precedence: bulk'])).autoReply).toBe(true);
    expect((await parse([])).autoReply).toBe(false);
    expect((await parse([])).bounce).toBe(false);
  });
});

describe('HTML sanitizing', () => {
  it('drops script, event handlers and javascript: links, and keeps remote images behind a click', () => {
    const html = sanitizeEmailHtml(
      '<p onclick="x()">Hi<script>alert(1)</script></p><a href="javascript:alert(1)">x</a><a href="https://ok.test/">ok</a><img src="https://tracker.test/p.gif" onerror="x()"><img src="cid:logo@x"><style>p{}</style><iframe src="https://x"></iframe>',
    );
    expect(html).not.toMatch(/script|onclick|onerror|javascript:|iframe|<style/i);
    expect(html).toContain('data-remote-src="https://tracker.test/p.gif"');
    expect(html).not.toContain(' src="https://tracker.test');
    expect(html).toContain('src="cid:logo@x"');
    expect(html).toContain('href="https://ok.test/"');
    expect(html).toContain('rel="noopener noreferrer nofollow"');
  });
});

describe('threading', () => {
  it('a reply lands in the conversation of the message it answers (In-Reply-To, References)', async () => {
    const first = await ingestRaw(mail({ id: 'thread-1@customer.test' }));
    expect(first.created).toBe(true);
    const reply = await ingestRaw(mail({ id: 'thread-2@customer.test', subject: 'Re: Order 1234', headers: ['In-Reply-To: <thread-1@customer.test>'] }));
    expect(reply.conversationId).toBe(first.conversationId);
    const deeper = await ingestRaw(mail({ id: 'thread-3@customer.test', headers: ['References: <thread-1@customer.test> <unknown@x.test>'] }));
    expect(deeper.conversationId).toBe(first.conversationId);
  });

  it('without headers, a +token in the address or a [#token] in the subject finds the conversation', async () => {
    const first = await ingestRaw(mail({ id: 'token-1@customer.test' }));
    const byAddress = await ingestRaw(mail({ id: 'token-2@customer.test', to: `support+${first.conversationId}@help.example.test` }));
    expect(byAddress.conversationId).toBe(first.conversationId);
    const bySubject = await ingestRaw(mail({ id: 'token-3@customer.test', subject: `Re: Order [#${first.conversationId}]` }));
    expect(bySubject.conversationId).toBe(first.conversationId);
    const unrelated = await ingestRaw(mail({ id: 'token-4@customer.test', subject: 'Another question' }));
    expect(unrelated.conversationId).not.toBe(first.conversationId);
  });

  it("another tenant's conversation token finds nothing here", async () => {
    const b = await t.createTenant('Mail B');
    const theirInbox = await api('POST', '/inboxes', { name: 'Chat', channelType: 'webchat' }, b.apiKey);
    const theirs = await api('POST', '/conversations', { inboxId: theirInbox.body.id, contact: { name: 'Bea' } }, b.apiKey);
    expect(theirs.status).toBe(201);
    const here = await ingestRaw(mail({ id: 'token-other@customer.test', to: `support+${theirs.body.id}@help.example.test`, subject: `Re: [#${theirs.body.id}]` }));
    expect(here.conversationId).not.toBe(theirs.body.id);
    expect((await conversationRow(here.conversationId)).tenant_id).toBe(inbox.tenant_id);
    expect((await conversationRow(theirs.body.id)).last_message_id).not.toBe(here.messageId);
  });

  it('the same message arriving several times at once is stored once, in one conversation', async () => {
    const raw = mail({ id: 'race-1@customer.test', subject: 'Race' });
    const results = await Promise.all([ingestRaw(raw), ingestRaw(raw), ingestRaw(raw)]);
    expect(new Set(results.map((r) => r.messageId)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const conversations = await t.db.selectFrom('conversations').select('id').where('tenant_id', '=', a.tenantId).where('subject', '=', 'Race').execute();
    expect(conversations).toHaveLength(1);
  });

  it('the same sender is one contact, found by its email handle', async () => {
    const x = await ingestRaw(mail({ id: 'contact-1@customer.test', from: 'Bob <BOB@customer.test>' }));
    const y = await ingestRaw(mail({ id: 'contact-2@customer.test', from: 'bob@customer.test', subject: 'other' }));
    const cx = await conversationRow(x.conversationId);
    const cy = await conversationRow(y.conversationId);
    expect(cx.contact_id).toBe(cy.contact_id);
  });

  it('an auto-reply neither reopens a resolved conversation nor counts as unread', async () => {
    const first = await ingestRaw(mail({ id: 'auto-1@customer.test' }));
    await t.db.updateTable('conversations').set({ status: 'resolved', unread_count: 0 }).where('id', '=', first.conversationId).execute();
    const auto = await ingestRaw(mail({ id: 'auto-2@customer.test', subject: 'Out of office', headers: ['Auto-Submitted: auto-replied', 'In-Reply-To: <auto-1@customer.test>'] }));
    expect(auto.conversationId).toBe(first.conversationId);
    const conversation = await conversationRow(first.conversationId);
    expect(conversation).toMatchObject({ status: 'resolved', unread_count: 0 });
    const events = await t.db.selectFrom('conversation_events').select('type').where('conversation_id', '=', first.conversationId).execute();
    expect(events.map((e) => e.type)).toContain('email.auto_reply');
    // A human writing again does reopen it.
    await ingestRaw(mail({ id: 'auto-3@customer.test', headers: ['In-Reply-To: <auto-1@customer.test>'] }));
    expect((await conversationRow(first.conversationId)).status).toBe('open');
  });

  it("records no authentication on the message's own word (Authentication-Results it carries)", async () => {
    const r = await ingestRaw(mail({ id: 'auth-1@customer.test', headers: ['Authentication-Results: mx.help.example.test; spf=pass smtp.mailfrom=customer.test; dkim=pass header.d=customer.test'] }));
    expect((await channelRow(r.messageId)).details).not.toHaveProperty('authentication');
  });
});

describe('email inbox settings', () => {
  it('never returns passwords, keeps them on updates that leave them out, and refuses an address in use', async () => {
    const got = await api('GET', `/inboxes/${inbox.id}`);
    expect(got.status).toBe(200);
    expect(JSON.stringify(got.body)).not.toContain('s3cret');
    expect(got.body.settings.email.smtp).toMatchObject({ host: '127.0.0.1', passwordSet: true });
    const patched = await api('PATCH', `/inboxes/${inbox.id}`, { settings: { email: { address: 'support@help.example.test', smtp: { host: 'relay.test', port: 587, secure: false, user: 'relay' } } } });
    expect(patched.status).toBe(200);
    expect(JSON.stringify(patched.body)).not.toContain('s3cret');
    const row = await t.db.selectFrom('inboxes').select('settings').where('id', '=', inbox.id).executeTakeFirstOrThrow();
    expect((row.settings as unknown as { email: { smtp: { password: string; host: string } } }).email.smtp).toMatchObject({ host: 'relay.test', password: 's3cret' });
    const b = await t.createTenant('Mail B');
    const taken = await api('POST', '/inboxes', { name: 'Copy', channelType: 'email', settings: { email: { address: 'Support@help.example.test' } } }, b.apiKey);
    expect(taken.status).toBe(409);
    const missing = await api('POST', '/inboxes', { name: 'No address', channelType: 'email' });
    expect(missing.status).toBe(400);
  });
});
