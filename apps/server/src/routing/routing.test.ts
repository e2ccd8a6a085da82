import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestParley, type TestParley } from '../../test/test-parley.ts';
import { RoutingKit, offerFrame, offerOf } from '../../test/routing-kit.ts';
import { startOfLocalDay } from '@parley/routing';
import type { TestSocket } from '../../test/sockets.ts';

// Web chat through the routing engine (issue 3): offers, accept/decline/timeout, capacity under
// concurrent arrivals, skills, agent state, pick/transfer/force-assign, wallboard, bad input.

let t: TestParley;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  t = await startTestParley({ config: { workers: false } });
}, 120_000);
afterAll(async () => {
  for (const s of sockets) s.close();
  await t?.stop();
});

async function kitWithAgents(names: string[]) {
  const kit = await RoutingKit.create(t);
  // The admin takes no chats in these tests: only the named agents do.
  await kit.ok('PATCH', '/routing/me/state', kit.admin.auth, { state: 'offline' });
  const agents = [];
  for (const name of names) agents.push(await kit.invite(name));
  return { kit, agents };
}

async function online(kit: RoutingKit, person: Parameters<RoutingKit['online']>[0]) {
  const s = await kit.online(person);
  sockets.push(s);
  return s;
}

describe('offers', () => {
  it('a chat is offered to the available agent, who accepts it; accepting twice or by someone else is refused', async () => {
    const { kit, agents } = await kitWithAgents(['Ana', 'Bo']);
    const [ana, bo] = agents as [typeof kit.admin, typeof kit.admin];
    const anaSocket = await online(kit, ana);
    const c = await kit.visitor('Vera');
    const offer = offerOf(await anaSocket.next(offerFrame(c.id, ana.id)));
    expect(offer).toMatchObject({ conversationId: c.id, agentId: ana.id, status: 'open' });
    expect(Date.parse(offer.expiresAt)).toBeGreaterThan(Date.now());
    // Still unassigned while offered.
    expect((await kit.ok('GET', `/conversations/${c.id}`, kit.key)).assigneeId).toBeNull();
    expect(await kit.ok('GET', `/conversations/${c.id}/routing`, kit.key)).toMatchObject({ state: 'offered', offer: { id: offer.id } });
    expect((await kit.ok('GET', '/routing/offers', ana.auth)).items.map((o: { id: string }) => o.id)).toEqual([offer.id]);

    const byBo = await kit.api('POST', `/routing/offers/${offer.id}/accept`, bo.auth);
    expect(byBo.status).toBe(403);
    expect(byBo.body.error.code).toBe('PARLEY_ERR_ROUTING_NOT_OFFERED_TO_AGENT');

    const accepted = await kit.ok('POST', `/routing/offers/${offer.id}/accept`, ana.auth);
    expect(accepted.offer.status).toBe('accepted');
    expect(accepted.conversation.assigneeId).toBe(ana.id);
    await anaSocket.next((f) => f.event?.type === 'routing.offer_closed' && (f.event.data as { reason: string }).reason === 'accepted');
    await anaSocket.next((f) => f.event?.type === 'conversation.updated' && (f.event.data as { id: string; assigneeId: string }).assigneeId === ana.id);

    const again = await kit.api('POST', `/routing/offers/${offer.id}/accept`, ana.auth);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('PARLEY_ERR_ROUTING_ALREADY_ACCEPTED');
    const unknown = await kit.api('POST', '/routing/offers/nope~1/accept', ana.auth);
    expect(unknown.status).toBe(404);

    const history = (await kit.history(c.id)).map((e) => e.type);
    expect(history).toEqual(expect.arrayContaining(['created', 'offered', 'assigned']));
    const assigned = (await kit.history(c.id)).find((e) => e.type === 'assigned')!;
    expect(assigned).toMatchObject({ actorId: ana.id, data: { to: ana.id, via: 'accept' } });

    // Resolving frees Ana's slot.
    expect((await kit.ok('GET', `/routing/agents/${ana.id}`, kit.key)).load).toEqual({ chat: 1 });
    await kit.ok('PATCH', `/conversations/${c.id}`, ana.auth, { status: 'resolved' });
    expect((await kit.ok('GET', `/routing/agents/${ana.id}`, kit.key)).load.chat ?? 0).toBe(0);
  });

  it("an offer's closing is announced with the offer as stored, whether this node's engine made it or the engine was reloaded since", async () => {
    const { kit, agents } = await kitWithAgents(['Flo']);
    const flo = agents[0]!;
    const floSocket = await online(kit, flo);
    const closedAsStored = async (conversationId: string) => {
      const offer = offerOf(await floSocket.next(offerFrame(conversationId, flo.id)));
      await kit.ok('POST', `/routing/offers/${offer.id}/accept`, flo.auth);
      const closed = await floSocket.next((f) => f.event?.type === 'routing.offer_closed' && (f.event.data as { offer: { id: string } | null }).offer?.id === offer.id);
      const row = await t.db.selectFrom('routing_offers').selectAll().where('id', '=', offer.id).executeTakeFirstOrThrow();
      expect((closed.event!.data as { offer: unknown }).offer).toEqual({
        id: row.id, conversationId: row.conversation_id, agentId: row.agent_id, queueId: row.queue_id, channel: row.channel, status: 'accepted',
        createdAt: row.created_at.toISOString(), expiresAt: row.expires_at.toISOString(), closedAt: row.closed_at!.toISOString(),
      });
    };
    // Made by this node's engine: the event is built from the row it inserted.
    await closedAsStored((await kit.visitor('Gus')).id);
    // As if another node had changed the routing state: the engine is reloaded and the row read back.
    await t.db.updateTable('routing_state').set({ token: 'changed-elsewhere' }).where('tenant_id', '=', kit.tenant.tenantId).execute();
    const c2 = await kit.visitor('Hal');
    await t.db.updateTable('routing_state').set({ token: 'changed-elsewhere-again' }).where('tenant_id', '=', kit.tenant.tenantId).execute();
    await closedAsStored(c2.id);
  });

  it('an offer made and withdrawn by the same routing work is stored closed, and its closing is announced with the offer', async () => {
    const { kit, agents } = await kitWithAgents(['Ez']);
    const ez = agents[0]!;
    const ezSocket = await online(kit, ez);
    await kit.ok('PATCH', '/routing/me/state', ez.auth, { state: 'away' });
    const c = await kit.visitor('Wen');
    expect(await kit.ok('GET', `/conversations/${c.id}/routing`, kit.key)).toMatchObject({ state: 'waiting' });
    // One transaction: Ez comes back (the waiting chat is offered) and leaves again (the offer is revoked) before anything is written.
    await t.parley.deps.routing.run(kit.tenant.tenantId, async (tx) => {
      await tx.apply({ type: 'agentStateChange', agentId: ez.id, presence: 'available' });
      await tx.apply({ type: 'agentStateChange', agentId: ez.id, presence: 'away' });
    });
    const offer = offerOf(await ezSocket.next(offerFrame(c.id, ez.id)));
    const closed = await ezSocket.next((f) => f.event?.type === 'routing.offer_closed');
    expect(closed.event!.data).toMatchObject({ reason: 'revoked', offer: { id: offer.id, conversationId: c.id, agentId: ez.id, status: 'revoked' } });
    const rows = await t.db.selectFrom('routing_offers').select(['id', 'status', 'closed_at']).where('conversation_id', '=', c.id).execute();
    expect(rows).toEqual([{ id: offer.id, status: 'revoked', closed_at: expect.any(Date) }]);
    expect(await kit.ok('GET', `/conversations/${c.id}/routing`, kit.key)).toMatchObject({ state: 'waiting' });
  });

  it('a declined offer goes to the next agent; a timed-out one too, and the silent agent is set away', async () => {
    const { kit, agents } = await kitWithAgents(['Cy', 'Di']);
    const [cy, di] = agents as [typeof kit.admin, typeof kit.admin];
    await kit.patchQueue(kit.defaultQueue, { offerTimeoutSeconds: 1, setAwayOnOfferTimeout: true, declineCooldownSeconds: 60 });
    const cySocket = await online(kit, cy);
    const c = await kit.visitor('Wes');
    const first = offerOf(await cySocket.next(offerFrame(c.id)));
    expect(first.agentId).toBe(cy.id);
    const diSocket = await online(kit, di);
    const declined = await kit.ok('POST', `/routing/offers/${first.id}/decline`, cy.auth);
    expect(declined.offer.status).toBe('declined');
    const second = offerOf(await diSocket.next(offerFrame(c.id, di.id)));
    // Di lets it time out (1 s): it returns to the queue, Di is set away, and Cy (cooling down after
    // the decline) is not offered it again within the cooldown.
    const closed = await diSocket.next((f) => f.event?.type === 'routing.offer_closed' && (f.event.data as { offer: { id: string } }).offer.id === second.id, 5_000);
    expect((closed.event!.data as { reason: string }).reason).toBe('expired');
    await diSocket.next((f) => f.event?.type === 'agent.state_changed' && (f.event.data as { agentId: string; state: string }).agentId === di.id && (f.event.data as { state: string }).state === 'away');
    const late = await kit.api('POST', `/routing/offers/${second.id}/accept`, di.auth);
    expect([409, 410]).toContain(late.status);
    expect(late.body.error.code).toMatch(/PARLEY_ERR_ROUTING_(OFFER_EXPIRED|OFFER_CLOSED)/);
    const types = (await kit.history(c.id)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['offered', 'offer_declined', 'offer_expired']));
    expect(types.filter((x) => x === 'offered')).toHaveLength(2);
    expect((await kit.ok('GET', `/conversations/${c.id}/routing`, kit.key)).state).toBe('waiting');
    // The state change is recorded with its cause, for reports.
    const rows = await t.db.selectFrom('agent_state_events').selectAll().where('tenant_id', '=', kit.tenant.tenantId).where('user_id', '=', di.id).execute();
    expect(rows.map((r) => [r.to_state, r.cause])).toContainEqual(['away', 'offer-timeout']);
    // Di comes back: the conversation is offered to Di again (the timeout exclusion has passed? no — 60 s); Cy is still cooling down, so nobody gets it yet.
    expect((await kit.ok('GET', '/routing/offers?mine=false', kit.key)).items.filter((o: { conversationId: string }) => o.conversationId === c.id)).toEqual([]);
  });

  it("an agent's socket carries only their own offers; a supervisor's carries everyone's", async () => {
    const { kit, agents } = await kitWithAgents(['Ezra', 'Fay']);
    const [ezra, fay] = agents as [typeof kit.admin, typeof kit.admin];
    const boss = await kit.invite('Gus', 'supervisor');
    await kit.ok('PATCH', '/routing/me/state', boss.auth, { state: 'offline' });
    await kit.setProfile(ezra, {}, { chat: 1 });
    await kit.setProfile(fay, {}, { chat: 1 });
    const [ezraSocket, faySocket, bossSocket] = [await online(kit, ezra), await online(kit, fay), await online(kit, boss)];
    await kit.ok('PATCH', '/routing/me/state', boss.auth, { state: 'offline' });
    const one = await kit.visitor('Hal');
    const two = await kit.visitor('Ivy');
    const offers = [offerOf(await ezraSocket.next((f) => f.event?.type === 'routing.offer')), offerOf(await faySocket.next((f) => f.event?.type === 'routing.offer'))];
    expect(offers.map((o) => o.agentId)).toEqual([ezra.id, fay.id]);
    for (const o of offers) await bossSocket.next(offerFrame(o.conversationId, o.agentId));
    // A later event reaches both agents after everything before it (events go out in order): no offer of the other's came.
    const three = await kit.visitor('Jon');
    for (const s of [ezraSocket, faySocket]) await s.next((f) => f.event?.type === 'conversation.created' && (f.event.data as { id: string }).id === three.id);
    expect(offers.map((o) => o.conversationId).sort()).toEqual([one.id, two.id].sort());
    expect(ezraSocket.events('routing.offer').map((f) => offerOf(f).agentId)).toEqual([ezra.id]);
    expect(faySocket.events('routing.offer').map((f) => offerOf(f).agentId)).toEqual([fay.id]);
  });

  it('auto-accept assigns at once without an offer', async () => {
    const { kit, agents } = await kitWithAgents(['Eli']);
    const [eli] = agents as [typeof kit.admin];
    await kit.patchQueue(kit.defaultQueue, { autoAccept: { chat: true } });
    const s = await online(kit, eli);
    const c = await kit.visitor('Xia');
    await s.next((f) => f.event?.type === 'conversation.updated' && (f.event.data as { id: string; assigneeId: string }).id === c.id && (f.event.data as { assigneeId: string }).assigneeId === eli.id);
    expect(s.events('routing.offer')).toHaveLength(0);
    expect((await kit.history(c.id)).find((e) => e.type === 'assigned')!.data.via).toBe('auto-accept');
  });
});

