#!/usr/bin/env bash
# One command for the HTTP throughput benchmark: every row loaded by the same tool (wrk), in the same run, on this
# machine, at 2 and 50 connections, with ratios; results in bench/results/<date>.md.
#   bash bench/run.sh [--large] [--smoke] [seconds=10]   (ROUNDS=3: each row measured in 3 rounds, median reported)
#     --large  also load 100,000 organizations and 1,000,000 customers into a second site (bench/load-large.sql)
#              and measure the issue panel and the directory list there (the load takes a few minutes)
#              (LARGE_ORGS / LARGE_CUSTOMERS change the sizes, e.g. for a quick try of the loader)
#     --smoke  1 s per row at 2 connections, demo data only, results to .run/bench-smoke.md (what CI runs)
# Rows: bare Kestrel (bench/BareKestrel, nothing of ours: the baseline), the app's descriptor (our pipeline, no
# auth), /api/whoami (Connect JWT + tenant cache), the issue panel (demo; and large), the directory list, and
# atlassian-connect-express's context-token route (bench/ace, installed on a simulated site through ACE's own
# signed-install flow, its store in PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
LARGE=no; SMOKE=no; SECONDS_PER=10
for arg in "$@"; do
  case $arg in
    --large) LARGE=yes;;
    --smoke) SMOKE=yes;;
    *) SECONDS_PER=$arg;;
  esac
done
CONNECTIONS=(2 50)
WARMUP=10 # the JIT's tiering and dynamic PGO take a while under load: measure the steady state
ROUNDS=${ROUNDS:-3}
if [[ $SMOKE == yes ]]; then SECONDS_PER=1; CONNECTIONS=(2); LARGE=no; WARMUP=1; ROUNDS=1; fi
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }
SIM=http://127.0.0.1:8090
APP=http://127.0.0.1:8080
BARE_PORT=8091
ACE_PORT=8092
DB_ADMIN=${DATABASE_URL:-postgres://app:app_pw@127.0.0.1:5432/appdb}
pids=()
LARGE_TENANT=
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -n $LARGE_TENANT ]]; then # the large site's records (memberships go with them) do not stay in the local database
    psql "$DB_ADMIN" -qc "SELECT set_config('app.tenant_id', '$LARGE_TENANT', false)" -c "DELETE FROM records" >/dev/null 2>&1 || true
  fi
  bash scripts/stop.sh --keep-services >/dev/null 2>&1 || true
}
trap cleanup EXIT

log "stack: scripts/run.sh as the Procfile runs the app (role web on :8080 and a worker process), Jira simulator on :8090, demo site seeded"
APP_PROCESSES=split bash scripts/run.sh >/dev/null
APP_PID=$(cat .run/app.pid)
WORKER_PID=$(cat .run/worker.pid)

log "bare Kestrel on :$BARE_PORT"
dotnet build bench/BareKestrel -c Release -nologo -v quiet >/dev/null
ASPNETCORE_URLS=http://127.0.0.1:$BARE_PORT dotnet bench/BareKestrel/bin/Release/net10.0/BareKestrel.dll >.run/bare.log 2>&1 &
pids+=($!)

log "ACE on :$ACE_PORT (npm ci in bench/ace; its store in the database ace_bench)"
(cd bench/ace && npm ci --no-audit --no-fund --silent >/dev/null)
psql "$DB_ADMIN" -qc "DROP DATABASE IF EXISTS ace_bench" -c "CREATE DATABASE ace_bench" >/dev/null 2>&1
ACE_DB=$(sed -E 's#/[^/?]+(\?.*)?$#/ace_bench#' <<<"$DB_ADMIN")
(cd bench/ace && PORT=$ACE_PORT NODE_ENV=production DB_URL=$ACE_DB CONNECT_KEYS_CDN_URL=$SIM/connect-install-keys exec node app.js) >.run/ace.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$BARE_PORT/" >/dev/null 2>&1 && curl -fsS "http://127.0.0.1:$ACE_PORT/atlassian-connect.json" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS -X POST "$SIM/admin/sites/ace/install?app=http://127.0.0.1:$ACE_PORT" >/dev/null || { tail -20 .run/ace.log; echo "ACE install failed" >&2; exit 1; }

REPORTER=$(sed -n 's/.*"sampleReporter":"\([^"]*\)".*/\1/p' .run/demo-seed.json)
token() { curl -fsS "$SIM/admin/sites/$1/context-token${2:+?accountId=$2}"; }
DEMO_TOKEN=$(token demo)
ACE_TOKEN=$(token ace)

