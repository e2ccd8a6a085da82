/** What the server benchmarks share: a server in its own process, sockets, the realtime hello, admin SQL, the raw-insert baseline. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';
import { openDatabase } from '../apps/server/src/db/database.ts';
import { startBenchPostgres } from './bench-postgres.ts';
import { round } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

export function openSocket(url: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Sends the realtime hello (agents: lastSeq null; visitors: with their token) and waits for ready. */
export function hello(ws: WebSocket, frame: unknown = { type: 'hello', lastSeq: null }): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (raw: WebSocket.RawData) => {
      const { type } = JSON.parse(raw.toString()) as { type: string };
      if (type === 'ready' || type === 'resync') {
        ws.off('message', onMessage);
        resolve();
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify(frame));
  });
}

export async function waitHealthy(base: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('server did not become healthy');
}

export async function adminQuery(url: string, query: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(query);
  await client.end();
}

export interface CpuSeconds {
  server: number;
  postgres: number;
}

export interface BenchServer {
  base: string;
  engine: 'pglite' | 'postgres';
  /** The server's database ('' on PGlite) and data directory, for baselines measured beside it. */
  databaseUrl: string;
  dataDir: string;
  /** One admin API key per tenant created, in order. */
  apiKeys: string[];
  /**
   * CPU seconds used so far by the server's process and by PostgreSQL (its server process, the
   * children it has reaped, and those alive now; 0 on PGlite): the difference of two readings is
   * what a phase cost the machine, a steadier figure than its latency on a shared VM.
   */
  cpuSeconds(): CpuSeconds;
  /** Kills the server with SIGKILL and starts it again on the same database and port. */
  restart(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/** The server runs with the Node flags `npm start` gives it (bin/parley.js), so the benches measure what a deployment runs. */
function startNodeFlags(): string[] {
  // `npm start` runs bin/parley.js, whose first line carries the node flags (decision 0008).
  const shebang = readFileSync(join(root, 'bin/parley.js'), 'utf8').split('\n')[0]!;
  const flags = /^#!\/usr\/bin\/env -S node((?: --\S+)*)$/.exec(shebang);
  if (!flags) throw new Error(`bin/parley.js does not start with "#!/usr/bin/env -S node [flags]": ${shebang}`);
  return flags[1]!.trim().split(' ').filter(Boolean);
}

/**
 * A Parley server in its own process for a benchmark, on a fresh PostgreSQL server (durable
 * defaults) or on PGlite, with tenants created by the CLI (`admin email = <prefix><i>@example.com`,
 * password `bench-password-1`).
 */
export async function startBenchServer(o: { engine: 'pglite' | 'postgres'; port: number; pgPort?: number; tenants: number; tenantPrefix: string; env?: Record<string, string> }): Promise<BenchServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-'));
  const pgServer = o.engine === 'postgres' ? startBenchPostgres(o.pgPort) : null;
  let databaseUrl = '';
  if (pgServer) {
    await adminQuery(pgServer.url, 'CREATE DATABASE parley_bench');
    databaseUrl = pgServer.url.replace(/\/postgres$/, '/parley_bench');
    if (process.env.BENCH_PG_STATEMENTS) await adminQuery(databaseUrl, 'CREATE EXTENSION pg_stat_statements');
  }
  const base = `http://127.0.0.1:${o.port}`;
  const env = { ...process.env, PARLEY_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, PORT: String(o.port), HOST: '127.0.0.1', LOG_LEVEL: process.env.BENCH_SERVER_LOG ? 'info' : 'warn', PARLEY_SECRET: 'bench', ...o.env };
  const apiKeys = Array.from({ length: o.tenants }, (_, i) => {
    const args = ['bin/parley.js', 'tenant', 'create', '--name', `Bench ${o.tenantPrefix}${i}`, '--admin-email', `${o.tenantPrefix}${i}@example.com`, '--admin-password', 'bench-password-1', '--json'];
    const out = execFileSync('node', args, { cwd: root, env, encoding: 'utf8' });
    return (JSON.parse(out.trim().split('\n').pop()!) as { apiKey: string }).apiKey;
  });
  const nodeArgs = [...startNodeFlags(), ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
  // BENCH_SERVER_LOG=FILE: the server's log (level info: every request with its response time) goes to FILE.
  const log = process.env.BENCH_SERVER_LOG ? openSync(process.env.BENCH_SERVER_LOG, 'a') : 'ignore';
  const launch = () => spawn('node', [...nodeArgs, 'bin/parley.js', 'serve'], { cwd: root, env, stdio: ['ignore', log, 'inherit'] });
  const exited = (p: ChildProcess) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.once('exit', r)));
  let server = launch();
  await waitHealthy(base);
  return {
    base,
    engine: o.engine,
    cpuSeconds: () => ({ server: server.pid === undefined ? 0 : cpuOf(server.pid), postgres: pgServer ? postgresCpu(pgServer.dataDir) : 0 }),
    databaseUrl,
    dataDir,
    apiKeys,
    async restart(signal = 'SIGKILL') {
      server.kill(signal);
      await exited(server);
      server = launch();
      await waitHealthy(base);
    },
    async stop() {
      server.kill('SIGTERM');
      await exited(server);
      if (pgServer && process.env.BENCH_PG_STATEMENTS) await printBusiestStatements(databaseUrl);
      pgServer?.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The statements that took the database's time during the run (BENCH_PG_STATEMENTS=1), to see where a use case's cost goes. */
async function printBusiestStatements(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ calls: string; ms: number; plan: number; query: string }>(
    `SELECT calls, round(total_exec_time::numeric, 1)::float AS ms, round(total_plan_time::numeric, 1)::float AS plan, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY total_exec_time + total_plan_time DESC LIMIT 40`,
  );
  // How the busiest tables were written: updates that moved no indexed column are HOT (no index entry, less to vacuum).
  const tables = await client.query<{ relname: string; ins: string; upd: string; hot: string; vacuums: string; analyzes: string }>(
    `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot, autovacuum_count AS vacuums, autoanalyze_count AS analyzes
     FROM pg_stat_user_tables ORDER BY n_tup_ins + n_tup_upd + n_tup_del DESC LIMIT 10`,
  );
  await client.end();
  console.error('calls\texec ms\tplan ms\tstatement');
  for (const r of rows) console.error(`${r.calls}\t${r.ms}\t${r.plan}\t${r.query}`);
  console.error('table\tinserted\tupdated\tof which HOT\tautovacuums\tautoanalyzes');
  for (const t of tables.rows) console.error(`${t.relname}\t${t.ins}\t${t.upd}\t${t.hot}\t${t.vacuums}\t${t.analyzes}`);
}

/**
 * The raw baseline of the server benchmarks: plain single-row INSERTs of message rows through
 * the same driver, `concurrency` at a time, on a database of the same engine. Rows per second.
 */
export async function rawInsertBaseline(engine: 'pglite' | 'postgres', databaseUrl: string, dataDir: string, rows: number, concurrency: number): Promise<number> {
  const { db, close } = await openDatabase(engine === 'postgres' ? { databaseUrl, poolSize: concurrency } : { dataDir: join(dataDir, 'baseline-pg') });
  try {
    const tenant = `ten_baseline_${randomUUID().slice(0, 8)}`;
    await db.insertInto('tenants').values({ id: tenant, name: 'baseline' }).execute();
    await db.insertInto('inboxes').values({ id: `${tenant}_i`, tenant_id: tenant, public_id: `${tenant}_p`, name: 'b', channel_type: 'webchat', settings: '{}', identity_secret: 'x' }).execute();
    await db.insertInto('contacts').values({ id: `${tenant}_c`, tenant_id: tenant, name: 'b', email: null, phone: null, identifier: null, verified: false, custom_attributes: '{}' }).execute();
    await db
      .insertInto('conversations')
      .values({ id: `${tenant}_v`, tenant_id: tenant, inbox_id: `${tenant}_i`, contact_id: `${tenant}_c`, channel_type: 'webchat', status: 'open', assignee_id: null, queue_id: null, priority: 0, labels: '[]', custom_attributes: '{}', subject: null, external_thread_id: null, snoozed_until: null, unread_count: 0, last_message_id: null })
      .execute();
    let i = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (i < rows) {
          const n = i++;
          await db
            .insertInto('messages')
            .values({ id: `msg_${randomUUID().replaceAll('-', '')}`, tenant_id: tenant, conversation_id: `${tenant}_v`, direction: 'in', private: false, sender_type: 'contact', sender_id: `${tenant}_c`, sender_name: 'b', content: `message ${n}`, content_type: 'text/plain', attachments: '[]', mentions: '[]', status: 'received', client_message_id: null, source_id: `baseline:${n}` })
            .execute();
        }
      }),
    );
    return rows / ((performance.now() - started) / 1000);
  } finally {
    await close();
  }
}

/** CPU per item between two readings of `cpuSeconds`, in ms (`digits` after the point). */
export function cpuMsPer(before: CpuSeconds, after: CpuSeconds, items: number, digits: number): CpuSeconds {
  const per = (spent: number) => round((spent * 1000) / items, digits);
  return { server: per(after.server - before.server), postgres: per(after.postgres - before.postgres) };
}

/** Linux's clock ticks per second, in which /proc counts CPU time. */
const TICKS = 100;

/** /proc/PID/stat's fields after the command name (which may hold spaces): [0] is the state, [1] the parent, [11..14] utime, stime, cutime, cstime. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null; // gone meanwhile
  }
}

/** CPU seconds of one process, and of its children it has waited for when `reaped`. */
function cpuOf(pid: number, reaped = false): number {
  const f = statFields(pid);
  if (!f) return 0;
  const ticks = Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
  return ticks / TICKS;
}

/** CPU seconds of a PostgreSQL server: its postmaster with the backends it has reaped, and the processes it runs now. */
function postgresCpu(dataDir: string): number {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let total = cpuOf(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    if (statFields(pid)?.[1] === String(postmaster)) total += cpuOf(pid);
  }
  return total;
}

