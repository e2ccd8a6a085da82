import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { createServer, type AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestParley, type TestParley, type TestTenant } from '../../../test/test-parley.ts';
import type { InboxRow } from '../../db/schema.ts';
import { ingestInbound } from '../ingest.ts';
import { adapter, createEmailAdapter } from './adapter.ts';
import { verifySender } from './verify-sender.ts';
import { createDnsResolver } from '../../net/dns-resolver.ts';
import { hasDnsmasq, startDnsServer } from '../../../test/dns-server.ts';

// Agents' replies leave by the inbox's SMTP relay through the durable job queue. Two receiving
// MTAs, neither of them Parley's code: a real Postfix (Debian package `postfix`) started here on
// loopback with its own configuration, delivering into a Maildir the test reads; and, for the
// failure modes Postfix cannot be told to play on cue, smtp-server from npm, which asks for AUTH,
// refuses one recipient for good (550) and another once for now (451).

interface Delivered {
  rcpt: string[];
  tls: boolean;
  user: string | undefined;
  mail: ParsedMail;
}

let t: TestParley;
let a: TestTenant;
let inbox: InboxRow;
let mta: SMTPServer;
const delivered: Delivered[] = [];
const flakySeen = new Set<string>();

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${t.baseUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${a.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function customerWrites(opts: { id: string; from: string; subject?: string; body: string; inReplyTo?: string }) {
  const raw = [
    `From: Customer <${opts.from}>`,
    'To: support@help.example.test',
    `Subject: ${opts.subject ?? 'Order 1234'}`,
    `Message-ID: <${opts.id}>`,
    ...(opts.inReplyTo ? [`In-Reply-To: <${opts.inReplyTo}>`, `References: <${opts.inReplyTo}>`] : []),
    'Content-Type: text/plain; charset=utf-8',
    '',
    opts.body,
    '',
  ].join('\r\n');
  return ingestInbound(t.parley.deps, inbox, await adapter.parseInbound(Buffer.from(raw)));
}

async function waitForStatus(messageId: string, statuses: string[], ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    const row = await t.db.selectFrom('messages').selectAll().where('id', '=', messageId).executeTakeFirstOrThrow();
    if (statuses.includes(row.status)) return row;
    if (Date.now() > until) throw new Error(`message ${messageId} is ${row.status}, not ${statuses.join('/')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function failedSendJob(messageId: string, ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    const jobs = await t.db.selectFrom('jobs').selectAll().where('kind', '=', 'channel.send').where('status', '=', 'failed').execute();
    const job = jobs.find((j) => (j.payload as unknown as { messageId: string }).messageId === messageId);
    if (job) return job;
    if (Date.now() > until) throw new Error(`no failed send job for message ${messageId}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  mta = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    logger: false,
    onAuth: (auth, _session, cb) => (auth.username === 'relay' && auth.password === 'relay-pass' ? cb(null, { user: 'relay' }) : cb(new Error('535 bad credentials'))),
    onRcptTo: (address, _session, cb) => {
      if (address.address.startsWith('reject@')) return cb(Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 }));
      if (address.address.startsWith('flaky@') && !flakySeen.has(address.address)) {
        flakySeen.add(address.address);
        return cb(Object.assign(new Error('4.7.1 try again later'), { responseCode: 451 }));
      }
      cb();
    },
    onData: (stream, session, cb) => {
      simpleParser(stream).then(
        (mail) => {
          delivered.push({ rcpt: session.envelope.rcptTo.map((r) => r.address), tls: session.secure, user: session.user as string | undefined, mail });
          cb();
        },
        (err: Error) => cb(err),
      );
    },
  });
  await new Promise<void>((resolve) => mta.listen(0, '127.0.0.1', () => resolve()));
  const mtaPort = (mta.server.address() as AddressInfo).port;

  t = await startTestParley({ config: { imapPolling: false }, jobs: { pollMs: 50, backoffBaseMs: 100, maxAttempts: 3 } });
  a = await t.createTenant('Outbound A');
  const created = await api('POST', '/inboxes', {
    name: 'Support',
    channelType: 'email',
    settings: { email: { address: 'support@help.example.test', fromName: 'Acme Support', smtp: { host: '127.0.0.1', port: mtaPort, secure: false, verifyCertificate: false, user: 'relay', password: 'relay-pass' } } },
  });
  expect(created.status).toBe(201);
  inbox = await t.db.selectFrom('inboxes').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
});

