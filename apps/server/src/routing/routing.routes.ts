import { Type } from 'typebox';
import { RoutingEngine, RoutingError, RoutingErrorCodes, startOfLocalDay, type AgentView, type BusinessHours, type Channel } from '@parley/routing';
import type { Deps } from '../deps.ts';
import { IdParams, Items, principalOf, responses, type App } from '../http.ts';
import { requireRole, type Principal } from '../auth/principal.ts';
import { ParleyError, notFound } from '../errors.ts';
import { ConversationDto } from '../conversations/conversation-dto.ts';
import { getConversationRowOrThrow, loadConversationDto } from '../conversations/conversations.repository.ts';
import type { Db } from '../db/database.ts';
import { forgetInbox } from '../inboxes/inboxes.repository.ts';
import { getTenantSettings } from '../compliance/tenant-settings.ts';
import { insertQueue, listQueueRecords, replaceMembers, toQueueConfig, upsertProfile, type QueueRecord } from './routing.repository.ts';
import type { Actor, RoutingTx } from './routing.service.ts';
import {
  AgentRoutingDto,
  ConversationRoutingDto,
  OfferDto,
  ProfileInput,
  QueueDto,
  QueueInput,
  QueuePatch,
  StateInput,
  WallboardDto,
  toOfferDto,
  type AgentRoutingDto as AgentRouting,
  type QueueDto as Queue,
  type WallboardDto as Wallboard,
} from './routing.types.ts';

const tags = ['routing'];
const DEFAULT_SERVICE_LEVEL_TARGET_S = 20;

function userIdOf(principal: Principal): string {
  if (!principal.userId) throw new ParleyError('PARLEY_ERR_BAD_REQUEST', 'this action is an agent\'s own: it needs a user session, not an API key');
  return principal.userId;
}

function actorOf(principal: Principal): Actor {
  return principal.userId ? { type: 'user', id: principal.userId } : { type: 'system', id: null };
}

function toQueueDto(q: QueueRecord): Queue {
  return { ...(q.settings as object), id: q.id, name: q.name, isDefault: q.isDefault, members: q.members, createdAt: q.createdAt.toISOString(), updatedAt: q.updatedAt.toISOString() } as Queue;
}

async function getQueueRecordOrThrow(db: Db, tenantId: string, id: string): Promise<QueueRecord> {
  const q = (await listQueueRecords(db, tenantId)).find((r) => r.id === id);
  if (!q) throw notFound('queue');
  return q;
}

