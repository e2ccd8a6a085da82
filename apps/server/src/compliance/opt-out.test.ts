import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForStatus } from '../channels/sms/testing/sms-test-kit.ts';
import { OWN, startComplianceKit, type ComplianceKit } from './compliance-test-kit.ts';

// CO-2: customers opt out and back in by keyword, per sending number, with one confirmation in
// their language; agents and programs cannot message an opted-out number, and a reply that was
// queued before the opt-out does not leave.

let kit: ComplianceKit;
beforeAll(async () => {
  kit = await startComplianceKit();
});
afterAll(async () => {
  await kit?.stop();
});

const consentOf = (inboxId: string, handle: string) =>
  kit.t.db.selectFrom('channel_consents').select(['status', 'keyword']).where('inbox_id', '=', inboxId).where('handle', '=', handle).executeTakeFirst();
const eventsOf = async (conversationId: string) =>
  (await kit.t.db.selectFrom('conversation_events').select(['type', 'data']).where('conversation_id', '=', conversationId).orderBy('id').execute()).filter((e) => e.type.startsWith('consent.'));
const messageCount = async (conversationId: string) =>
  Number((await kit.t.db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('conversation_id', '=', conversationId).executeTakeFirstOrThrow()).n);

describe('opt-out keywords', () => {
  it('STOP opts the number out of this inbox, is stored unrouted, confirmed once in English; replies are then refused with 422 and nothing stored', async () => {
    const customer = '+5215587650001';
    const stop = await kit.text(kit.own.mx, customer, '  Stop. ');
    const conversation = await kit.t.db.selectFrom('conversations').selectAll().where('id', '=', stop.conversationId).executeTakeFirstOrThrow();
    expect(conversation).toMatchObject({ status: 'resolved', routing_state: null });
    expect(await consentOf(kit.own.mx.id, customer)).toEqual({ status: 'opted_out', keyword: 'STOP' });
    expect(await eventsOf(stop.conversationId)).toEqual([{ type: 'consent.opted_out', data: { inboxId: kit.own.mx.id, handle: customer, keyword: 'STOP', messageId: stop.id } }]);
    const [reply] = await kit.keywordReplies(stop.conversationId);
    expect(reply).toMatchObject({ status: 'sent', content: expect.stringMatching(/^SMS A: You are unsubscribed/) });
    expect(kit.fake.sendsTo(customer).map((s) => s.fields.From)).toEqual([OWN.mx]);

    const before = await messageCount(stop.conversationId);
    const agent = await kit.api('POST', `/conversations/${stop.conversationId}/messages`, { content: 'Can I help?' });
    expect(agent.status).toBe(422);
    expect(agent.body.error).toMatchObject({ code: 'PARLEY_ERR_OPTED_OUT', message: expect.stringContaining(customer) });
    const api = await kit.api('POST', '/outbound-messages', { inboxId: kit.own.mx.id, to: customer, text: 'Promo!' });
    expect(api.status).toBe(422);
    expect(api.body.error.code).toBe('PARLEY_ERR_OPTED_OUT');
    expect(await messageCount(stop.conversationId)).toBe(before);
    // Private notes are never blocked.
    expect((await kit.api('POST', `/conversations/${stop.conversationId}/messages`, { content: 'opted out, do not chase', private: true })).status).toBe(201);

    const policy = await kit.api('GET', `/conversations/${stop.conversationId}/send-policy`);
    expect(policy.body).toMatchObject({ canSend: false, freeText: false, reason: 'opted_out', message: expect.stringContaining(OWN.mx) });

    // Consent is per sending number: the second number of the tenant still reaches the customer.
    const other = await kit.api('POST', '/outbound-messages', { inboxId: kit.own.mx2.id, to: customer, text: 'Your order shipped.' });
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    expect((await waitForStatus(kit.t, other.body.message.id, ['sent', 'failed'])).status).toBe('sent');

    // START opts back in, confirmed, and replies go again.
    const start = await kit.text(kit.own.mx, customer, 'start');
    expect(start.conversationId).toBe(stop.conversationId);
    expect(await consentOf(kit.own.mx.id, customer)).toEqual({ status: 'opted_in', keyword: 'START' });
    expect((await eventsOf(stop.conversationId)).map((e) => e.type)).toEqual(['consent.opted_out', 'consent.opted_in']);
    expect((await kit.keywordReplies(stop.conversationId)).map((r) => r.content)).toEqual([expect.stringMatching(/^SMS A: You are unsubscribed/), expect.stringMatching(/^SMS A: You are subscribed again/)]);
    const again = await kit.api('POST', `/conversations/${stop.conversationId}/messages`, { content: 'Welcome back' });
    expect(again.status).toBe(201);
    expect((await waitForStatus(kit.t, again.body.id, ['sent', 'failed'])).status).toBe('sent');
  });

  it('BAJA, SAIR, VOLTAR and the shared CANCELAR answer in Spanish or Portuguese by keyword and number; HELP and AYUDA explain without changing consent', async () => {
    const cases = [
      { inbox: kit.own.mx, from: '+5215587650002', text: 'baja', status: 'opted_out', reply: /^SMS A: Cancelaste tu suscripción/ },
      { inbox: kit.own.br, from: '+5511987650003', text: 'SAIR', status: 'opted_out', reply: /^SMS A: Sua inscrição foi cancelada/ },
      { inbox: kit.own.br, from: '+5511987650004', text: 'Cancelar', status: 'opted_out', reply: /^SMS A: Sua inscrição foi cancelada/ },
      { inbox: kit.own.mx, from: '+5215587650005', text: 'CANCELAR', status: 'opted_out', reply: /^SMS A: Cancelaste/ },
      { inbox: kit.own.mx, from: '+5215587650006', text: 'Ayuda', status: undefined, reply: /^SMS A: Responde BAJA/ },
      { inbox: kit.own.mx, from: '+14155550106', text: 'HELP', status: undefined, reply: /^SMS A: Reply STOP/ },
      { inbox: kit.own.br, from: '+5511987650007', text: 'AJUDA', status: undefined, reply: /^SMS A: Responda SAIR/ },
      { inbox: kit.own.br, from: '+5511987650012', text: 'voltar', status: 'opted_in', reply: /^SMS A: Você voltou/ },
    ];
    for (const c of cases) {
      const stored = await kit.text(c.inbox, c.from, c.text);
      expect((await consentOf(c.inbox.id, c.from))?.status, c.text).toBe(c.status);
      const replies = await kit.keywordReplies(stored.conversationId);
      expect(replies, c.text).toHaveLength(1);
      expect(replies[0]!.content, c.text).toMatch(c.reply);
      expect(kit.fake.sendsTo(c.from)).toHaveLength(1);
    }
  });

  it('a redelivered STOP is stored once and confirmed once; a sentence with "stop" in it is a message for an agent', async () => {
    const customer = '+5215587650008';
    const first = await kit.text(kit.own.mx, customer, 'STOP', 'SMredelivered1');
    const second = await kit.text(kit.own.mx, customer, 'STOP', 'SMredelivered1');
    expect(second).toEqual(first);
    expect(await kit.keywordReplies(first.conversationId)).toHaveLength(1);
    expect(await eventsOf(first.conversationId)).toHaveLength(1);

    const talker = '+5215587650009';
    const sentence = await kit.text(kit.own.mx, talker, 'please stop calling me at work');
    expect(await consentOf(kit.own.mx.id, talker)).toBeUndefined();
    expect(await kit.keywordReplies(sentence.conversationId)).toEqual([]);
    const conversation = await kit.t.db.selectFrom('conversations').select(['status', 'routing_state']).where('id', '=', sentence.conversationId).executeTakeFirstOrThrow();
    expect(conversation.status).toBe('open');
    expect(conversation.routing_state).not.toBeNull();
  });

  it('a reply queued before the customer opted out is failed by the send job with the reason, and never reaches the provider', async () => {
    const customer = '+5215587650010';
    const hello = await kit.text(kit.own.mx, customer, 'hola, tengo una pregunta');
    await kit.t.parley.worker.stop();
    try {
      const queued = await kit.api('POST', `/conversations/${hello.conversationId}/messages`, { content: 'Claro, dime' });
      expect(queued.body.status).toBe('queued');
      // A supervisor records the opt-out the customer asked for by phone, while the reply waits.
      const contact = await kit.t.db.selectFrom('conversations').select('contact_id').where('id', '=', hello.conversationId).executeTakeFirstOrThrow();
      const put = await kit.api('PUT', `/contacts/${contact.contact_id}/consents/${kit.own.mx.id}`, { status: 'opted_out' });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      expect(put.body).toMatchObject({ inboxId: kit.own.mx.id, handle: customer, status: 'opted_out', keyword: null });
      await kit.t.parley.worker.runOnce();
      const row = await kit.t.db.selectFrom('messages').select(['status', 'error']).where('id', '=', queued.body.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ status: 'failed', error: expect.stringContaining(`${customer} opted out`) });
      expect(kit.fake.sendsTo(customer)).toEqual([]);
      const events = await kit.t.db.selectFrom('conversation_events').select(['type', 'actor_type', 'data']).where('conversation_id', '=', hello.conversationId).where('type', 'like', 'consent.%').execute();
      expect(events).toEqual([{ type: 'consent.opted_out', actor_type: 'system', data: { inboxId: kit.own.mx.id, handle: customer, keyword: null, by: expect.stringContaining('API key') } }]);

      const listed = await kit.api('GET', `/contacts/${contact.contact_id}/consents`);
      expect(listed.body.items).toEqual([{ inboxId: kit.own.mx.id, handle: customer, status: 'opted_out', keyword: null, changedAt: expect.any(String) }]);
    } finally {
      kit.t.parley.worker.start();
    }
  });

  it("consents are the tenant's own: tenant B cannot read or change A's; a status other than opted_in/opted_out is 400", async () => {
    const customer = '+5215587650011';
    const stop = await kit.text(kit.own.mx, customer, 'STOP');
    const { contact_id } = await kit.t.db.selectFrom('conversations').select('contact_id').where('id', '=', stop.conversationId).executeTakeFirstOrThrow();
    expect((await kit.api('GET', `/contacts/${contact_id}/consents`, undefined, kit.b)).status).toBe(404);
    expect((await kit.api('PUT', `/contacts/${contact_id}/consents/${kit.own.mx.id}`, { status: 'opted_in' }, kit.b)).status).toBe(404);
    expect((await kit.api('GET', `/conversations/${stop.conversationId}/send-policy`, undefined, kit.b)).status).toBe(404);
    expect((await kit.api('POST', '/outbound-messages', { inboxId: kit.own.mx.id, to: customer, text: 'x' }, kit.b)).status).toBe(404);
    expect(await consentOf(kit.own.mx.id, customer)).toEqual({ status: 'opted_out', keyword: 'STOP' });
    expect((await kit.api('PUT', `/contacts/${contact_id}/consents/${kit.own.mx.id}`, { status: 'maybe' })).status).toBe(400);
  });
});
