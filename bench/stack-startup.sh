#!/usr/bin/env bash
# Times `kes stack up` cold (first download: empty kes cache AND empty Maven repository, so every jar and the
# registry archive come from Maven Central) and warm (everything cached, data directory formatted), on a
# stack of its own: a temporary KES_HOME, ports moved automatically when a running stack holds the defaults.
#
#   bench/stack-startup.sh [--warm-runs N] [--keep-maven]   (--keep-maven: cold run reuses ~/.m2)
set -euo pipefail
cd "$(dirname "$0")/.."
warm_runs=3
fresh_maven=1
while (($#)); do
  case "$1" in
    --warm-runs) warm_runs="$2"; shift 2 ;;
    --keep-maven) fresh_maven=0; shift ;;
    *) echo "unknown flag $1; valid: --warm-runs N, --keep-maven" >&2; exit 2 ;;
  esac
done
[ -f dist/cli/main.js ] || npm run build >/dev/null
work="$(mktemp -d /tmp/kes-bench-stack.XXXXXX)"
export KES_HOME="$work/home" KES_CACHE_DIR="$work/cache" KES_STACK_MODE=local
if ((fresh_maven)); then export MAVEN_OPTS="${MAVEN_OPTS:-} -Dmaven.repo.local=$work/m2"; fi
trap 'node bin/kes.js stack down >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; exit 1; }; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'; }

echo "kes stack up timings on $(nproc) cores ($(date -u +%F)), KES_HOME=$KES_HOME"
cold=$(seconds node bin/kes.js stack up)
printf '%-34s %6.1f s\n' "cold (download + format + start)" "$cold"
node bin/kes.js stack down >/dev/null 2>&1
for i in $(seq 1 "$warm_runs"); do
  warm=$(seconds node bin/kes.js stack up)
  printf '%-34s %6.1f s\n' "warm run $i (all four services)" "$warm"
  again=$(seconds node bin/kes.js stack up)
  printf '%-34s %6.1f s\n' "  up again while running" "$again"
  node bin/kes.js stack down >/dev/null 2>&1
done
