#!/usr/bin/env bash
# Runs every test: unit tests, and integration tests against real Kestrel sockets, real
# DuckDB files, DuckDB's own Node.js client and throwaway PostgreSQL servers. Installs what the
# tests need if missing.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The build compiles the library that sets DuckDB's ZSTD level with cc, and a test checks it took.
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
# The deploy tests check docker-compose.yml with `docker-compose config` and run deploy/nginx.conf
# (no Docker engine needed). Debian puts nginx in /usr/sbin, not on a non-root user's PATH.
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
# The PostgreSQL tests start throwaway servers with initdb and pg_ctl (found as the fixture finds them).
pg_bin="$(pg_config --bindir 2>/dev/null || true)"
if [ ! -x "$pg_bin/initdb" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} with apt-get"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}"
fi

# The log is long and CI shows only its end, so a failing run ends by repeating each failure.
log="$(mktemp -t ingest-tests.XXXXXX.log)"
status=0
dotnet test Cluster.sln -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
  echo
  echo "=== The failures again (whole log: $log) ==="
  awk '/^  Failed /{on=1; n=0} /^  (Passed|Skipped) /{on=0} on && n++ < 40' "$log"
  echo "=== dotnet test exited with $status ==="
else
  rm -f "$log"
fi
exit "$status"