afterAll(async () => {
  await t?.stop();
  await new Promise<void>((resolve) => (mta ? mta.close(() => resolve()) : resolve()));
});

describe('agent replies by SMTP relay', () => {
  it('sends a threaded reply that quotes the customer, and the customer answer to it lands in the same conversation', async () => {
    const first = await customerWrites({ id: 'out-1@customer.test', from: 'alice@customer.test', body: 'Line one of my question.\nLine two.' });
    const reply = await api('POST', `/conversations/${first.conversationId}/messages`, { content: 'We are on it.' });
    expect(reply.status).toBe(201);
    expect(reply.body.status).toBe('queued');
    const sent = await waitForStatus(reply.body.id, ['sent', 'failed']);
    expect(sent).toMatchObject({ status: 'sent', error: null });

    const got = delivered.find((d) => d.rcpt.includes('alice@customer.test'));
    expect(got).toBeDefined();
    const mail = got!.mail;
    expect(got!.user).toBe('relay');
    // The relay offered STARTTLS (smtp-server's own certificate; verifyCertificate: false) and it was used.
    expect(got!.tls).toBe(true);
    expect(mail.messageId).toBe(`<${reply.body.id}@help.example.test>`);
    expect(mail.inReplyTo).toBe('<out-1@customer.test>');
    expect([mail.references].flat()).toContain('<out-1@customer.test>');
    expect(mail.subject).toBe('Re: Order 1234');
    expect(mail.from?.value[0]).toMatchObject({ address: 'support@help.example.test', name: 'Acme Support' });
    expect(mail.replyTo?.value[0]?.address).toBe(`support+${first.conversationId}@help.example.test`);
    expect(mail.text).toMatch(/^We are on it\./);
    expect(mail.text).toMatch(/wrote:\n> Line one of my question\.\n> Line two\./);

    // The customer answers the reply: threaded by our Message-ID.
    const answer = await customerWrites({ id: 'out-2@customer.test', from: 'alice@customer.test', subject: 'Re: Order 1234', body: 'Thanks!', inReplyTo: `${reply.body.id}@help.example.test` });
    expect(answer.conversationId).toBe(first.conversationId);

    // Agents hear of the send.
    const events = await t.db.selectFrom('realtime_events').select(['type', 'payload']).where('tenant_id', '=', a.tenantId).where('type', '=', 'message.updated').execute();
    expect(events.some((e) => (e.payload as unknown as { id: string; status: string }).id === reply.body.id)).toBe(true);
    const channel = await api('GET', `/messages/${reply.body.id}/channel`);
    expect(channel.body).toMatchObject({ status: 'sent', externalId: `${reply.body.id}@help.example.test`, threadKeys: ['out-1@customer.test'] });
  });

  it('a bounce of a sent reply marks that reply failed, and is no new work', async () => {
    const first = await customerWrites({ id: 'out-bounce@customer.test', from: 'henry@customer.test', body: 'hello' });
    const reply = await api('POST', `/conversations/${first.conversationId}/messages`, { content: 'Our answer.' });
    await waitForStatus(reply.body.id, ['sent']);
    const dsn = [
      'From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>',
      'To: support@help.example.test',
      'Subject: Undelivered Mail Returned to Sender',
      'Message-ID: <dsn-1@mx.customer.test>',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'The mailbox henry@customer.test is full.',
      '--b1',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.customer.test',
      '',
      'Final-Recipient: rfc822; henry@customer.test',
      'Action: failed',
      'Status: 5.2.2',
      '--b1',
      'Content-Type: text/rfc822-headers',
      '',
      'From: support@help.example.test',
      'To: henry@customer.test',
      `Message-ID: <${reply.body.id}@help.example.test>`,
      'Subject: Re: Order 1234',
      '--b1--',
      '',
    ].join('\r\n');
    const bounce = await ingestInbound(t.parley.deps, inbox, await adapter.parseInbound(Buffer.from(dsn)));
    expect(bounce.conversationId).toBe(first.conversationId);
    const failed = await t.db.selectFrom('messages').selectAll().where('id', '=', reply.body.id).executeTakeFirstOrThrow();
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^bounced: The mailbox henry@customer\.test is full\./);
    const conversation = await t.db.selectFrom('conversations').selectAll().where('id', '=', first.conversationId).executeTakeFirstOrThrow();
    expect(conversation.unread_count).toBe(1);
  });

  it('does not send private notes', async () => {
    const first = await customerWrites({ id: 'out-note@customer.test', from: 'nora@customer.test', body: 'hello' });
    const before = delivered.length;
    const note = await api('POST', `/conversations/${first.conversationId}/messages`, { content: 'internal only', private: true });
    expect(note.status).toBe(201);
    expect(note.body.status).toBe('sent');
    await new Promise((r) => setTimeout(r, 500));
    expect(delivered.length).toBe(before);
    const jobs = await t.db.selectFrom('jobs').selectAll().where('kind', '=', 'channel.send').execute();
    expect(jobs.some((j) => (j.payload as unknown as { messageId: string }).messageId === note.body.id)).toBe(false);
  });

  it('a definitive refusal (550) fails the message at once with the reason, without retrying', async () => {
    const first = await customerWrites({ id: 'out-reject@customer.test', from: 'reject@customer.test', body: 'hello' });
    const reply = await api('POST', `/conversations/${first.conversationId}/messages`, { content: 'This will bounce.' });
    const failed = await waitForStatus(reply.body.id, ['failed', 'sent']);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/550/);
    // The job queue marks the job failed right after the handler has failed the message.
    const mine = await failedSendJob(reply.body.id);
    expect(mine.attempts).toBe(1);
    const channel = await api('GET', `/messages/${reply.body.id}/channel`);
    expect(channel.body.error).toMatch(/550/);
  });

  it('a temporary refusal (451) is retried with backoff and then sent once', async () => {
    const first = await customerWrites({ id: 'out-flaky@customer.test', from: 'flaky@customer.test', body: 'hello' });
    const reply = await api('POST', `/conversations/${first.conversationId}/messages`, { content: 'Second time lucky.' });
    const sent = await waitForStatus(reply.body.id, ['sent', 'failed']);
    expect(sent).toMatchObject({ status: 'sent', error: null });
    expect(delivered.filter((d) => d.rcpt.includes('flaky@customer.test'))).toHaveLength(1);
  });

  it('a relay that does not answer is retried, and the message fails when the attempts run out', async () => {
    const first = await customerWrites({ id: 'out-down@customer.test', from: 'gina@customer.test', body: 'hello' });
    // Point the inbox at a closed port.
    const settings = inbox.settings as unknown as { email: { smtp: Record<string, unknown> } };
    const down = { ...settings, email: { ...settings.email, smtp: { ...settings.email.smtp, port: 1 } } };
    await t.db.updateTable('inboxes').set({ settings: JSON.stringify(down) }).where('id', '=', inbox.id).execute();
    try {
      const reply = await api('POST', `/conversations/${first.conversationId}/messages`, { content: 'Anyone there?' });
      const failed = await waitForStatus(reply.body.id, ['failed', 'sent'], 20_000);
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(/ECONNREFUSED|connect/i);
      const jobs = await t.db.selectFrom('jobs').selectAll().where('kind', '=', 'channel.send').execute();
      expect(jobs.find((j) => (j.payload as unknown as { messageId: string }).messageId === reply.body.id)?.attempts).toBe(3);
    } finally {
      await t.db.updateTable('inboxes').set({ settings: JSON.stringify(inbox.settings) }).where('id', '=', inbox.id).execute();
    }
  });
});

