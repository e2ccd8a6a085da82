import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../scripts/start-test-postgres.sh', import.meta.url));

/**
 * A PostgreSQL server with durable settings (fsync on) for one benchmark run (ports below Linux's
 * ephemeral range, which client sockets of the previous run may still hold). Reached over its
 * Unix socket, as a server on the same host should be: on this VM a loopback TCP round trip
 * costs the client about twice the CPU. BENCH_PG_TCP=1 connects over TCP instead.
 */
export function startBenchPostgres(port = 25470): { url: string; dataDir: string; stop: () => void } {
  // BENCH_PG_STATEMENTS=1: pg_stat_statements is loaded, and the server bench prints the busiest statements at the end.
  // BENCH_PG_OPTS: more server options for one run (e.g. auto_explain settings; the log is in /tmp/parley-bench-pg-<port>/log).
  // Autovacuum every second instead of every minute: a run packs hours of a deployment's traffic into a minute, and with the
  // default cadence its tables stayed unanalyzed throughout, planned as the empty tables no running deployment has.
  // A table is analyzed when it has grown by half: the tables start empty and reach tens of thousands of rows in seconds,
  // and analyzing them every second (at 5 % growth) cost 3–4 s of CPU per ingest run, ~100 µs per message, where a
  // deployment's large tables, analyzed at the default 10 % growth, pay about 1 µs.
  const autovacuum = '-c autovacuum_naptime=1 -c autovacuum_vacuum_scale_factor=0.05 -c autovacuum_analyze_scale_factor=0.5';
  const opts = `${autovacuum} ${process.env.BENCH_PG_STATEMENTS ? '-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on' : ''} ${process.env.BENCH_PG_OPTS ?? ''}`;
  const dir = `/tmp/parley-bench-pg-${port}`;
  const out = execFileSync('bash', [script, dir, String(port)], { env: { ...process.env, PG_EXTRA_OPTS: opts }, encoding: 'utf8' });
  const url = /TEST_DATABASE_URL=(\S+)/.exec(out)?.[1];
  const stop = /TEST_PG_STOP='([^']+)'/.exec(out)?.[1];
  if (!url || !stop) throw new Error(`could not start PostgreSQL: ${out}`);
  const socketUrl = `postgres://postgres@${encodeURIComponent(dir)}:${port}/postgres`;
  return { url: process.env.BENCH_PG_TCP ? url : socketUrl, dataDir: `${dir}/data`, stop: () => execFileSync('bash', ['-c', stop], { stdio: 'ignore' }) };
}
