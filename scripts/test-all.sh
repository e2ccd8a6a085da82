#!/usr/bin/env bash
# The whole test suite, as CI runs it: typecheck, unit and integration tests on embedded
# PGlite and on a PostgreSQL server, then the browser tests in Debian's Chromium on both.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh || exit 1

export NO_COLOR=1
log=$(mktemp)
failed=()
step() {
  local name=$1; shift
  echo "=== $name"
  if "$@" 2>&1 | tee -a "$log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then echo "=== $name: ok"; else echo "=== $name: FAILED"; failed+=("$name"); fi
}

step "typecheck" npm run typecheck --silent
step "build web apps" npm run build --silent
step "tests on PGlite" npx vitest run
step "browser tests on PGlite" npx vitest run --config e2e/vitest.config.ts
if pg_env=$(bash scripts/start-test-postgres.sh /tmp/parley-test-pg 55439); then
  eval "$pg_env"
  step "tests on PostgreSQL" env TEST_DATABASE_URL="$TEST_DATABASE_URL" npx vitest run
  step "browser tests on PostgreSQL" env TEST_DATABASE_URL="$TEST_DATABASE_URL" npx vitest run --config e2e/vitest.config.ts
  eval "$TEST_PG_STOP" >/dev/null 2>&1 || true
else
  echo "=== PostgreSQL server did not start: FAILED"
  failed+=("postgres server")
fi

# One closing line over every Vitest run: "N passed, N failed".
totals=$(grep -E '^ +Tests +' "$log" | awk '{ for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i-1); if ($(i) ~ /^failed/) f += $(i-1) } } END { printf "%d %d", p, f }')
rm -f "$log"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed steps: ${failed[*]}"
  echo "${totals% *} passed, ${totals#* } failed"
  exit 1
fi
echo "all test steps passed"
echo "${totals% *} passed, ${totals#* } failed"