describe('capacity and skills', () => {
  it('never offers an agent more than their capacity, also under concurrent arrivals', async () => {
    const { kit, agents } = await kitWithAgents(['Fay', 'Gus']);
    const [fay, gus] = agents as [typeof kit.admin, typeof kit.admin];
    await kit.setProfile(fay, {}, { chat: 2 });
    await kit.setProfile(gus, {}, { chat: 1 });
    await online(kit, fay);
    await online(kit, gus);
    const conversations = await Promise.all(Array.from({ length: 12 }, (_, i) => kit.visitor(`Crowd ${i}`)));
    await kit.until(async () => (await kit.ok('GET', '/routing/offers?mine=false', kit.key)).items.length === 3, 'three offers');
    const open = (await kit.ok('GET', '/routing/offers?mine=false', kit.key)).items as { agentId: string; conversationId: string }[];
    expect(open.filter((o) => o.agentId === fay.id)).toHaveLength(2);
    expect(open.filter((o) => o.agentId === gus.id)).toHaveLength(1);
    expect(new Set(open.map((o) => o.conversationId)).size).toBe(3);
    const board = await kit.ok('GET', '/routing/wallboard', kit.key);
    const q = board.queues.find((x: { id: string }) => x.id === kit.defaultQueue);
    expect(q).toMatchObject({ waiting: conversations.length - 3, offered: 3 });
    // Every offer ever made: never two open at once for one conversation (a unique index holds it too).
    const rows = await t.db.selectFrom('routing_offers').select(['conversation_id', 'status']).where('tenant_id', '=', kit.tenant.tenantId).execute();
    expect(rows.filter((r) => r.status === 'open')).toHaveLength(3);
  });

  it('offers only to agents with the required skill level; a skill nobody has gives an event saying why', async () => {
    const { kit, agents } = await kitWithAgents(['Hal', 'Ivy']);
    const [hal, ivy] = agents as [typeof kit.admin, typeof kit.admin];
    await kit.setProfile(hal, { spanish: 2 }, { chat: 3 });
    await kit.setProfile(ivy, { spanish: 4 }, { chat: 3 });
    const queue = await kit.ok('POST', '/routing/queues', kit.key, { name: 'Spanish', members: [hal.id, ivy.id], requiredSkills: [{ skill: 'spanish', minLevel: 3 }] }, 201);
    const spanishInbox = await kit.ok('POST', '/inboxes', kit.key, { name: 'ES', channelType: 'webchat', settings: { prechat: { enabled: false, fields: [] } } }, 201);
    await kit.api('PUT', `/routing/inboxes/${spanishInbox.id}/queue`, kit.key, { queueId: queue.id });
    const halSocket = await online(kit, hal);
    const ivySocket = await online(kit, ivy);
    const c = await kit.visitor('Juan', 'hola', spanishInbox.publicId);
    const offer = offerOf(await ivySocket.next(offerFrame(c.id)));
    expect(offer.agentId).toBe(ivy.id);
    expect(halSocket.events('routing.offer').filter((f) => offerOf(f).agentId === hal.id)).toHaveLength(0);

    const klingon = await kit.ok('POST', '/routing/queues', kit.key, { name: 'Klingon', members: [hal.id], requiredSkills: [{ skill: 'klingon', minLevel: 1 }] }, 201);
    await kit.api('PUT', `/routing/inboxes/${spanishInbox.id}/queue`, kit.key, { queueId: klingon.id });
    const k = await kit.visitor('Worf', 'nuqneH', spanishInbox.publicId);
    await kit.until(async () => (await kit.history(k.id)).some((e) => e.type === 'unroutable'), 'unroutable event');
    expect((await kit.history(k.id)).find((e) => e.type === 'unroutable')!.data).toMatchObject({ reason: 'no-agent-with-required-skills', queueId: klingon.id });
    expect((await kit.ok('GET', `/conversations/${k.id}/routing`, kit.key)).state).toBe('waiting');
  });
});