async function assertUsersOfTenant(db: Db, tenantId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const rows = await db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
  const known = new Set(rows.map((r) => r.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length) throw new ParleyError('PARLEY_ERR_VALIDATION', `not users of this tenant: ${unknown.join(', ')}`, { unknownUsers: unknown });
}

function agentDto(view: AgentView | undefined, user: { id: string; name: string; role: string }, state: { since: Date } | undefined, offers: OfferDto[]): AgentRouting {
  return {
    userId: user.id,
    name: user.name,
    role: user.role,
    state: view?.presence ?? 'offline',
    reason: view?.notReadyReason ?? null,
    since: (state?.since ?? new Date()).toISOString(),
    connected: (view?.connections ?? 0) > 0,
    skills: view?.skills ?? {},
    capacity: view?.capacity ?? {},
    load: view?.load ?? {},
    offers: offers.filter((o) => o.agentId === user.id),
    conversationIds: view?.itemIds ?? [],
  };
}

async function loadAgents(db: Db, engine: RoutingEngine, tenantId: string, userId?: string): Promise<AgentRouting[]> {
  let users = db.selectFrom('users').select(['id', 'name', 'role']).where('tenant_id', '=', tenantId);
  if (userId) users = users.where('id', '=', userId);
  const [rows, states, offers] = await Promise.all([
    users.orderBy('name').execute(),
    db.selectFrom('agent_states').select(['user_id', 'since']).where('tenant_id', '=', tenantId).execute(),
    db.selectFrom('routing_offers').selectAll().where('tenant_id', '=', tenantId).where('status', '=', 'open').execute(),
  ]);
  const since = new Map(states.map((s) => [s.user_id, s]));
  const offerDtos = offers.map(toOfferDto);
  return rows.map((u) => agentDto(engine.getAgent(u.id), u, since.get(u.id), offerDtos));
}

async function agentOrThrow(deps: Deps, tenantId: string, userId: string): Promise<AgentRouting> {
  const [agent] = await loadAgents(deps.db, await deps.routing.read(tenantId), tenantId, userId);
  if (!agent) throw notFound('user');
  return agent;
}

export function routingRoutes(app: App, deps: Deps) {
  const { db, routing } = deps;

  // ---------------------------------------------------------------- queues
  app.get('/routing/queues', { schema: { tags, response: responses({ 200: Items(QueueDto) }) } }, async (request) => {
    const { tenantId } = principalOf(request);
    await routing.read(tenantId); // makes sure the default queue exists
    return { items: (await listQueueRecords(db, tenantId)).map(toQueueDto) };
  });

  app.get('/routing/queues/:id', { schema: { tags, params: IdParams, response: responses({ 200: QueueDto }) } }, async (request) => {
    return toQueueDto(await getQueueRecordOrThrow(db, principalOf(request).tenantId, request.params.id));
  });

  app.post('/routing/queues', { schema: { tags, body: QueueInput, response: responses({ 201: QueueDto }) } }, async (request, reply) => {
    const principal = principalOf(request);
    requireRole(principal, 'supervisor');
    const { tenantId } = principal;
    const { name, members = [], ...settings } = request.body;
    await assertUsersOfTenant(db, tenantId, members);
    const id = await routing.run(
      tenantId,
      async (tx) => {
        const queueId = await insertQueue(tx.trx, { tenantId, name, isDefault: false, allUsers: false, settings, members });
        const record = (await listQueueRecords(tx.trx, tenantId)).find((q) => q.id === queueId)!;
        await tx.apply({ type: 'addQueue', queue: toQueueConfig(record) });
        return queueId;
      },
      actorOf(principal),
    );
    return reply.status(201).send(toQueueDto(await getQueueRecordOrThrow(db, tenantId, id)));
  });

  app.patch('/routing/queues/:id', { schema: { tags, params: IdParams, body: QueuePatch, response: responses({ 200: QueueDto }) } }, async (request) => {
    const principal = principalOf(request);
    requireRole(principal, 'supervisor');
    const { tenantId } = principal;
    const current = await getQueueRecordOrThrow(db, tenantId, request.params.id);
    const { name, members, ...settings } = request.body;
    if (members) await assertUsersOfTenant(db, tenantId, members);
    await routing.run(
      tenantId,
      async (tx) => {
        const merged = { ...current.settings, ...settings };
        await tx.trx
          .updateTable('routing_queues')
          .set({ name: name ?? current.name, config: JSON.stringify(merged), updated_at: new Date(), ...(members ? { all_users: false } : {}) })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', current.id)
          .execute();
        if (members) await replaceMembers(tx.trx, tenantId, current.id, members);
        const record = (await listQueueRecords(tx.trx, tenantId)).find((q) => q.id === current.id)!;
        await tx.apply({ type: 'updateQueue', queue: toQueueConfig(record) });
      },
      actorOf(principal),
    );
    return toQueueDto(await getQueueRecordOrThrow(db, tenantId, current.id));
  });

  app.delete('/routing/queues/:id', { schema: { tags, params: IdParams, response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    const principal = principalOf(request);
    requireRole(principal, 'supervisor');
    const { tenantId } = principal;
    const queue = await getQueueRecordOrThrow(db, tenantId, request.params.id);
    if (queue.isDefault) throw new ParleyError('PARLEY_ERR_CONFLICT', 'the default queue cannot be deleted');
    await routing.run(
      tenantId,
      async (tx) => {
        const held = tx.engine.listItems().filter((i) => i.queueId === queue.id).length;
        if (held > 0) throw new ParleyError('PARLEY_ERR_CONFLICT', `${held} conversation(s) are in this queue; transfer them first`, { conversations: held });
        const snapshot = tx.engine.snapshot();
        snapshot.queues = snapshot.queues.filter((q) => q.id !== queue.id);
        snapshot.queueState = snapshot.queueState.filter((q) => q.id !== queue.id);
        let rebuilt: RoutingEngine;
        try {
          rebuilt = RoutingEngine.restore(snapshot);
        } catch (err) {
          // Another queue overflows or escalates to it.
          if (err instanceof RoutingError) throw new ParleyError('PARLEY_ERR_CONFLICT', `another queue sends conversations to this one: ${err.message}`);
          throw err;
        }
        await tx.trx.deleteFrom('routing_queues').where('tenant_id', '=', tenantId).where('id', '=', queue.id).execute();
        tx.replaceEngine(rebuilt);
      },
      actorOf(principal),
    );
    return reply.status(204).send(null);
  });

  app.get(
    '/routing/inboxes',
    { schema: { tags, response: responses({ 200: Items(Type.Object({ inboxId: Type.String(), name: Type.String(), channelType: Type.String(), queueId: Type.Union([Type.String(), Type.Null()]) })) }) } },
    async (request) => {
      const { tenantId } = principalOf(request);
      const rows = await db.selectFrom('inboxes').select(['id', 'name', 'channel_type', 'queue_id']).where('tenant_id', '=', tenantId).orderBy('created_at').execute();
      return { items: rows.map((r) => ({ inboxId: r.id, name: r.name, channelType: r.channel_type, queueId: r.queue_id })) };
    },
  );

  app.put(
    '/routing/inboxes/:id/queue',
    { schema: { tags, params: IdParams, body: Type.Object({ queueId: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]) }, { additionalProperties: false }), response: responses({ 204: Type.Null() }) } },
    async (request, reply) => {
      const principal = principalOf(request);
      requireRole(principal, 'admin');
      const { queueId } = request.body;
      if (queueId) await getQueueRecordOrThrow(db, principal.tenantId, queueId);
      const updated = await db.updateTable('inboxes').set({ queue_id: queueId }).where('tenant_id', '=', principal.tenantId).where('id', '=', request.params.id).returning(['id', 'tenant_id', 'public_id']).executeTakeFirst();
      if (!updated) throw notFound('inbox');
      forgetInbox(db, updated);
      return reply.status(204).send(null);
    },
  );

  // ---------------------------------------------------------------- agents
  app.get('/routing/agents', { schema: { tags, response: responses({ 200: Items(AgentRoutingDto) }) } }, async (request) => {
    const { tenantId } = principalOf(request);
    return { items: await loadAgents(db, await routing.read(tenantId), tenantId) };
  });

  const UserParams = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 100 }) });
  app.get('/routing/agents/:userId', { schema: { tags, params: UserParams, response: responses({ 200: AgentRoutingDto }) } }, async (request) => {
    return agentOrThrow(deps, principalOf(request).tenantId, request.params.userId);
  });

  app.put('/routing/agents/:userId/profile', { schema: { tags, params: UserParams, body: ProfileInput, response: responses({ 200: AgentRoutingDto }) } }, async (request) => {
    const principal = principalOf(request);
    requireRole(principal, 'supervisor');
    const { tenantId } = principal;
    const { userId } = request.params;
    const user = await db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', '=', userId).executeTakeFirst();
    if (!user) throw notFound('user');
    const { skills, capacity } = request.body;
    await routing.run(
      tenantId,
      async (tx) => {
        await upsertProfile(tx.trx, tenantId, userId, skills, capacity);
        await tx.ensureAgent(userId);
        await tx.apply({ type: 'updateAgent', agent: { id: userId, tenantId, skills, capacity: capacity as Partial<Record<Channel, number>> } });
      },
      actorOf(principal),
    );
    return agentOrThrow(deps, tenantId, userId);
  });

  app.get('/routing/skills', { schema: { tags, response: responses({ 200: Items(Type.String()) }) } }, async (request) => {
    const { tenantId } = principalOf(request);
    const rows = await db.selectFrom('agent_routing_profiles').select('skills').where('tenant_id', '=', tenantId).execute();
    return { items: [...new Set(rows.flatMap((r) => Object.keys(r.skills)))].sort() };
  });

  app.get('/routing/me', { schema: { tags, response: responses({ 200: AgentRoutingDto }) } }, async (request) => {
    const principal = principalOf(request);
    return agentOrThrow(deps, principal.tenantId, userIdOf(principal));
  });

  app.patch('/routing/me/state', { schema: { tags, body: StateInput, response: responses({ 200: AgentRoutingDto }) } }, async (request) => {
    const principal = principalOf(request);
    const userId = userIdOf(principal);
    await routing.run(
      principal.tenantId,
      async (tx) => {
        await tx.ensureAgent(userId);
        await tx.apply({ type: 'agentStateChange', agentId: userId, presence: request.body.state, notReadyReason: request.body.reason });
      },
      actorOf(principal),
    );
    return agentOrThrow(deps, principal.tenantId, userId);
  });

  // ---------------------------------------------------------------- offers
  app.get(
    '/routing/offers',
    { schema: { tags, querystring: Type.Object({ mine: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) }), response: responses({ 200: Items(OfferDto) }) } },
    async (request) => {
      const principal = principalOf(request);
      let q = db.selectFrom('routing_offers').selectAll().where('tenant_id', '=', principal.tenantId).where('status', '=', 'open');
      // An API key (no person) sees every open offer, like a supervisor asking for mine=false.
      const mine = principal.userId !== null && (request.query.mine !== 'false' || principal.role === 'agent');
      if (mine) q = q.where('agent_id', '=', principal.userId!);
      return { items: (await q.orderBy('created_at').execute()).map(toOfferDto) };
    },
  );

  const answer = (kind: 'accept' | 'decline') => async (principal: Principal, offerId: string) => {
    const { tenantId } = principal;
    const before = await db.selectFrom('routing_offers').selectAll().where('tenant_id', '=', tenantId).where('id', '=', offerId).executeTakeFirst();
    if (!before) throw new RoutingError(RoutingErrorCodes.OFFER_NOT_FOUND, 'offer not found');
    const userId = userIdOf(principal);
    if (before.agent_id !== userId) throw new RoutingError(RoutingErrorCodes.NOT_OFFERED_TO_AGENT, `Offer ${offerId} was not made to you`, { offerId });
    await routing.run(
      tenantId,
      async (tx) => {
        // The offer's row (read under the routing lock) answers for closed offers: the stored
        // engine state keeps only the latest closed offers.
        const row = await tx.trx.selectFrom('routing_offers').select('status').where('tenant_id', '=', tenantId).where('id', '=', offerId).executeTakeFirstOrThrow();
        if (row.status === 'accepted') throw new RoutingError(RoutingErrorCodes.ALREADY_ACCEPTED, 'the offer was accepted already', { offerId });
        if (row.status === 'expired') throw new RoutingError(RoutingErrorCodes.OFFER_EXPIRED, 'the offer expired', { offerId });
        if (row.status !== 'open') throw new RoutingError(RoutingErrorCodes.OFFER_CLOSED, `the offer was ${row.status}`, { offerId });
        await tx.apply({ type: kind, offerId, agentId: userId });
      },
      actorOf(principal),
    );
    const after = await db.selectFrom('routing_offers').selectAll().where('tenant_id', '=', tenantId).where('id', '=', offerId).executeTakeFirstOrThrow();
    return { offer: toOfferDto(after), conversationId: after.conversation_id };
  };
  const accept = answer('accept');
  const decline = answer('decline');

  app.post('/routing/offers/:id/accept', { schema: { tags, params: IdParams, response: responses({ 200: Type.Object({ offer: OfferDto, conversation: ConversationDto }) }) } }, async (request) => {
    const principal = principalOf(request);
    const { offer, conversationId } = await accept(principal, request.params.id);
    return { offer, conversation: await loadConversationDto(db, principal.tenantId, conversationId) };
  });

  app.post('/routing/offers/:id/decline', { schema: { tags, params: IdParams, response: responses({ 200: Type.Object({ offer: OfferDto }) }) } }, async (request) => {
    const { offer } = await decline(principalOf(request), request.params.id);
    return { offer };
  });

  // ---------------------------------------------------------------- conversations
  const inRouting = (tx: RoutingTx, id: string) => {
    const item = tx.engine.getItem(id);
    if (!item) throw new RoutingError(RoutingErrorCodes.ITEM_NOT_WAITING, `Conversation ${id} is not in a queue`, { itemId: id });
    return item;
  };

  app.post('/conversations/:id/pick', { schema: { tags, params: IdParams, response: responses({ 200: ConversationDto }) } }, async (request) => {
    const principal = principalOf(request);
    const { tenantId } = principal;
    await getConversationRowOrThrow(db, tenantId, request.params.id);
    const userId = userIdOf(principal);
    await routing.run(
      tenantId,
      async (tx) => {
        inRouting(tx, request.params.id);
        await tx.assign(request.params.id, userId, 'pick');
      },
      actorOf(principal),
    );
    return loadConversationDto(db, tenantId, request.params.id);
  });

  app.post(
    '/conversations/:id/transfer',
    {
      schema: {
        tags,
        params: IdParams,
        body: Type.Union([Type.Object({ agentId: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }), Type.Object({ queueId: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false })]),
        response: responses({ 200: ConversationDto }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { tenantId } = principal;
      const conversation = await getConversationRowOrThrow(db, tenantId, request.params.id);
      const body = request.body;
      if (principal.role === 'agent' && conversation.assignee_id !== principal.userId) throw new ParleyError('PARLEY_ERR_FORBIDDEN', 'agents may only transfer their own conversations');
      if ('agentId' in body) await assertUsersOfTenant(db, tenantId, [body.agentId]).catch(() => Promise.reject(notFound('user')));
      else await getQueueRecordOrThrow(db, tenantId, body.queueId);
      await routing.run(
        tenantId,
        async (tx) => {
          const id = request.params.id;
          if (!tx.engine.getItem(id)) {
            // Not routed (e.g. assigned by hand): it enters routing where it is sent.
            if ('queueId' in body) tx.setConversation(id, { queue_id: body.queueId }, false);
            await routing.arriveFromTx(tx, id);
            if ('queueId' in body) return;
          }
          const item = inRouting(tx, id);
          if ('agentId' in body) {
            await tx.ensureAgent(body.agentId);
            if (item.state === 'assigned') await tx.apply({ type: 'transfer', itemId: id, to: { agentId: body.agentId } });
            else await tx.apply({ type: 'forceAssign', itemId: id, agentId: body.agentId });
          } else {
            await tx.apply({ type: 'transfer', itemId: id, to: { queueId: body.queueId } });
          }
        },
        actorOf(principal),
      );
      return loadConversationDto(db, tenantId, request.params.id);
    },
  );

  app.post(
    '/conversations/:id/force-assign',
    { schema: { tags, params: IdParams, body: Type.Object({ agentId: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }), response: responses({ 200: ConversationDto }) } },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, 'supervisor');
      const { tenantId } = principal;
      await getConversationRowOrThrow(db, tenantId, request.params.id);
      await assertUsersOfTenant(db, tenantId, [request.body.agentId]).catch(() => Promise.reject(notFound('user')));
      await routing.run(
        tenantId,
        async (tx) => {
          const id = request.params.id;
          if (!tx.engine.getItem(id)) await routing.arriveFromTx(tx, id);
          inRouting(tx, id);
          await tx.assign(id, request.body.agentId, 'force');
        },
        actorOf(principal),
      );
      return loadConversationDto(db, tenantId, request.params.id);
    },
  );

  app.get('/conversations/:id/routing', { schema: { tags, params: IdParams, response: responses({ 200: ConversationRoutingDto }) } }, async (request) => {
    const { tenantId } = principalOf(request);
    const c = await getConversationRowOrThrow(db, tenantId, request.params.id);
    const offer = await db.selectFrom('routing_offers').selectAll().where('tenant_id', '=', tenantId).where('conversation_id', '=', c.id).where('status', '=', 'open').executeTakeFirst();
    return {
      conversationId: c.id,
      queueId: c.queue_id,
      state: c.routing_state,
      waitingSince: c.waiting_since ? c.waiting_since.toISOString() : null,
      priority: c.priority,
      offer: offer ? toOfferDto(offer) : null,
      sla: c.sla,
    };
  });

  // ---------------------------------------------------------------- wallboard
  app.get('/routing/wallboard', { schema: { tags, response: responses({ 200: WallboardDto }) } }, async (request) => {
    const principal = principalOf(request);
    requireRole(principal, 'supervisor');
    return wallboard(db, await routing.read(principal.tenantId), principal.tenantId);
  });
}

