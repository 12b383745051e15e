#!/usr/bin/env bash
# The README's *run* command: services, migrations, the app (role all) and the Jira simulator in the background,
# a signed install of the simulated site "demo", then the URLs to open. Stop everything with scripts/stop.sh.
# APP_PROCESSES=split runs the app as Heroku's Procfile does instead: a web process and a worker process.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STATE=$ROOT/.run
mkdir -p "$STATE"
log() { echo "[run $(date +%H:%M:%S)] $*"; }
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null || true); [[ -n $s && $s != Z* ]]; }

bash scripts/services.sh

# Local configuration. SECRETS_KEY is made once per checkout and kept in .run/ (git-ignored, mode 600).
if [[ ! -s $STATE/secrets.env ]]; then
  umask 077
  echo "SECRETS_KEY=$(openssl rand -base64 32)" > "$STATE/secrets.env"
fi
set -a
# shellcheck disable=SC1091
source "$STATE/secrets.env"
PORT=${PORT:-8080}
SIMULATOR_PORT=${SIMULATOR_PORT:-8090}
APP_BASE_URL=${APP_BASE_URL:-http://localhost:$PORT}
APP_KEY=${APP_KEY:-com.connectapp.local}
DATABASE_URL=${DATABASE_URL:-postgres://app:app_pw@127.0.0.1:5432/appdb}
RABBITMQ_URL=${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/}
CONNECT_INSTALL_KEYS_URL=http://127.0.0.1:$SIMULATOR_PORT/connect-install-keys
# Act-as-user grants from the simulator's authorization server (POST /oauth2/token).
CONNECT_OAUTH_URL=http://127.0.0.1:$SIMULATOR_PORT
ALLOWED_HOST_SUFFIXES=${ALLOWED_HOST_SUFFIXES:-.atlassian.net,127.0.0.1}
APP_URL=http://127.0.0.1:$PORT
# Forge Remote against the simulator's Forge: its JWKS, its app id, and its API gateway on loopback.
FORGE_APP_ID=${FORGE_APP_ID:-6f2c1a0e-5b7d-4c1e-9a3f-1d2e3f4a5b6c}
FORGE_JWKS_URL=http://127.0.0.1:$SIMULATOR_PORT/forge/.well-known/jwks.json
FORGE_API_BASE_URLS=http://127.0.0.1:$SIMULATOR_PORT/ex/jira/
set +a

bash scripts/stop.sh --keep-services >/dev/null 2>&1 || true

log "frontend (npm ci, vite build into src/ConnectApp/wwwroot/app)"
(cd frontend && npm ci --no-audit --no-fund --silent >/dev/null 2>&1 && node_modules/.bin/vite build --logLevel warn) >"$STATE/frontend.log" 2>&1 || { tail -30 "$STATE/frontend.log"; exit 1; }
log "build"
{ dotnet restore ConnectApp.sln --locked-mode -v quiet && dotnet build ConnectApp.sln -c Release --no-restore -nologo -v quiet; } >"$STATE/build.log" 2>&1 || { tail -30 "$STATE/build.log"; exit 1; }
APP_DLL=$ROOT/src/ConnectApp/bin/Release/net10.0/ConnectApp.dll
SIM_DLL=$ROOT/src/JiraSimulator/bin/Release/net10.0/JiraSimulator.dll

log "migrate"
dotnet "$APP_DLL" migrate

log "start Jira simulator on 127.0.0.1:$SIMULATOR_PORT"
nohup dotnet "$SIM_DLL" >"$STATE/simulator.log" 2>&1 &
echo $! >"$STATE/simulator.pid"
# As the Procfile starts the app: two malloc arenas (docs/adr/0016, "Memory of the web process").
if [[ ${APP_PROCESSES:-all} == split ]]; then
  log "start app (role web) on 127.0.0.1:$PORT, and a worker"
  MALLOC_ARENA_MAX=2 nohup dotnet "$APP_DLL" web >"$STATE/app.log" 2>&1 &
  echo $! >"$STATE/app.pid"
  MALLOC_ARENA_MAX=2 nohup dotnet "$APP_DLL" worker >"$STATE/worker.log" 2>&1 &
  echo $! >"$STATE/worker.pid"
else
  log "start app (role all) on 127.0.0.1:$PORT"
  MALLOC_ARENA_MAX=2 nohup dotnet "$APP_DLL" all >"$STATE/app.log" 2>&1 &
  echo $! >"$STATE/app.pid"
fi

for i in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && curl -fsS "http://127.0.0.1:$SIMULATOR_PORT/" >/dev/null 2>&1; then break; fi
  alive "$(cat "$STATE/app.pid")" || { tail -20 "$STATE/app.log"; echo "the app exited; see .run/app.log" >&2; exit 1; }
  alive "$(cat "$STATE/simulator.pid")" || { tail -20 "$STATE/simulator.log"; echo "the simulator exited; see .run/simulator.log" >&2; exit 1; }
  [[ $i == 120 ]] && { echo "the app did not become ready in 60 s; see .run/app.log" >&2; exit 1; }
  sleep 0.5
done

log "signed install of the simulated site 'demo'"
curl -fsS -X POST "http://127.0.0.1:$SIMULATOR_PORT/admin/sites/demo/install" >"$STATE/demo-site.json" || { echo "install failed; see .run/app.log" >&2; exit 1; }
log "demo data (Bogus, fixed seed): fields of every type made by the admin; organizations, customers and memberships put in the simulated JSM and brought over by a real directory sync; values set by an agent"
curl -fsS -X POST "http://127.0.0.1:$SIMULATOR_PORT/admin/sites/demo/seed?organizations=25&customers=100" >"$STATE/demo-seed.json" || { echo "seeding failed; see .run/app.log" >&2; exit 1; }
REPORTER=$(sed -n 's/.*"sampleReporter":"\([^"]*\)".*/\1/p' "$STATE/demo-seed.json")

cat <<EOT

ConnectApp is running (logs: .run/app.log, .run/simulator.log; stop: bash scripts/stop.sh)

  Descriptor      $APP_BASE_URL/atlassian-connect.json
  Health          $APP_BASE_URL/health/ready
  OpenAPI         $APP_BASE_URL/openapi/v1.json
  Home page       $APP_BASE_URL/
  Jira simulator  http://127.0.0.1:$SIMULATOR_PORT/   (site "demo" installed: $(sed -n 's/.*"clientKey":"\([^"]*\)".*/\1/p' "$STATE/demo-site.json"))

  Local Jira host: every surface framed as Jira frames it (switch admin / agent / customer, light / dark, lic on the page)
    http://127.0.0.1:$SIMULATOR_PORT/host
    Issue view      http://127.0.0.1:$SIMULATOR_PORT/host/demo/issue-view?as=agent&reporter=$REPORTER
    Portal          http://127.0.0.1:$SIMULATOR_PORT/host/demo/portal-profile?as=customer&customer=$REPORTER
    Organization    http://127.0.0.1:$SIMULATOR_PORT/host/demo/organization?as=agent&organization=1
    Directory       http://127.0.0.1:$SIMULATOR_PORT/host/demo/directory?as=agent
    Configuration   http://127.0.0.1:$SIMULATOR_PORT/host/demo/configuration?as=admin

  Demo data: $(cat "$STATE/demo-seed.json")

  Call the API as an agent of the demo site (a context token minted by the simulator):
    curl -H "Authorization: JWT \$(curl -s http://127.0.0.1:$SIMULATOR_PORT/admin/sites/demo/context-token)" $APP_BASE_URL/api/whoami

  The issue panel for an issue reported by a seeded customer:
    curl -H "Authorization: JWT \$(curl -s http://127.0.0.1:$SIMULATOR_PORT/admin/sites/demo/context-token)" "$APP_BASE_URL/api/issue-panel?reporter=$REPORTER"

  The same customer on the portal (customer-visible fields only):
    curl -H "Authorization: JWT \$(curl -s "http://127.0.0.1:$SIMULATOR_PORT/admin/sites/demo/context-token?accountId=$REPORTER")" $APP_BASE_URL/api/portal/me

  The same API as a Forge Remote (a Forge Invocation Token and the app system token, as Forge sends them):
    curl -H "Authorization: Bearer \$(curl -s http://127.0.0.1:$SIMULATOR_PORT/admin/sites/demo/forge-token)" \\
         -H "x-forge-oauth-system: \$(curl -s http://127.0.0.1:$SIMULATOR_PORT/admin/sites/demo/forge-system-token)" $APP_BASE_URL/api/whoami
EOT
