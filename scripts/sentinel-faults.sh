#!/usr/bin/env bash
# Longer Redis Sentinel failover runs than the suite's single one, on demand:
#   scripts/sentinel-faults.sh [--rounds N] [--verbose]      (npm run faults:sentinel -- --rounds N)
# Each round kills -9 the current master of a private master/replica/three-sentinel group (own ports, temp dir;
# the main stack's Redis is never touched), waits for the promotion, brings the old master back as a replica and
# lets the load run on (a round is 9 s, the load 14 s a round); then the history checker must find no violation. Prints the 503 seconds per failover.
# Needs the stack (`kes stack up`, for Kafka and the registry) and builds first.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --verbose) export KES_FAULT_VERBOSE=200 KES_FAULT_LOG_LEVEL=info; shift ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "sentinel-faults: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "sentinel-faults: --rounds needs a positive whole number, got '$rounds'" >&2; exit 2; }

npm run build --silent
export KES_SENTINEL_ROUNDS="$rounds"
exec npx vitest run --project integration --testTimeout $(( (rounds * 14 + 240) * 1000 )) --maxWorkers 1 \
  guard/faults/sentinelFailover.int.test.ts
