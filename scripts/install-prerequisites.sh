#!/usr/bin/env bash
# Installs what the local stack needs and a fresh Debian machine may lack: redis-server, a ClickHouse server,
# Maven (to fetch Kafka and the registry from Maven Central once), and a compose client (to validate
# docker-compose.yml). Java 17 runs Kafka; the registry (Apicurio 3) needs Java 21+, which kes finds under
# /usr/lib/jvm. PostgreSQL is the lab's database event store (`kes stack` runs its own server, data under .kes/);
# Chromium is what the browser tests drive (the dashboard and the lab's reports, through playwright-core).
# Safe to run again: it installs only what is missing.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v clickhouse-server >/dev/null || command -v clickhouse >/dev/null || missing+=(clickhouse-server)
command -v mvn >/dev/null || missing+=(maven)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null || missing+=(chromium)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
if ((${#missing[@]} == 0)); then
  echo "prerequisites: all present"
  exit 0
fi
echo "prerequisites: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing or stale on a fresh machine; refresh them only when an install fails.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
  { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
