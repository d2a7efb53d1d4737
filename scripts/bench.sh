#!/usr/bin/env bash
# Runs every benchmark in bench/ against a scratch PostgreSQL database; each prints JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
for bench in bench/bench_*.py; do
  echo "# $bench" >&2
  .venv/bin/python "$bench"
done