describe('agent state', () => {
  it('an agent who is away gets nothing; coming back available gets the waiting chat; the change is an event', async () => {
    const { kit, agents } = await kitWithAgents(['Jo']);
    const [jo] = agents as [typeof kit.admin];
    const s = await online(kit, jo);
    const away = await kit.ok('PATCH', '/routing/me/state', jo.auth, { state: 'not-ready', reason: 'lunch' });
    expect(away).toMatchObject({ state: 'not-ready', reason: 'lunch', connected: true });
    await s.next((f) => f.event?.type === 'agent.state_changed' && (f.event.data as { state: string }).state === 'not-ready');
    const c = await kit.visitor('Kim');
    await kit.until(async () => (await kit.history(c.id)).some((e) => e.type === 'queued'), 'queued');
    expect(s.events('routing.offer')).toHaveLength(0);
    await kit.ok('PATCH', '/routing/me/state', jo.auth, { state: 'available' });
    expect(offerOf(await s.next(offerFrame(c.id))).agentId).toBe(jo.id);
    const me = await kit.ok('GET', '/routing/me', jo.auth);
    expect(me).toMatchObject({ userId: jo.id, state: 'available', load: { chat: 1 } });
    expect(me.offers).toHaveLength(1);
    const bad = await kit.api('PATCH', '/routing/me/state', jo.auth, { state: 'wrap-up' });
    expect(bad.status).toBe(400);
    const byKey = await kit.api('PATCH', '/routing/me/state', kit.key, { state: 'away' });
    expect(byKey.status).toBe(400);
  });
});

