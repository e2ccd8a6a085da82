import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openTestDatabase } from '../../test/test-database.ts';
import { postgresDatabase, type OpenedDatabase } from './database.ts';

describe.skipIf(!process.env.TEST_DATABASE_URL)('prepared statements on PostgreSQL', () => {
  let database: (OpenedDatabase & { url?: string }) | undefined;
  let unprepared: OpenedDatabase | undefined;
  afterAll(async () => {
    await unprepared?.close();
    await database?.close();
  });

  /** Runs one statement four times in a transaction and returns what that connection has prepared. */
  const preparedAfterRepeats = (db: OpenedDatabase['db'], marker: string) =>
    db.transaction().execute(async (trx) => {
      for (let i = 0; i < 4; i++) await sql`SELECT ${i}::int AS n, ${sql.raw(`'${marker}'`)} AS marker`.execute(trx);
      return (await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(trx)).rows.map((r) => r.statement);
    });

  it('prepares a statement on its second use, once per connection, and answers as before; one-off and parameterless statements stay unprepared', async () => {
    database = await openTestDatabase();
    const prepared = await database.db.transaction().execute(async (trx) => {
      const answers: number[] = [];
      for (let i = 0; i < 4; i++) answers.push((await sql<{ n: number }>`SELECT ${i}::int + 1 AS n /* repeated */`.execute(trx)).rows[0]!.n);
      expect(answers).toEqual([1, 2, 3, 4]);
      await sql`SELECT ${'x'}::text AS once /* one-off */`.execute(trx);
      await sql`SELECT 1 AS plain /* parameterless */`.execute(trx);
      await sql`SELECT 1 AS plain /* parameterless */`.execute(trx);
      // The same connection: the transaction's.
      return (await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(trx)).rows.map((r) => r.statement);
    });
    expect(prepared.filter((s) => s.includes('/* repeated */'))).toHaveLength(1);
    expect(prepared.some((s) => s.includes('/* one-off */') || s.includes('/* parameterless */'))).toBe(false);
  });

  it('prepares nothing with prepare off (PARLEY_PG_PREPARE=off, for poolers in transaction mode)', async () => {
    database ??= await openTestDatabase();
    unprepared = postgresDatabase(database.url!, 2, false);
    unprepared.migrated();
    expect(await preparedAfterRepeats(unprepared.db, 'off')).toEqual([]);
    expect((await preparedAfterRepeats(database.db, 'on')).filter((s) => s.includes("'on'"))).toHaveLength(1);
  });
});