const POSTFIX = ['/usr/sbin/postfix', '/usr/lib/postfix/sbin/master'];
const postfixMissing = POSTFIX.filter((p) => !existsSync(p));
const isRoot = process.getuid?.() === 0;
if (postfixMissing.length > 0) console.warn(`SKIPPED postfix delivery test: ${postfixMissing.join(', ')} not installed (run scripts/install-test-deps.sh)`);
else if (!isRoot) console.warn('SKIPPED postfix delivery test: Postfix\'s master process must start as root');

describe.skipIf(postfixMissing.length > 0 || !isRoot)('agent replies through a real Postfix', () => {
  let dir: string;
  let port: number;
  let pfInbox: InboxRow;

  beforeAll(async () => {
    port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    dir = await mkdtemp(join(tmpdir(), 'parley-postfix-'));
    await chmod(dir, 0o755);
    for (const d of ['queue', 'data', 'mail']) await mkdir(join(dir, d));
    const postfixUid = Number(execFileSync('id', ['-u', 'postfix']).toString().trim());
    const postfixGid = Number(execFileSync('id', ['-g', 'postfix']).toString().trim());
    await chown(join(dir, 'data'), postfixUid, postfixGid);
    await chown(join(dir, 'mail'), 65534, 65534);
    await writeFile(
      join(dir, 'main.cf'),
      [
        'compatibility_level = 3.6',
        `queue_directory = ${dir}/queue`,
        `data_directory = ${dir}/data`,
        'mail_owner = postfix',
        'myhostname = mta.parley.test',
        'inet_interfaces = loopback-only',
        'inet_protocols = ipv4',
        'mydestination =',
        'mynetworks = 127.0.0.0/8',
        'smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination',
        // Every customer.test recipient lands in one Maildir; nothing leaves this MTA.
        'virtual_mailbox_domains = customer.test',
        `virtual_mailbox_base = ${dir}/mail`,
        'virtual_mailbox_maps = static:delivered/',
        'virtual_uid_maps = static:65534',
        'virtual_gid_maps = static:65534',
        'virtual_minimum_uid = 1',
        'default_transport = error:no mail leaves this test MTA',
        'smtputf8_enable = no',
        `maillog_file_prefixes = ${dir}`,
        `maillog_file = ${dir}/postfix.log`,
        '',
      ].join('\n'),
    );
    const master = (await readFile('/etc/postfix/master.cf', 'utf8')).replace(/^smtp\s+inet.*$/m, `127.0.0.1:${port} inet n - n - - smtpd`);
    await writeFile(join(dir, 'master.cf'), /^postlog\s/m.test(master) ? master : `${master}\npostlog unix-dgram n - n - 1 postlogd\n`);
    execFileSync('/usr/sbin/postfix', ['-c', dir, 'start'], { stdio: 'ignore' });

    const created = await api('POST', '/inboxes', {
      name: 'Sales',
      channelType: 'email',
      settings: { email: { address: 'sales@shop.example.test', smtp: { host: '127.0.0.1', port, secure: false } } },
    });
    expect(created.status).toBe(201);
    pfInbox = await t.db.selectFrom('inboxes').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
  });

  afterAll(async () => {
    if (dir) {
      try {
        execFileSync('/usr/sbin/postfix', ['-c', dir, 'stop'], { stdio: 'ignore' });
      } catch {
        // not running
      }
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('Postfix delivers the reply with Message-ID, In-Reply-To, References and the quote', async () => {
    const raw = ['From: Pat <pat@customer.test>', 'To: sales@shop.example.test', 'Subject: Price list', 'Message-ID: <pf-1@customer.test>', 'References: <pf-0@customer.test>', 'In-Reply-To: <pf-0@customer.test>', '', 'Could you send the price list?', ''].join('\r\n');
    const first = await ingestInbound(t.parley.deps, pfInbox, await adapter.parseInbound(Buffer.from(raw)));
    const reply = await api('POST', `/conversations/${first.conversationId}/messages`, { content: 'Attached you find it.' });
    expect(reply.status).toBe(201);
    expect(await waitForStatus(reply.body.id, ['sent', 'failed'])).toMatchObject({ status: 'sent' });

    const box = join(dir, 'mail', 'delivered', 'new');
    const until = Date.now() + 15_000;
    let files: string[] = [];
    while (Date.now() < until && files.length === 0) {
      files = await readdir(box).catch(() => []);
      if (files.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(files, await readFile(join(dir, 'postfix.log'), 'utf8').catch(() => 'no log')).toHaveLength(1);
    const mail = await simpleParser(await readFile(join(box, files[0]!)));
    expect(mail.messageId).toBe(`<${reply.body.id}@shop.example.test>`);
    expect(mail.inReplyTo).toBe('<pf-1@customer.test>');
    expect([mail.references].flat()).toEqual(['<pf-0@customer.test>', '<pf-1@customer.test>']);
    expect(mail.subject).toBe('Re: Price list');
    expect(mail.text).toMatch(/^Attached you find it\./);
    expect(mail.text).toMatch(/Pat <pat@customer\.test> wrote:\n> Could you send the price list\?/);
    // Postfix added its own trace: the message really went through it.
    expect(mail.headers.get('received')).toBeDefined();
  });
  it.skipIf(!hasDnsmasq)('signs the reply with the DKIM key Parley made: the message Postfix delivers verifies against the published record', async () => {
    const made = await api('POST', `/inboxes/${pfInbox.id}/email/dkim`, { selector: 'p2026' });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ selector: 'p2026', domain: 'shop.example.test', name: 'p2026._domainkey.shop.example.test' });
    expect(made.body.value).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/);
    expect((await api('GET', `/inboxes/${pfInbox.id}/email/dkim`)).body).toEqual(made.body);
    // The key never leaves the server.
    expect((await api('GET', `/inboxes/${pfInbox.id}`)).body.settings.email.dkim).toEqual({ selector: 'p2026', privateKeySet: true });
    const dns = await startDnsServer({ [made.body.name]: made.body.value });
    try {
      const raw = ['From: Pat <pat@customer.test>', 'To: sales@shop.example.test', 'Subject: Signed?', 'Message-ID: <pf-dkim-1@customer.test>', '', 'Is this really you?', ''].join('\r\n');
      const first = await ingestInbound(t.parley.deps, pfInbox, await adapter.parseInbound(Buffer.from(raw)));
      const reply = await api('POST', `/conversations/${first.conversationId}/messages`, { content: 'Yes, signed and sealed.' });
      expect(reply.status).toBe(201);
      expect(await waitForStatus(reply.body.id, ['sent', 'failed'])).toMatchObject({ status: 'sent' });
      const delivered = await deliveredWith(`<${reply.body.id}@shop.example.test>`);
      expect(delivered.toString()).toMatch(/^DKIM-Signature: .*d=shop\.example\.test;.*s=p2026;/ms);
      const resolver = createDnsResolver([dns.server]);
      const checked = await verifySender(delivered, { remoteAddress: '127.0.0.1', helo: 'mta.parley.test', mailFrom: 'sales@shop.example.test' }, 'mx.customer.test', resolver);
      expect(checked).toMatchObject({ dkim: 'pass', dkimDomain: 'shop.example.test' });
      // Altered on the way, it no longer verifies.
      const altered = Buffer.from(delivered.toString().replace('Yes, signed and sealed.', 'Yes, send the money.'));
      expect(await verifySender(altered, { remoteAddress: '127.0.0.1', helo: 'mta.parley.test', mailFrom: 'sales@shop.example.test' }, 'mx.customer.test', resolver)).toMatchObject({ dkim: 'fail' });
    } finally {
      await dns.stop();
    }
  });

  /** The delivered file holding the message with this Message-ID, raw. */
  async function deliveredWith(messageId: string): Promise<Buffer> {
    const box = join(dir, 'mail', 'delivered', 'new');
    const until = Date.now() + 15_000;
    for (;;) {
      for (const f of await readdir(box).catch(() => [] as string[])) {
        const raw = await readFile(join(box, f));
        if (raw.toString().includes(`Message-ID: ${messageId}`) || raw.toString().includes(`Message-Id: ${messageId}`)) return raw;
      }
      if (Date.now() > until) throw new Error(`no delivered message ${messageId}: ${await readFile(join(dir, 'postfix.log'), 'utf8').catch(() => 'no log')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

describe("SMTP relays inside the server's network", () => {
  it('are refused for good unless allowed; an allowed name is connected to at the address it was checked at', async () => {
    const connected: { host: string; address: string }[] = [];
    const relayed = createEmailAdapter({ transport: (smtp, address) => (connected.push({ host: smtp.host, address }), { sendMail: async () => ({}), verify: async () => true, close: () => undefined }) });
    const settings = (host: string) => ({ address: 'support@example.test', smtp: { host, port: 25, secure: false } });
    const message = { messageId: 'msg_relay', conversationId: 'cnv_relay', to: { handle: 'customer@example.test', name: null }, subject: 'Hi', text: 'hello', attachments: [], replyTo: null };
    for (const host of ['127.0.0.1', 'localhost', '169.254.169.254']) {
      expect(await relayed.send(settings(host), message, false)).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('SMTP relay refused') });
    }
    expect(connected).toEqual([]);
    expect(await relayed.send(settings('localhost'), message, ['127.0.0.1', '::1'])).toMatchObject({ ok: true });
    expect(connected).toEqual([{ host: 'localhost', address: expect.stringMatching(/^(127\.0\.0\.1|::1)$/) }]);
  });
});

describe('testing an email inbox connection', () => {
  it('signs in to the relay without sending anything; a refused sign-in is reported and kept in the inbox errors', async () => {
    const before = delivered.length;
    const ok = await api('POST', `/inboxes/${inbox.id}/test-connection`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true, message: expect.stringMatching(/^SMTP relay 127\.0\.0\.1:\d+: signed in as relay$/) });
    expect(delivered.length).toBe(before);

    const smtp = { host: '127.0.0.1', port: (mta.server.address() as AddressInfo).port, secure: false, verifyCertificate: false, user: 'relay' };
    expect((await api('PATCH', `/inboxes/${inbox.id}`, { settings: { email: { address: 'support@help.example.test', smtp: { ...smtp, password: 'wrong' } } } })).status).toBe(200);
    try {
      const refused = await api('POST', `/inboxes/${inbox.id}/test-connection`);
      expect(refused.status).toBe(200);
      expect(refused.body.ok).toBe(false);
      expect(refused.body.message).toMatch(/^SMTP relay 127\.0\.0\.1:\d+: .*535/);
      const errors = await api('GET', `/inboxes/${inbox.id}/errors`);
      expect(errors.body.items[0]).toMatchObject({ kind: 'test-connection', message: refused.body.message });
    } finally {
      await api('PATCH', `/inboxes/${inbox.id}`, { settings: { email: { address: 'support@help.example.test', smtp: { ...smtp, password: 'relay-pass' } } } });
    }
  });

  it('says there is nothing to test for an inbox that only receives by the SMTP listener', async () => {
    const created = await api('POST', '/inboxes', { name: 'Listener only', channelType: 'email', settings: { email: { address: 'listen@help.example.test' } } });
    const r = await api('POST', `/inboxes/${created.body.id}/test-connection`);
    expect(r.body).toEqual({ ok: false, message: expect.stringContaining('nothing to test') });
  });
});

describe('DKIM keys: bad input', () => {
  it('refuses a key that cannot sign, another channel, and another tenant', async () => {
    const badPem = await api('PATCH', `/inboxes/${inbox.id}`, { settings: { email: { address: 'support@help.example.test', dkim: { selector: 's1', privateKey: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----' } } } });
    expect(badPem.status).toBe(400);
    expect(badPem.body.error.message).toMatch(/not a PEM private key/);
    const { privateKey: ecKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ec = await api('PATCH', `/inboxes/${inbox.id}`, { settings: { email: { address: 'support@help.example.test', dkim: { selector: 's1', privateKey: ecKey.export({ type: 'pkcs8', format: 'pem' }).toString() } } } });
    expect(ec.status).toBe(400);
    expect(ec.body.error.message).toMatch(/RSA key of at least 1024 bits/);
    // Nothing was stored by the refused updates.
    expect((await api('GET', `/inboxes/${inbox.id}`)).body.settings.email.smtp.passwordSet).toBe(true);
    expect((await api('GET', `/inboxes/${inbox.id}/email/dkim`)).status).toBe(404);

    const chat = await api('POST', '/inboxes', { name: 'Chat', channelType: 'webchat' });
    expect(chat.status).toBe(201);
    expect((await api('POST', `/inboxes/${chat.body.id}/email/dkim`, {})).status).toBe(422);

    const other = await t.createTenant('Outbound B');
    const theirs = await fetch(`${t.baseUrl}/api/v1/inboxes/${inbox.id}/email/dkim`, { method: 'POST', headers: { authorization: `Bearer ${other.apiKey}`, 'content-type': 'application/json' }, body: '{}' });
    expect(theirs.status).toBe(404);
    expect((await api('GET', `/inboxes/${inbox.id}/email/dkim`)).status).toBe(404);
  });
});
