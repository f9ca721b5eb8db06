#!/usr/bin/env bash
# Longer fault runs of the projectors than the test suite's short one, on demand:
#   scripts/projector-faults.sh [--seconds N]
# Runs projectors/faults/projectorFaults.int.test.ts with N seconds of guarded load (the suite uses 20): projector
# crashes between insert and commit, kill -9, scaling 1 -> 2 -> 1, and a ClickHouse restart; then the read models
# must equal the log. Needs the stack (`kes stack up`); builds first.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=120
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    -h|--help) sed -n 2,6p "$0"; exit 0 ;;
    *) echo "projector-faults: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "projector-faults: --seconds needs a whole number, got '$seconds'" >&2; exit 2; }

npm run build --silent
export KES_PROJECTOR_FAULT_SECONDS="$seconds"
exec npx vitest run --project integration --testTimeout $(( (seconds * 3 + 300) * 1000 )) --maxWorkers 1 \
  projectors/faults/projectorFaults.int.test.ts
