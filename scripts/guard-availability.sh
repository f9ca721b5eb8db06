#!/usr/bin/env bash
# Availability when a guard dies, against the reservation length (issue 12), on demand:
#   scripts/guard-availability.sh [--reservations 500,1000,2000,5000] [--repeat N] [--seconds N]
# For each reservation length: two guards under load (24 clients, 60 streams, one shared guard pool), then guard 2
# killed -9; again stopped with SIGSTOP (woken after 6 s); again with no fault, where every resolve is a takeover
# of a live guard (the cost of short reservations). Prints one line a run: the longest gap between successful
# appends and the time without any in the 6 s after the fault, resolves, producer restarts, the checker's verdict.
# Needs the stack (`kes stack up`); builds first.
set -euo pipefail
cd "$(dirname "$0")/.."

reservations=500,1000,2000,5000
repeat=1
seconds=12
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reservations) reservations="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    -h|--help) sed -n 2,8p "$0"; exit 0 ;;
    *) echo "guard-availability: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$reservations" =~ ^[0-9]+(,[0-9]+)*$ ]] ||
  { echo "guard-availability: --reservations needs milliseconds separated by commas, got '$reservations'" >&2; exit 2; }
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || { echo "guard-availability: --repeat needs a whole number >= 1, got '$repeat'" >&2; exit 2; }
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "guard-availability: --seconds needs a whole number >= 1, got '$seconds'" >&2; exit 2; }

npm run build --silent
export KES_AVAILABILITY_RESERVATIONS="$reservations" KES_FAULT_SECONDS="$seconds"
for ((i = 1; i <= repeat; i++)); do
  npx vitest run --project integration --testTimeout $(( (seconds + 240) * 1000 )) --maxWorkers 1 \
    guard/faults/availability.int.test.ts 2>&1 | sed -E 's/\x1b\[[0-9;]*m//g' | grep -E '^availability \(|×|Tests '
done
