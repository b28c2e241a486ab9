#!/usr/bin/env bash
# Runs every fuzz target for N seconds (default 10) and prints, per target,
# the execs, the rate per minute and whether it found a failing input.
# Usage: bash bench/fuzz.sh [N] [-parallel P]   (from the repository root)
#        FUZZ_ONLY="FuzzParquet FuzzTFEvents" bash bench/fuzz.sh 10
# FUZZ_ONLY, when set, is a space-separated list of target names (the Fuzz
# function names): only those run.
# The list below is every Fuzz function of the repository; a target missing
# from it is reported at the end.
#
# Minimisation is capped at 1,000 runs an input (-fuzzminimizetime 1000x):
# by default go test spends up to a minute shrinking each new input that
# widens coverage, counting none of those runs, so targets over a large
# parser (TOML, the tokenizers) stalled for most of their time (0 execs/s
# for 15 of 20 s). A crasher is saved whether or not it was shrunk.
set -u
secs=${1:-10}
par=${2:-2}
targets=(
  ./engine/hf:FuzzSafetensorsHeader ./engine/hf:FuzzConfig ./engine/jsonerr:FuzzMembers
  ./engine/task:FuzzReadJSONL ./engine/task:FuzzVerifyExplanation ./engine/task:FuzzCollapseSpace
  ./engine/tokenizer:FuzzTokenizerJSON ./engine/tokenizer:FuzzEncodeRoundTrip ./engine/tokenizer:FuzzDetectTemplate
  ./engine/record:FuzzParseRow ./engine/record:FuzzTermsJSON ./engine/run:FuzzTrainerState ./sessions/runner:FuzzRunConfig
  ./sessions:FuzzDecodeMetric ./sessions:FuzzDecodeTrace ./sessions:FuzzParseTraceFast ./sessions:FuzzUnquote ./sessions:FuzzAppendJSONString
  ./sessions:FuzzDecodeStrict
  ./sessions:FuzzParseCompletionsCSV ./sessions:FuzzParseTrainerState ./sessions:FuzzParseTraces ./sessions:FuzzReadLog
  ./sessions:FuzzEventRecord ./sessions:FuzzReviewRecord ./sessions:FuzzRescore
  ./sessions:FuzzCheckpointState ./sessions:FuzzOptimizerFile
  ./sessions:FuzzTFEvents ./sessions:FuzzTrainerLine ./sessions:FuzzParquet
  ./engine/remote:FuzzDecodeAnswers ./engine/serve:FuzzDecodeRequests
)
printf '%-40s %12s %14s  %s\n' TARGET EXECS EXECS/MIN RESULT
found=0
for t in "${targets[@]}"; do
  pkg=${t%%:*} name=${t##*:}
  if [ -n "${FUZZ_ONLY:-}" ] && [[ " $FUZZ_ONLY " != *" $name "* ]]; then
    continue
  fi
  out=$(go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" -fuzzminimizetime 1000x -parallel "$par" 2>&1)
  # The last progress line has the total; the baseline lines have none.
  execs=$(printf '%s\n' "$out" | grep -o 'execs: [0-9]*' | tail -1 | grep -o '[0-9]*')
  execs=${execs:-0}
  if printf '%s\n' "$out" | grep -q '^ok'; then
    res=ok
  else
    # The failure and the line after it (the reason, or the saved input).
    res="FINDING: $(printf '%s\n' "$out" | grep -m1 -A2 -E -- '--- FAIL|panic:' | tr '\n' ' ' | cut -c1-300)"
    found=$((found + 1))
  fi
  printf '%-40s %12s %14s  %s\n' "${pkg#./}.$name" "$execs" "$((execs * 60 / secs))" "$res"
done
missing=$(grep -rho --include='*_test.go' '^func Fuzz[A-Za-z0-9]*' . | sed 's/^func //' | sort -u | while read -r n; do
  printf '%s\n' "${targets[@]}" | grep -q ":$n\$" || echo "$n"; done)
[ -n "$missing" ] && echo "not in bench/fuzz.sh: $missing"
echo "findings: $found (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
[ "$found" -eq 0 ]
