#!/usr/bin/env bash
# After a test run: the app's whole log (LOG_FILE) and the test runner's output must hold no secret the tests
# used (shared secrets, tokens, the secrets key), no JWT and no email address. Prints counts, never the matches.
set -uo pipefail
RESULTS=${1:-TestResults}
log=$RESULTS/app-log.jsonl
secrets=$RESULTS/secrets-used.txt
out=$RESULTS/test-output.log
ok=1
lines=$(wc -l < "$log" 2>/dev/null || echo 0)
if [[ $lines -lt 50 ]]; then echo "log hygiene: only $lines log lines in $log; the check would prove nothing"; exit 1; fi
if [[ ! -s $secrets ]]; then echo "log hygiene: no secrets recorded in $secrets"; exit 1; fi
for file in "$log" "$out"; do
  [[ -f $file ]] || continue
  n=$(grep -c -F -f "$secrets" "$file"); [[ $n -eq 0 ]] || { echo "log hygiene: $n lines of $file contain a secret or token used by the tests"; ok=0; }
  n=$(grep -c -E 'eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+\.' "$file"); [[ $n -eq 0 ]] || { echo "log hygiene: $n lines of $file contain a JWT"; ok=0; }
  n=$(grep -c -E '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}' "$file"); [[ $n -eq 0 ]] || { echo "log hygiene: $n lines of $file contain an email address"; ok=0; }
done
[[ $ok -eq 1 ]] && echo "log hygiene: $lines log lines, $(wc -l < "$secrets") secrets checked, none found"
[[ $ok -eq 1 ]]
