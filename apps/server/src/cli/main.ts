import { parseArgs } from 'node:util';
import { ConfigError, configFromEnv } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { createTenant } from '../tenants/create-tenant.ts';
import { buildParley } from '../app.ts';
import { ParleyError } from '../errors.ts';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';

const usage = `Usage:
  parley serve                                  start the server (PORT, PARLEY_DATA_DIR, DATABASE_URL)
  parley tenant create --name NAME --admin-email EMAIL --admin-password PASS [--admin-name NAME] [--json]`;

export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    return 2;
  }
}

async function run(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  if (command === 'serve') {
    const parley = await buildParley();
    const url = await parley.listen();
    parley.deps.log.info({ url, database: parley.deps.engine }, 'Parley is listening');
    const stop = async () => {
      await parley.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return -1; // keep running
  }
  if (command === 'tenant' && sub === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: { name: { type: 'string' }, 'admin-email': { type: 'string' }, 'admin-password': { type: 'string' }, 'admin-name': { type: 'string' }, json: { type: 'boolean' } },
    });
    if (!values.name || !values['admin-email'] || !values['admin-password']) {
      process.stderr.write(`${usage}\n`);
      return 2;
    }
    const config = configFromEnv();
    await mkdir(config.dataDir, { recursive: true });
    const { db, close } = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.databaseUrl ? undefined : join(config.dataDir, 'pg'), prepare: config.pgPrepare, pipeline: config.pgPipeline });
    try {
      const created = await createTenant(db, { name: values.name, adminEmail: values['admin-email'], adminPassword: values['admin-password'], adminName: values['admin-name'] });
      if (values.json) process.stdout.write(`${JSON.stringify(created)}\n`);
      else process.stdout.write(`Tenant ${created.tenantName} (${created.tenantId}) created.\nAdmin: ${created.adminEmail}\nAPI key (shown once): ${created.apiKey}\n`);
      return 0;
    } catch (err) {
      if (err instanceof ParleyError) {
        process.stderr.write(`error: ${err.message} (${err.code})\n`);
        return 1;
      }
      throw err;
    } finally {
      await close();
    }
  }
  process.stderr.write(`${usage}\n`);
  return 2;
}

