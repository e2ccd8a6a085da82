import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openTestDatabase } from '../../test/test-database.ts';
import type { OpenedDatabase } from './database.ts';

let database: OpenedDatabase;

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

describe('statistics of bodies (migration 19)', () => {
  it('ANALYZE keeps statistics of the columns plans filter on and none of message bodies and event payloads', async () => {
    const { db } = database;
    await sql`INSERT INTO tenants (id, name) VALUES ('t-stats', 'Stats')`.execute(db);
    await sql`INSERT INTO inboxes (id, tenant_id, name, channel_type, public_id, settings, identity_secret) VALUES ('i-stats', 't-stats', 'Inbox', 'api', 'pub-stats', '{}', 'secret')`.execute(db);
    await sql`INSERT INTO contacts (id, tenant_id, name) VALUES ('ct-stats', 't-stats', 'Ana')`.execute(db);
    await sql`INSERT INTO conversations (id, tenant_id, inbox_id, contact_id, channel_type, status) VALUES ('c-stats', 't-stats', 'i-stats', 'ct-stats', 'api', 'open')`.execute(db);
    await sql`INSERT INTO messages (id, tenant_id, conversation_id, direction, sender_type, content, status)
      SELECT 'm-' || g, 't-stats', 'c-stats', 'in', 'contact', 'hello ' || g, 'received' FROM generate_series(1, 200) g`.execute(db);
    await sql`INSERT INTO realtime_events (tenant_id, seq, conversation_id, audience, type, payload)
      SELECT 't-stats', g, 'c-stats', 'all', 'message.created', jsonb_build_object('n', g) FROM generate_series(1, 200) g`.execute(db);
    await sql`ANALYZE messages`.execute(db);
    await sql`ANALYZE realtime_events`.execute(db);
    const { rows } = await sql<{ table: string; column: string }>`
      SELECT tablename AS table, attname AS column FROM pg_stats
      WHERE schemaname = 'public' AND tablename IN ('messages', 'realtime_events') ORDER BY 1, 2`.execute(db);
    const analyzed = rows.map((r) => `${r.table}.${r.column}`);
    expect(analyzed).toEqual(expect.arrayContaining(['messages.conversation_id', 'messages.id', 'realtime_events.conversation_id', 'realtime_events.seq']));
    for (const body of ['messages.content', 'messages.attachments', 'messages.mentions', 'realtime_events.payload']) expect(analyzed).not.toContain(body);
  });
});
