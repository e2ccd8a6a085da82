import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestParley, type TestParley, type TestTenant } from '../../../test/test-parley.ts';
import { SHARED_FIXTURES } from '../../../test/shared-fixtures.ts';
import { hasDnsmasq, startDnsServer, type TestDnsServer } from '../../../test/dns-server.ts';
import { dkimKey, dkimSigned } from '../../../test/dkim-signer.ts';

// Parley as a mail server, driven by a real SMTP client: swaks (Debian package `swaks`), with
// STARTTLS on a certificate made here by openssl, and senders' SPF, DKIM and DMARC records
// published by a real DNS server (dnsmasq).

function hasBinary(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing = ['swaks', 'openssl'].filter((b) => !hasBinary(b)).concat(hasDnsmasq ? [] : ['dnsmasq']);
if (missing.length > 0) console.warn(`SKIPPED smtp-listener tests: ${missing.join(', ')} not installed (run scripts/install-test-deps.sh)`);

const MAX_BYTES = 64 * 1024;
let t: TestParley;
let a: TestTenant;
let dir: string;
let port: number;
let dns: TestDnsServer;
const key = dkimKey();

function swaks(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('swaks', ['--server', '127.0.0.1', '--port', String(port), '--timeout', '20', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const messagesWithSource = (sourceLike: string) =>
  t.db.selectFrom('messages').selectAll().where('tenant_id', '=', a.tenantId).where('source_id', 'like', `%${sourceLike}%`).execute();

describe.skipIf(missing.length > 0)('SMTP listener with swaks', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-smtp-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    dns = await startDnsServer({
      'customer.test': 'v=spf1 ip4:127.0.0.1 -all',
      'sel._domainkey.customer.test': key.record,
      '_dmarc.customer.test': 'v=DMARC1; p=quarantine',
      'bank.test': 'v=spf1 ip4:192.0.2.10 -all',
      '_dmarc.bank.test': 'v=DMARC1; p=reject',
    });
    t = await startTestParley({
      config: {
        dnsServers: [dns.server],
        workers: false,
        imapPolling: false,
        smtpPort: 0,
        smtpHost: '127.0.0.1',
        smtpTlsKeyFile: join(dir, 'key.pem'),
        smtpTlsCertFile: join(dir, 'cert.pem'),
        smtpHostname: 'mx.parley.test',
        emailMaxBytes: MAX_BYTES,
      },
    });
    port = t.parley.email.smtpPort!;
    a = await t.createTenant('SMTP A');
    const res = await fetch(`${t.baseUrl}/api/v1/inboxes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Support', channelType: 'email', settings: { email: { address: 'support@smtp.example.test' } } }),
    });
    expect(res.status).toBe(201);
  });

  afterAll(async () => {
    await t?.stop();
    await dns?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores a message sent to an inbox address, and a resend of it only once', async () => {
    const args = ['--to', 'support@smtp.example.test', '--from', 'carol@customer.test', '--header', 'Message-Id: <swaks-1@customer.test>', '--header', 'Subject: Broken zipper', '--body', 'The zipper broke on day one.'];
    const first = await swaks(args);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/250[ -]2\.0\.0 stored/);
    const second = await swaks(args);
    expect(second.code, second.output).toBe(0);
    const rows = await messagesWithSource('swaks-1@customer.test');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.content).toContain('The zipper broke on day one.');
    const contact = await t.db.selectFrom('contact_handles').selectAll().where('tenant_id', '=', a.tenantId).where('handle', '=', 'carol@customer.test').execute();
    expect(contact).toHaveLength(1);
  });

  it('refuses an unknown recipient at RCPT time with 550 and stores nothing', async () => {
    const before = await t.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const r = await swaks(['--to', 'nobody@smtp.example.test', '--from', 'carol@customer.test', '--header', 'Message-Id: <swaks-2@customer.test>', '--body', 'hello?']);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/RCPT TO:<nobody@smtp\.example\.test>[\s\S]*550/);
    const after = await t.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('speaks STARTTLS with the configured certificate and records that the message came over TLS', async () => {
    const r = await swaks(['--tls', '--to', 'support+anything@smtp.example.test', '--from', 'dave@customer.test', '--header', 'Message-Id: <swaks-tls@customer.test>', '--body', 'over tls']);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/STARTTLS/);
    expect(r.output).toMatch(/TLS started/i);
    const [row] = await messagesWithSource('swaks-tls@customer.test');
    const channel = await t.db.selectFrom('channel_messages').selectAll().where('message_id', '=', row!.id).executeTakeFirstOrThrow();
    expect(channel.details).toMatchObject({ smtp: { tls: true } });
    expect(channel.to_address).toBe('support+anything@smtp.example.test');
  });

  it("checks the sender's SPF, DKIM and DMARC itself: a signed message from a permitted address passes", async () => {
    const signed = await dkimSigned({ from: 'Erin <erin@customer.test>', to: 'support@smtp.example.test', subject: 'Signed', text: 'signed and sent from a permitted address', messageId: '<swaks-dkim@customer.test>' }, 'customer.test', 'sel', key.privateKey);
    await writeFile(join(dir, 'signed.eml'), signed);
    const r = await swaks(['--to', 'support@smtp.example.test', '--from', 'erin@customer.test', '--data', join(dir, 'signed.eml')]);
    expect(r.code, r.output).toBe(0);
    const [row] = await messagesWithSource('swaks-dkim@customer.test');
    const channel = await t.db.selectFrom('channel_messages').selectAll().where('message_id', '=', row!.id).executeTakeFirstOrThrow();
    expect(channel.details).toMatchObject({ authentication: { spf: 'pass', dkim: 'pass', dmarc: 'pass', dkimDomain: 'customer.test', checkedBy: 'mx.parley.test' } });
  });

  it('ignores Authentication-Results written by the sender: a spoofed bank fails SPF and DMARC', async () => {
    const r = await swaks([
      '--to', 'support@smtp.example.test', '--from', 'security@bank.test',
      '--header', 'Message-Id: <swaks-spoof@bank.test>',
      '--header', 'Authentication-Results: mx.parley.test; spf=pass smtp.mailfrom=bank.test; dkim=pass header.d=bank.test; dmarc=pass',
      '--body', 'Your account is locked, reply with your password',
    ]);
    expect(r.code, r.output).toBe(0);
    const [row] = await messagesWithSource('swaks-spoof@bank.test');
    const channel = await t.db.selectFrom('channel_messages').selectAll().where('message_id', '=', row!.id).executeTakeFirstOrThrow();
    expect(channel.details).toMatchObject({ authentication: { spf: 'fail', dkim: 'none', dmarc: 'fail' } });
  });

  it('refuses a message over the size limit', async () => {
    const big = join(dir, 'big.txt');
    await writeFile(big, 'x'.repeat(76).concat('\n').repeat(Math.ceil((MAX_BYTES * 1.5) / 77)));
    const r = await swaks(['--to', 'support@smtp.example.test', '--from', 'carol@customer.test', '--header', 'Message-Id: <swaks-big@customer.test>', '--body', big]);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/552/);
    expect(await messagesWithSource('swaks-big@customer.test')).toHaveLength(0);
  });

  it('takes a real-world sample (nodemailer.eml) as raw DATA', async () => {
    const r = await swaks(['--to', 'support@smtp.example.test', '--from', 'andris@kreata.ee', '--data', `${SHARED_FIXTURES}/email/nodemailer.eml`]);
    expect(r.code, r.output).toBe(0);
    const rows = await messagesWithSource('012d606e-3550-2d94-b566-6cd996de88e3@kreata.ee');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.attachments.length).toBeGreaterThanOrEqual(2);
  });
});
