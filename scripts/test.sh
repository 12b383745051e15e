#!/usr/bin/env bash
# The README's *test* command (and CI's, through .ci/run): installs and starts what the tests need, builds,
# runs every test project and the log-hygiene check, and ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RESULTS=$ROOT/TestResults
step() { echo "[test $(date +%H:%M:%S)] $*"; }

step "services"
bash scripts/services.sh || { echo "0 passed, 1 failed"; exit 1; }

step "tools and packages"
command -v node >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
npm ci --prefix tests/interop --silent >/dev/null || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
dotnet tool restore >/dev/null || { echo "dotnet tool restore failed"; echo "0 passed, 1 failed"; exit 1; }
# Headless Chromium for the browser tests comes from Debian's package (never a browser a test tool downloads itself).
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
  || { echo "installing chromium failed"; echo "0 passed, 1 failed"; exit 1; }
(cd frontend && npm ci --no-audit --no-fund --silent >/dev/null) || { echo "npm ci (frontend) failed"; echo "0 passed, 1 failed"; exit 1; }

step "frontend build (type check, vite build into src/ConnectApp/wwwroot/app)"
(cd frontend && node_modules/.bin/tsc --noEmit -p . && node_modules/.bin/vite build --logLevel warn) || { echo "frontend build failed"; echo "0 passed, 1 failed"; exit 1; }

step "restore (locked: packages.lock.json must match the project files)"
dotnet restore ConnectApp.sln --locked-mode -v quiet || { echo "restore failed (a changed dependency needs: dotnet restore ConnectApp.sln --force-evaluate, then commit the lock files)"; echo "0 passed, 1 failed"; exit 1; }
step "build"
dotnet build ConnectApp.sln -c Release --no-restore -nologo -v quiet || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
step "format check"
dotnet format ConnectApp.sln --verify-no-changes --no-restore -v quiet || { echo "dotnet format found changes to make (run: dotnet format ConnectApp.sln)"; echo "0 passed, 1 failed"; exit 1; }

rm -rf "$RESULTS"; mkdir -p "$RESULTS"
step "frontend unit tests (vitest)"
(cd frontend && node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$RESULTS/vitest.json")
vitest_exit=$?

step "tests"
dotnet test ConnectApp.sln -c Release --no-build -nologo --results-directory "$RESULTS" --logger "trx" --logger "console;verbosity=minimal" 2>&1 | tee "$RESULTS/test-output.log"
test_exit=${PIPESTATUS[0]}

passed=0; failed=0; skipped=0
for trx in "$RESULTS"/*.trx; do
  [[ -f $trx ]] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + t - e))
done
if [[ -f $RESULTS/vitest.json ]]; then
  read -r vp vf vs < <(node -e 'const r=require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests, r.numPendingTests + r.numTodoTests)' "$RESULTS/vitest.json")
  passed=$((passed + vp)); failed=$((failed + vf)); skipped=$((skipped + vs))
  [[ $vitest_exit -ne 0 && $vf -eq 0 ]] && { echo "vitest exited $vitest_exit without a failed test"; failed=$((failed + 1)); }
else
  echo "vitest wrote no results"; failed=$((failed + 1))
fi
if [[ $test_exit -ne 0 && $failed -eq 0 ]]; then
  echo "dotnet test exited $test_exit without a failed test (crash or missing results)"; failed=$((failed + 1))
fi

step "log hygiene"
if bash scripts/check-log-hygiene.sh "$RESULTS"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
step "Heroku: the buildpack's publish, then every Procfile line"
if bash scripts/check-heroku.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
step "benchmark harness smoke (bench/run.sh --smoke: every row answers 2xx under load, ACE installs and serves)"
if bash bench/run.sh --smoke >"$RESULTS/bench-smoke.log" 2>&1; then passed=$((passed + 1)); else tail -20 "$RESULTS/bench-smoke.log"; failed=$((failed + 1)); fi
step "problem declarations"
if bash scripts/check-problem-declarations.sh "$RESULTS"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
