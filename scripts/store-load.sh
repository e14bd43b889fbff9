#!/usr/bin/env bash
# The load figures of docs/store.md: N concurrent writers (2, 8, 32) recording decisions for S seconds (default 60)
# into a fresh SQLite file and a fresh PostgreSQL database on loopback (scripts/postgres.sh's server).
#   bash scripts/store-load.sh [SECONDS]      (STORES="postgresql" for one store only)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
swift build -c release -Xswiftc -enable-testing --product fracview >/dev/null
bin=$(swift build -c release -Xswiftc -enable-testing --show-bin-path)/fracview
eval "$(bash scripts/postgres.sh start)"
base=${FRACVIEW_TEST_PG_URL%/*}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for store in ${STORES:-sqlite postgresql}; do
  for n in 2 8 32; do
    if [ "$store" = sqlite ]; then
      db="$scratch/load-$n.sqlite"
    else
      psql "$FRACVIEW_TEST_PG_URL" -qc "DROP DATABASE IF EXISTS fracview_load_$n" -c "CREATE DATABASE fracview_load_$n" >/dev/null
      db="$base/fracview_load_$n"
    fi
    "$bin" store-bench --db "$db" --writers "$n" --seconds "$seconds" --json
  done
done
