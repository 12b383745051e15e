#!/usr/bin/env bash
# After a test run: every problem the app answered with was declared on its endpoint (.Problems(...) or a
# convention), so the OpenAPI document lists it. The app logs "Undeclared problem" otherwise (ProblemDeclarations).
set -uo pipefail
RESULTS=${1:-TestResults}
log=$RESULTS/app-log.jsonl
[[ -s $log ]] || { echo "problem declarations: no log at $log"; exit 1; }
n=$(grep -c 'Undeclared problem' "$log")
if [[ $n -gt 0 ]]; then
  echo "problem declarations: $n answers used a problem their endpoint does not declare:"
  grep -h 'Undeclared problem' "$log" | grep -oE '"ProblemCode":"[^"]*","ProblemStatus":[0-9]+,"Route":"[^"]*"' | sort | uniq -c
  exit 1
fi
echo "problem declarations: every problem answered was declared on its endpoint"