describe('priority set by people', () => {
  it('labelling waiting work "urgent" (a priority rule) or raising its priority moves it ahead of work that waited longer', async () => {
    const { kit, agents } = await kitWithAgents(['Pia']);
    const [pia] = agents as [typeof kit.admin];
    await kit.patchQueue(kit.defaultQueue, { priorityWeightSeconds: 60, priorityRules: [{ id: 'urgent', when: { label: 'urgent' }, raiseBy: 5 }] });
    const s = await online(kit, pia);
    await kit.ok('PATCH', '/routing/me/state', pia.auth, { state: 'away' });
    const first = await kit.visitor('Uno');
    const second = await kit.visitor('Dos');
    const third = await kit.visitor('Tres');
    for (const c of [first, second, third]) await kit.until(async () => (await kit.history(c.id)).some((e) => e.type === 'queued'), 'queued');
    await kit.ok('PATCH', `/conversations/${third.id}`, kit.key, { labels: ['urgent'] });
    await kit.ok('PATCH', `/conversations/${second.id}`, kit.key, { priority: 2 });
    await kit.ok('PATCH', '/routing/me/state', pia.auth, { state: 'available' });
    const firstOffer = await s.next((f) => f.event?.type === 'routing.offer');
    // 'urgent' is worth 5 × 60 s of waiting; priority 2 is worth 120 s: third, then second, then first.
    const offered = [offerOf(firstOffer)];
    for (const next of [second, first]) {
      const previous = offered.at(-1)!;
      await kit.ok('POST', `/routing/offers/${previous.id}/accept`, pia.auth);
      await kit.ok('PATCH', `/conversations/${previous.conversationId}`, pia.auth, { status: 'resolved' });
      offered.push(offerOf(await s.next(offerFrame(next.id, pia.id))));
    }
    expect(offered.map((o) => o.conversationId)).toEqual([third.id, second.id, first.id]);
  });
});

