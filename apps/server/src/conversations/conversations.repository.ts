import { sql, type Kysely, type Transaction } from 'kysely';
import { sendAhead } from '../db/prepared-client.ts';
import { rowsById } from '../db/rows-by-id.ts';
import type { Database, ConversationRow, ConversationStatus, ContactRow, MessageRow } from '../db/schema.ts';
import { ParleyError, notFound } from '../errors.ts';
import { toConversationDto, type ConversationDto } from './conversation-dto.ts';

type Q = Kysely<Database> | Transaction<Database>;

export async function getConversationRowOrThrow(db: Q, tenantId: string, id: string): Promise<ConversationRow> {
  const row = await db.selectFrom('conversations').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('conversation');
  return row;
}

/** Locks a conversation for a change and reads its contact in the same round trip. */
export async function lockConversationWithContact(trx: Transaction<Database>, tenantId: string, id: string): Promise<{ conversation: ConversationRow; contact: ContactRow }> {
  const found = await trx
    .selectFrom('conversations as c')
    .innerJoin('contacts as ct', 'ct.id', 'c.contact_id')
    .selectAll('c')
    .select(sql<unknown>`to_jsonb(ct.*)`.as('contact_json'))
    .where('c.tenant_id', '=', tenantId)
    .where('c.id', '=', id)
    .forUpdate('c')
    .executeTakeFirst();
  if (!found) throw notFound('conversation');
  const { contact_json, ...conversation } = found;
  return { conversation, contact: reviveRow(contact_json) as ContactRow };
}

/**
 * Locks conversations (id order) with all their DTO shows, so that a change can answer without
 * reading them again, and reads the transaction's `now()` (what an UPDATE's `updated_at = now()`
 * will write). `thenLock` sends another lock right behind (AHEAD), taken after these rows.
 */
export async function lockConversationsAsShown(trx: Transaction<Database>, tenantId: string, ids: string[], thenLock?: () => Promise<void>) {
  const sent = await sendAhead(trx, conversationsAsShown(trx, tenantId, ids).select(sql<Date>`now()`.as('transaction_now')).orderBy('c.id').forUpdate('c'));
  await thenLock?.();
  const rows = await sent();
  const locked = new Map(
    rows.map(({ contact_json, message_json, transaction_now: _, ...conversation }) => [
      conversation.id,
      { conversation, contact: reviveRow(contact_json) as ContactRow, lastMessage: message_json ? (reviveRow(message_json) as MessageRow) : null },
    ]),
  );
  return { locked, now: rows[0]?.transaction_now ?? null };
}

export async function loadConversationDto(db: Q, tenantId: string, conversation: ConversationRow | string): Promise<ConversationDto> {
  const id = typeof conversation === 'string' ? conversation : conversation.id;
  const dto = (await loadConversationDtos(db, tenantId, [id])).get(id);
  if (!dto) throw notFound('conversation');
  return dto;
}

/** Several conversations as the agent app shows them (with contact and last message), in one round trip. */
export async function loadConversationDtos(db: Q, tenantId: string, ids: string[]): Promise<Map<string, ConversationDto>> {
  if (ids.length === 0) return new Map();
  const rows = await conversationsAsShown(db, tenantId, [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [r.id, dtoOf(r)]));
}

/**
 * The conversations of `ids` with contact and last message: one statement text for any number
 * of ids (prepared once, not once per list length), driven by the ids so that a generic plan
 * reaches each row by primary key.
 */
export function conversationsAsShown(db: Q, tenantId: string, ids: string[]) {
  return withContactAndLastMessage(db, tenantId).where(sql<boolean>`c.id IN (SELECT unnest(${ids}::text[]))`);
}

function withContactAndLastMessage(db: Q, tenantId: string) {
  return db
    .selectFrom('conversations as c')
    .innerJoin('contacts as ct', 'ct.id', 'c.contact_id')
    .leftJoin('messages as m', 'm.id', 'c.last_message_id')
    .selectAll('c')
    .select([sql<unknown>`to_jsonb(ct.*)`.as('contact_json'), sql<unknown>`to_jsonb(m.*)`.as('message_json')])
    .where('c.tenant_id', '=', tenantId);
}