LARGE_TOKEN=
LARGE_ORGS=${LARGE_ORGS:-100000}
export LARGE_CUSTOMERS=${LARGE_CUSTOMERS:-1000000} # also read by bench/random-reporter.lua
LARGE_REPORTER=557058:large-$(( LARGE_CUSTOMERS * 7 / 9 ))
if [[ $LARGE == yes ]]; then
  log "large site: install, demo fields, then $LARGE_ORGS organizations and $LARGE_CUSTOMERS customers by SQL"
  curl -fsS -X POST "$SIM/admin/sites/large/install" >.run/large-site.json
  curl -fsS -X POST "$SIM/admin/sites/large/seed?organizations=0&customers=0" >/dev/null
  LARGE_TOKEN=$(token large)
  CLIENT_KEY=$(jq -r .clientKey .run/large-site.json)
  TENANT=$(psql "$DB_ADMIN" -Atc "SELECT id FROM tenants WHERE client_key = '$CLIENT_KEY'")
  LARGE_TENANT=$TENANT
  curl -fsS -H "Authorization: JWT $LARGE_TOKEN" "$APP/api/fields" >.run/large-fields.json
  FIELDS=$(jq -c 'map({(.key): .id}) | add' .run/large-fields.json)
  OPTIONS=$(jq -c 'map(select(.options != null) | {(.key): [.options[].id]}) | add' .run/large-fields.json)
  start=$(date +%s)
  psql "$DB_ADMIN" -q -v tenant="$TENANT" -v orgs="$LARGE_ORGS" -v customers="$LARGE_CUSTOMERS" -v fields="$FIELDS" -v options="$OPTIONS" -f bench/load-large.sql >/dev/null
  log "loaded in $(( $(date +%s) - start )) s"
fi

samples=() # c|name|round|rps|p50|p99|errors|web RSS after (MB), one per measurement
measure() { # round name url token connections [wrk script]
  local round=$1 name=$2 url=$3 tok=$4 c=$5 args=() script=()
  [[ -n $tok ]] && args=(-H "Authorization: JWT $tok")
  [[ -n ${6:-} ]] && script=(-s "$6")
  if [[ $round == 1 ]]; then
    curl -fsS -o /dev/null "${args[@]}" "$url" || { echo "$name: $url did not answer 2xx" >&2; exit 1; }
    wrk -t2 -c"$c" -d"${WARMUP}s" "${args[@]}" "${script[@]}" "$url" >/dev/null # warm-up: JIT tiers, caches, prepared statements
  fi
  wrk -t2 -c"$c" -d"${SECONDS_PER}s" --latency "${args[@]}" "${script[@]}" "$url" >".run/wrk-$name-$c-$round.txt"
  local rps p50 p99 errors rss=
  rps=$(awk '/Requests\/sec/ {print $2}' ".run/wrk-$name-$c-$round.txt")
  p50=$(awk '$1=="50%" {print $2}' ".run/wrk-$name-$c-$round.txt")
  p99=$(awk '$1=="99%" {print $2}' ".run/wrk-$name-$c-$round.txt")
  errors=$(grep -Eo 'Non-2xx or 3xx responses: [0-9]+' ".run/wrk-$name-$c-$round.txt" | grep -Eo '[0-9]+$' || echo 0)
  [[ $url == "$APP"* ]] && rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$APP_PID/status")
  samples+=("$c|$name|$round|$rps|$p50|$p99|$errors|$rss")
  log "round $round: $name at $c connections: $rps requests/s, p99 $p99, non-2xx $errors${rss:+, web RSS $rss MB}"
}

# Rounds run every row in turn, so a passing disturbance (a checkpoint, the worker's scheduled work) lands in one
# round of a row, not in all of it; each row reports its median round.
for round in $(seq 1 "$ROUNDS"); do
  for c in "${CONNECTIONS[@]}"; do
    measure "$round" bare "http://127.0.0.1:$BARE_PORT/" "" "$c"
    measure "$round" descriptor "$APP/atlassian-connect.json" "" "$c"
    measure "$round" whoami "$APP/api/whoami" "$DEMO_TOKEN" "$c"
    measure "$round" panel-demo "$APP/api/issue-panel?reporter=$REPORTER" "$DEMO_TOKEN" "$c"
    measure "$round" directory-demo "$APP/api/customers?limit=50" "$DEMO_TOKEN" "$c"
    if [[ $LARGE == yes ]]; then
      measure "$round" panel-large "$APP/api/issue-panel?reporter=$LARGE_REPORTER" "$LARGE_TOKEN" "$c"
      measure "$round" panel-large-any "$APP/api/issue-panel?reporter=$LARGE_REPORTER" "$LARGE_TOKEN" "$c" bench/random-reporter.lua
      measure "$round" directory-large "$APP/api/customers?limit=50" "$LARGE_TOKEN" "$c"
    fi
    measure "$round" ace "http://127.0.0.1:$ACE_PORT/jwt" "$ACE_TOKEN" "$c"
  done
