import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NUMBERS, waitForStatus } from '../channels/sms/testing/sms-test-kit.ts';
import { ingestInbound } from '../channels/ingest.ts';
import { OWN, startComplianceKit, type ComplianceKit } from './compliance-test-kit.ts';
import { takeSendSlot } from './send-rate.ts';

// CO-1 and CO-3 and the send rates: only the tenant's own numbers send, nothing goes to or
// from a listed country, sends wait for a slot in their number's and tenant's one-second
// windows, and WhatsApp free text waits for the customer.

let kit: ComplianceKit;
beforeAll(async () => {
  kit = await startComplianceKit();
});
afterAll(async () => {
  await kit?.stop();
});

const send = (body: Record<string, unknown>, tenant = kit.a) => kit.api('POST', '/outbound-messages', body, tenant);

describe('owned numbers (CO-1)', () => {
  it('an API send starts a conversation from the inbox number; a from number the tenant does not own is 422, a bad number 400, another tenant’s inbox 404', async () => {
    const ok = await send({ inboxId: kit.own.mx.id, from: OWN.mx, to: '+5215587651001', text: 'Su pedido salió.' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect((await waitForStatus(kit.t, ok.body.message.id, ['sent', 'failed'])).status).toBe('sent');
    expect(kit.fake.sendsTo('+5215587651001').map((s) => s.fields.From)).toEqual([OWN.mx]);
    const conversation = await kit.t.db.selectFrom('conversations').select(['status', 'routing_state', 'inbox_id']).where('id', '=', ok.body.conversationId).executeTakeFirstOrThrow();
    // A notification is no work for agents until the customer answers.
    expect(conversation).toEqual({ status: 'resolved', routing_state: null, inbox_id: kit.own.mx.id });
    const next = await send({ inboxId: kit.own.mx.id, to: '+5215587651001', text: 'Llega mañana.' });
    expect(next.body.conversationId).toBe(ok.body.conversationId);
    const answer = await kit.text(kit.own.mx, '+5215587651001', '¿A qué hora?');
    expect(answer.conversationId).toBe(ok.body.conversationId);
    const reopened = await kit.t.db.selectFrom('conversations').select(['status', 'routing_state']).where('id', '=', ok.body.conversationId).executeTakeFirstOrThrow();
    expect(reopened.status).toBe('open');
    expect(reopened.routing_state).not.toBeNull();

    const stranger = await send({ inboxId: kit.own.mx.id, from: '+5215500000000', to: '+5215587651002', text: 'x' });
    expect(stranger.status).toBe(422);
    expect(stranger.body.error).toEqual({ code: 'PARLEY_ERR_NUMBER_NOT_OWNED', message: expect.stringContaining('+5215500000000') });
    const othersNumber = await send({ inboxId: kit.own.mx.id, from: NUMBERS.tenantB, to: '+5215587651002', text: 'x' });
    expect(othersNumber.body.error.code).toBe('PARLEY_ERR_NUMBER_NOT_OWNED');
    const wrongInbox = await send({ inboxId: kit.own.mx.id, from: OWN.mx2, to: '+5215587651002', text: 'x' });
    expect(wrongInbox.status).toBe(400);
    for (const to of ['5512345678', '+12', '+0155512345', 'tel:+5215512345678']) expect((await send({ inboxId: kit.own.mx.id, to, text: 'x' })).status, to).toBe(400);
    expect((await send({ inboxId: kit.inboxes.tenantBTwilio.id, to: '+5215587651002', text: 'x' })).status).toBe(404);
    expect(kit.fake.sendsTo('+5215587651002')).toEqual([]);
  });
});

describe('unavailable countries (CO-3)', () => {
  it('tenant settings take ISO codes (admin only, per tenant); sends to or from a listed country are refused naming it; inbound from it is stored, marked, unrouted, unanswered', async () => {
    expect((await kit.api('PATCH', '/tenant/settings', { unavailableCountries: ['XX'] })).status).toBe(400);
    expect((await kit.api('PATCH', '/tenant/settings', { unavailableCountries: ['BRA'] })).status).toBe(400);
    const patched = await kit.api('PATCH', '/tenant/settings', { unavailableCountries: ['br', 'BR'] });
    expect(patched.body).toEqual({ unavailableCountries: ['BR'], maxSendsPerSecond: null, defaultMaxSendsPerSecond: 50, timeZone: null });
    expect((await kit.api('GET', '/tenant/settings', undefined, kit.b)).body.unavailableCountries).toEqual([]);
    try {
      const to = await send({ inboxId: kit.own.mx.id, to: '+5511987652001', text: 'Olá' });
      expect(to.status).toBe(422);
      expect(to.body.error).toEqual({ code: 'PARLEY_ERR_COUNTRY_UNAVAILABLE', message: expect.stringContaining('+5511987652001 (BR)') });
      const from = await send({ inboxId: kit.own.br.id, to: '+5215587652001', text: 'Hola' });
      expect(from.status).toBe(422);
      expect(from.body.error.message).toContain(`${OWN.br} (BR)`);
      expect(kit.fake.sendsTo('+5511987652001')).toEqual([]);
      expect(kit.fake.sendsTo('+5215587652001')).toEqual([]);

      const inbound = await kit.text(kit.own.mx, '+5511987652002', 'Oi, preciso de ajuda');
      const conversation = await kit.t.db.selectFrom('conversations').select(['status', 'routing_state']).where('id', '=', inbound.conversationId).executeTakeFirstOrThrow();
      expect(conversation).toEqual({ status: 'resolved', routing_state: null });
      const marks = await kit.t.db.selectFrom('conversation_events').select(['type', 'data']).where('conversation_id', '=', inbound.conversationId).where('type', '=', 'compliance.country_unavailable').execute();
      expect(marks).toEqual([{ type: 'compliance.country_unavailable', data: { messageId: inbound.id, country: 'BR' } }]);
      const policy = await kit.api('GET', `/conversations/${inbound.conversationId}/send-policy`);
      expect(policy.body).toMatchObject({ canSend: false, reason: 'country_unavailable' });
      const reply = await kit.api('POST', `/conversations/${inbound.conversationId}/messages`, { content: 'Olá!' });
      expect(reply.body.error.code).toBe('PARLEY_ERR_COUNTRY_UNAVAILABLE');
      // A STOP from there is honored, but nothing is sent back, not even the confirmation.
      await kit.text(kit.own.mx, '+5511987652002', 'SAIR');
      expect((await kit.t.db.selectFrom('channel_consents').select('status').where('handle', '=', '+5511987652002').executeTakeFirstOrThrow()).status).toBe('opted_out');
      expect(await kit.keywordReplies(inbound.conversationId)).toEqual([]);
      expect(kit.fake.sendsTo('+5511987652002')).toEqual([]);
    } finally {
      expect((await kit.api('PATCH', '/tenant/settings', { unavailableCountries: [] })).status).toBe(200);
    }
  });
});

describe('send rates', () => {
  it('with 2 sends per second on a number, 10 queued messages all leave, never more than 2 in one second window, none failed', async () => {
    const limited = await kit.smsInbox(kit.a, '+5215512340009', { maxSendsPerSecond: 2 });
    const posted = await Promise.all(Array.from({ length: 10 }, (_, i) => send({ inboxId: limited.id, to: `+52155876530${String(i).padStart(2, '0')}`, text: `Aviso ${i}` })));
    expect(posted.map((p) => p.status)).toEqual(Array(10).fill(201));
    const done = await Promise.all(posted.map((p) => waitForStatus(kit.t, p.body.message.id, ['sent', 'failed'], 30_000)));
    expect(done.map((m) => m.status)).toEqual(Array(10).fill('sent'));
    expect(kit.fake.sends.filter((s) => s.fields.From === '+5215512340009')).toHaveLength(10);
    const windows = await kit.t.db.selectFrom('send_rate_windows').select(['window_start', 'count']).where('key', '=', `inbox:${limited.id}`).execute();
    expect(windows.reduce((sum, w) => sum + w.count, 0)).toBe(10);
    expect(Math.max(...windows.map((w) => w.count))).toBe(2);
    expect(windows.length).toBeGreaterThanOrEqual(5);
  });

  it('a slot is taken in every limit or in none: a full tenant window leaves the number’s count alone and names the next window', async () => {
    // The number's slot is taken first, then given back when the tenant's window is full.
    const limits = [
      { key: 'inbox:slot-test', perSecond: 100 },
      { key: 'tenant:slot-test', perSecond: 3 },
    ];
    let refused: { ok: false; retryAt: Date } | null = null;
    for (let i = 0; i < 50 && !refused; i++) {
      const taken = await takeSendSlot(kit.t.db, limits);
      if (!taken.ok) refused = taken;
    }
    expect(refused).not.toBeNull();
    const windowStart = new Date(refused!.retryAt.getTime() - 1000);
    const counts = await kit.t.db.selectFrom('send_rate_windows').select(['key', 'count']).where('window_start', '=', windowStart).where('key', 'like', '%:slot-test').orderBy('key').execute();
    expect(counts).toEqual([
      { key: 'inbox:slot-test', count: 3 },
      { key: 'tenant:slot-test', count: 3 },
    ]);
  });

  it('tenant send rate is an admin setting of the tenant', async () => {
    const set = await kit.api('PATCH', '/tenant/settings', { maxSendsPerSecond: 20 });
    expect(set.body.maxSendsPerSecond).toBe(20);
    expect((await kit.api('GET', '/tenant/settings')).body).toMatchObject({ unavailableCountries: [], maxSendsPerSecond: 20 });
    expect((await kit.api('GET', '/tenant/settings', undefined, kit.b)).body.maxSendsPerSecond).toBeNull();
    expect((await kit.api('PATCH', '/tenant/settings', { maxSendsPerSecond: 0 })).status).toBe(400);
    expect((await kit.api('PATCH', '/tenant/settings', { maxSendsPerSecond: null })).body.maxSendsPerSecond).toBeNull();
  });
});

describe("WhatsApp's window in the send policy", () => {
  it('free text until 24 h after the customer wrote, then templates only: the policy says so and postMessage refuses free text with 422', async () => {
    const created = await kit.api('POST', '/inboxes', {
      name: 'WhatsApp',
      channelType: 'whatsapp',
      settings: { meta: { accountId: '106540352242922', displayNumber: '+5215512349999', accessToken: 'token', appSecret: 'secret', templates: [{ name: 'order_update', language: 'es_MX', body: 'Tu pedido {{1}} está en camino.' }] } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const inbox = await kit.t.db.selectFrom('inboxes').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
    const proactive = await send({ inboxId: inbox.id, to: '+5215587654001', text: 'Hola' });
    expect(proactive.status).toBe(422);
    expect(proactive.body.error).toMatchObject({ code: 'PARLEY_ERR_CHANNEL_WINDOW_CLOSED', details: { templates: ['order_update'] } });

    const stored = await ingestInbound(kit.t.parley.deps, inbox, {
      sourceId: 'wamid.window1', externalId: 'wamid.window1', from: { handle: '5215587654002', name: 'Ana' }, to: null, threadKeys: [], subject: null,
      text: 'Hola, ¿mi pedido?', html: null, attachments: [], autoReply: false, bounce: false, details: {},
    });
    const open = await kit.api('GET', `/conversations/${stored.conversationId}/send-policy`);
    expect(open.body).toMatchObject({ canSend: true, freeText: true, reason: null, windowClosesAt: expect.any(String), templates: [{ name: 'order_update', language: 'es_MX', body: 'Tu pedido {{1}} está en camino.' }] });

    // The customer wrote 25 hours ago.
    await kit.t.db.updateTable('messages').set({ created_at: new Date(Date.now() - 25 * 3_600_000) }).where('id', '=', stored.messageId).execute();
    const closed = await kit.api('GET', `/conversations/${stored.conversationId}/send-policy`);
    expect(closed.body).toMatchObject({ canSend: true, freeText: false, reason: 'window_closed' });
    const before = await kit.t.db.selectFrom('messages').select('id').where('conversation_id', '=', stored.conversationId).execute();
    const refused = await kit.api('POST', `/conversations/${stored.conversationId}/messages`, { content: 'Ya va en camino' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('PARLEY_ERR_CHANNEL_WINDOW_CLOSED');
    expect(await kit.t.db.selectFrom('messages').select('id').where('conversation_id', '=', stored.conversationId).execute()).toEqual(before);
  });
});
