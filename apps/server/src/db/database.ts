import { Kysely, PostgresDialect } from 'kysely';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pglitePool } from './pglite-pool.ts';
import { PreparingClient } from './prepared-client.ts';
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
  /** Prepare repeated statements (PostgreSQL server; default on). Off behind a pooler that cannot keep them (PgBouncer in transaction mode before 1.21). */
  prepare?: boolean;
  /** Pipeline statements sent AHEAD (PostgreSQL server; default off: it made the routing benchmark's first seconds slower, decision 0005). */
  pipeline?: boolean;
  /** Plan the group committer's statements generically (PostgreSQL server with prepared statements; default on, decision 0005). */
  genericPlans?: boolean;
}

export interface OpenedDatabase {
  db: Db;
  engine: 'pglite' | 'postgres';
  /** Called once the schema is migrated: from then on repeated statements are prepared (PostgreSQL). */
  migrated(): void;
  /** The server's address, for connections of their own (LISTEN); absent for the embedded engine, which one process holds. */
  url?: string;
  /** Whether the group committer's transactions use generic plans (`plan_cache_mode`): only where statements are prepared. */
  genericPlans: boolean;
  close(): Promise<void>;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const opened = options.databaseUrl
    ? postgresDatabase(options.databaseUrl, options)
    : pgliteDatabase(await PGlite.create(options.dataDir ?? 'memory://', { parsers: PGLITE_PARSERS }));
  await migrate(opened.db);
  opened.migrated();
  return opened;
}

export const PGLITE_PARSERS = { 20: (v: string) => Number(v) };

type PostgresOptions = Pick<OpenDatabaseOptions, 'poolSize' | 'prepare' | 'pipeline' | 'genericPlans'>;

export function postgresDatabase(url: string, { poolSize = 10, prepare = true, pipeline = false, genericPlans = true }: PostgresOptions = {}): OpenedDatabase {
  const preparing = { on: false };
  const pool = new pg.Pool({ connectionString: url, max: poolSize, Client: PreparingClient, preparing, pipeline } as unknown as pg.PoolConfig);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, engine: 'postgres', url, genericPlans: prepare && genericPlans, migrated: () => void (preparing.on = prepare), close: () => db.destroy() };
}

export function pgliteDatabase(lite: PGlite): OpenedDatabase {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(lite) }) });
  // PGlite plans every statement anew (nothing is prepared): a generic plan would save nothing.
  return { db, engine: 'pglite', genericPlans: false, migrated: () => undefined, close: () => db.destroy() };
}
