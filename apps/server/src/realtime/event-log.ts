import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { AHEAD, COMMIT_ALONG } from '../db/prepared-client.ts';

/** An event a client can see. `seq` is per tenant, gap-free and in commit order. */
export interface RealtimeEvent {
  tenantId: string;
  seq: number;
  conversationId: string | null;
  /** 'all': agents and the conversation's visitor; 'agents': agents only. */
  audience: 'all' | 'agents';
  type: string;
  payload: unknown;
}

export type PendingEvent = Omit<RealtimeEvent, 'seq' | 'tenantId'>;

/** The channel on which a node announces, at each commit, the last seq of the tenant's events it stored (`<node> <tenant> <seq>`). */
export const EVENTS_CHANNEL = 'parley_events';

/**
 * Appends events inside the caller's transaction and numbers them, in one round trip with the
 * writes given `alongside` (data-modifying CTEs on other tables: routing's state). With
 * `announceAs` (a node id), the statement also NOTIFYs the other nodes, which PostgreSQL
 * delivers at the commit and only if it commits.
 *
 * The counter row stays locked until the transaction commits, so a tenant's transactions
 * commit in the order of their numbers and a number is never skipped (an aborted transaction
 * gives its numbers back). A client that saw seq N and asks for everything after N therefore
 * misses nothing. It is the transaction's last statement, which holds the lock as briefly as
 * possible, and carries the transaction's COMMIT (COMMIT_ALONG): nothing may run after it.
 */
export async function appendEvents(trx: Transaction<Database>, tenantId: string, events: PendingEvent[], alongside: unknown[] = [], announceAs?: string): Promise<RealtimeEvent[]> {
  if (events.length === 0) {
    await runWrites(trx, alongside, 'last');
    return [];
  }
  const ctes = asCtes(alongside);
  const rows = JSON.stringify(events.map((e, i) => ({ i, conversation_id: e.conversationId, audience: e.audience, type: e.type, payload: e.payload })));
  // Take the numbers and store the events while holding the counter row.
  const announced = announceAs
    ? [sql`announced AS (SELECT pg_notify(${EVENTS_CHANNEL}, ${`${announceAs} ${tenantId} `} || counter.seq) FROM counter)`]
    : [];
  const inserted = await sql<{ seq: number }>`${sql.raw(COMMIT_ALONG)}
    WITH ${sql.join([...ctes, sql`counter AS (
      UPDATE tenant_event_seq SET seq = seq + ${events.length} WHERE tenant_id = ${tenantId} RETURNING seq)`, ...announced])}
    INSERT INTO realtime_events (tenant_id, seq, conversation_id, audience, type, payload)
    SELECT ${tenantId}, counter.seq - ${events.length} + 1 + e.i, e.conversation_id, e.audience, e.type, e.payload
    FROM counter${announceAs ? sql`, announced` : sql``}, jsonb_to_recordset(${rows}::jsonb) AS e(i int, conversation_id text, audience text, type text, payload jsonb)
    RETURNING seq`.execute(trx);
  if (inserted.rows.length !== events.length) throw new Error(`tenant ${tenantId} has no event counter`);
  const first = Math.min(...inserted.rows.map((r) => Number(r.seq)));
  return events.map((e, i) => ({ ...e, tenantId, seq: first + i }));
}

/**
 * Runs data-modifying queries (Kysely builders or `sql` fragments) in one statement, as CTEs:
 * `ahead`, it is sent AHEAD (with pipelining, the caller's next statement shares its round trip); `last`, it is
 * its transaction's last and carries the COMMIT.
 */
export async function runWrites(trx: Transaction<Database>, writes: unknown[], how: 'wait' | 'ahead' | 'last' = 'wait'): Promise<void> {
  const marker = how === 'ahead' ? AHEAD : how === 'last' ? COMMIT_ALONG : '';
  if (writes.length > 0) await sql`${sql.raw(marker)}WITH ${sql.join(asCtes(writes))} SELECT 1`.execute(trx);
}

const asCtes = (writes: unknown[]) => writes.map((w, i) => sql`${sql.raw(`w${i}`)} AS (${w})`);

export async function currentSeq(db: Db, tenantId: string): Promise<number> {
  const row = await db.selectFrom('tenant_event_seq').select('seq').where('tenant_id', '=', tenantId).executeTakeFirst();
  return row?.seq ?? 0;
}

export async function oldestRetainedSeq(db: Db, tenantId: string): Promise<number | null> {
  const row = await db
    .selectFrom('realtime_events')
    .select((eb) => eb.fn.min('seq').as('seq'))
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return row?.seq == null ? null : Number(row.seq);
}

/** Events with afterSeq < seq ≤ uptoSeq, oldest first; optionally those one visitor may see. */
export async function eventsBetween(
  db: Db,
  tenantId: string,
  afterSeq: number,
  uptoSeq: number,
  visitorConversationId?: string,
  limit = 100_000,
): Promise<RealtimeEvent[]> {
  let query = db
    .selectFrom('realtime_events')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('seq', '>', afterSeq)
    .where('seq', '<=', uptoSeq)
    .orderBy('seq')
    .limit(limit);
  if (visitorConversationId) {
    query = query.where('conversation_id', '=', visitorConversationId).where('audience', '=', 'all');
  }
  const rows = await query.execute();
  return rows.map((r) => ({
    tenantId: r.tenant_id,
    seq: Number(r.seq),
    conversationId: r.conversation_id,
    audience: r.audience,
    type: r.type,
    payload: r.payload,
  }));
}

/** Events older than the replay window are dropped; a client further behind is told to refetch. */
export async function pruneEvents(db: Db, olderThan: Date): Promise<number> {
  const res = await db.deleteFrom('realtime_events').where('created_at', '<', olderThan).executeTakeFirst();
  return Number(res.numDeletedRows);
}