function dtoOf(r: ConversationRow & { contact_json: unknown; message_json: unknown }): ConversationDto {
  return toConversationDto(r, reviveRow(r.contact_json) as ContactRow, r.message_json ? (reviveRow(r.message_json) as MessageRow) : null);
}

export interface ConversationFilter {
  assignee: 'mine' | 'unassigned' | 'all';
  status: ConversationStatus | 'all';
  inboxId?: string;
  label?: string;
  contactId?: string;
  /** `<last_activity_at ISO>|<id>` of the last row of the previous page. */
  cursor?: string;
  limit: number;
}

/** One page of conversations, most recent activity first, with their contact and last message. */
export async function listConversations(db: Q, tenantId: string, userId: string | null, f: ConversationFilter) {
  let q = withContactAndLastMessage(db, tenantId).select(
    // The cursor keeps the database's microseconds: a JS Date would cut them and skip rows.
    sql<string>`to_char(c.last_activity_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('activity_key'),
  );
  q = applyFilter(q, userId, f, true);
  if (f.inboxId) q = q.where('c.inbox_id', '=', f.inboxId);
  if (f.label) q = q.where(sql<boolean>`c.labels @> ${JSON.stringify([f.label])}::jsonb`);
  if (f.contactId) q = q.where('c.contact_id', '=', f.contactId);
  if (f.cursor) {
    const [at, id] = f.cursor.split('|');
    if (!at || !id || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(at)) throw new ParleyError('PARLEY_ERR_VALIDATION', 'invalid cursor');
    const pivot = sql<Date>`${at}::timestamptz`;
    q = q.where((eb) => eb.or([eb('c.last_activity_at', '<', pivot), eb.and([eb('c.last_activity_at', '=', pivot), eb('c.id', '<', id)])]));
  }
  const rows = await q.orderBy('c.last_activity_at', 'desc').orderBy('c.id', 'desc').limit(f.limit + 1).execute();
  const page = rows.slice(0, f.limit);
  const items = page.map(dtoOf);
  const lastRow = page[page.length - 1];
  const nextCursor = rows.length > f.limit && lastRow ? `${lastRow.activity_key}|${lastRow.id}` : null;
  return { items, nextCursor };
}

/** Counts for the three assignee tabs, under the same status and inbox filter. */
export async function countConversations(db: Q, tenantId: string, userId: string | null, f: ConversationFilter) {
  let q = db
    .selectFrom('conversations as c')
    .select([
      sql<number>`count(*) FILTER (WHERE c.assignee_id = ${userId ?? ''})::int`.as('mine'),
      sql<number>`count(*) FILTER (WHERE c.assignee_id IS NULL)::int`.as('unassigned'),
      sql<number>`count(*)::int`.as('all'),
    ])
    .where('c.tenant_id', '=', tenantId);
  q = applyFilter(q, userId, f, false);
  if (f.inboxId) q = q.where('c.inbox_id', '=', f.inboxId);
  if (f.label) q = q.where(sql<boolean>`c.labels @> ${JSON.stringify([f.label])}::jsonb`);
  const row = await q.executeTakeFirstOrThrow();
  return { mine: Number(row.mine), unassigned: Number(row.unassigned), all: Number(row.all) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function applyFilter<T extends { where: (...args: any[]) => T }>(q: T, userId: string | null, f: ConversationFilter, byAssignee: boolean): T {
  let out = q;
  if (f.status !== 'all') out = out.where('c.status', '=', f.status);
  if (byAssignee && f.assignee === 'mine') out = out.where('c.assignee_id', '=', userId ?? '');
  if (byAssignee && f.assignee === 'unassigned') out = out.where('c.assignee_id', 'is', null);
  return out;
}

/** A row read as JSON (to_jsonb) with its timestamps (`…_at` columns) as Dates, as the driver gives them. */
export function reviveRow(json: unknown): Record<string, unknown> {
  const row = { ...(json as Record<string, unknown>) };
  for (const key of Object.keys(row)) {
    if (key.endsWith('_at') && typeof row[key] === 'string') row[key] = new Date(row[key] as string);
  }
  return row;
}

export async function listMessages(db: Q, tenantId: string, conversationId: string, opts: { before?: string; limit: number; includePrivate: boolean }): Promise<MessageRow[]> {
  let q = db.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId).where('conversation_id', '=', conversationId);
  if (!opts.includePrivate) q = q.where('private', '=', false);
  if (opts.before) {
    const pivot = await db.selectFrom('messages').select(['created_at', 'id']).where('tenant_id', '=', tenantId).where('id', '=', opts.before).executeTakeFirst();
    if (pivot) q = q.where((eb) => eb.or([eb('created_at', '<', pivot.created_at), eb.and([eb('created_at', '=', pivot.created_at), eb('id', '<', pivot.id)])]));
  }
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
  return rows.reverse();
}

export type ConversationEventInput = { tenantId: string; conversationId: string; type: string; actorType: 'contact' | 'user' | 'system'; actorId: string | null; data?: Record<string, unknown> };

export async function recordConversationEvent(db: Q, e: ConversationEventInput): Promise<void> {
  await insertConversationEvents([e]).execute(db);
}

/**
 * The queues a conversation may enter besides its own, as two columns of a statement that has
 * its row (`conversation`: the row's table or alias): its inbox's queue and the tenant's default
 * queue. Routing then need not read them back.
 */
export function entryQueueColumns(conversation: string, tenantId: ReturnType<typeof sql.ref> | string) {
  const c = sql.ref(conversation);
  return sql`(SELECT i.queue_id FROM inboxes i WHERE i.id = ${c}.inbox_id) AS inbox_queue_id,
      (SELECT q.id FROM routing_queues q WHERE q.tenant_id = ${tenantId} AND q.is_default LIMIT 1) AS default_queue_id`;
}

/**
 * The insert of history events, in their order, for statements that write it with other rows:
 * one statement text for any number of events (they travel as JSON), so it is prepared once
 * instead of parsed and planned for each batch size.
 */
export function insertConversationEvents(events: ConversationEventInput[]) {
  const rows = events.map((e, i) => ({ i, tenant_id: e.tenantId, conversation_id: e.conversationId, type: e.type, actor_type: e.actorType, actor_id: e.actorId, data: e.data ?? {} }));
  return sql`INSERT INTO conversation_events (tenant_id, conversation_id, type, actor_type, actor_id, data)
    SELECT v.tenant_id, v.conversation_id, v.type, v.actor_type, v.actor_id, v.data
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS v(i int, tenant_id text, conversation_id text, type text, actor_type text, actor_id text, data jsonb)
    ORDER BY v.i`;
}

/** Columns of conversations that set-based updates write, with their SQL types. */
const UPDATABLE_COLUMNS = {
  status: 'text',
  snoozed_until: 'timestamptz',
  assignee_id: 'text',
  priority: 'integer',
  labels: 'jsonb',
  custom_attributes: 'jsonb',
  queue_id: 'text',
  routing_state: 'text',
  waiting_since: 'timestamptz',
  sla: 'jsonb',
} as const;
export type UpdatableColumn = keyof typeof UPDATABLE_COLUMNS;

/** One UPDATE of many conversations, each with its own values of the same columns (read from a JSON recordset). */
export function updateConversationsSql(tenantId: string, columns: UpdatableColumn[], rows: ({ id: string } & Partial<Record<UpdatableColumn, unknown>>)[]) {
  const assignments = columns.map((c) => sql`${sql.ref(c)} = v.${sql.ref(c)}`);
  const types = sql.join([sql`id text`, ...columns.map((c) => sql`${sql.ref(c)} ${sql.raw(UPDATABLE_COLUMNS[c])}`)]);
  return sql<ConversationRow>`UPDATE conversations AS c SET ${sql.join([...assignments, sql`updated_at = now()`])}
    ${rowsById('c', rows, types)} AND c.tenant_id = ${tenantId}`;
}