describe('pick, transfer, force-assign', () => {
  it('an agent picks a waiting chat; transfers it to a queue and to an agent; a supervisor force-assigns', async () => {
    const { kit, agents } = await kitWithAgents(['Lu', 'Mo']);
    const [lu, mo] = agents as [typeof kit.admin, typeof kit.admin];
    // Lu is at the desk but busy (no offers): picking from the queue is Lu's own choice.
    await online(kit, lu);
    await kit.ok('PATCH', '/routing/me/state', lu.auth, { state: 'busy' });
    const c = await kit.visitor('Nia');
    await kit.until(async () => (await kit.history(c.id)).some((e) => e.type === 'queued'), 'queued');
    const picked = await kit.ok('POST', `/conversations/${c.id}/pick`, lu.auth);
    expect(picked.assigneeId).toBe(lu.id);
    const twice = await kit.api('POST', `/conversations/${c.id}/pick`, mo.auth);
    expect(twice.status).toBe(409);
    // Mo may not transfer Lu's conversation.
    expect((await kit.api('POST', `/conversations/${c.id}/transfer`, mo.auth, { agentId: mo.id })).status).toBe(403);
    const second = await kit.ok('POST', '/routing/queues', kit.key, { name: 'Second line', members: [mo.id] }, 201);
    const toQueue = await kit.ok('POST', `/conversations/${c.id}/transfer`, lu.auth, { queueId: second.id });
    expect(toQueue.assigneeId).toBeNull();
    expect(await kit.ok('GET', `/conversations/${c.id}/routing`, kit.key)).toMatchObject({ queueId: second.id, state: 'waiting' });
    const forced = await kit.ok('POST', `/conversations/${c.id}/force-assign`, kit.key, { agentId: mo.id });
    expect(forced.assigneeId).toBe(mo.id);
    expect((await kit.api('POST', `/conversations/${c.id}/force-assign`, mo.auth, { agentId: lu.id })).status).toBe(403);
    // A transfer to an agent is offered to them, reserved for them, and assigned when they accept.
    const toAgent = await kit.ok('POST', `/conversations/${c.id}/transfer`, mo.auth, { agentId: lu.id });
    expect(toAgent.assigneeId).toBeNull();
    const offer = (await kit.ok('GET', `/conversations/${c.id}/routing`, kit.key)).offer;
    expect(offer).toMatchObject({ agentId: lu.id, status: 'open' });
    expect((await kit.ok('POST', `/routing/offers/${offer.id}/accept`, lu.auth)).conversation.assigneeId).toBe(lu.id);
    const types = (await kit.history(c.id)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['assigned', 'transferred']));
    // Messages and history stay with the conversation.
    expect((await kit.ok('GET', `/conversations/${c.id}/messages`, kit.key)).items.map((m: { content: string }) => m.content)).toEqual(['hello']);
  });

  it('picking work offered to you accepts the offer; work offered to someone else cannot be picked', async () => {
    const { kit, agents } = await kitWithAgents(['Pia', 'Rui']);
    const [pia, rui] = agents as [typeof kit.admin, typeof kit.admin];
    const piaSocket = await online(kit, pia);
    await online(kit, rui);
    await kit.ok('PATCH', '/routing/me/state', rui.auth, { state: 'busy' });
    const c = await kit.visitor('Sol');
    const offer = offerOf(await piaSocket.next(offerFrame(c.id, pia.id)));
    const fromUnder = await kit.api('POST', `/conversations/${c.id}/pick`, rui.auth);
    expect(fromUnder.status, fromUnder.text).toBe(409);
    expect(fromUnder.body.error).toMatchObject({ code: 'PARLEY_ERR_ROUTING_ITEM_NOT_WAITING', details: { state: 'offered' } });
    expect(await kit.ok('POST', `/conversations/${c.id}/pick`, pia.auth)).toMatchObject({ assigneeId: pia.id });
    expect(await kit.ok('GET', `/conversations/${c.id}/routing`, kit.key)).toMatchObject({ state: 'assigned', offer: null });
    const assigned = (await kit.history(c.id)).filter((e) => e.type === 'assigned');
    expect(assigned).toEqual([expect.objectContaining({ actorId: pia.id, data: expect.objectContaining({ to: pia.id, via: 'accept', offerId: offer.id }) })]);
  });
});

