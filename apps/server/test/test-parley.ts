import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { buildParley, type BuildOptions } from '../src/app.ts';
import { createTenant } from '../src/tenants/create-tenant.ts';
import type { Config } from '../src/config.ts';
import { postgresDatabase, type OpenedDatabase } from '../src/db/database.ts';
import { openTestDatabase } from './test-database.ts';

export interface TestTenant {
  tenantId: string;
  apiKey: string;
  adminUserId: string;
  adminEmail: string;
  adminPassword: string;
}

/** A whole Parley on a free port with a fresh database and data dir, for one test file. */
export async function startTestParley(options: { config?: Partial<Config>; jobs?: BuildOptions['jobs']; routing?: BuildOptions['routing']; database?: OpenedDatabase } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-test-'));
  // A database passed in outlives this server (restart tests, several servers on one database).
  const database = options.database ? { ...options.database, close: async () => undefined } : await openTestDatabase();
  const parley = await buildParley({
    database,
    routing: options.routing,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    config: { port: 0, host: '127.0.0.1', dataDir, secret: 'test-secret', privateTargets: true, ...options.config },
    jobs: options.jobs,
  });
  const baseUrl = await parley.listen();
  return {
    parley,
    baseUrl,
    db: parley.deps.db,
    engine: parley.deps.engine,
    async createTenant(name = 'Tenant'): Promise<TestTenant> {
      const adminEmail = `admin-${randomUUID().slice(0, 8)}@example.com`;
      const adminPassword = 'correct horse battery staple';
      const created = await createTenant(parley.deps.db, { name, adminEmail, adminPassword, adminName: `${name} Admin` });
      return { tenantId: created.tenantId, apiKey: created.apiKey, adminUserId: created.adminUserId, adminEmail, adminPassword };
    },
    async stop() {
      await parley.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export type TestParley = Awaited<ReturnType<typeof startTestParley>>;

/**
 * Two servers on one fresh PostgreSQL database, each with its own pool (two nodes): for tests of
 * what several nodes do at once. `stop` stops both and closes the database.
 */
export async function startTwoNodes(config: Partial<Config> = {}): Promise<{ a: TestParley; b: TestParley; stop(): Promise<void> }> {
  const database = await openTestDatabase();
  const second = postgresDatabase(database.url!, { poolSize: 5 });
  second.migrated();
  const a = await startTestParley({ config, database });
  const b = await startTestParley({ config, database: second });
  return {
    a,
    b,
    async stop() {
      await Promise.allSettled([a.stop(), b.stop()]);
      await second.close();
      await database.close();
    },
  };
}
