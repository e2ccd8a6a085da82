import { sql, type Kysely, type Transaction } from 'kysely';
import type { AgentInput, AgentPresence, Channel, QueueConfig } from '@parley/routing';
import type { ChannelType, Database, QueueSettings } from '../db/schema.ts';
import { newId } from '../ids.ts';

type Q = Kysely<Database> | Transaction<Database>;

/** Capacity of an agent nobody configured yet: a few chats, some async work, one call. */
export const DEFAULT_CAPACITY: Partial<Record<Channel, number>> = { chat: 3, email: 5, sms: 3, social: 3, task: 5, voice: 1 };

export const CHANNEL_OF: Record<ChannelType, Channel> = {
  webchat: 'chat',
  api: 'task',
  email: 'email',
  sms: 'sms',
  whatsapp: 'social',
  messenger: 'social',
  instagram: 'social',
  voice: 'voice',
};

export interface QueueRecord {
  id: string;
  tenantId: string;
  name: string;
  isDefault: boolean;
  allUsers: boolean;
  settings: QueueSettings;
  members: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** Settings the server keeps beside the engine's queue config (not understood by the engine). */
const SERVER_ONLY_SETTINGS = ['serviceLevelTargetSeconds'] as const;

export function toQueueConfig(q: QueueRecord): QueueConfig {
  const settings: Record<string, unknown> = { ...q.settings };
  for (const key of SERVER_ONLY_SETTINGS) delete settings[key];
  for (const [k, v] of Object.entries(settings)) if (v === null) delete settings[k];
  return { ...(settings as Omit<QueueConfig, 'id' | 'tenantId' | 'members'>), strategy: (settings.strategy as QueueConfig['strategy']) ?? 'longest-idle', id: q.id, tenantId: q.tenantId, members: q.members };
}

export async function listQueueRecords(db: Q, tenantId: string): Promise<QueueRecord[]> {
  const [queues, members, users] = await Promise.all([
    db.selectFrom('routing_queues').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute(),
    db.selectFrom('routing_queue_members').selectAll().where('tenant_id', '=', tenantId).orderBy('position').execute(),
    listUserIds(db, tenantId),
  ]);
  return queues.map((q) => ({
    id: q.id,
    tenantId: q.tenant_id,
    name: q.name,
    isDefault: q.is_default,
    allUsers: q.all_users,
    settings: q.config,
    members: q.all_users ? users : members.filter((m) => m.queue_id === q.id).map((m) => m.user_id),
    createdAt: q.created_at,
    updatedAt: q.updated_at,
  }));
}

export async function listUserIds(db: Q, tenantId: string): Promise<string[]> {
  const rows = await db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
  return rows.map((r) => r.id);
}

export async function insertQueue(
  db: Q,
  q: { tenantId: string; name: string; isDefault: boolean; allUsers: boolean; settings: QueueSettings; members: string[] },
): Promise<string> {
  const id = newId('que');
  await db
    .insertInto('routing_queues')
    .values({ id, tenant_id: q.tenantId, name: q.name, is_default: q.isDefault, all_users: q.allUsers, config: JSON.stringify(q.settings) })
    .execute();
  await replaceMembers(db, q.tenantId, id, q.members);
  return id;
}

export async function replaceMembers(db: Q, tenantId: string, queueId: string, members: string[]): Promise<void> {
  await db.deleteFrom('routing_queue_members').where('tenant_id', '=', tenantId).where('queue_id', '=', queueId).execute();
  if (members.length === 0) return;
  await db
    .insertInto('routing_queue_members')
    .values(members.map((userId, position) => ({ tenant_id: tenantId, queue_id: queueId, user_id: userId, position })))
    .execute();
}

/** The tenant's default queue, created (all users as members) the first time routing needs it. */
export async function ensureDefaultQueue(db: Q, tenantId: string): Promise<void> {
  const found = await db.selectFrom('routing_queues').select('id').where('tenant_id', '=', tenantId).where('is_default', '=', true).executeTakeFirst();
  if (found) return;
  await insertQueue(db, { tenantId, name: 'Default', isDefault: true, allUsers: true, settings: { strategy: 'longest-idle' }, members: [] });
}

/** Routing profiles of every user of the tenant (defaults where none was saved). */
export async function loadAgentInputs(db: Q, tenantId: string, userIds?: string[]): Promise<AgentInput[]> {
  let q = db
    .selectFrom('users as u')
    .leftJoin('agent_routing_profiles as p', 'p.user_id', 'u.id')
    .leftJoin('agent_states as s', 's.user_id', 'u.id')
    .select(['u.id', 'p.skills', 'p.capacity', 's.state', 's.reason'])
    .where('u.tenant_id', '=', tenantId);
  if (userIds) q = q.where('u.id', 'in', userIds.length ? userIds : ['']);
  const rows = await q.orderBy('u.created_at').orderBy('u.id').execute();
  return rows.map((r) => ({
    id: r.id,
    tenantId,
    skills: (r.skills as Record<string, number> | null) ?? {},
    capacity: (r.capacity as Partial<Record<Channel, number>> | null) ?? DEFAULT_CAPACITY,
    // Nobody is connected right after a (re)build; sockets report themselves.
    presence: (r.state === 'wrap-up' || !r.state ? 'available' : r.state) as AgentPresence,
    notReadyReason: r.reason ?? undefined,
    connections: 0,
  }));
}

export async function upsertProfile(db: Q, tenantId: string, userId: string, skills: Record<string, number>, capacity: Record<string, number>): Promise<void> {
  await db
    .insertInto('agent_routing_profiles')
    .values({ tenant_id: tenantId, user_id: userId, skills: JSON.stringify(skills), capacity: JSON.stringify(capacity) })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ skills: JSON.stringify(skills), capacity: JSON.stringify(capacity), updated_at: new Date() }))
    .execute();
}