describe('assigning routed work by changing the conversation (PATCH)', () => {
  it('is routed: a pick for an agent taking it, a force-assign for a supervisor (also of work someone holds), with the same checks and one history event', async () => {
    const { kit, agents } = await kitWithAgents(['Ivo', 'Jo']);
    const [ivo, jo] = agents as [typeof kit.admin, typeof kit.admin];
    for (const a of [ivo, jo]) await kit.setProfile(a, {}, { chat: 1 });
    const ivoSocket = await online(kit, ivo);
    await kit.ok('PATCH', '/routing/me/state', ivo.auth, { state: 'busy' });
    const [first, second] = [await kit.visitor('Kai'), await kit.visitor('Lev')];
    for (const c of [first, second]) await kit.until(async () => (await kit.history(c.id)).some((e) => e.type === 'queued'), 'queued');
    const refused = async (who: typeof ivo | null, c: { id: string }, agentId: string, code: string) => {
      const r = await kit.api('PATCH', `/conversations/${c.id}`, who ? who.auth : kit.key, { assigneeId: agentId, labels: ['refused'] });
      expect(r.status, r.text).toBe(409);
      expect(r.body.error.code).toBe(code);
      // Nothing of the refused change is kept, not even its other fields.
      expect(await kit.ok('GET', `/conversations/${c.id}`, kit.key)).toMatchObject({ assigneeId: null, labels: [] });
    };
    const assignedEvents = async (c: { id: string }) => (await kit.history(c.id)).filter((e) => e.type === 'assigned');

    // Jo has not opened the app: taking queued work needs it open, as a pick does.
    await refused(jo, first, jo.id, 'PARLEY_ERR_ROUTING_AGENT_UNAVAILABLE');
    const taken = await kit.ok('PATCH', `/conversations/${first.id}`, ivo.auth, { assigneeId: ivo.id, labels: ['Billing'] });
    expect(taken).toMatchObject({ assigneeId: ivo.id, labels: ['billing'] });
    expect(await kit.ok('GET', `/conversations/${first.id}`, kit.key)).toEqual(taken);
    expect(await kit.ok('GET', `/conversations/${first.id}/routing`, kit.key)).toMatchObject({ state: 'assigned' });
    expect(await assignedEvents(first)).toEqual([expect.objectContaining({ actorId: ivo.id, data: expect.objectContaining({ from: null, to: ivo.id, via: 'manual-pick' }) })]);
    await ivoSocket.next((f) => f.event?.type === 'conversation.updated' && f.event.data.id === first.id && f.event.data.assigneeId === ivo.id);
    // It counts toward Ivo's capacity (one chat): neither Ivo nor a supervisor can give Ivo a second.
    expect((await kit.ok('GET', `/routing/agents/${ivo.id}`, kit.key)).load).toMatchObject({ chat: 1 });
    await refused(ivo, second, ivo.id, 'PARLEY_ERR_ROUTING_NO_CAPACITY');
    await refused(null, second, ivo.id, 'PARLEY_ERR_ROUTING_NO_CAPACITY');

    // Jo opens the app and is offered the second chat: Ivo cannot take it from under the offer; Jo taking it accepts it.
    const joSocket = await online(kit, jo);
    const offer = offerOf(await joSocket.next(offerFrame(second.id, jo.id)));
    await kit.ok('PATCH', `/conversations/${first.id}`, ivo.auth, { status: 'resolved' });
    await refused(ivo, second, ivo.id, 'PARLEY_ERR_ROUTING_ITEM_NOT_WAITING');
    expect(await kit.ok('PATCH', `/conversations/${second.id}`, jo.auth, { assigneeId: jo.id })).toMatchObject({ assigneeId: jo.id });
    expect(await kit.ok('GET', `/conversations/${second.id}/routing`, kit.key)).toMatchObject({ state: 'assigned', offer: null });
    const closed = await joSocket.next((f) => f.event?.type === 'routing.offer_closed' && (f.event.data as { offer: { id: string } | null }).offer?.id === offer.id);
    expect(closed.event!.data).toMatchObject({ reason: 'accepted', offer: { status: 'accepted' } });
    expect(await assignedEvents(second)).toEqual([expect.objectContaining({ actorId: jo.id, data: expect.objectContaining({ to: jo.id, via: 'accept', offerId: offer.id }) })]);

    // A supervisor's assignment of waiting work is a force-assign (Ivo has room again).
    const third = await kit.visitor('Mia');
    await kit.until(async () => (await kit.history(third.id)).some((e) => e.type === 'queued'), 'queued');
    expect(await kit.ok('PATCH', `/conversations/${third.id}`, kit.key, { assigneeId: ivo.id })).toMatchObject({ assigneeId: ivo.id });
    expect(await assignedEvents(third)).toEqual([expect.objectContaining({ data: expect.objectContaining({ to: ivo.id, via: 'force-assign' }) })]);
    expect((await kit.ok('GET', `/routing/agents/${ivo.id}`, kit.key)).load).toMatchObject({ chat: 1 });

    // Re-assigning work someone holds is a force-assign too: not onto Jo while Jo is full; once Jo
    // has room, Ivo's room comes back and the load moves with the conversation.
    const reassign = await kit.api('PATCH', `/conversations/${third.id}`, kit.key, { assigneeId: jo.id });
    expect(reassign.status, reassign.text).toBe(409);
    expect(reassign.body.error.code).toBe('PARLEY_ERR_ROUTING_NO_CAPACITY');
    await kit.ok('PATCH', `/conversations/${second.id}`, jo.auth, { status: 'resolved' });
    expect(await kit.ok('PATCH', `/conversations/${third.id}`, kit.key, { assigneeId: jo.id })).toMatchObject({ assigneeId: jo.id });
    expect(await kit.ok('GET', `/conversations/${third.id}/routing`, kit.key)).toMatchObject({ state: 'assigned' });
    expect((await kit.ok('GET', `/routing/agents/${ivo.id}`, kit.key)).load.chat ?? 0).toBe(0);
    expect((await kit.ok('GET', `/routing/agents/${jo.id}`, kit.key)).load).toMatchObject({ chat: 1 });
    expect((await assignedEvents(third)).at(-1)).toMatchObject({ data: { from: ivo.id, to: jo.id, via: 'force-assign' } });
  });
});

