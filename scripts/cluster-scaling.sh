#!/usr/bin/env bash
# Scaling figures on a three-node Kafka (issue 16, docs/scaling.md), all in one run on the same cluster:
#   npm run bench:cluster -- [--duration S] [--clients N] [--events N] [--out DIR]
# 1. starts a private three-node cluster (`kes stack up --kafka-brokers 3 --only kafka` in a temp KES_HOME, ports
#    KES_SCALING_KAFKA_PORT/+1, default 29092/29093; nodes 2 and 3 on the next ports), stopped and removed at the end;
# 2. bench:guard with 1 guard (and the raw Kafka ceiling), then with 2 guards, closed loop, N clients;
# 3. bench:projector with 1, then 2 projectors in one consumer group over a pre-loaded topic (and the raw consume).
# Registry and Redis are the stack's (`kes stack up`); topics are created with KES_TOPIC_REPLICATION=3.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10
clients=64
events=300000
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --events) events="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n 2,8p "$0"; exit 0 ;;
    *) echo "cluster-scaling: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
for n in "$duration" "$clients" "$events"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "cluster-scaling: expected whole numbers, got '$n'" >&2; exit 2; }
done

npm run build --silent
stack_env="${KES_HOME:-.kes}/stack.env"
[[ -f "$stack_env" ]] || { echo "cluster-scaling: no $stack_env: run \`kes stack up\` first (registry, Redis)" >&2; exit 2; }
home="$(mktemp -d "${TMPDIR:-/tmp}/kes-scaling-XXXXXX")"
out="${out:-$home-results}"
mkdir -p "$out"
cleanup() { node bin/kes.js --home "$home" stack down >/dev/null 2>&1 || true; rm -rf "$home"; }
trap cleanup EXIT

port="${KES_SCALING_KAFKA_PORT:-29092}"
KES_KAFKA_PORT="$port" KES_KAFKA_CONTROLLER_PORT="$((port + 1))" \
  node bin/kes.js --home "$home" stack up --only kafka --kafka-brokers 3 | tee "$out/cluster.txt"

# The stack's registry and Redis, the cluster's brokers and replication (env wins over stack.env).
set -a
# shellcheck disable=SC1090
. "$stack_env"
eval "$(grep -E '^(KAFKA_BROKERS|KES_TOPIC_REPLICATION)=' "$home/stack.env")"
set +a
echo "cluster: KAFKA_BROKERS=$KAFKA_BROKERS KES_TOPIC_REPLICATION=$KES_TOPIC_REPLICATION" | tee -a "$out/cluster.txt"

common=(--clients "$clients" --duration "$duration" --skip-http-floor --skip-open-loop --tries 1 --quiet-wait 20)
node dist/bench/guardBench.js --guards 1 --raw-batch max "${common[@]}" --json-out "$out/guard-1.json" 2>&1 | tee "$out/guard-1.txt"
node dist/bench/guardBench.js --guards 2 --skip-raw "${common[@]}" --json-out "$out/guard-2.json" 2>&1 | tee "$out/guard-2.txt"
# A starved projector misses its group's heartbeats and replays batches, which the raw phase counts as a failure:
# a 30 s session (default 10 s) keeps the group together on a machine busy with other work.
export KES_PROJECTOR_SESSION_TIMEOUT_MS="${KES_PROJECTOR_SESSION_TIMEOUT_MS:-30000}"
node dist/bench/projectorBench.js --events "$events" --skip-freshness --projectors 1 --tries 1 --quiet-wait 20 2>&1 | tee "$out/projector-1.txt"
node dist/bench/projectorBench.js --events "$events" --skip-freshness --projectors 2 --phases preload,clickhouse --tries 1 --quiet-wait 20 2>&1 | tee "$out/projector-2.txt"
echo "figures in $out"
