import { afterAll, describe, expect, it } from 'vitest';
import { startTestParley, startTwoNodes } from '../../test/test-parley.ts';
import { openTestDatabase } from '../../test/test-database.ts';
import { RoutingKit, offerFrame, offerOf } from '../../test/routing-kit.ts';
import type { TestSocket } from '../../test/sockets.ts';
import { RoutingService, snapshotInterval } from './routing.service.ts';

// Routing state lives in the database: a new server on the same database rebuilds each tenant's
// engine and carries on; two servers on one PostgreSQL take turns and never offer one
// conversation twice or push an agent over capacity (docs/decisions/0003-routing-serialization.md).

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

describe('restart', () => {
  it('a waiting conversation survives a restart and is offered by the new server', async () => {
    const database = await openTestDatabase();
    cleanup.push(() => database.close());
    const first = await startTestParley({ config: { workers: false }, database });
    const kit = await RoutingKit.create(first);
    await kit.ok('PATCH', '/routing/me/state', kit.admin.auth, { state: 'offline' });
    const agent = await kit.invite('Rita');
    await kit.setProfile(agent, { billing: 3 }, { chat: 2 });
    await kit.patchQueue(kit.defaultQueue, { offerTimeoutSeconds: 45 });
    const socket = await kit.online(agent);
    await kit.ok('PATCH', '/routing/me/state', agent.auth, { state: 'away' });
    const waiting = await kit.visitor('Sven');
    await kit.until(async () => (await kit.history(waiting.id)).some((e) => e.type === 'queued'), 'queued');
    socket.close();
    await first.stop();

    const second = await startTestParley({ config: { workers: false }, database });
    cleanup.push(() => second.stop());
    kit.t = second;
    // Settings, profile and the agent's state came back from the database.
    expect((await kit.ok('GET', `/routing/queues/${kit.defaultQueue}`, kit.key)).offerTimeoutSeconds).toBe(45);
    const rita = await kit.ok('GET', `/routing/agents/${agent.id}`, kit.key);
    expect(rita).toMatchObject({ state: 'away', skills: { billing: 3 }, capacity: { chat: 2 } });
    expect(await kit.ok('GET', `/conversations/${waiting.id}/routing`, kit.key)).toMatchObject({ state: 'waiting', queueId: kit.defaultQueue });

    const again = await kit.online(agent);
    cleanup.push(async () => again.close());
    await kit.ok('PATCH', '/routing/me/state', agent.auth, { state: 'available' });
    const offer = offerOf(await again.next(offerFrame(waiting.id, agent.id)));
    const accepted = await kit.ok('POST', `/routing/offers/${offer.id}/accept`, agent.auth);
    expect(accepted.conversation.assigneeId).toBe(agent.id);
    // A new arrival on the new server is offered too (one slot left).
    const next = await kit.visitor('Tove');
    expect(offerOf(await again.next(offerFrame(next.id, agent.id))).agentId).toBe(agent.id);
  });
});