describe('admin and bad input', () => {
  it('validates queues and profiles with clear errors', async () => {
    const { kit, agents } = await kitWithAgents(['Ned']);
    const [ned] = agents as [typeof kit.admin];
    const negative = await kit.api('PUT', `/routing/agents/${ned.id}/profile`, kit.key, { skills: {}, capacity: { chat: -1 } });
    expect(negative.status).toBe(400);
    const level = await kit.api('PUT', `/routing/agents/${ned.id}/profile`, kit.key, { skills: { french: 9 }, capacity: { chat: 1 } });
    expect(level.status).toBe(400);
    const unknownUser = await kit.api('PUT', '/routing/agents/usr_nobody/profile', kit.key, { skills: {}, capacity: { chat: 1 } });
    expect(unknownUser.status).toBe(404);
    const overlapping = await kit.api('POST', '/routing/queues', kit.key, {
      name: 'Odd hours',
      businessHours: { timeZone: 'America/Mexico_City', weekly: { mon: [{ start: '09:00', end: '13:00' }, { start: '12:00', end: '18:00' }] } },
    });
    expect(overlapping.status).toBe(400);
    expect(overlapping.body.error.code).toBe('PARLEY_ERR_ROUTING_INVALID_BUSINESS_HOURS');
    const badZone = await kit.api('POST', '/routing/queues', kit.key, { name: 'Nowhere', businessHours: { timeZone: 'Mars/Olympus', weekly: { mon: [{ start: '09:00', end: '17:00' }] } } });
    expect(badZone.status).toBe(400);
    const strangers = await kit.api('POST', '/routing/queues', kit.key, { name: 'Strangers', members: ['usr_nobody'] });
    expect(strangers.status).toBe(400);
    const overflowNowhere = await kit.api('POST', '/routing/queues', kit.key, { name: 'Lost', maxWait: { seconds: 60, action: { kind: 'overflow', queueId: 'que_nowhere' } } });
    expect(overflowNowhere.status).toBeGreaterThanOrEqual(400);
    expect(overflowNowhere.status).toBeLessThan(500);
    // An agent may not edit queues or profiles.
    expect((await kit.api('POST', '/routing/queues', ned.auth, { name: 'Mine' })).status).toBe(403);
    expect((await kit.api('PUT', `/routing/agents/${ned.id}/profile`, ned.auth, { skills: {}, capacity: { chat: 9 } })).status).toBe(403);
    expect((await kit.api('GET', '/routing/wallboard', ned.auth)).status).toBe(403);
    // Nothing half-made: the refused queues do not exist.
    expect((await kit.ok('GET', '/routing/queues', kit.key)).items.map((q: { name: string }) => q.name)).toEqual(['Default']);
  });

  it('deletes a queue only when nothing is in it or points at it', async () => {
    const { kit } = await kitWithAgents([]);
    const spare = await kit.ok('POST', '/routing/queues', kit.key, { name: 'Spare' }, 201);
    const busy = await kit.ok('POST', '/routing/queues', kit.key, { name: 'Busy' }, 201);
    const pointing = await kit.ok('POST', '/routing/queues', kit.key, { name: 'Pointing', maxWait: { seconds: 600, action: { kind: 'overflow', queueId: spare.id } } }, 201);
    expect((await kit.api('DELETE', `/routing/queues/${spare.id}`, kit.key)).status).toBe(409);
    expect((await kit.api('DELETE', `/routing/queues/${kit.defaultQueue}`, kit.key)).status).toBe(409);
    await kit.ok('PUT', `/routing/inboxes/${kit.inbox.id}/queue`, kit.key, { queueId: busy.id }, 204);
    expect((await kit.ok('GET', '/routing/inboxes', kit.key)).items).toEqual([{ inboxId: kit.inbox.id, name: 'Chat', channelType: 'webchat', queueId: busy.id }]);
    await kit.visitor('Pam');
    expect((await kit.api('DELETE', `/routing/queues/${busy.id}`, kit.key)).status).toBe(409);
    await kit.ok('DELETE', `/routing/queues/${pointing.id}`, kit.key, undefined, 204);
    await kit.ok('DELETE', `/routing/queues/${spare.id}`, kit.key, undefined, 204);
    expect((await kit.api('GET', `/routing/queues/${spare.id}`, kit.key)).status).toBe(404);
    expect((await kit.ok('GET', '/routing/queues', kit.key)).items.map((q: { name: string }) => q.name)).toEqual(['Default', 'Busy']);
    // The engine carries on without it: a new conversation still routes.
    const next = await kit.visitor('Quentin');
    await kit.until(async () => (await kit.ok('GET', `/conversations/${next.id}/routing`, kit.key)).state === 'waiting', 'waiting');
  });

  it('a queue with no members accepts conversations and says why nobody gets them', async () => {
    const { kit } = await kitWithAgents([]);
    const empty = await kit.ok('POST', '/routing/queues', kit.key, { name: 'Empty' }, 201);
    await kit.api('PUT', `/routing/inboxes/${kit.inbox.id}/queue`, kit.key, { queueId: empty.id });
    const c = await kit.visitor('Ola');
    await kit.until(async () => (await kit.history(c.id)).some((e) => e.type === 'unroutable'), 'unroutable');
    expect((await kit.history(c.id)).find((e) => e.type === 'unroutable')!.data.reason).toBe('no-queue-members');
  });

  it('a capacity below what the agent holds is refused', async () => {
    const { kit, agents } = await kitWithAgents(['Pat']);
    const [pat] = agents as [typeof kit.admin];
    await online(kit, pat);
    const c = await kit.visitor('Quo');
    await kit.until(async () => (await kit.ok('GET', `/conversations/${c.id}/routing`, kit.key)).state === 'offered', 'offered');
    const r = await kit.api('PUT', `/routing/agents/${pat.id}/profile`, kit.key, { skills: {}, capacity: { chat: 0 } });
    // Either refused, or the offer is revoked and the conversation waits again: never lost.
    if (r.status === 200) {
      await kit.until(async () => (await kit.ok('GET', `/conversations/${c.id}/routing`, kit.key)).state === 'waiting', 'requeued');
      expect((await kit.history(c.id)).map((e) => e.type)).toContain('offer_revoked');
    } else {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('PARLEY_ERR_ROUTING_CAPACITY_BELOW_LOAD');
    }
  });
});

