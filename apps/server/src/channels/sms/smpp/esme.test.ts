import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { EsmeSession, type EsmeConfig } from './esme.ts';
import { shortMessageBody, Status, type ShortMessageBody } from './pdu.ts';
import { PerlSmsc, perlSmscAvailable } from './testing/perl-smsc.ts';

// The ESME session against an SMSC that is not Parley's code: Net::SMPP (Debian
// libnet-smpp-perl) running smsc.pl. What the SMSC observed is what these tests check.

const available = perlSmscAvailable();
if (!available) {
  if (process.env.PARLEY_REQUIRE_PEERS) throw new Error('perl with Net::SMPP (Debian libnet-smpp-perl) is required (PARLEY_REQUIRE_PEERS is set)');
  console.warn('SKIPPING SMPP session tests: perl with Net::SMPP is missing (apt-get install libnet-smpp-perl)');
}

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const sessions: EsmeSession[] = [];
let smsc: PerlSmsc;

function session(over: Partial<EsmeConfig> = {}, failures: string[] = []): EsmeSession {
  const s = new EsmeSession(
    {
      host: '127.0.0.1',
      port: smsc.port,
      tls: false,
      systemId: 'parley',
      password: 'secret',
      systemType: 'test',
      windowSize: 10,
      maxSubmitsPerSecond: null,
      enquireLinkMs: 200,
      responseTimeoutMs: 2_000,
      queueTimeoutMs: 8_000,
      reconnectMinMs: 50,
      reconnectMaxMs: 400,
      privateTargets: ['127.0.0.1'],
      ...over,
    },
    { onDeliver: async () => Status.ESME_ROK, onBindFailure: (reason) => failures.push(reason) },
    log,
  );
  sessions.push(s);
  s.start();
  return s;
}

async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the condition never held');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const text = (t: string, dest = '15550001111'): ShortMessageBody => shortMessageBody({ sourceAddr: '15550009999', destinationAddr: dest, shortMessage: Buffer.from(t) });

beforeAll(async () => {
  if (available) smsc = await PerlSmsc.start({ systemId: 'parley', password: 'secret' });
});
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.stop()));
  if (available) await smsc.call({ cmd: 'set', respond_delay_ms: 0 }, 'set');
});
afterAll(async () => {
  await smsc?.kill();
});

