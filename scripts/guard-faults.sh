#!/usr/bin/env bash
# Longer fault runs of the guard than the test suite's short ones, on demand:
#   scripts/guard-faults.sh [--seconds N] [--scenario crash|zombie|redis|broker|lost|abandoned|all] [--verbose]
# Each scenario runs its workload for N seconds (the suite uses 10 to 20), then the history checker must find
# no violation (`abandoned`, issue 12, is a fixed arrangement without a workload: it runs once, whatever N).
# Needs the stack (`kes stack up`) and a build (`npm run build`); prints each scenario's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=120
scenario=all
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --scenario) scenario="$2"; shift 2 ;;
    --verbose) export KES_FAULT_VERBOSE=200 KES_FAULT_LOG_LEVEL=info; shift ;;
    -h|--help) sed -n 2,6p "$0"; exit 0 ;;
    *) echo "guard-faults: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case "$scenario" in
  crash) files=(guard/faults/crash.int.test.ts) ;;
  zombie) files=(guard/faults/zombie.int.test.ts) ;;
  redis) files=(guard/faults/redisLoss.int.test.ts) ;;
  broker) files=(guard/faults/brokerRestart.int.test.ts) ;;
  lost) files=(guard/faults/lostAnswers.int.test.ts) ;;
  abandoned) files=(guard/faults/abandonedAttempt.int.test.ts) ;;
  all) files=(guard/faults) ;;
  *) echo "guard-faults: unknown scenario '$scenario'; valid: crash, zombie, redis, broker, lost, abandoned, all" >&2; exit 2 ;;
esac
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "guard-faults: --seconds needs a whole number, got '$seconds'" >&2; exit 2; }

npm run build --silent
# Scenario timers scale with the run; vitest's own timeouts must not cut a long run short.
export KES_FAULT_SECONDS="$seconds"
exec npx vitest run --project integration --testTimeout $(( (seconds + 240) * 1000 )) --maxWorkers 1 "${files[@]}"