describe('SLA clocks', () => {
  it('warns before and reports the breach of a first-response target on the conversation; escalation raises priority', async () => {
    const { kit } = await kitWithAgents([]);
    await kit.patchQueue(kit.defaultQueue, {
      sla: { id: 'fast', targets: [{ firstResponseSeconds: 2 }], warnBeforeSeconds: 1, onBreach: [{ kind: 'raise-priority', by: 3 }] },
    });
    const admin = await online(kit, kit.admin); // offline admin: connected, but takes nothing
    const c = await kit.visitor('Zed');
    await admin.next((f) => f.event?.type === 'routing.sla' && (f.event.data as { status: string }).status === 'warning', 5_000);
    await admin.next((f) => f.event?.type === 'routing.sla' && (f.event.data as { conversationId: string; status: string }).status === 'breached', 5_000);
    const routing = await kit.ok('GET', `/conversations/${c.id}/routing`, kit.key);
    expect(routing.sla).toEqual([expect.objectContaining({ clock: 'first-response', status: 'breached' })]);
    const types = (await kit.history(c.id)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['sla_warning', 'sla_breached', 'escalated']));
    await kit.until(async () => (await kit.ok('GET', `/conversations/${c.id}`, kit.key)).priority === 3, 'priority raised');
  });

  it('a customer writing after the agent answered starts the next-response clock (the batched message path tells routing)', async () => {
    const { kit, agents } = await kitWithAgents(['Noe']);
    const [noe] = agents as [typeof kit.admin];
    await kit.patchQueue(kit.defaultQueue, { sla: { id: 'next', targets: [{ nextResponseSeconds: 2 }], warnBeforeSeconds: 1 } });
    const s = await online(kit, noe);
    const c = await kit.visitor('Oli');
    const offer = offerOf(await s.next(offerFrame(c.id, noe.id)));
    await kit.ok('POST', `/routing/offers/${offer.id}/accept`, noe.auth);
    await kit.ok('POST', `/conversations/${c.id}/messages`, noe.auth, { content: 'Hi Oli, how can I help?' }, 201);
    await kit.ok('POST', '/widget/conversation/messages', { bearer: c.token }, { content: 'My order is late', clientMessageId: 'oli-2' }, 201);
    await s.next((f) => f.event?.type === 'routing.sla' && (f.event.data as { conversationId: string; clock: string }).conversationId === c.id && (f.event.data as { clock: string }).clock === 'next-response', 5_000);
    expect((await kit.history(c.id)).map((e) => e.type)).toContain('sla_warning');
  });
});

describe('wallboard', () => {
  it('counts waiting, offered, answered and abandoned today, service level and agents by state', async () => {
    const { kit, agents } = await kitWithAgents(['Rae']);
    const [rae] = agents as [typeof kit.admin];
    await kit.setProfile(rae, {}, { chat: 1 });
    const s = await online(kit, rae);
    const a = await kit.visitor('Sol');
    const b = await kit.visitor('Tam');
    const offer = offerOf(await s.next(offerFrame(a.id)));
    await kit.ok('POST', `/routing/offers/${offer.id}/accept`, rae.auth);
    // Tam gives up while waiting: resolved unanswered = abandoned.
    await kit.ok('PATCH', `/conversations/${b.id}`, kit.key, { status: 'resolved' });
    const board = await kit.ok('GET', '/routing/wallboard', kit.key);
    const q = board.queues.find((x: { id: string }) => x.id === kit.defaultQueue);
    expect(q).toMatchObject({
      name: 'Default',
      waiting: 0,
      offered: 0,
      today: { offered: 1, answered: 1, abandoned: 1, answeredWithinTarget: 1 },
      serviceLevelTargetSeconds: 20,
      serviceLevelPercent: 100,
    });
    expect(q.agentsByState.available).toBe(1);
    const agent = board.agents.find((x: { userId: string }) => x.userId === rae.id);
    expect(agent).toMatchObject({ state: 'available', connected: true, load: { chat: 1 }, capacity: { chat: 1 } });
    expect(agent.secondsInState).toBeGreaterThanOrEqual(0);
    const c = await kit.visitor('Uma');
    await kit.until(async () => (await kit.ok('GET', '/routing/wallboard', kit.key)).queues[0].waiting === 1, 'one waiting');
    const later = (await kit.ok('GET', '/routing/wallboard', kit.key)).queues[0];
    expect(later.longestWaitSeconds).toBeGreaterThanOrEqual(0);
    expect((await kit.ok('GET', `/conversations/${c.id}/routing`, kit.key)).state).toBe('waiting');
  });

  it('"today" starts at midnight in the tenant\'s time zone (or the queue\'s business hours zone), not in UTC', async () => {
    const { kit } = await kitWithAgents([]);
    const c = await kit.visitor('Yuki');
    const now = Date.now();
    const tokyoDay = startOfLocalDay('Asia/Tokyo', now);
    // Two offers of another conversation: one a minute before Tokyo's midnight, one after it.
    const at = [tokyoDay - 60_000, tokyoDay + Math.floor((now - tokyoDay) / 2)];
    await t.db
      .insertInto('conversation_events')
      .values(at.map((ms) => ({ tenant_id: kit.tenant.tenantId, conversation_id: c.id, type: 'offered', actor_type: 'system' as const, actor_id: null, data: JSON.stringify({ queueId: kit.defaultQueue }), created_at: new Date(ms) })))
      .execute();
    const offeredToday = async () => (await kit.ok('GET', '/routing/wallboard', kit.key)).queues.find((q: { id: string }) => q.id === kit.defaultQueue).today.offered;
    const bad = await kit.api('PATCH', '/tenant/settings', kit.key, { timeZone: 'Mars/Olympus_Mons' });
    expect(bad.status).toBe(400);
    expect((await kit.ok('PATCH', '/tenant/settings', kit.key, { timeZone: 'Asia/Tokyo' })).timeZone).toBe('Asia/Tokyo');
    expect(await offeredToday()).toBe(1);
    await kit.ok('PATCH', '/tenant/settings', kit.key, { timeZone: null });
    const utcDay = startOfLocalDay('UTC', now);
    expect(await offeredToday()).toBe(at.filter((ms) => ms >= utcDay).length);
    // A queue with business hours counts in their zone, whatever the tenant's.
    await kit.patchQueue(kit.defaultQueue, { businessHours: { timeZone: 'Asia/Tokyo', weekly: { mon: [{ start: '00:00', end: '23:59' }] } } });
    expect(await offeredToday()).toBe(1);
  });
});
