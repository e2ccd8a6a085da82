import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import { openTestDatabase } from '../../test/test-database.ts';
import { conversationsAfterTextsSql, storeTextsSql } from '../conversations/post-message.ts';
import { conversationsAsShown, updateConversationsSql } from '../conversations/conversations.repository.ts';
import { closeOffersSql } from '../routing/routing.service.ts';
import type { OpenedDatabase } from './database.ts';
import type { Database } from './schema.ts';

/** A raw statement (compiled with the database) or a query builder. */
type Statement = { compile(db: Kysely<Database>): CompiledQuery<unknown> };

// Prepared statements (decision 0005) run on generic plans, made without knowing which tenant.
// A generic plan sizes "tenant_id = $1" by the average tenant; here, as on a real service, one big
// tenant sits beside a thousand small ones (20 conversations each). The batch statements must
// still reach their rows by primary key, not read the big tenant's every row.

const BIG = 20_000;
const SMALL_TENANTS = 1_000;
const PER_SMALL = 20;
let database: OpenedDatabase;

/** A value as a SQL literal, for EXECUTE of a prepared statement. */
function literal(v: unknown): string {
  if (Array.isArray(v)) return `ARRAY[${v.map(literal).join(',')}]::text[]`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return `'${String(v).replace(/'/g, "''")}'`;
}

/** The most rows any table or index scan of the statement's generic plan read (rows × loops); the statement's writes are rolled back. */
let probes = 0;

async function mostRowsInGenericPlan(statement: Statement): Promise<number> {
  const compiled = statement.compile(database.db);
  // Prepared statements outlive a rolled-back transaction: each probe has its own name.
  const name = `probe_${++probes}`;
  let most = -1;
  await database.db
    .transaction()
    .execute(async (trx) => {
      await sql.raw(`SET LOCAL plan_cache_mode = force_generic_plan`).execute(trx);
      await sql.raw(`PREPARE ${name} AS ${compiled.sql}`).execute(trx);
      const { rows } = await sql.raw<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE ${name}(${compiled.parameters.map(literal).join(', ')})`).execute(trx);
      const plan = rows[0]!['QUERY PLAN'];
      const root = (typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan: PlanNode }[];
      most = maxRows(root[0]!.Plan);
      throw new Error('rollback');
    })
    .catch((err: Error) => {
      if (err.message !== 'rollback') throw err;
    });
  return most;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

function maxRows(node: PlanNode): number {
  const read = node['Relation Name'] || node['Index Name'] ? node['Actual Rows'] * node['Actual Loops'] : 0;
  return Math.max(read, ...(node.Plans ?? []).map(maxRows));
}

const ids = Array.from({ length: 20 }, (_, i) => `cnv_big_${1000 + i * 37}`);

describe.skipIf(!process.env.TEST_DATABASE_URL)('generic plans with one big tenant among many small ones (PostgreSQL)', () => {
  beforeAll(async () => {
    database = await openTestDatabase();
    const db = database.db;
    await sql`INSERT INTO tenants (id, name) SELECT 'ten_' || g, 'Tenant ' || g FROM generate_series(0, ${SMALL_TENANTS}::int) g`.execute(db);
    await sql`INSERT INTO inboxes (id, tenant_id, public_id, name, channel_type, settings, identity_secret) VALUES ('inb_big', 'ten_0', 'pub_big', 'Big', 'webchat', '{}', 's')`.execute(db);
    await sql`INSERT INTO contacts (id, tenant_id, name) VALUES ('ctc_big', 'ten_0', 'Ana')`.execute(db);
    await sql`INSERT INTO conversations (id, tenant_id, inbox_id, contact_id, channel_type, status)
      SELECT 'cnv_big_' || g, 'ten_0', 'inb_big', 'ctc_big', 'webchat', 'open' FROM generate_series(1, ${BIG}::int) g
      UNION ALL SELECT 'cnv_small_' || g, 'ten_' || (1 + g % ${SMALL_TENANTS}::int), 'inb_big', 'ctc_big', 'webchat', 'open' FROM generate_series(1, ${SMALL_TENANTS * PER_SMALL}::int) g`.execute(db);
    await sql`INSERT INTO routing_offers (id, tenant_id, conversation_id, agent_id, queue_id, channel, status, expires_at, closed_at)
      SELECT 'off_' || c.id, c.tenant_id, c.id, 'usr_1', 'que_1', 'webchat', 'declined', now(), now() FROM conversations c`.execute(db);
    await sql`ANALYZE conversations`.execute(db);
    await sql`ANALYZE routing_offers`.execute(db);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  it("a batch's lock and insert, its conversations' update, routing's updates and offer closes read only the batch's rows", async () => {
    const at = new Date().toISOString();
    const rows = ids.map((id, i) => ({ i, id: `msg_${i}`, conversation_id: id, sender_type: 'contact', sender_id: 'ctc_big', sender_name: null, contact_name: true, content: 'hola', client_message_id: null, source_id: null, created_at: at }));
    expect(await mostRowsInGenericPlan(storeTextsSql('ten_0', ids, rows))).toBeLessThanOrEqual(ids.length);
    expect(await mostRowsInGenericPlan(conversationsAfterTextsSql('ten_0', ids.map((id) => ({ id, last_id: 'msg_x', at, inbound: 1, reopen: false }))))).toBeLessThanOrEqual(ids.length);
    expect(await mostRowsInGenericPlan(updateConversationsSql('ten_0', ['routing_state'], ids.map((id) => ({ id, routing_state: 'waiting' }))))).toBeLessThanOrEqual(ids.length);
    expect(await mostRowsInGenericPlan(closeOffersSql('ten_0', ids.map((id) => ({ id: `off_${id}`, status: 'expired' as const, closedAt: new Date() }))))).toBeLessThanOrEqual(ids.length);
    // A change's lock of its conversations as shown (with contact and last message), and the read of them for answers.
    expect(await mostRowsInGenericPlan(conversationsAsShown(database.db, 'ten_0', ids).orderBy('c.id').forUpdate('c'))).toBeLessThanOrEqual(ids.length);
    expect(await mostRowsInGenericPlan(conversationsAsShown(database.db, 'ten_0', ids))).toBeLessThanOrEqual(ids.length);
  });

  it('the shape these updates had before (the values joined alone) read the big tenant\'s every conversation', async () => {
    const rows = ids.map((id) => ({ id, routing_state: 'waiting' }));
    const before = sql`UPDATE conversations AS c SET routing_state = v.routing_state
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS v(id text, routing_state text)
      WHERE c.tenant_id = ${'ten_0'} AND c.id = v.id`;
    expect(await mostRowsInGenericPlan(before)).toBeGreaterThanOrEqual(BIG);
  });
});
