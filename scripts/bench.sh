#!/usr/bin/env bash
# Runs every benchmark (each makes its own scratch PostgreSQL database) and prints its JSON.
# bench_catalog_export.py is run by bench_catalog.py in a process of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
for bench in catalog localization channels orders dashboard; do
  echo "# bench/bench_$bench.py" >&2
  .venv/bin/python "bench/bench_$bench.py"
done
