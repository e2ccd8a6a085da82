#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on loopback for the test run and prints its URL.
# Usage: eval "$(scripts/start-test-postgres.sh DIR PORT)"; stop it with pg_ctl -D DIR/data stop.
# Tests run with fsync off; benchmarks pass PG_EXTRA_OPTS=" " to keep the durable defaults.
set -euo pipefail
dir=${1:-/tmp/parley-test-pg}
port=${2:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
# A server left running from an earlier run of this script is stopped first.
if [ -f "$dir/data/postmaster.pid" ]; then
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
fi
rm -rf "$dir"
mkdir -p "$dir"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 ${PG_EXTRA_OPTS:--c fsync=off}" start >/dev/null
echo "export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
echo "export TEST_PG_STOP='${as_pg[*]} $bin/pg_ctl -D $dir/data -m fast stop'"
