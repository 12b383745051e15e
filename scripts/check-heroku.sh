#!/usr/bin/env bash
# Heroku, as its .NET buildpack does it: publish the root solution with the buildpack's own command, then run every
# Procfile line from the repository root against the published output (release → migrate, web, worker), with the
# environment Heroku gives (PORT, DYNO, DATABASE_URL, CLOUDAMQP_URL, the app.json variables).
# Needs the services of scripts/services.sh. Prints one line per step; exits non-zero on the first failure.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d /tmp/connectapp-heroku.XXXXXX)
BUILD=$WORK/build
say() { echo "[heroku $(date +%H:%M:%S)] $*"; }
fail() { say "FAILED: $*"; for f in "$WORK"/*.log; do [[ -f $f ]] && { echo "--- $f"; tail -20 "$f"; }; done; exit 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT

# The slug is built from what git tracks (a fresh checkout), not from this work tree's build output.
mkdir -p "$BUILD"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$BUILD"

say "dotnet publish (the buildpack's command)"
(cd "$BUILD" && dotnet publish ConnectApp.sln --runtime linux-x64 "-p:PublishDir=bin/publish" --artifacts-path "$WORK/artifacts" -v quiet -nologo) > "$WORK/publish.log" 2>&1 \
  || fail "dotnet publish"
[[ -x $BUILD/src/ConnectApp/bin/publish/ConnectApp ]] || fail "no src/ConnectApp/bin/publish/ConnectApp after publish"
for unwanted in JiraSimulator ConnectApp.Tests AtlassianConnect.Tests CsvImport; do
  if compgen -G "$BUILD/*/$unwanted/bin/publish" >/dev/null || compgen -G "$BUILD/*/*/$unwanted/bin/publish" >/dev/null; then fail "$unwanted was published: it must not ship"; fi
done

# A database of its own on the local server; the broker as Heroku's CloudAMQP add-on would name it.
DB=connectapp_heroku_$(date +%s%N | tail -c 9)
PGPASSWORD=app_pw psql -h 127.0.0.1 -U app -d appdb -qAtc "CREATE DATABASE $DB" || fail "create database"
trap 'cleanup; PGPASSWORD=app_pw psql -h 127.0.0.1 -U app -d appdb -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export PORT DATABASE_URL="postgres://app:app_pw@127.0.0.1:5432/$DB?sslmode=disable" CLOUDAMQP_URL="amqp://guest:guest@127.0.0.1:5672/"
export APP_BASE_URL="https://connectapp-heroku-check.example" APP_KEY=com.connectapp.heroku-check ASPNETCORE_ENVIRONMENT=Production
export SECRETS_KEY=$(openssl rand -hex 32)
procfile() { sed -n "s/^$1: //p" "$BUILD/Procfile"; }

say "release: $(procfile release)"
(cd "$BUILD" && DYNO=release.1 timeout 120 bash -c "$(procfile release)") > "$WORK/release.log" 2>&1 || fail "release phase"
grep -q "database migrated" "$WORK/release.log" || fail "release did not migrate"

say "web: $(procfile web)"
(cd "$BUILD" && DYNO=web.1 exec bash -c "$(procfile web | sed 's/ && / \&\& exec /')") > "$WORK/web.log" 2>&1 &
pids+=($!)
for i in $(seq 1 60); do curl -fsS "http://127.0.0.1:$PORT/health/ready" > /dev/null 2>&1 && break; [[ $i == 60 ]] && fail "web never became ready on \$PORT"; sleep 0.5; done
curl -fsS "http://127.0.0.1:$PORT/atlassian-connect.json" | grep -q "\"baseUrl\": \"$APP_BASE_URL\"" || fail "descriptor does not carry APP_BASE_URL"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/whoami"); [[ $code == 401 ]] || fail "API without a token answered $code, not 401"
curl -fsS "http://127.0.0.1:$PORT/app/issue-view.html" | grep -q '/app/assets/' || fail "the iframe pages (frontend/) were not published"
tr '\0' '\n' < "/proc/${pids[0]}/environ" | grep -qx 'MALLOC_ARENA_MAX=2' || fail "the web process runs without the Procfile's MALLOC_ARENA_MAX=2"

say "worker: $(procfile worker)"
(cd "$BUILD" && DYNO=worker.1 exec bash -c "$(procfile worker | sed 's/ && / \&\& exec /')") > "$WORK/worker.log" 2>&1 &
worker=$!; pids+=($worker)
sleep 5
kill -0 "$worker" 2>/dev/null || fail "worker exited"
grep -q "Application started" "$WORK/worker.log" || fail "worker did not start"
if curl -s "http://127.0.0.1:$PORT/health/live" -o /dev/null --max-time 2 && ! kill -0 "${pids[0]}" 2>/dev/null; then fail "web died when the worker started"; fi

say "SIGTERM (dyno restart): both stop cleanly"
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do
  for i in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$p" 2>/dev/null && fail "process $p ignored SIGTERM for 10 s"
done
pids=()
say "ok: published with the buildpack's command; release, web and worker ran from the Procfile"