done
RSS_MB=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$APP_PID/status")
WORKER_RSS_MB=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$WORKER_PID/status")
# Where the web process's resident memory is at the end, by kind of mapping (/proc/<pid>/smaps).
WEB_MAPS=$(awk '/^[0-9a-f]+-[0-9a-f]+ / {n = $6; k = (n ~ /\.dll$/) ? "assemblies (mapped .dll files)" : (n ~ /\.so/) ? "native libraries" : (n ~ /doublemapper/) ? "JIT code, stubs and loader heaps (memfd:doublemapper)" : "GC heap and other anonymous memory"; next}
  /^Rss:/ {r[k] += $2} END {for (k in r) printf "%s %.0f MB; ", k, r[k] / 1024}' "/proc/$APP_PID/smaps" | sed 's/; $//')

# One row per (connections, name), in the order measured: the median round's figures, the range of requests/s over
# the rounds, the errors of all rounds, the web process's largest RSS after the row.
rows=()
mapfile -t keys < <(for s in "${samples[@]}"; do cut -d'|' -f1,2 <<<"$s"; done | awk '!seen[$0]++')
for key in "${keys[@]}"; do
  mapfile -t mine < <(for s in "${samples[@]}"; do [[ $s == "$key|"* ]] && echo "$s"; done | sort -t'|' -k4,4g)
  IFS='|' read -r c name _ rps p50 p99 _ _ <<<"${mine[$(( ${#mine[@]} / 2 ))]}"
  low=$(cut -d'|' -f4 <<<"${mine[0]}"); high=$(cut -d'|' -f4 <<<"${mine[-1]}")
  errors=$(printf '%s\n' "${mine[@]}" | awk -F'|' '{s += $7} END {print s + 0}')
  rss=$(printf '%s\n' "${mine[@]}" | awk -F'|' '$8 != "" && $8 > m {m = $8} END {if (m) print m}')
  rows+=("$c|$name|$rps|$p50|$p99|$errors|$low|$high|$rss")
done

value() { local c=$1 name=$2; for r in "${rows[@]}"; do IFS='|' read -r rc rn rrps _ <<<"$r"; [[ $rc == "$c" && $rn == "$name" ]] && echo "$rrps"; done; return 0; }
OUT=bench/results/$(date -u +%Y-%m-%d-%H%M).md
[[ $SMOKE == yes ]] && OUT=.run/bench-smoke.md
mkdir -p "$(dirname "$OUT")"
{
  echo "# HTTP throughput: one run, side by side"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ); commit $(git rev-parse --short HEAD)"
  echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); wrk, the app, PostgreSQL, RabbitMQ, the simulator and ACE share it"
  echo "- command: \`bash bench/run.sh $*\` (wrk -t2; ${ROUNDS} rounds of every row, ${SECONDS_PER} s each, after a ${WARMUP} s warm-up in the first; each row's median round)"
  echo "- app: Release, as the Procfile runs it: a \`web\` process (measured) and a \`worker\` process; demo site (16 fields, 25 organizations, 100 customers)$([[ $LARGE == yes ]] && echo "; large site: $LARGE_ORGS organizations, $LARGE_CUSTOMERS customers with values of every type, 1-3 memberships each; panel reporter $LARGE_REPORTER")"
  echo "- peak RSS (VmHWM) at the end: web process ${RSS_MB} MB; worker process ${WORKER_RSS_MB} MB"
  echo "- the web process's resident memory at the end, by mapping: ${WEB_MAPS}"
  echo
  echo "| connections | row | requests/s | rounds' range | p50 | p99 | non-2xx | vs bare | vs ACE | web RSS after |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for r in "${rows[@]}"; do
    IFS='|' read -r c name rps p50 p99 errors low high rss <<<"$r"
    bare=$(value "$c" bare); acev=$(value "$c" ace)
    echo "| $c | $name | $rps | $(awk -v l="$low" -v h="$high" 'BEGIN { printf "%.0f-%.0f", l, h }') | $p50 | $p99 | $errors | $(awk -v a="$rps" -v b="$bare" 'BEGIN { printf "%.2f", a / b }') | $(awk -v a="$rps" -v b="$acev" 'BEGIN { printf "%.2f", a / b }') | ${rss:+$rss MB} |"
  done
  echo
  echo "Rows: bare = bench/BareKestrel (a minimal .NET 10 app, no logging); descriptor = GET /atlassian-connect.json (our"
  echo "pipeline: middleware, request log line, no auth, no database); whoami = GET /api/whoami (Connect JWT, tenant"
  echo "cache); panel = GET /api/issue-panel?reporter=… (JWT, cached role, the same reporter on every request: its"
  echo "database read cached until the site changes, IssuePanelCache); panel-large-any = the same with a random reporter"
  echo "of the large site per request (bench/random-reporter.lua: the cache almost never has it, one database round"
  echo "trip each); directory = GET /api/customers?limit=50 (first page by name); ace = atlassian-connect-express 11.5.3,"
  echo "\`addon.checkValidToken()\` on a route that reads no data (ACE reads the tenant from its store per request)."
} >"$OUT"
log "results: $OUT"
failed=$(for r in "${rows[@]}"; do IFS='|' read -r _ _ _ _ _ e _ <<<"$r"; echo "$e"; done | awk '{s += $1} END {print s + 0}')
[[ $failed -eq 0 ]] || { echo "some rows answered non-2xx" >&2; exit 1; }
