#!/usr/bin/env bash
# Runs every test: unit tests, and integration tests against real Kestrel sockets, real
# DuckDB files and DuckDB's own Node.js client. Installs what the tests need if missing.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} with apt-get"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}"
fi

dotnet test Cluster.sln -c Release --logger "console;verbosity=normal" "$@"
