import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { openTestDatabase } from '../../test/test-database.ts';
import { postgresDatabase, type OpenedDatabase } from './database.ts';
import { AHEAD, COMMIT_ALONG, PreparingClient, sendAhead } from './prepared-client.ts';
import { runWrites } from '../realtime/event-log.ts';

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
    unprepared = postgresDatabase(database.url!, { poolSize: 2, prepare: false });
    unprepared.migrated();
    expect(await preparedAfterRepeats(unprepared.db, 'off')).toEqual([]);
    expect((await preparedAfterRepeats(database.db, 'on')).filter((s) => s.includes("'on'"))).toHaveLength(1);
  });

  describe('BEGIN, COMMIT and statements sent ahead in the same round trip as a statement', () => {
    /** A client as the pool makes them, counting PostgreSQL's answers (one ReadyForQuery per round trip). */
    const client = async (pipeline = true) => {
      database ??= await openTestDatabase();
      const c = new PreparingClient({ connectionString: database.url!, preparing: { on: true }, pipeline });
      await c.connect();
      const q = (text: string, values: readonly unknown[]) => (c as unknown as pg.Client).query(text, [...values]);
      // A round trip: a request written while no answer is awaited (one ReadyForQuery answers each Sync or simple query).
      const counted = { roundTrips: 0 };
      const connection = (c as unknown as { connection: NodeJS.EventEmitter & Record<'sync' | 'query', (...a: unknown[]) => void> }).connection;
      let awaited = 0;
      for (const request of ['sync', 'query'] as const) {
        const write = connection[request].bind(connection);
        connection[request] = (...a: unknown[]) => {
          if (awaited++ === 0) counted.roundTrips++;
          write(...a);
        };
      }
      connection.on('readyForQuery', () => awaited--);
      await q('CREATE TABLE IF NOT EXISTS fused (id int PRIMARY KEY, parent int REFERENCES fused DEFERRABLE INITIALLY DEFERRED)', []);
      await q('TRUNCATE fused', []);
      counted.roundTrips = 0;
      const ids = async () => (await q('SELECT id FROM fused ORDER BY id', [])).rows.map((r: { id: number }) => r.id);
      /** Queries pg holds behind the one it awaits (pg 8 warns about them: pg 9 takes one query at a time). */
      const queuedInPg = () => (c as unknown as { _queryQueue: unknown[] })._queryQueue.length;
      return { q, counted, ids, queuedInPg, end: () => c.end() };
    };
    const insert = (id: number, parent: number | null = null) => ['INSERT INTO fused VALUES ($1, $2) RETURNING id', [id, parent]] as const;
    const insertLast = (id: number, parent: number | null = null) => [`${COMMIT_ALONG}INSERT INTO fused VALUES ($1, $2) RETURNING id`, [id, parent]] as const;
    const insertAhead = (id: number, parent: number | null = null) => [`${AHEAD}INSERT INTO fused VALUES ($1, $2) RETURNING id`, [id, parent]] as const;

    it('a transaction of three statements takes three round trips, not five, and commits them all', async () => {
      const c = await client();
      await c.q('begin', []);
      expect((await c.q(...insert(1))).rows).toEqual([{ id: 1 }]);
      await c.q(...insert(2, 1));
      expect((await c.q(...insertLast(3, 2))).rows).toEqual([{ id: 3 }]);
      expect((await c.q('commit', [])).command).toBe('COMMIT');
      expect(c.counted.roundTrips).toBe(3);
      expect(await c.ids()).toEqual([1, 2, 3]);
      // A transaction whose one statement carries the COMMIT: one round trip; an empty one: none.
      c.counted.roundTrips = 0;
      await c.q('begin', []);
      await c.q(...insertLast(4));
      await c.q('commit', []);
      await c.q('begin', []);
      await c.q('commit', []);
      expect(c.counted.roundTrips).toBe(1);
      expect(await c.ids()).toEqual([1, 2, 3, 4]);
      await c.end();
    });

    it('a SET LOCAL before the first statement rides with the BEGIN and holds for that transaction only', async () => {
      const c = await client();
      const mode = [`SELECT current_setting('plan_cache_mode') AS mode, $1::int AS n`, [1]] as const;
      await c.q('begin', []);
      expect((await c.q('set local plan_cache_mode = force_generic_plan', [])).command).toBe('SET');
      expect((await c.q(...mode)).rows).toEqual([{ mode: 'force_generic_plan', n: 1 }]);
      await c.q('commit', []);
      expect(c.counted.roundTrips).toBe(2); // the statement (with BEGIN and SET), the COMMIT
      expect((await c.q(...mode)).rows).toEqual([{ mode: 'auto', n: 1 }]);
      // Before a statement without parameters, BEGIN and the setting go first on their own; a rollback undoes the setting.
      await c.q('begin', []);
      await c.q('set local plan_cache_mode = force_custom_plan', []);
      expect((await c.q(`SELECT current_setting('plan_cache_mode') AS mode`, [])).rows).toEqual([{ mode: 'force_custom_plan' }]);
      await c.q('rollback', []);
      expect((await c.q(...mode)).rows).toEqual([{ mode: 'auto', n: 1 }]);
      // A setting that fails fails the statement it rides with, and nothing of the transaction stays.
      await c.q('begin', []);
      await c.q('set local plan_cache_mode = no_such_mode', []);
      await expect(c.q(...insert(1))).rejects.toThrow(/no_such_mode/);
      await c.q('rollback', []);
      expect(await c.ids()).toEqual([]);
      await c.end();
    });

    it('rolls back what ran after a BEGIN sent with the first statement, with or without parameters', async () => {
      const c = await client();
      await c.q('begin', []);
      await c.q(...insert(1));
      await c.q('rollback', []);
      await c.q('begin', []);
      await c.q('INSERT INTO fused VALUES (2)', []); // no parameters: BEGIN goes alone first
      await c.q('rollback', []);
      expect(await c.ids()).toEqual([]);
      await c.end();
    });

    it('a failing statement, a failing COMMIT and a statement after the COMMIT are errors that leave nothing stored, and the connection keeps working', async () => {
      const c = await client();
      // Its first use, as a named prepared statement whose Parse fails: prepared next time neither.
      for (let i = 0; i < 3; i++) {
        await c.q('begin', []);
        await expect(c.q('SELECT no_such_column FROM fused WHERE id = $1', [i])).rejects.toThrow(/no_such_column/);
        await c.q('rollback', []);
      }
      // The statement fails (duplicate key): the COMMIT behind it is skipped, the rollback undoes the first insert.
      await c.q(...insert(9));
      await c.q('begin', []);
      await c.q(...insert(1));
      await expect(c.q(...insertLast(9))).rejects.toThrow(/duplicate key/);
      await c.q('rollback', []);
      // The COMMIT fails (a deferred foreign key): the statement's promise rejects, nothing is stored.
      await c.q('begin', []);
      await c.q(...insert(2));
      await expect(c.q(...insertLast(3, 404))).rejects.toThrow(/foreign key/);
      await c.q('rollback', []);
      // Nothing may run after the statement that committed.
      await c.q('begin', []);
      await c.q(...insertLast(4));
      await expect(c.q(...insert(5))).rejects.toThrow(/after a COMMIT_ALONG statement/);
      await c.q('commit', []);
      expect(await c.ids()).toEqual([4, 9]);
      for (let i = 0; i < 3; i++) {
        await c.q('begin', []);
        expect((await c.q('SELECT id FROM fused WHERE id = $1', [4])).rows).toEqual([{ id: 4 }]);
        await c.q('commit', []);
      }
      await c.end();
    });

    it('statements sent ahead share the round trip of the statement after them, which sees their rows', async () => {
      const c = await client();
      await c.q('begin', []);
      const first = await c.q(...insertAhead(1));
      expect(first.rows).toHaveLength(0); // answered at once, before PostgreSQL did
      await c.q(...insertAhead(2, 1));
      expect((await c.q('SELECT id FROM fused WHERE id <= $1 ORDER BY id', [2])).rows).toEqual([{ id: 1 }, { id: 2 }]);
      expect(c.counted.roundTrips).toBe(1);
      // Its real rows, when wanted.
      expect(await (first.rows as unknown as { later(): Promise<unknown[]> }).later()).toEqual([{ id: 1 }]);
      await c.q(...insertAhead(3));
      await c.q(...insertLast(4));
      await c.q('commit', []);
      expect(c.counted.roundTrips).toBe(2);
      expect(await c.ids()).toEqual([1, 2, 3, 4]);
      // Outside a transaction it is an ordinary statement, answered with its rows.
      expect((await c.q(...insertAhead(5))).rows).toEqual([{ id: 5 }]);
      await c.end();
    });

    it('without pipelining, statements sent ahead wait in the client for the answer before them, not in pg, and keep their order and errors', async () => {
      const c = await client(false);
      await c.q('begin', []);
      await c.q(...insertAhead(1));
      await c.q(...insertAhead(2, 1));
      const read = c.q('SELECT id FROM fused WHERE id <= $1 ORDER BY id', [2]);
      expect(c.queuedInPg()).toBe(0);
      expect((await read).rows).toEqual([{ id: 1 }, { id: 2 }]);
      await c.q(...insertAhead(3));
      await c.q(...insertLast(4));
      await c.q('commit', []);
      expect(await c.ids()).toEqual([1, 2, 3, 4]);
      // A failure ahead still fails what follows with its own error, and nothing of the transaction stays.
      await c.q('begin', []);
      await c.q(...insertAhead(5));
      await c.q(...insertAhead(1));
      const after = c.q(...insert(6));
      expect(c.queuedInPg()).toBe(0);
      await expect(after).rejects.toThrow(/duplicate key/);
      await c.q('rollback', []);
      expect(await c.ids()).toEqual([1, 2, 3, 4]);
      await c.end();
    });

    it('a statement sent ahead that fails fails what follows and the COMMIT with its own error, stores nothing, and the connection keeps working', async () => {
      const c = await client();
      await c.q(...insert(9));
      // Failing while the next statement is already on its way: that one reports the cause, not "transaction aborted".
      await c.q('begin', []);
      await c.q(...insertAhead(1));
      await c.q(...insertAhead(9));
      await expect(c.q(...insert(2))).rejects.toThrow(/duplicate key/);
      await c.q('rollback', []);
      // Failing with only the COMMIT behind it: the COMMIT is an error, not PostgreSQL's quiet ROLLBACK.
      await c.q('begin', []);
      await c.q(...insertAhead(3));
      await c.q(...insertAhead(9));
      await expect(c.q('commit', [])).rejects.toThrow(/duplicate key/);
      await c.q('rollback', []);
      // Known failed before the next statement is written: that statement is not sent.
      await c.q('begin', []);
      await c.q(...insertAhead(9));
      await expect(c.q('SELECT id FROM fused WHERE id = $1', [9])).rejects.toThrow(/duplicate key/);
      await expect(c.q(...insertLast(4))).rejects.toThrow(/duplicate key/);
      await c.q('rollback', []);
      expect(await c.ids()).toEqual([9]);
      await c.q('begin', []);
      await c.q(...insertAhead(5));
      await c.q('commit', []);
      expect(await c.ids()).toEqual([5, 9]);
      await c.end();
    });

    it('through Kysely: sendAhead gives the rows later, runWrites ahead is seen by the next statement, and a failed one rolls the transaction back', async () => {
      database ??= await openTestDatabase();
      const db = database.db;
      await sql`CREATE TABLE IF NOT EXISTS ahead_kysely (id int PRIMARY KEY)`.execute(db);
      const seen = await db.transaction().execute(async (trx) => {
        await runWrites(trx, [sql`INSERT INTO ahead_kysely VALUES (${1}), (${2})`], 'ahead');
        const later = await sendAhead(trx, sql<{ n: number }>`SELECT count(*)::int AS n FROM ahead_kysely WHERE id > ${0}`);
        return (await later())[0]!.n;
      });
      expect(seen).toBe(2);
      await expect(
        db.transaction().execute(async (trx) => {
          await runWrites(trx, [sql`INSERT INTO ahead_kysely VALUES (${3})`], 'ahead');
          await runWrites(trx, [sql`INSERT INTO ahead_kysely VALUES (${1})`], 'ahead');
        }),
      ).rejects.toThrow(/duplicate key/);
      expect((await sql<{ id: number }>`SELECT id FROM ahead_kysely ORDER BY id`.execute(db)).rows.map((r) => r.id)).toEqual([1, 2]);
    });
  });
});
