import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestParley, type TestParley, type TestTenant } from '../../../../test/test-parley.ts';
import { call } from '../../../../test/http.ts';
import type { InboxRow } from '../../../db/schema.ts';
import { encodeGsm7, encodeUcs2 } from './encoding.ts';
import { SmppChannel } from './smpp-channel.ts';
import { flushStaleParts } from '../long-sms.ts';
import { smsProviderFor } from '../providers/index.ts';
import { smsSettingsOf } from '../settings.ts';
import { PerlSmsc, perlSmscAvailable, type SmscEvent } from './testing/perl-smsc.ts';

// A whole Parley with an SMS inbox on SMPP, bound to the Net::SMPP SMSC (smsc.pl): texts from
// handsets come in as deliver_sm, agent replies leave as submit_sm, receipts come back as
// deliver_sm; the SMSC's own decoding (Encode's gsm0338, UTF-16BE) says what it received.

const available = perlSmscAvailable();
if (!available) {
  if (process.env.PARLEY_REQUIRE_PEERS) throw new Error('perl with Net::SMPP (Debian libnet-smpp-perl) is required (PARLEY_REQUIRE_PEERS is set)');
  console.warn('SKIPPING SMPP channel tests: perl with Net::SMPP is missing (apt-get install libnet-smpp-perl)');
}

const NUMBER = '+5215540001000';
let smsc: PerlSmsc;
let t: TestParley;
let tenant: TestTenant;
let inbox: InboxRow;
let customers = 0;

const api = (method: string, path: string, body?: unknown) => call(t.baseUrl, method, path, { auth: { apiKey: tenant.apiKey }, body });

