#!/usr/bin/env bash
# Issue-panel read latency/throughput against two baselines on the same host, in one run:
#   bare     GET /atlassian-connect.json      no auth, no database (a prepared string)
#   whoami   GET /api/whoami                  Connect JWT verification (tenant cache) only
#   panel    GET /api/issue-panel?reporter=…  JWT + role (cached after the first call) + the panel's reads
# Starts the stack with scripts/run.sh (demo site seeded), loads it with wrk on loopback, writes results.md.
#   bash bench/issue-panel/run.sh [seconds=15] [connections=16]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER=${1:-15}
CONNECTIONS=${2:-16}
OUT=bench/issue-panel/results.md
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

bash scripts/run.sh >/dev/null
trap 'bash scripts/stop.sh --keep-services >/dev/null' EXIT
REPORTER=$(sed -n 's/.*"sampleReporter":"\([^"]*\)".*/\1/p' .run/demo-seed.json)
TOKEN=$(curl -fsS http://127.0.0.1:8090/admin/sites/demo/context-token)
BASE=http://127.0.0.1:8080

run() { # name path auth?
  local name=$1 path=$2 auth=$3 args=()
  [[ $auth == yes ]] && args=(-H "Authorization: JWT $TOKEN")
  curl -fsS -o /dev/null "${args[@]}" "$BASE$path" # warm: role cache, JIT
  wrk -t2 -c8 -d3s "${args[@]}" "$BASE$path" >/dev/null
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER}s" --latency "${args[@]}" "$BASE$path" > ".run/wrk-$name.txt"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' ".run/wrk-$name.txt")
  p50=$(awk '$1=="50%" {print $2}' ".run/wrk-$name.txt")
  p99=$(awk '$1=="99%" {print $2}' ".run/wrk-$name.txt")
  errors=$(grep -Eo 'Non-2xx or 3xx responses: [0-9]+' ".run/wrk-$name.txt" | grep -Eo '[0-9]+$' || echo 0)
  echo "$name|$rps|$p50|$p99|$errors"
}

rows=()
for spec in "bare|/atlassian-connect.json|no" "whoami|/api/whoami|yes" "panel|/api/issue-panel?reporter=$REPORTER|yes"; do
  IFS='|' read -r name path auth <<<"$spec"
  rows+=("$(run "$name" "$path" "$auth")")
done

bare_rps=$(cut -d'|' -f2 <<<"${rows[0]}")
{
  echo "# Issue-panel read: benchmark results"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "- command: \`bash bench/issue-panel/run.sh $SECONDS_PER $CONNECTIONS\` (wrk -t2 -c$CONNECTIONS -d${SECONDS_PER}s, after a 3 s warm-up; app, PostgreSQL and wrk share the machine)"
  echo "- app: Release build, role \`all\`, demo site with 16 fields, 25 organizations, 100 customers; the panel reads the reporter's customer record, its organizations and both field catalogs"
  echo
  echo "| endpoint | what it does | requests/s | p50 | p99 | non-2xx | throughput vs bare |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  for row in "${rows[@]}"; do
    IFS='|' read -r name rps p50 p99 errors <<<"$row"
    case $name in
      bare) what="GET /atlassian-connect.json: no auth, no DB";;
      whoami) what="GET /api/whoami: JWT verify + tenant cache";;
      panel) what="GET /api/issue-panel: JWT + cached role + 1 round trip (tenant setting batched with the query; catalogs cached)";;
    esac
    ratio=$(awk -v a="$rps" -v b="$bare_rps" 'BEGIN { printf "%.2f", a / b }')
    echo "| $name | $what | $rps | $p50 | $p99 | $errors | $ratio |"
  done
} > "$OUT"
cat "$OUT"