describe('a node that dies', () => {
  it('takes its agent connections with it: once its lease runs out, an agent it held goes through the grace period to offline, and the work offered to them returns to the queue', async () => {
    const database = await openTestDatabase();
    cleanup.push(() => database.close());
    const routing = { pollMs: 200, nodeLeaseSeconds: 1, disconnectGraceSeconds: 1 };
    const survivor = await startTestParley({ config: { workers: false }, database, routing });
    cleanup.push(() => survivor.stop());
    const doomed = await startTestParley({ config: { workers: false }, database, routing });
    const kit = await RoutingKit.create(survivor);
    await kit.ok('PATCH', '/routing/me/state', kit.admin.auth, { state: 'offline' });
    const agent = await kit.invite('Uma');
    await kit.patchQueue(kit.defaultQueue, { offerTimeoutSeconds: 600 });
    // Uma's app is connected to the doomed node only.
    kit.t = doomed;
    const socket = await kit.online(agent);
    const c = await kit.visitor('Vic');
    expect(offerOf(await socket.next(offerFrame(c.id, agent.id))).agentId).toBe(agent.id);
    // The node dies without a word: no disconnect reaches routing, its lease is simply not renewed.
    const doomedRouting = doomed.parley.deps.routing;
    clearInterval(doomedRouting['lease']!.timer);
    await database.db.updateTable('routing_nodes').set({ alive_until: new Date(Date.now() + 500) }).where('node_id', '=', doomedRouting.nodeId).execute();
    kit.t = survivor;
    expect((await kit.ok('GET', `/routing/agents/${agent.id}`, kit.key)).connected).toBe(true);
    await kit.until(async () => (await kit.ok('GET', `/routing/agents/${agent.id}`, kit.key)).state === 'offline', 'agent offline', 15_000);
    await kit.until(async () => (await kit.ok('GET', `/conversations/${c.id}/routing`, kit.key)).state === 'waiting', 'offer back in the queue', 5_000);
    expect((await kit.history(c.id)).map((e) => e.type)).toEqual(expect.arrayContaining(['offered', 'offer_revoked', 'requeued']));
    socket.close();
    await doomed.stop().catch(() => undefined);
  });

  it('that was only late renewing its lease counts its agents again: they come back online and get work, and the other node no longer drops them', async () => {
    const database = await openTestDatabase();
    cleanup.push(() => database.close());
    const routing = { pollMs: 200, nodeLeaseSeconds: 1, disconnectGraceSeconds: 1 };
    const other = await startTestParley({ config: { workers: false }, database, routing });
    cleanup.push(() => other.stop());
    const late = await startTestParley({ config: { workers: false }, database, routing });
    cleanup.push(() => late.stop());
    const kit = await RoutingKit.create(other);
    await kit.ok('PATCH', '/routing/me/state', kit.admin.auth, { state: 'offline' });
    const agent = await kit.invite('Wen');
    kit.t = late;
    const socket = await kit.online(agent);
    cleanup.push(async () => socket.close());
    // The late node stops renewing (a stalled event loop, a database it could not reach) and its lease runs out.
    const lateRouting = late.parley.deps.routing;
    clearInterval(lateRouting['lease']!.timer);
    await database.db.updateTable('routing_nodes').set({ alive_until: new Date(Date.now() - 1) }).where('node_id', '=', lateRouting.nodeId).execute();
    kit.t = other;
    const wen = () => kit.ok('GET', `/routing/agents/${agent.id}`, kit.key);
    await kit.until(async () => (await wen()).state === 'offline', 'the other node dropped the connection and the grace period ended', 15_000);
    expect((await wen()).connected).toBe(false);

    // Its socket still open, the late node renews, finds the lease had run out, and counts Wen again.
    expect(await lateRouting.renewLease()).toBe(true);
    expect(await wen()).toMatchObject({ connected: true, state: 'available' });
    kit.t = late;
    const c = await kit.visitor('Xia');
    expect(offerOf(await socket.next(offerFrame(c.id, agent.id))).agentId).toBe(agent.id);
    // A renewal in time finds nothing to recount, and the other node's polls leave Wen connected.
    expect(await lateRouting.renewLease()).toBe(false);
    kit.t = other;
    await new Promise((r) => setTimeout(r, 600));
    expect((await wen()).connected).toBe(true);
  });
});

