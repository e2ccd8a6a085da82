import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { migrate } from '../src/db/migrations.ts';
import { PGLITE_PARSERS, pgliteDatabase, postgresDatabase, type OpenedDatabase } from '../src/db/database.ts';

/**
 * A fresh, migrated database for one test: a new database on the PostgreSQL server named by
 * TEST_DATABASE_URL, or else an in-memory PGlite loaded from a migrated template (made once per
 * run by test/global-setup.ts, since a PGlite initdb takes seconds).
 */
export async function openTestDatabase(): Promise<OpenedDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const name = `parley_test_${randomBytes(6).toString('hex')}`;
    await withAdmin(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const opened = postgresDatabase(url.toString(), { poolSize: 5 });
    await migrate(opened.db);
    opened.migrated();
    return {
      ...opened,
      async close() {
        await opened.close();
        await withAdmin(serverUrl, async (c) => {
          // The pool's end() returns before its sockets have closed; a forced drop would kill them
          // mid-goodbye and the driver would throw that as an uncaught error. Let them go first.
          for (let i = 0; i < 40; i++) {
            const { rows } = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
            if (rows[0].n === 0) break;
            await new Promise((r) => setTimeout(r, 50));
          }
          await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        });
      },
    };
  }
  const template = process.env.PARLEY_TEST_PGLITE_TEMPLATE;
  const lite = await PGlite.create('memory://', {
    parsers: PGLITE_PARSERS,
    ...(template ? { loadDataDir: new Blob([await readFile(template)]) } : {}),
  });
  const opened = pgliteDatabase(lite);
  await migrate(opened.db);
  return opened;
}

async function withAdmin(url: string, work: (c: pg.Client) => Promise<unknown>) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
