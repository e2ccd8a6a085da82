import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../db/database.ts';
import { sha256 } from '../ids.ts';

// `parley tenant create` as an operator runs it: the real bin script in a child process, with
// its own data dir (embedded PGlite there), or the PostgreSQL server of TEST_DATABASE_URL.

const bin = fileURLToPath(new URL('../../../../bin/parley.js', import.meta.url));

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dataDir: string;
let env: Record<string, string>;
/** On the PostgreSQL run: a database of this file's own on the test server. */
let databaseUrl: string | undefined;
let databaseName: string | undefined;

async function onAdmin(sqlText: string) {
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'parley-cli-'));
  if (process.env.TEST_DATABASE_URL) {
    databaseName = `parley_cli_${randomBytes(6).toString('hex')}`;
    await onAdmin(`CREATE DATABASE ${databaseName}`);
    const url = new URL(process.env.TEST_DATABASE_URL);
    url.pathname = `/${databaseName}`;
    databaseUrl = url.toString();
  }
  // The child must not inherit a DATABASE_URL of the developer's shell: empty selects PGlite.
  env = { PARLEY_DATA_DIR: dataDir, DATABASE_URL: databaseUrl ?? '' };
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  if (databaseName) await onAdmin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
});

describe('parley tenant create', () => {
  it('prints JSON with tenantId and apiKey, and the tenant, admin and key exist', async () => {
    const email = `cli-${Date.now()}@example.com`;
    const result = await run(['tenant', 'create', '--name', 'CLI Co', '--admin-email', email, '--admin-password', 'cli password 123', '--admin-name', 'Cli Admin', '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout.trim()) as { tenantId: string; tenantName: string; adminUserId: string; adminEmail: string; apiKey: string };
    expect(printed).toMatchObject({ tenantName: 'CLI Co', adminEmail: email });
    expect(printed.tenantId).toMatch(/^ten_/);
    expect(printed.apiKey).toMatch(/^pk_/);

    // The tenant persists: a second run with the same admin email is refused.
    const again = await run(['tenant', 'create', '--name', 'CLI Again', '--admin-email', email.toUpperCase(), '--admin-password', 'cli password 123', '--json'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('PARLEY_ERR_EMAIL_TAKEN');
    expect(again.stdout).toBe('');

    // What it printed is what it stored.
    const opened = await openDatabase(databaseUrl ? { databaseUrl } : { dataDir: join(dataDir, 'pg') });
    try {
      const tenant = await opened.db.selectFrom('tenants').selectAll().where('id', '=', printed.tenantId).executeTakeFirstOrThrow();
      expect(tenant.name).toBe('CLI Co');
      const user = await opened.db.selectFrom('users').selectAll().where('id', '=', printed.adminUserId).executeTakeFirstOrThrow();
      expect(user).toMatchObject({ tenant_id: printed.tenantId, email, role: 'admin', name: 'Cli Admin' });
      expect(user.password_hash).not.toContain('cli password');
      const key = await opened.db.selectFrom('api_keys').selectAll().where('key_hash', '=', sha256(printed.apiKey)).executeTakeFirstOrThrow();
      expect(key.tenant_id).toBe(printed.tenantId);
      expect(await opened.db.selectFrom('tenants').select('id').execute()).toHaveLength(1);
    } finally {
      await opened.close();
    }
  }, 120_000);

  it('stops at a numeric setting that is not a whole number, naming it, with exit code 2 and no stack', async () => {
    const r = await run(['tenant', 'create', '--name', 'X', '--admin-email', 'x@example.com', '--admin-password', 'long-enough-1'], { ...env, PARLEY_SESSION_TTL_HOURS: 'twelve' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('error: PARLEY_SESSION_TTL_HOURS must be a whole number from 1 to 8784, not "twelve"');
  });

  it('refuses missing arguments with the usage and exit code 2', async () => {
    const result = await run(['tenant', 'create', '--name', 'No Admin'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage:');
    expect(result.stdout).toBe('');
  }, 60_000);
});