describe('stored state', () => {
  it('the snapshot plus the journal of routing events rebuilds exactly the engine that made the decisions', async () => {
    const t = await startTestParley({ config: { workers: false } });
    cleanup.push(() => t.stop());
    const kit = await RoutingKit.create(t);
    const agent = await kit.invite('Jo');
    await kit.setProfile(agent, { billing: 2 }, { chat: 2 });
    const socket = await kit.online(agent);
    cleanup.push(async () => socket.close());
    const first = await kit.visitor('Ana');
    const offer = offerOf(await socket.next(offerFrame(first.id, agent.id)));
    await kit.ok('POST', `/routing/offers/${offer.id}/accept`, agent.auth);
    const second = await kit.visitor('Bea');
    await socket.next(offerFrame(second.id, agent.id));
    await kit.visitor('Cai');
    await kit.ok('PATCH', `/conversations/${first.id}`, kit.key, { status: 'resolved' });

    const tenantId = kit.tenant.tenantId;
    // Everything after the first build went to the journal, not into whole snapshots.
    expect((await t.db.selectFrom('routing_journal').select('version').where('tenant_id', '=', tenantId).execute()).length).toBeGreaterThan(3);
    const live = (await t.parley.deps.routing.read(tenantId)).snapshot();
    // Another node (a fresh service on the same database) rebuilds it from the stored rows.
    const elsewhere = new RoutingService({ db: t.db, committer: t.parley.deps.committer, log: t.parley.deps.log, hub: t.parley.deps.hub });
    const rebuilt = (await elsewhere.read(tenantId)).snapshot();
    await elsewhere.close();
    // Closed offers are answered from routing_offers and are not part of the stored state.
    expect({ ...rebuilt, closedOffers: [] }).toEqual({ ...live, closedOffers: [] });
  });

  it('a snapshot written after the commit ends the journal, and the rows still rebuild the live engine', async () => {
    const t = await startTestParley({ config: { workers: false }, routing: { snapshotEvery: 3 } });
    cleanup.push(() => t.stop());
    const kit = await RoutingKit.create(t);
    await kit.ok('PATCH', '/routing/me/state', kit.admin.auth, { state: 'offline' });
    const tenantId = kit.tenant.tenantId;
    const stored = async () => ({
      snapshot: await t.db.selectFrom('routing_snapshots').select('version').where('tenant_id', '=', tenantId).executeTakeFirstOrThrow(),
      state: await t.db.selectFrom('routing_state').select('version').where('tenant_id', '=', tenantId).executeTakeFirstOrThrow(),
      journal: (await t.db.selectFrom('routing_journal').select('version').where('tenant_id', '=', tenantId).orderBy('version').execute()).map((r) => Number(r.version)),
    });
    const before = await stored();
    // Nobody is available: each arrival is one routing transaction that leaves its conversation waiting.
    for (const name of ['Ana', 'Bea', 'Cai', 'Dev', 'Eli', 'Fay', 'Gus']) await kit.visitor(name);
    await kit.until(async () => (await stored()).snapshot.version > before.snapshot.version, 'a snapshot after the commit');
    const after = await stored();
    // The journal holds only what came after the newest snapshot, and the snapshot never runs ahead of the state.
    expect(after.journal.every((v) => v > Number(after.snapshot.version))).toBe(true);
    expect(Number(after.snapshot.version)).toBeLessThanOrEqual(Number(after.state.version));
    expect(after.journal.length).toBe(Number(after.state.version) - Number(after.snapshot.version));
    const live = (await t.parley.deps.routing.read(tenantId)).snapshot();
    expect(live.items.filter((i) => i.state === 'waiting')).toHaveLength(7);
    const elsewhere = new RoutingService({ db: t.db, committer: t.parley.deps.committer, log: t.parley.deps.log, hub: t.parley.deps.hub });
    const rebuilt = (await elsewhere.read(tenantId)).snapshot();
    await elsewhere.close();
    expect({ ...rebuilt, closedOffers: [] }).toEqual({ ...live, closedOffers: [] });
  });
});

