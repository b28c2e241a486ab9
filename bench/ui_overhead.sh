#!/usr/bin/env bash
# How much the live workbench slows the engine: the same run (embedded
# default, same seed, STEPS GRPO steps) once headless and once in the
# workbench inside a private tmux server, alternating ROUNDS times; compares
# the mean step time the engine itself measured (step_time_s in metrics.jsonl).
# The run is deterministic for its seed, so both sides do the same work.
#   bash bench/ui_overhead.sh            # STEPS=20 ROUNDS=2
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-20}
ROUNDS=${ROUNDS:-2}
W=$(mktemp -d /tmp/rlt-uiover-XXXXXX)
trap 'tmux -L rlt-uiover kill-server 2>/dev/null || true; rm -rf "$W"' EXIT
go build -o "$W/rlt" .
export XDG_CACHE_HOME="$W/cache"
mean_step() { python3 -c "
import json,sys
v=[json.loads(l)['values']['step_time_s'] for l in open(sys.argv[1]) if 'step_time_s' in l]
v=v[1:]  # the first step warms caches
print(sum(v)/len(v))" "$1"; }
for r in $(seq "$ROUNDS"); do
	"$W/rlt" run --headless --steps "$STEPS" --runs "$W/headless-$r" 2>/dev/null
	tmux -L rlt-uiover -f /dev/null new-session -d -s w -x 120 -y 40 \
		"$W/rlt --steps $STEPS --runs $W/ui-$r; tmux -L rlt-uiover wait-for -S done"
	# wait for the run to finish (the status line says done), then quit
	for _ in $(seq 600); do
		if tmux -L rlt-uiover capture-pane -t w -p | grep -q ' done '; then break; fi
		sleep 0.5
	done
	tmux -L rlt-uiover send-keys -t w q
	tmux -L rlt-uiover wait-for done
	h=$(mean_step "$W"/headless-$r/*/metrics.jsonl)
	u=$(mean_step "$W"/ui-$r/*/metrics.jsonl)
	python3 -c "h,u=$h,$u; print(f'round $r: headless {h:.3f} s/step, workbench {u:.3f} s/step, slowdown {100*(u/h-1):+.1f} %')"
done