/** Open conversations nobody holds: routed when a tenant's engine is first built. */
export async function loadRoutableConversations(db: Q, tenantId: string) {
  return db
    .selectFrom('conversations as c')
    .innerJoin('inboxes as i', 'i.id', 'c.inbox_id')
    .select(['c.id', 'c.channel_type', 'c.priority', 'c.labels', 'c.custom_attributes', 'c.queue_id', 'i.queue_id as inbox_queue_id', 'c.waiting_since', 'c.created_at'])
    .where('c.tenant_id', '=', tenantId)
    .where('c.status', '=', 'open')
    .where('c.assignee_id', 'is', null)
    .orderBy('c.created_at')
    .execute();
}

/**
 * Locks the tenant's routing for the transaction and returns its stored state's header (none
 * before the engine was first stored). The lock is the routing_state row itself, taken and read
 * in one round trip; FOR UPDATE reads the row as the previous holder committed it. A tenant
 * without the row yet takes an advisory lock instead, so two first uses build it one after the
 * other, and then looks again under that lock (the first may have stored it meanwhile).
 */
export async function lockTenantRouting(trx: Transaction<Database>, tenantId: string, sentAhead?: () => Promise<RoutingStateHead[]>) {
  const row = sentAhead ? (await sentAhead())[0] : await tenantRoutingLock(trx, tenantId).executeTakeFirst();
  if (row) return row;
  await sql`SELECT pg_advisory_xact_lock(hashtext(${'parley-routing:' + tenantId}))`.execute(trx);
  return tenantRoutingLock(trx, tenantId).executeTakeFirst();
}

/** The statement that locks a tenant's routing_state row and reads its header (lockTenantRouting; sent AHEAD by RoutingService.lockAhead). */
export const tenantRoutingLock = (trx: Transaction<Database>, tenantId: string) =>
  trx.selectFrom('routing_state').select(['version', 'token']).where('tenant_id', '=', tenantId).forUpdate();

export type RoutingStateHead = { version: number; token: string };
