import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openTestDatabase } from '../../test/test-database.ts';
import type { OpenedDatabase } from './database.ts';

describe.skipIf(!process.env.TEST_DATABASE_URL)('prepared statements on PostgreSQL', () => {
  let database: OpenedDatabase | undefined;
  afterAll(() => database?.close());

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
});
