import { Kysely, PostgresDialect } from 'kysely';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pglitePool } from './pglite-pool.ts';
import { migrate } from './migrations.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

// int8 (bigint) as a JS number: sequence numbers and counts stay far below 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));

export interface OpenDatabaseOptions {
  /** postgres://… for a PostgreSQL server; otherwise the embedded PGlite engine is used. */
  databaseUrl?: string;
  /** Directory of the embedded database; omitted = in memory. */
  dataDir?: string;
  poolSize?: number;
}

export interface OpenedDatabase {
  db: Db;
  engine: 'pglite' | 'postgres';
  close(): Promise<void>;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  let db: Db;
  let engine: OpenedDatabase['engine'];
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    engine = 'postgres';
  } else {
    const lite = await PGlite.create(options.dataDir ?? 'memory://', {
      parsers: { 20: (v: string) => Number(v) },
    });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(lite) }) });
    engine = 'pglite';
  }
  await migrate(db);
  return { db, engine, close: () => db.destroy() };
}
