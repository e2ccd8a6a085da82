import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { startTestParley, type TestParley, type TestTenant } from '../../../test/test-parley.ts';
import type { InboxRow } from '../../db/schema.ts';
import { ImapPoller } from './imap-poller.ts';
import { SHARED_FIXTURES } from '../../../test/shared-fixtures.ts';

// IMAP polling against a real Dovecot (Debian package `dovecot-imapd`) started here on loopback
// with its own configuration, a passwd-file user and a Maildir in a temporary directory.

/** A binary on PATH or in /usr/sbin (Dovecot lives there, outside a normal user's PATH). */
function findBinary(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

const DOVECOT = findBinary('dovecot');
const DOVEADM = findBinary('doveadm');
const missing = [DOVECOT ? null : 'dovecot', DOVEADM ? null : 'doveadm'].filter(Boolean);
if (missing.length > 0) console.warn(`SKIPPED imap-poller tests: ${missing.join(', ')} not installed (run scripts/install-test-deps.sh)`);

let t: TestParley;
let a: TestTenant;
let inbox: InboxRow;
let dir: string;
let conf: string;
let dovecot: ChildProcess | null = null;
let port: number;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitForPort(p: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(p, '127.0.0.1', () => (sock.end(), resolve(true)));
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dovecot did not listen on ${p}: ${await readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => '')}`);
}

/** Delivers a message into the user's INBOX the way an MTA would: Dovecot's own `doveadm save`. */
function deliver(raw: string | Buffer): void {
  execFileSync(DOVEADM!, ['-c', conf, 'save', '-u', 'parley'], { input: typeof raw === 'string' ? raw.replace(/\n/g, '\r\n') : raw });
}

const mail = (id: string, body: string) => `From: Frank <frank@customer.test>\nTo: support@imap.example.test\nSubject: IMAP ${id}\nMessage-Id: <${id}@customer.test>\n\n${body}\n`;

async function storedCount(): Promise<number> {
  const r = await t.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', a.tenantId).executeTakeFirstOrThrow();
  return Number(r.n);
}

async function cursorAt(uid: number, ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    const cursor = await t.db.selectFrom('imap_cursors').selectAll().where('inbox_id', '=', inbox.id).executeTakeFirstOrThrow();
    if (Number(cursor.last_uid) >= uid || Date.now() > until) return cursor;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForCount(n: number, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await storedCount()) >= n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`expected ${n} stored messages, have ${await storedCount()}`);
}

describe.skipIf(missing.length > 0)('IMAP polling of a real Dovecot', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-imap-'));
    await chmod(dir, 0o755);
    port = await freePort();
    const root = process.getuid?.() === 0;
    // Dovecot never runs mail processes as root: as root, the mailbox belongs to nobody.
    const mailUid = root ? 65534 : process.getuid!();
    const mailGid = root ? 65534 : process.getgid!();
    for (const d of ['run', 'state', 'home']) await mkdir(join(dir, d));
    await mkdir(join(dir, 'home', 'parley'));
    if (root) await chown(join(dir, 'home', 'parley'), mailUid, mailGid);
    await writeFile(join(dir, 'passwd'), 'parley:{PLAIN}imap-secret\n');
    conf = join(dir, 'dovecot.conf');
    await writeFile(
      conf,
      [
        `base_dir = ${dir}/run`,
        `state_dir = ${dir}/state`,
        `log_path = ${dir}/dovecot.log`,
        'protocols = imap',
        'listen = 127.0.0.1',
        'ssl = no',
        'disable_plaintext_auth = no',
        'auth_mechanisms = plain login',
        'first_valid_uid = 1',
        'first_valid_gid = 1',
        ...(root ? [] : [`default_internal_user = ${userInfo().username}`, `default_login_user = ${userInfo().username}`]),
        `passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u ${dir}/passwd\n}`,
        `userdb {\n  driver = static\n  args = uid=${mailUid} gid=${mailGid} home=${dir}/home/%u\n}`,
        'mail_location = maildir:~/Maildir',
        `service imap-login {\n  chroot =\n  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
        'service anvil {\n  chroot =\n}',
        '',
      ].join('\n'),
    );
    dovecot = spawn(DOVECOT!, ['-c', conf, '-F'], { stdio: 'ignore' });
    await waitForPort(port, 10_000);

    t = await startTestParley({ config: { workers: false, imapPolling: false } });
    a = await t.createTenant('IMAP A');
    const res = await fetch(`${t.baseUrl}/api/v1/inboxes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Support',
        channelType: 'email',
        settings: { email: { address: 'support@imap.example.test', imap: { host: '127.0.0.1', port, secure: false, user: 'parley', password: 'imap-secret' } } },
      }),
    });
    expect(res.status).toBe(201);
    inbox = await t.db.selectFrom('inboxes').selectAll().where('id', '=', ((await res.json()) as { id: string }).id).executeTakeFirstOrThrow();
  });

  afterAll(async () => {
    await t?.stop();
    if (dovecot?.pid) dovecot.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads each message once, hears new mail by IDLE, and after a restart reads nothing again', async () => {
    deliver(mail('imap-1', 'first message'));
    deliver(mail('imap-2', 'second message'));
    // A long poll interval: anything sooner than 60 s came by IDLE.
    const first = new ImapPoller(t.parley.deps, { pollMs: 60_000, maxBytes: 5 * 1024 * 1024 });
    first.start();
    await waitForCount(2);
    deliver(mail('imap-3', 'third message, while idling'));
    await waitForCount(3);
    expect(first.fetched).toBe(3);
    // The cursor moves once the message's ingest is complete (stored, then routed): a moment after it is countable.
    const cursor = await cursorAt(3);
    expect(Number(cursor.last_uid)).toBe(3);
    expect(Number(cursor.uid_validity)).toBeGreaterThan(0);
    await first.stop();

    const second = new ImapPoller(t.parley.deps, { pollMs: 60_000, maxBytes: 5 * 1024 * 1024 });
    second.start();
    await new Promise((r) => setTimeout(r, 1500));
    // A message without a Message-ID (a real-world sample) after the restart.
    deliver(await readFile(`${SHARED_FIXTURES}/email/mixed.eml`));
    await waitForCount(4);
    await new Promise((r) => setTimeout(r, 300));
    expect(second.fetched).toBe(1);
    expect(await storedCount()).toBe(4);
    await second.stop();

    const rows = await t.db.selectFrom('messages').select(['content', 'source_id', 'conversation_id']).where('tenant_id', '=', a.tenantId).orderBy('created_at').execute();
    expect(rows.map((r) => r.content).slice(0, 3)).toEqual(['first message', 'second message', 'third message, while idling']);
    expect(new Set(rows.map((r) => r.source_id)).size).toBe(4);
    const handles = await t.db.selectFrom('contact_handles').selectAll().where('tenant_id', '=', a.tenantId).where('handle', '=', 'frank@customer.test').execute();
    expect(handles).toHaveLength(1);
  });

  it('keeps its place when the cursor is reset: messages read again are not stored twice', async () => {
    await t.db.updateTable('imap_cursors').set({ last_uid: 0 }).where('inbox_id', '=', inbox.id).execute();
    const again = new ImapPoller(t.parley.deps, { pollMs: 60_000, maxBytes: 5 * 1024 * 1024 });
    again.start();
    const until = Date.now() + 15_000;
    while (again.fetched < 4 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    await again.stop();
    expect(again.fetched).toBe(4);
    expect(await storedCount()).toBe(4);
  });

  it("does not connect to an IMAP server inside the server's network unless allowed, and says why", async () => {
    deliver(mail('imap-inside', 'not read while refused'));
    const before = await storedCount();
    const guarded = new ImapPoller({ ...t.parley.deps, config: { ...t.parley.deps.config, privateTargets: false } }, { pollMs: 60_000, maxBytes: 5 * 1024 * 1024 });
    guarded.start();
    await expect.poll(async () => (await t.db.selectFrom('imap_cursors').select('last_error').where('inbox_id', '=', inbox.id).executeTakeFirstOrThrow()).last_error, { timeout: 10_000 }).toMatch(/127\.0\.0\.1 is a private or reserved address/);
    await guarded.stop();
    expect(guarded.fetched).toBe(0);
    expect(await storedCount()).toBe(before);
    // The admin sees it with the inbox's errors (written beside the cursor's error, not after it).
    const errors = () => t.db.selectFrom('channel_errors').select(['kind', 'message']).where('inbox_id', '=', inbox.id).execute();
    await expect.poll(errors, { timeout: 10_000 }).toEqual([{ kind: 'imap', message: expect.stringMatching(/127\.0\.0\.1 is a private or reserved address/) }]);
  });

  it("records the mailbox provider's SPF, DKIM and DMARC results when the inbox names the provider, and no one else's", async () => {
    const patched = await fetch(`${t.baseUrl}/api/v1/inboxes/${inbox.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${a.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ settings: { email: { address: 'support@imap.example.test', imap: { host: '127.0.0.1', port, secure: false, user: 'parley', authServId: 'mx.google.com' } } } }),
    });
    expect(patched.status).toBe(200);
    const before = await storedCount();
    // A real message that came through Gmail (its Authentication-Results: mx.google.com), and one whose results name another server.
    deliver(await readFile(`${SHARED_FIXTURES}/email/nodemailer.eml`));
    deliver(`Authentication-Results: mx.forger.test; spf=pass; dkim=pass; dmarc=pass\n${mail('imap-forged', 'trust me')}`);
    const poller = new ImapPoller(t.parley.deps, { pollMs: 60_000, maxBytes: 5 * 1024 * 1024 });
    poller.start();
    // The message left unread by the refused poll above comes in too.
    await waitForCount(before + 3);
    await poller.stop();
    const details = async (sourceLike: string) => {
      const m = await t.db.selectFrom('messages').select('id').where('tenant_id', '=', a.tenantId).where('source_id', 'like', `%${sourceLike}%`).executeTakeFirstOrThrow();
      return (await t.db.selectFrom('channel_messages').select('details').where('message_id', '=', m.id).executeTakeFirstOrThrow()).details;
    };
    expect(await details('012d606e-3550-2d94-b566-6cd996de88e3@kreata.ee')).toMatchObject({ authentication: { spf: 'pass', dkim: 'pass', dmarc: 'fail', checkedBy: 'mx.google.com' } });
    expect(await details('imap-forged@customer.test')).not.toHaveProperty('authentication');
  });

  it('tests the connection as the poller will use it: signed in, the mailbox opened and counted; a wrong password refused', async () => {
    const test = () => fetch(`${t.baseUrl}/api/v1/inboxes/${inbox.id}/test-connection`, { method: 'POST', headers: { authorization: `Bearer ${a.apiKey}`, 'content-type': 'application/json' }, body: '{}' }).then((r) => r.json());
    const count = Number(execFileSync(DOVEADM!, ['-c', conf, 'mailbox', 'status', '-u', 'parley', 'messages', 'INBOX']).toString().trim().split('=')[1]);
    expect(await test()).toEqual({ ok: true, message: `IMAP 127.0.0.1:${port}: signed in as parley, mailbox INBOX holds ${count} messages` });
    const patch = (password: string) =>
      fetch(`${t.baseUrl}/api/v1/inboxes/${inbox.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${a.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ settings: { email: { address: 'support@imap.example.test', imap: { host: '127.0.0.1', port, secure: false, user: 'parley', password } } } }),
      });
    expect((await patch('not-the-password')).status).toBe(200);
    expect(await test()).toEqual({ ok: false, message: `IMAP 127.0.0.1:${port}: sign-in refused` });
    await patch('imap-secret');
  });

  it('is read by one node at a time: another node takes the mailbox over when the first stops', async () => {
    const options = { pollMs: 300, maxBytes: 5 * 1024 * 1024 };
    const nodeA = new ImapPoller({ ...t.parley.deps, nodeId: 'node-a' }, options);
    const nodeB = new ImapPoller({ ...t.parley.deps, nodeId: 'node-b' }, options);
    const before = await storedCount();
    nodeA.start();
    await new Promise((r) => setTimeout(r, 200));
    nodeB.start();
    deliver(mail('imap-lease-1', 'read by the node holding the mailbox'));
    await waitForCount(before + 1);
    // Several refreshes of both: B never opened the mailbox.
    await new Promise((r) => setTimeout(r, 1200));
    expect(nodeA.fetched).toBe(1);
    expect(nodeB.fetched).toBe(0);
    expect(await t.db.selectFrom('leases').select('node_id').where('resource', '=', `imap:${inbox.id}`).executeTakeFirstOrThrow()).toEqual({ node_id: 'node-a' });

    await nodeA.stop();
    deliver(mail('imap-lease-2', 'read by the node that took over'));
    await waitForCount(before + 2);
    expect(nodeB.fetched).toBe(1);
    await nodeB.stop();
    expect(await storedCount()).toBe(before + 2);
    expect(await t.db.selectFrom('leases').selectAll().where('resource', '=', `imap:${inbox.id}`).execute()).toEqual([]);
  });
});