describe('how often a snapshot ends the journal', () => {
  it('every few hundred transactions, and less often as the work the engine holds grows (a snapshot costs per item)', () => {
    expect(snapshotInterval(0)).toBe(500);
    expect(snapshotInterval(4_999)).toBe(500);
    expect(snapshotInterval(10_000)).toBe(1_000);
    expect(snapshotInterval(50_001)).toBe(5_001);
    expect(snapshotInterval(7, 3)).toBe(3);
    expect(snapshotInterval(45, 3)).toBe(5);
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('two servers on one PostgreSQL', () => {
  it('never offers one conversation twice nor exceeds an agent capacity when both route at once', async () => {
    const { a, b, stop } = await startTwoNodes({ workers: false });
    cleanup.push(stop);

    const kit = await RoutingKit.create(a);
    await kit.ok('PATCH', '/routing/me/state', kit.admin.auth, { state: 'offline' });
    const agents = [await kit.invite('Uno'), await kit.invite('Duo'), await kit.invite('Tre')];
    const capacity = [2, 1, 3];
    for (const [i, agent] of agents.entries()) await kit.setProfile(agent, {}, { chat: capacity[i]! });
    // Agents connect to either server.
    const sockets: TestSocket[] = [];
    for (const [i, agent] of agents.entries()) {
      const s = await kit.online(agent, (i % 2 === 0 ? a : b).baseUrl);
      sockets.push(s);
      cleanup.push(async () => s.close());
    }

    // Thirty visitors, half through each server, all at once.
    const kitB = Object.assign(Object.create(Object.getPrototypeOf(kit)) as RoutingKit, kit, { t: b });
    const arrivals = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? kit : kitB).visitor(`Many-${i}`)));
    await kit.until(async () => (await kit.ok('GET', '/routing/offers?mine=false', kit.key)).items.length === 6, 'six offers');

    // Half the offers are accepted through the other server than the one that made them; room frees up and more are offered.
    const open = (await kit.ok('GET', '/routing/offers?mine=false', kit.key)).items as { id: string; agentId: string; conversationId: string }[];
    await Promise.all(
      open.map((o, i) => {
        const who = agents.find((x) => x.id === o.agentId)!;
        return (i % 2 ? kit : kitB).ok('POST', `/routing/offers/${o.id}/${i % 3 === 0 ? 'decline' : 'accept'}`, who.auth);
      }),
    );
    await new Promise((r) => setTimeout(r, 500));

    const offers = await a.db.selectFrom('routing_offers').select(['conversation_id', 'agent_id', 'status']).where('tenant_id', '=', kit.tenant.tenantId).execute();
    const openNow = offers.filter((o) => o.status === 'open');
    expect(new Set(openNow.map((o) => o.conversation_id)).size).toBe(openNow.length);
    const assigned = await a.db
      .selectFrom('conversations')
      .select(['id', 'assignee_id'])
      .where('tenant_id', '=', kit.tenant.tenantId)
      .where('assignee_id', 'is not', null)
      .execute();
    for (const [i, agent] of agents.entries()) {
      const held = openNow.filter((o) => o.agent_id === agent.id).length + assigned.filter((c) => c.assignee_id === agent.id).length;
      expect(held, `agent ${i}`).toBeLessThanOrEqual(capacity[i]!);
    }
    // No conversation is both offered and assigned, or assigned twice.
    for (const c of assigned) expect(openNow.some((o) => o.conversation_id === c.id)).toBe(false);
    // Every arrival is accounted for: waiting, offered or assigned.
    const states = await a.db.selectFrom('conversations').select(['routing_state']).where('tenant_id', '=', kit.tenant.tenantId).execute();
    expect(states.filter((s) => s.routing_state !== null)).toHaveLength(arrivals.length);
    // Both servers agree on the wallboard (each rebuilt from the shared state as needed).
    const boardA = (await kit.ok('GET', '/routing/wallboard', kit.key)).queues[0];
    const boardB = (await kitB.ok('GET', '/routing/wallboard', kit.key)).queues[0];
    expect({ waiting: boardB.waiting, offered: boardB.offered }).toEqual({ waiting: boardA.waiting, offered: boardA.offered });
  });
});
