import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDnsResolver, type DnsResolver } from '../../net/dns-resolver.ts';
import { hasDnsmasq, startDnsServer, type TestDnsServer } from '../../../test/dns-server.ts';
import { dkimKey, dkimSigned, listForwarded } from '../../../test/dkim-signer.ts';
import { SHARED_FIXTURES } from '../../../test/shared-fixtures.ts';
import { adapter } from './adapter.ts';
import { trustedAuthenticationResults } from './parse-email.ts';
import { verifySender } from './verify-sender.ts';

// SPF, DKIM and DMARC against a real DNS server (Debian's dnsmasq) publishing the test domains' records.
if (!hasDnsmasq) console.warn('SKIPPED sender verification tests: dnsmasq not installed (run scripts/install-test-deps.sh)');

const WORDS = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy'];
const key = dkimKey();
const listKey = dkimKey();
let dns: TestDnsServer;
let resolver: DnsResolver;
let signed: Buffer;

describe.skipIf(!hasDnsmasq)('sender verification (SPF, DKIM, DMARC)', () => {
  beforeAll(async () => {
    dns = await startDnsServer({
      'signed.test': 'v=spf1 ip4:127.0.0.1 -all',
      'sel._domainkey.signed.test': key.record,
      '_dmarc.signed.test': 'v=DMARC1; p=reject',
      'bank.test': 'v=spf1 ip4:192.0.2.10 -all',
      '_dmarc.bank.test': 'v=DMARC1; p=reject',
      'lists.test': 'v=spf1 ip4:203.0.113.9 -all',
      'arc._domainkey.lists.test': listKey.record,
    });
    resolver = createDnsResolver([dns.server]);
    signed = await dkimSigned({ from: 'Alice <alice@signed.test>', to: 'support@help.test', subject: 'Order 1043', text: 'Where is my order?', messageId: '<order-1043@signed.test>' }, 'signed.test', 'sel', key.privateKey);
  });
  afterAll(async () => {
    await dns?.stop();
  });

  it('passes a signed message from a permitted address', async () => {
    const r = await verifySender(signed, { remoteAddress: '::ffff:127.0.0.1', helo: 'mail.signed.test', mailFrom: 'alice@signed.test' }, 'mx.parley.test', resolver);
    expect(r).toEqual({ spf: 'pass', dkim: 'pass', dmarc: 'pass', dkimDomain: 'signed.test', checkedBy: 'mx.parley.test' });
  });

  it('fails DKIM when the body was changed on the way, and SPF when sent from an address the domain does not permit', async () => {
    const altered = Buffer.from(signed.toString('latin1').replace('Where is my order?', 'Please wire the refund to account 991'), 'latin1');
    expect(await verifySender(altered, { remoteAddress: '127.0.0.1', helo: 'mail.signed.test', mailFrom: 'alice@signed.test' }, 'mx', resolver)).toMatchObject({ spf: 'pass', dkim: 'fail', dmarc: 'pass' });
    expect(await verifySender(signed, { remoteAddress: '203.0.113.7', helo: 'elsewhere.test', mailFrom: 'alice@signed.test' }, 'mx', resolver)).toMatchObject({ spf: 'fail', dkim: 'pass', dmarc: 'pass' });
  });

  it('fails a spoofed sender, whatever Authentication-Results it carries', async () => {
    const spoofed = Buffer.from('Authentication-Results: mx.parley.test; spf=pass; dkim=pass header.d=bank.test; dmarc=pass\r\nFrom: Bank <security@bank.test>\r\nTo: support@help.test\r\nSubject: Verify your account\r\nMessage-ID: <spoof-1@bank.test>\r\n\r\nClick here.\r\n');
    expect(await verifySender(spoofed, { remoteAddress: '203.0.113.7', helo: 'elsewhere.test', mailFrom: 'security@bank.test' }, 'mx.parley.test', resolver)).toMatchObject({ spf: 'fail', dkim: 'none', dmarc: 'fail' });
    // Parsing alone takes no authentication from the message's own headers.
    expect((await adapter.parseInbound(spoofed)).details?.authentication).toBeUndefined();
  });

  it('believes a trusted mailing list that sealed with ARC that DMARC passed when the message reached it (its footer broke DKIM), and no one else', async () => {
    const list = { domain: 'lists.test', selector: 'arc', privateKey: listKey.privateKey, resolver };
    const viaList = await listForwarded(signed, list, { ip: '127.0.0.1', helo: 'mail.signed.test', sender: 'alice@signed.test' });
    const fromList = { remoteAddress: '203.0.113.9', helo: 'mx.lists.test', mailFrom: 'group-bounces@lists.test' };
    expect(await verifySender(viaList, fromList, 'mx.parley.test', resolver, ['lists.test'])).toEqual({
      spf: 'pass', dkim: 'fail', dmarc: 'fail', dkimDomain: 'signed.test', arc: 'pass', arcSealer: 'lists.test', arcVouchedBy: 'lists.test', checkedBy: 'mx.parley.test',
    });
    // The same seal from a forwarder nobody trusts (not on mailauth's list of well-known sealers either): DMARC's failure stands.
    const untrusted = await verifySender(viaList, fromList, 'mx.parley.test', resolver);
    expect(untrusted).toMatchObject({ dmarc: 'fail', arc: 'pass', arcSealer: 'lists.test' });
    expect(untrusted.arcVouchedBy).toBeUndefined();
    // Changed after the list sealed it: the seal no longer holds.
    const tampered = Buffer.from(viaList.toString().replace('Where is my order?', 'Wire the refund to account 991'));
    const broken = await verifySender(tampered, fromList, 'mx.parley.test', resolver, ['lists.test']);
    expect(broken).toMatchObject({ dmarc: 'fail', arc: 'fail' });
    expect(broken.arcVouchedBy).toBeUndefined();
    // A forged author the list itself saw fail DMARC is not vouched for by its seal.
    const unsigned = Buffer.from('From: Alice <alice@signed.test>\r\nTo: group@lists.test\r\nSubject: Refund\r\nMessage-ID: <forged-1@signed.test>\r\n\r\nWire the refund to account 991.\r\n');
    const forged = await listForwarded(unsigned, list, { ip: '198.51.100.66', helo: 'elsewhere.test', sender: 'alice@signed.test' });
    const forgedChecked = await verifySender(forged, fromList, 'mx.parley.test', resolver, ['lists.test']);
    expect(forgedChecked).toMatchObject({ arc: 'pass', arcSealer: 'lists.test' });
    expect(forgedChecked).toMatchObject({ dmarc: 'fail' });
    expect(forgedChecked.arcVouchedBy).toBeUndefined();
  });

  it('records a temporary error, and does not throw, when DNS cannot answer', async () => {
    const down: DnsResolver = () => Promise.reject(Object.assign(new Error('queryTxt ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const r = await verifySender(signed, { remoteAddress: '127.0.0.1', helo: null, mailFrom: null }, 'mx', down);
    expect(r.dkim).toBe('temperror');
    expect(WORDS).toContain(r.spf);
  });

  it('gives a result word for every real-world sample, never an exception', async () => {
    const dir = join(SHARED_FIXTURES, 'email');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.eml'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const r = await verifySender(await readFile(join(dir, f)), { remoteAddress: '198.51.100.20', helo: 'mx.sample.test', mailFrom: 'someone@sample.test' }, 'mx', resolver);
      expect(r.error, f).toBeUndefined();
      for (const method of ['spf', 'dkim', 'dmarc']) expect(WORDS, `${f} ${method}=${r[method]}`).toContain(r[method]);
    }
  });
});

describe('Authentication-Results of a trusted mailbox provider', () => {
  it("reads the provider's header of a real message (nodemailer.eml, through Gmail) and nothing under another name", async () => {
    const raw = await readFile(join(SHARED_FIXTURES, 'email', 'nodemailer.eml'));
    expect(trustedAuthenticationResults(raw, 'mx.google.com')).toEqual({ spf: 'pass', dkim: 'pass', dmarc: 'fail', checkedBy: 'mx.google.com' });
    expect(trustedAuthenticationResults(raw, 'mx.parley.test')).toBeNull();
  });

  it('takes the topmost header of that server, not one the sender wrote below it', () => {
    const raw = Buffer.from(
      'Authentication-Results: mx.provider.test;\r\n  spf=fail smtp.mailfrom=bank.test;\r\n  dkim=none;\r\n  dmarc=fail header.from=bank.test\r\n' +
        'Authentication-Results: mx.provider.test; spf=pass; dkim=pass; dmarc=pass\r\nFrom: security@bank.test\r\nSubject: x\r\n\r\nAuthentication-Results: mx.provider.test; dkim=pass\r\n',
    );
    expect(trustedAuthenticationResults(raw, 'MX.Provider.test')).toEqual({ spf: 'fail', dkim: 'none', dmarc: 'fail', checkedBy: 'mx.provider.test' });
  });
});