async function until<T>(probe: () => Promise<T | null | undefined | false>, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

const newCustomer = () => `52155${String(50_000_000 + ++customers)}`;

/** The SMSC hands Parley a text from a handset; resolves with the SMSC's deliver_sm event. */
async function handsetSends(from: string, shortMessage: Buffer, extra: Record<string, unknown> = {}): Promise<SmscEvent> {
  return smsc.call({ cmd: 'deliver', source: from, dest: NUMBER.slice(1), short_message_hex: shortMessage.toString('hex'), ...extra }, 'deliver_sm');
}

const messagesFrom = (handle: string) =>
  t.db
    .selectFrom('messages as m')
    .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
    .innerJoin('contact_handles as h', (j) => j.onRef('h.contact_id', '=', 'c.contact_id').onRef('h.tenant_id', '=', 'c.tenant_id'))
    .select(['m.id', 'm.content', 'm.conversation_id', 'm.direction'])
    .where('m.tenant_id', '=', tenant.tenantId)
    .where('h.handle', '=', handle)
    .where('m.direction', '=', 'in')
    .execute();

async function conversationOf(customer: string): Promise<string> {
  await handsetSends(customer, encodeGsm7('Hola')!);
  const [first] = await until(async () => (await messagesFrom(`+${customer}`)).length > 0 && messagesFrom(`+${customer}`), 'the inbound message');
  return first!.conversation_id;
}

async function reply(conversationId: string, content: string): Promise<string> {
  const res = await api('POST', `/conversations/${conversationId}/messages`, { content });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const statusOf = async (messageId: string) => (await t.db.selectFrom('messages').select(['status', 'error']).where('id', '=', messageId).executeTakeFirstOrThrow());

async function waitForStatus(messageId: string, statuses: string[]) {
  return until(async () => {
    const row = await statusOf(messageId);
    return statuses.includes(row.status) && row;
  }, `message ${messageId} to become ${statuses.join('/')}`, 15_000);
}

/** Connections the SMSC has bound and not closed. */
const openBinds = () => smsc.of('bind').filter((b) => b.ok && !smsc.events.some((e) => e.event === 'closed' && e.conn === b.conn)).map((b) => b.conn);

/** The message the SMSC reassembled for this handset (its own decoding), after `from` events. */
const smscMessageTo = (customer: string, from: number) => smsc.waitFor((e) => e.event === 'message' && e.dest === customer, 10_000, from);

beforeAll(async () => {
  if (!available) return;
  smsc = await PerlSmsc.start({ systemId: 'parley-sms', password: 's3cret' });
  t = await startTestParley({ jobs: { pollMs: 30, backoffBaseMs: 100, maxAttempts: 4 } });
  t.parley.smpp.tuning.reconnectMinMs = 50;
  t.parley.smpp.tuning.reconnectMaxMs = 500;
  tenant = await t.createTenant('SMPP tenant');
  const created = await api('POST', '/inboxes', {
    name: 'SMS via SMPP',
    channelType: 'sms',
    settings: { sms: { number: NUMBER, provider: 'smpp', smpp: { host: '127.0.0.1', port: smsc.port, systemId: 'parley-sms', password: 's3cret', windowSize: 5 } } },
  });
  expect(created.status).toBe(201);
  // The password is write-only.
  expect(created.body.settings.sms.smpp).toMatchObject({ passwordSet: true });
  expect(created.body.settings.sms.smpp.password).toBeUndefined();
  inbox = await t.db.selectFrom('inboxes').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
  await t.parley.smpp.refresh();
  await t.parley.smpp.bindOf(inbox.id)!.session.waitBound(5_000);
});

afterAll(async () => {
  await t?.stop();
  await smsc?.kill();
});

describe.skipIf(!available)('SMS over SMPP with a Net::SMPP SMSC', () => {
  it('binds the inbox with its credentials when the inbox is created', async () => {
    await smsc.waitFor((e) => e.event === 'bind');
    expect(smsc.of('bind')).toEqual([expect.objectContaining({ system_id: 'parley-sms', ok: true })]);
  });

  it('stores a text from a handset once, answering deliver_sm_resp only after the commit, also when the SMSC redelivers it', async () => {
    const customer = newCustomer();
    const sent = await handsetSends(customer, encodeGsm7('¿Tienen envios a Querétaro? Cuesta 5€')!);
    const resp = await smsc.waitFor((e) => e.event === 'deliver_sm_resp' && e.seq === sent.seq && e.conn === sent.conn);
    expect(resp.status).toBe(0);
    // Answered means stored: the row is there the moment the SMSC hears back.
    const stored = await messagesFrom(`+${customer}`);
    expect(stored.map((m) => m.content)).toEqual(['¿Tienen envios a Querétaro? Cuesta 5€']);

    // The SMSC did not hear the answer (say) and delivers the same message again.
    const again = await handsetSends(customer, encodeGsm7('¿Tienen envios a Querétaro? Cuesta 5€')!);
    expect((await smsc.waitFor((e) => e.event === 'deliver_sm_resp' && e.seq === again.seq && e.conn === again.conn)).status).toBe(0);
    expect(await messagesFrom(`+${customer}`)).toHaveLength(1);
    const conversation = await t.db.selectFrom('conversations').select(['inbox_id', 'channel_type']).where('id', '=', stored[0]!.conversation_id).executeTakeFirstOrThrow();
    expect(conversation).toEqual({ inbox_id: inbox.id, channel_type: 'sms' });
  });

  it('keys a text by the SMSC message id when the deliver_sm carries one', async () => {
    const customer = newCustomer();
    await handsetSends(customer, encodeGsm7('same words')!, { receipted_message_id: 'mo-1' });
    await handsetSends(customer, encodeGsm7('same words')!, { receipted_message_id: 'mo-2' });
    await handsetSends(customer, encodeGsm7('same words')!, { receipted_message_id: 'mo-1' });
    const rows = await until(async () => (await messagesFrom(`+${customer}`)).length >= 2 && messagesFrom(`+${customer}`), 'two messages');
    await smsc.waitForCount((e) => e.event === 'deliver_sm_resp', smsc.of('deliver_sm').length);
    expect(await messagesFrom(`+${customer}`)).toHaveLength(2);
    expect(rows.map((r) => r.content)).toEqual(['same words', 'same words']);
  });

  it('reassembles a concatenated UCS-2 text whose parts arrive out of order, once, even with a part redelivered', async () => {
    const customer = newCustomer();
    const udh = (seq: number) => Buffer.from([0x05, 0x00, 0x03, 0x42, 0x02, seq]);
    const part1 = Buffer.concat([udh(1), encodeUcs2('Olá, preciso de ajuda com o pedido ')]);
    const part2 = Buffer.concat([udh(2), encodeUcs2('número 42 😀')]);
    for (let copy = 0; copy < 2; copy++) {
      const sent = await handsetSends(customer, part2, { esm_class: 0x40, data_coding: 8 });
      expect((await smsc.waitFor((e) => e.event === 'deliver_sm_resp' && e.seq === sent.seq && e.conn === sent.conn)).status).toBe(0);
    }
    expect(await messagesFrom(`+${customer}`)).toHaveLength(0);
    await handsetSends(customer, part1, { esm_class: 0x40, data_coding: 8 });
    const rows = await until(async () => (await messagesFrom(`+${customer}`)).length > 0 && messagesFrom(`+${customer}`), 'the reassembled message');
    expect(rows.map((r) => r.content)).toEqual(['Olá, preciso de ajuda com o pedido número 42 😀']);
    // The SMSC delivers part 2 once more, late: recognized, acknowledged, not a new message.
    const late = await handsetSends(customer, part2, { esm_class: 0x40, data_coding: 8 });
    expect((await smsc.waitFor((e) => e.event === 'deliver_sm_resp' && e.seq === late.seq && e.conn === late.conn)).status).toBe(0);
    expect(await flushStaleParts(t.parley.deps, inbox, 0)).toBe(0);
    expect(await messagesFrom(`+${customer}`)).toHaveLength(1);
  });

  it('stores a concatenated text whose last part never came once its parts time out, marking the gap', async () => {
    const customer = newCustomer();
    const part1 = Buffer.concat([Buffer.from([0x05, 0x00, 0x03, 0x77, 0x03, 0x01]), encodeGsm7('First part, ')!]);
    const part3 = Buffer.concat([Buffer.from([0x05, 0x00, 0x03, 0x77, 0x03, 0x03]), encodeGsm7('third part.')!]);
    for (const part of [part1, part3]) {
      const sent = await handsetSends(customer, part, { esm_class: 0x40 });
      expect((await smsc.waitFor((e) => e.event === 'deliver_sm_resp' && e.seq === sent.seq && e.conn === sent.conn)).status).toBe(0);
    }
    expect(await messagesFrom(`+${customer}`)).toHaveLength(0);
    expect(await flushStaleParts(t.parley.deps, inbox, 0)).toBe(1);
    expect((await messagesFrom(`+${customer}`)).map((m) => m.content)).toEqual(['First part,  […] third part.']);
    const details = await t.db.selectFrom('channel_messages').select('details').where('from_handle', '=', `+${customer}`).executeTakeFirstOrThrow();
    expect(details.details).toMatchObject({ parts: 3, missingParts: [2] });
  });

  it('sends agent replies as the right PDUs: GSM-7 (é included), UCS-2 for emoji, three UDH parts for a long text', async () => {
    const customer = newCustomer();
    const conversationId = await conversationOf(customer);
    const long = `${'Gracias por escribir. '.repeat(20)}Fin.`; // 444 GSM-7 septets: 3 parts
    const cases = [
      { content: 'Hello, your order shipped.', dataCoding: 0, parts: 1 },
      { content: 'Pedido enviado, café incluido é ñ ü € {ok}', dataCoding: 0, parts: 1 },
      { content: 'Listo 😀 gracias', dataCoding: 8, parts: 1 },
      { content: long, dataCoding: 0, parts: 3 },
    ];
    for (const c of cases) {
      const from = smsc.events.length;
      const id = await reply(conversationId, c.content);
      const got = await smscMessageTo(customer, from);
      expect(got).toMatchObject({ text: c.content, data_coding: c.dataCoding, parts: c.parts });
      const submits = smsc.events.slice(from).filter((e) => e.event === 'submit_sm' && e.dest === customer);
      expect(submits).toHaveLength(c.parts);
      for (const s of submits) {
        expect(s).toMatchObject({ source: NUMBER.slice(1), esm_class: c.parts > 1 ? 0x40 : 0, registered_delivery: 1 });
        if (c.parts > 1) expect(String(s.udh_hex)).toMatch(/^050003[0-9a-f]{2}03\d{2}$/);
      }
      const sent = await waitForStatus(id, ['sent', 'failed']);
      expect(sent).toEqual({ status: 'sent', error: null });
      const channelRow = await t.db.selectFrom('channel_messages').select('external_id').where('message_id', '=', id).executeTakeFirstOrThrow();
      expect(channelRow.external_id).toBe((got.message_ids as string[])[0]);
    }
    // The é went as GSM-7 septet 0x05, the euro sign as escape 0x1B 0x65.
    const accented = smsc.of('submit_sm').find((e) => String(e.text).startsWith('Pedido enviado'))!;
    expect(String(accented.short_message_hex)).toContain('05');
    expect(String(accented.short_message_hex)).toContain('1b65');
  });

  it('marks a reply delivered by its receipt, matched by message_id even when the receipt comes on another node’s bind, and for any part of a long text', async () => {
    // A second Parley node on the same database, with its own bind of the same inbox.
    const otherNode = new SmppChannel(t.parley.deps, { reconnectMinMs: 50 });
    await otherNode.start();
    try {
      await otherNode.bindOf(inbox.id)!.session.waitBound(5_000);
      const customer = newCustomer();
      const conversationId = await conversationOf(customer);

      let from = smsc.events.length;
      const short = await reply(conversationId, 'Your code is 1234');
      const got = await smscMessageTo(customer, from);
      await waitForStatus(short, ['sent']);
      const submit = smsc.events.slice(from).find((e) => e.event === 'submit_sm' && e.dest === customer)!;
      const otherConn = smsc.of('bind').filter((b) => b.ok && b.conn !== submit.conn).at(-1)!.conn;
      const messageId = (got.message_ids as string[])[0]!;
      await smsc.call(
        { cmd: 'deliver', conn: otherConn, source: customer, dest: NUMBER.slice(1), esm_class: 0x04, short_message_hex: Buffer.from(`id:${messageId} sub:001 dlvrd:001 submit date:2611221405 done date:2611221405 stat:DELIVRD err:000 text:Your code is 1234`).toString('hex') },
        'deliver_sm',
      );
      expect(await waitForStatus(short, ['delivered'])).toEqual({ status: 'delivered', error: null });

      // A long reply; the receipt names its third part only, by TLV, on the other bind again.
      from = smsc.events.length;
      const long = await reply(conversationId, 'x'.repeat(400));
      const longGot = await smscMessageTo(customer, from);
      await waitForStatus(long, ['sent']);
      const thirdPart = (longGot.message_ids as string[])[2]!;
      await smsc.call({ cmd: 'deliver', conn: otherConn, source: customer, dest: NUMBER.slice(1), esm_class: 0x04, receipted_message_id: thirdPart, message_state: 2, short_message_hex: '' }, 'deliver_sm');
      expect(await waitForStatus(long, ['delivered'])).toEqual({ status: 'delivered', error: null });

      // A failed delivery says why.
      from = smsc.events.length;
      const doomed = await reply(conversationId, 'Will not arrive');
      const doomedGot = await smscMessageTo(customer, from);
      await waitForStatus(doomed, ['sent']);
      await smsc.call(
        { cmd: 'deliver', source: customer, dest: NUMBER.slice(1), esm_class: 0x04, short_message_hex: Buffer.from(`id:${(doomedGot.message_ids as string[])[0]} sub:001 dlvrd:000 submit date:2611221405 done date:2611221406 stat:UNDELIV err:034 text:Will not arrive`).toString('hex') },
        'deliver_sm',
      );
      expect(await waitForStatus(doomed, ['failed'])).toEqual({ status: 'failed', error: 'UNDELIV (err 034)' });
    } finally {
      await otherNode.stop();
    }
  });

  it('fails a reply at once on a permanent refusal (ESME_RINVDSTADR), and retries a throttled one until it passes', async () => {
    const customer = newCustomer();
    const conversationId = await conversationOf(customer);
    let from = smsc.events.length;
    await smsc.call({ cmd: 'set', next_status: 0x0b }, 'set');
    const refused = await reply(conversationId, 'to a bad number');
    expect(await waitForStatus(refused, ['failed'])).toEqual({ status: 'failed', error: 'SMSC refused the message: ESME_RINVDSTADR' });
    expect(smsc.events.slice(from).filter((e) => e.event === 'submit_sm' && e.dest === customer)).toHaveLength(1);

    from = smsc.events.length;
    await smsc.call({ cmd: 'set', next_status: 0x58 }, 'set');
    const throttled = await reply(conversationId, 'try again later');
    expect(await waitForStatus(throttled, ['sent'])).toEqual({ status: 'sent', error: null });
    const attempts = smsc.events.slice(from).filter((e) => e.event === 'submit_sm' && e.dest === customer);
    expect(attempts.map((a) => a.status)).toEqual([0x58, 0]);
  });

  it('rebinds after the SMSC is killed, records the lost bind for the admin, and sends resume', async () => {
    const customer = newCustomer();
    const conversationId = await conversationOf(customer);
    const port = smsc.port;
    const bind = t.parley.smpp.bindOf(inbox.id)!;
    await smsc.kill();
    await until(async () => !bind.bound, 'the bind to drop');
    const queued = await reply(conversationId, 'sent after the outage');
    const errors = await until(async () => {
      const rows = await t.db.selectFrom('channel_errors').selectAll().where('tenant_id', '=', tenant.tenantId).where('inbox_id', '=', inbox.id).where('kind', '=', 'smpp.bind').execute();
      return rows.length >= 2 && rows;
    }, 'bind failures recorded');
    expect(errors[0]!.message).toMatch(/^SMPP bind to 127\.0\.0\.1:\d+ failed: /);
    smsc = await PerlSmsc.start({ port, systemId: 'parley-sms', password: 's3cret' });
    await bind.session.waitBound(5_000);
    const got = await smscMessageTo(customer, 0);
    expect(got.text).toBe('sent after the outage');
    expect(await waitForStatus(queued, ['sent'])).toEqual({ status: 'sent', error: null });
  });

  it('binds an inbox created a moment ago when its first send comes, without waiting for the periodic refresh', async () => {
    const number = '+5215540003000';
    const created = await api('POST', '/inboxes', {
      name: 'New SMPP inbox',
      channelType: 'sms',
      settings: { sms: { number, provider: 'smpp', smpp: { host: '127.0.0.1', port: smsc.port, systemId: 'parley-sms', password: 's3cret' } } },
    });
    expect(created.status).toBe(201);
    expect(t.parley.smpp.bindOf(created.body.id)).toBeNull();
    const settings = smsSettingsOf((await t.db.selectFrom('inboxes').select('settings').where('id', '=', created.body.id).executeTakeFirstOrThrow()).settings)!;
    const from = smsc.events.length;
    const result = await smsProviderFor('smpp')!.send(settings, { reference: 'msg_x', from: number, to: '+5215550009999', text: 'first words' }, true);
    expect(result).toMatchObject({ ok: true });
    expect(await smscMessageTo('5215550009999', from)).toMatchObject({ text: 'first words', message_ids: [(result as { providerId: string }).providerId] });
    expect(t.parley.smpp.bindOf(created.body.id)?.bound).toBe(true);
    await api('PATCH', `/inboxes/${created.body.id}`, { settings: { sms: { number, provider: 'kannel', kannel: { sendUrl: 'http://127.0.0.1:1/cgi-bin/sendsms', username: 'u' } } } });
    await t.parley.smpp.refresh();
  });

  it('tests the connection for the admin with a bind of its own, and says why a bind is refused', async () => {
    const ok = await api('POST', `/inboxes/${inbox.id}/test-connection`);
    expect(ok.body).toEqual({ ok: true, message: `bound to 127.0.0.1:${smsc.port} as parley-sms` });
    const wrong = await api('POST', '/inboxes', {
      name: 'Wrong password',
      channelType: 'sms',
      settings: { sms: { number: '+5215540002000', provider: 'smpp', smpp: { host: '127.0.0.1', port: smsc.port, systemId: 'parley-sms', password: 'nope' } } },
    });
    expect(wrong.status).toBe(201);
    const refused = await api('POST', `/inboxes/${wrong.body.id}/test-connection`);
    expect(refused.body).toEqual({ ok: false, message: `SMPP bind to 127.0.0.1:${smsc.port} failed: bind_transceiver refused: ESME_RINVPASWD` });
    // Its running bind keeps failing, and the admin sees why.
    await t.parley.smpp.refresh();
    // The failed test is listed too (kind test-connection); the running bind's failure follows it.
    const bindError = await until(async () => {
      const res = await api('GET', `/inboxes/${wrong.body.id}/errors`);
      return (res.body.items as { kind: string }[]).find((e) => e.kind === 'smpp.bind');
    }, 'the bind error');
    expect(bindError).toMatchObject({ kind: 'smpp.bind', message: `SMPP bind to 127.0.0.1:${smsc.port} failed: bind_transceiver refused: ESME_RINVPASWD` });
    await api('PATCH', `/inboxes/${wrong.body.id}`, { settings: { sms: { number: '+5215540002000', provider: 'kannel', kannel: { sendUrl: 'http://127.0.0.1:1/cgi-bin/sendsms', username: 'u' } } } });
    await t.parley.smpp.refresh();
  });

  it('rebinds when the inbox settings change, and unbinds when the inbox stops using SMPP', async () => {
    const bind = t.parley.smpp.bindOf(inbox.id)!;
    const [conn, ...others] = openBinds();
    expect(others).toEqual([]);
    const from = smsc.events.length;
    const smpp = { host: '127.0.0.1', port: smsc.port, systemId: 'parley-sms', windowSize: 2 };
    expect((await api('PATCH', `/inboxes/${inbox.id}`, { settings: { sms: { number: NUMBER, provider: 'smpp', smpp } } })).status).toBe(200);
    await t.parley.smpp.refresh();
    await smsc.waitFor((e) => e.event === 'unbind' && e.conn === conn);
    const rebound = t.parley.smpp.bindOf(inbox.id)!;
    expect(rebound).not.toBe(bind);
    await rebound.session.waitBound(5_000);
    // The password was kept (write-only secrets survive an update that leaves them out): a new
    // connection's bind is accepted. (Not "the last bind": the refused inbox of the test before
    // may still retry its bind meanwhile.)
    const newBind = (await smsc.waitFor((e) => e.event === 'bind' && e.conn !== conn && e.ok === true, 5_000, from)).conn;
    expect(rebound.session.config.windowSize).toBe(2);

    const [newConn] = openBinds();
    expect(newConn).toBe(newBind);
    expect(newConn).not.toBe(conn);
    const kannel = { sendUrl: 'http://127.0.0.1:1/cgi-bin/sendsms', username: 'u' };
    expect((await api('PATCH', `/inboxes/${inbox.id}`, { settings: { sms: { number: NUMBER, provider: 'kannel', kannel } } })).status).toBe(200);
    await t.parley.smpp.refresh();
    expect(t.parley.smpp.bindOf(inbox.id)).toBeNull();
    await smsc.waitFor((e) => e.event === 'unbind' && e.conn === newConn);
  });
});