describe.skipIf(!available)('ESME session against the Net::SMPP SMSC', () => {
  it('binds as a transceiver with its credentials, keeps the link with enquire_link, and unbinds on stop', async () => {
    const from = smsc.events.length;
    const s = session();
    await s.waitBound(5_000);
    const bind = await smsc.waitFor((e) => e.event === 'bind', 5_000, from);
    expect(bind).toMatchObject({ system_id: 'parley', system_type: 'test', interface_version: 0x34, ok: true });
    await smsc.waitForCount((e) => e.event === 'enquire_link' && e.conn === bind.conn, 2);
    // The SMSC's own enquire_link is answered with its sequence number.
    const asked = await smsc.call({ cmd: 'enquire', conn: bind.conn }, 'enquire');
    await smsc.waitFor((e) => e.event === 'enquire_link_resp' && e.conn === bind.conn && e.seq === asked.seq);
    await s.stop();
    await smsc.waitFor((e) => e.event === 'unbind' && e.conn === bind.conn);
  });

  it('reports a refused bind (wrong password) and keeps trying', async () => {
    const failures: string[] = [];
    const s = session({ password: 'wrong' }, failures);
    await expect(s.waitBound(1_500)).rejects.toThrow(/not bound/);
    expect(failures[0]).toBe('bind_transceiver refused: ESME_RINVPASWD');
    expect(failures.length).toBeGreaterThan(1);
  });

  it("does not connect to an SMSC inside the server's network unless allowed, by address or by a name resolving there", async () => {
    const from = smsc.events.length;
    for (const host of ['127.0.0.1', 'localhost']) {
      const failures: string[] = [];
      const s = session({ host, privateTargets: false }, failures);
      await expect(s.waitBound(500)).rejects.toThrow(/not bound/);
      expect(failures[0]).toMatch(/is a private or reserved address/);
    }
    expect(smsc.events.slice(from).filter((e) => e.event === 'bind')).toEqual([]);
  });

  it('never has more than windowSize submit_sm unanswered, as the SMSC counts them', async () => {
    await smsc.call({ cmd: 'set', respond_delay_ms: 150 }, 'set');
    const s = session({ windowSize: 3 });
    await s.waitBound(5_000);
    const from = smsc.events.length;
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => s.submit(text(`window ${i}`, '15550003333'))));
    expect(answers.every((a) => a.status === 0 && a.messageId)).toBe(true);
    expect(new Set(answers.map((a) => a.messageId)).size).toBe(12);
    const seen = smsc.events.slice(from).filter((e) => e.event === 'submit_sm' && e.dest === '15550003333');
    expect(seen).toHaveLength(12);
    expect(Math.max(...seen.map((e) => Number(e.outstanding)))).toBe(3);
    expect(s.stats.maxInFlight).toBe(3);
  });

  it('answers a malformed PDU from the SMSC with generic_nack and stays bound; an untrustworthy length drops and rebinds', async () => {
    const from = smsc.events.length;
    const s = session();
    await s.waitBound(5_000);
    const bind = await smsc.waitFor((e) => e.event === 'bind' && e.ok === true, 5_000, from);
    // A deliver_sm whose service_type never ends (sequence 0x4242).
    const bad = Buffer.concat([Buffer.from('00000014000000050000000000004242', 'hex'), Buffer.from('abcd')]);
    smsc.command({ cmd: 'raw', conn: bind.conn, hex: bad.toString('hex') });
    const nack = await smsc.waitFor((e) => e.event === 'generic_nack' && e.seq === 0x4242);
    expect(nack.status).toBe(Status.ESME_RINVCMDLEN);
    expect(s.bound).toBe(true);
    expect((await s.submit(text('still here'))).status).toBe(0);

    const binds = smsc.of('bind').length;
    smsc.command({ cmd: 'raw', conn: bind.conn, hex: '7fffffff0000000500000000000000010000' });
    await smsc.waitFor((e) => e.event === 'closed' && e.conn === bind.conn);
    await smsc.waitForCount((e) => e.event === 'bind', binds + 1);
    await s.waitBound(5_000);
    expect((await s.submit(text('after the rebind'))).status).toBe(0);
  });

  it('reconnects with backoff after the SMSC dies, and sends resume on the new SMSC', async () => {
    const failures: string[] = [];
    const s = session({}, failures);
    await s.waitBound(5_000);
    expect((await s.submit(text('before'))).status).toBe(0);
    const port = smsc.port;
    await smsc.kill();
    await until(() => !s.bound);
    // A send while the SMSC is down waits for the bind (queueTimeoutMs) instead of failing at once.
    const during = s.submit(text('during the outage', '15550004444'));
    // Connection refused, again and again, each after a longer pause.
    await until(() => failures.length >= 3);
    expect(failures.slice(1)).toEqual(failures.slice(1).map(() => expect.stringMatching(/ECONNREFUSED/)));
    smsc = await PerlSmsc.start({ port, systemId: 'parley', password: 'secret' });
    expect((await during).status).toBe(0);
    await smsc.waitFor((e) => e.event === 'submit_sm' && e.dest === '15550004444');
    expect(s.stats.binds).toBe(2);
  });

  it('keeps to maxSubmitsPerSecond: a submit that would exceed it waits, and gives up when it cannot wait that long', async () => {
    // 2 per second: the second submit may go 500 ms after the first, longer than it may wait (300 ms).
    const s = session({ maxSubmitsPerSecond: 2, queueTimeoutMs: 300 });
    await s.waitBound(5_000);
    const from = smsc.events.length;
    const [first, second] = await Promise.allSettled([s.submit(text('one', '15550006666')), s.submit(text('two', '15550006666'))]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { status: 0 } });
    expect(second).toMatchObject({ status: 'rejected', reason: { message: 'no send slot (window or throughput limit) within 300 ms' } });
    await smsc.waitFor((e) => e.event === 'submit_sm' && e.text === 'one', 5_000, from);
    expect(smsc.events.slice(from).filter((e) => e.event === 'submit_sm' && e.dest === '15550006666').map((e) => e.text)).toEqual(['one']);
  });

  it('gives up on a submit_sm the SMSC never answers (retryable) and frees the window slot', async () => {
    await smsc.call({ cmd: 'set', respond_delay_ms: 3_000 }, 'set');
    const s = session({ windowSize: 1, responseTimeoutMs: 300, enquireLinkMs: 60_000 });
    await s.waitBound(5_000);
    await expect(s.submit(text('slow'))).rejects.toThrow(/no submit_sm_resp within 300 ms/);
    await smsc.call({ cmd: 'set', respond_delay_ms: 0 }, 'set');
    expect((await s.submit(text('next'))).status).toBe(0);
  });

  it('binds over TLS (the SMSC behind a TLS terminator), and refuses a certificate it cannot verify unless told not to', async () => {
    // Net::SMPP speaks plain TCP: a TLS server in front of it, with a certificate made here, plays an SMSC's TLS port.
    const dir = mkdtempSync(join(tmpdir(), 'smpp-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const terminator = tls.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (clear) => {
      const upstream = net.connect({ host: '127.0.0.1', port: smsc.port });
      clear.pipe(upstream).pipe(clear);
      clear.on('error', () => upstream.destroy());
      upstream.on('error', () => clear.destroy());
    });
    await new Promise<void>((r) => terminator.listen(0, '127.0.0.1', () => r()));
    const port = (terminator.address() as net.AddressInfo).port;
    try {
      const failures: string[] = [];
      const strict = session({ port, tls: true }, failures);
      await until(() => failures.length > 0);
      expect(failures[0]).toMatch(/self-signed certificate/);
      await strict.stop();

      const s = session({ port, tls: true, rejectUnauthorized: false });
      await s.waitBound(5_000);
      const answer = await s.submit(text('over TLS', '15550005555'));
      expect(answer.status).toBe(0);
      expect(await smsc.waitFor((e) => e.event === 'submit_sm' && e.dest === '15550005555')).toMatchObject({ text: 'over TLS', message_id: answer.messageId });
    } finally {
      await Promise.all(sessions.splice(0).map((x) => x.stop()));
      await new Promise((r) => terminator.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