/**
 * Live numbers per queue and agent (CC-8). A queue's "today" starts at midnight where it works:
 * in its business hours' time zone, else the tenant's (`timeZone` setting), else UTC.
 */
export async function wallboard(db: Db, engine: RoutingEngine, tenantId: string): Promise<Wallboard> {
  const now = Date.now();
  const [queues, { settings }] = await Promise.all([listQueueRecords(db, tenantId), getTenantSettings(db, tenantId)]);
  const dayStartOf = new Map(queues.map((q) => [q.id, startOfLocalDay((q.settings.businessHours as BusinessHours | undefined)?.timeZone ?? settings.timeZone ?? 'UTC', now)]));
  // One read from the earliest queue's midnight covers every queue's today.
  const earliest = new Date(Math.min(now, ...dayStartOf.values()));
  const [users, states, events] = await Promise.all([
    db.selectFrom('users').select(['id', 'name']).where('tenant_id', '=', tenantId).orderBy('name').execute(),
    db.selectFrom('agent_states').select(['user_id', 'since']).where('tenant_id', '=', tenantId).execute(),
    db
      .selectFrom('conversation_events')
      .select(['type', 'data', 'created_at'])
      .where('tenant_id', '=', tenantId)
      .where('type', 'in', ['offered', 'assigned', 'abandoned'])
      .where('created_at', '>=', earliest)
      .execute(),
  ]);
  const items = engine.listItems();
  const since = new Map(states.map((s) => [s.user_id, s.since]));
  return {
    generatedAt: new Date(now).toISOString(),
    queues: queues.map((q) => {
      const target = Number(q.settings.serviceLevelTargetSeconds ?? DEFAULT_SERVICE_LEVEL_TARGET_S);
      const mine = items.filter((i) => i.queueId === q.id);
      const waiting = mine.filter((i) => i.state === 'waiting');
      const today = { offered: 0, answered: 0, abandoned: 0, answeredWithinTarget: 0 };
      const dayStart = dayStartOf.get(q.id)!;
      for (const e of events) {
        if (e.data.queueId !== q.id || e.created_at.getTime() < dayStart) continue;
        if (e.type === 'offered') today.offered++;
        else if (e.type === 'abandoned') today.abandoned++;
        else if (e.type === 'assigned') {
          today.answered++;
          if (Number(e.data.waitedSeconds ?? Infinity) <= target) today.answeredWithinTarget++;
        }
      }
      const agentsByState: Record<string, number> = {};
      for (const m of q.members) {
        const state = engine.getAgent(m)?.presence ?? 'offline';
        agentsByState[state] = (agentsByState[state] ?? 0) + 1;
      }
      return {
        id: q.id,
        name: q.name,
        waiting: waiting.length,
        offered: mine.filter((i) => i.state === 'offered').length,
        longestWaitSeconds: Math.max(0, ...mine.filter((i) => i.state !== 'assigned').map((i) => (now - i.waitingSince) / 1000)),
        today,
        serviceLevelTargetSeconds: target,
        serviceLevelPercent: today.answered ? Math.round((today.answeredWithinTarget / today.answered) * 1000) / 10 : null,
        agentsByState,
      };
    }),
    agents: users.map((u) => {
      const a = engine.getAgent(u.id);
      const at = since.get(u.id) ?? new Date(now);
      return {
        userId: u.id,
        name: u.name,
        state: a?.presence ?? 'offline',
        reason: a?.notReadyReason ?? null,
        since: at.toISOString(),
        secondsInState: Math.max(0, (now - at.getTime()) / 1000),
        connected: (a?.connections ?? 0) > 0,
        load: a?.load ?? {},
        capacity: a?.capacity ?? {},
      };
    }),
  };
}
