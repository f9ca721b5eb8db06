#!/usr/bin/env bash
# Longer runs of the Kafka cluster fault test (issue 16) than the suite's one round, on demand:
#   npm run faults:cluster -- [--rounds N] [--verbose]
# Each round kills -9, on a three-node cluster of the test's own under two guards' load, the leader of most written
# partitions, then the coordinator of the guards' transactions, then a follower, bringing each back before the next
# (the last follower stays down to the end); the history checker must find no violation. Prints the stall per fault.
# Needs the stack (`kes stack up`: its registry and Redis) and a build; never touches the stack's own Kafka.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --verbose) export KES_FAULT_VERBOSE=200 KES_FAULT_LOG_LEVEL=info; shift ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "cluster-faults: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "cluster-faults: --rounds needs a whole number >= 1, got '$rounds'" >&2; exit 2; }

npm run build --silent
export KES_CLUSTER_ROUNDS="$rounds"
exec npx vitest run --project integration --testTimeout $(( (150 + 150 * rounds) * 1000 )) --maxWorkers 1 \
  guard/faults/kafkaCluster.int.test.ts
