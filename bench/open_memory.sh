#!/usr/bin/env bash
# Memory and CPU of opening big runs, this tree's rlt beside another
# revision's in one run (this machine is shared and noisy: compare within a
# run). For each run folder: the workbench (`rlt open`, in a private tmux
# server) to its first screen, then a trace's detail: CPU seconds and peak
# RSS (VmHWM); `rlt report` and `rlt export --format csv`: wall and CPU
# seconds and peak RSS (/usr/bin/time; on a loaded machine the CPU seconds
# say more than the wall), and whether the two builds' reports, and their
# exports, are the same bytes.
#
#   BASE=HEAD~1 bash bench/open_memory.sh     # compare with a revision
#   bash bench/open_memory.sh                 # this tree alone
#
# The runs are written once by bench/bigrun into $RUNS (default
# /tmp/rlt-bigruns): big, 1,000 steps × 32 traces of ~200 tokens with one of
# 3,000 a step (331 MB); long, 20,000 steps × 2 traces of ~60 tokens (177 MB,
# 20,000 trace files); a quarter of each one's traces accepted in review,
# which rlt export writes. Needs tmux and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-/tmp/rlt-bigruns}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$RUNS"
# A quarter of each run's traces accepted in review, for rlt export to
# write (runs made before that have no reviews: made again).
for run in big long; do [ -s "$RUNS/$run/reviews.jsonl" ] || rm -rf "${RUNS:?}/$run"; done
[ -d "$RUNS/big" ] || go run ./bench/bigrun -dir "$RUNS/big" -steps 1000 -traces 32 -tokens 200 -long 3000 -accept 4
[ -d "$RUNS/long" ] || go run ./bench/bigrun -dir "$RUNS/long" -steps 20000 -traces 2 -tokens 60 -accept 4
go build -o "$work/rlt-this" .
bins=("$work/rlt-this")
if [ -n "${BASE:-}" ]; then
	git worktree add -q --detach "$work/base" "$BASE"
	(cd "$work/base" && go build -o "$work/rlt-base" .)
	git worktree remove --force "$work/base"
	bins+=("$work/rlt-base")
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

open_run() { # BIN RUN: the workbench's figures
	local bin=$1 run=$2 s="om$$" pid start
	tmux -L "$s" new-session -d -s s -x 160 -y 50 "$bin open $run"
	start=$(date +%s.%N)
	for _ in $(seq 1 100); do pid=$(pgrep -f "^$bin open $run" | head -1 || true); [ -n "$pid" ] && break; sleep 0.05; done
	for _ in $(seq 1 1200); do tmux -L "$s" capture-pane -p -t s | grep -q reward && break; sleep 0.05; done
	local wall cpu hwm
	wall=$(echo "$(date +%s.%N) - $start" | bc)
	cpu=$(awk '{print ($14+$15)/100}' "/proc/$pid/stat")
	hwm=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$pid/status")
	tmux -L "$s" send-keys -t s 2; sleep 2; tmux -L "$s" send-keys -t s Enter; sleep 2
	local detail=ok
	tmux -L "$s" capture-pane -p -t s | grep -q "d_k" || detail="NO DETAIL"
	echo "  open: first screen ${wall}s wall, ${cpu} CPU-s; peak $hwm MB, $(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$pid/status") MB after a detail ($detail)"
	tmux -L "$s" kill-server
}

for run in big long; do
	for bin in "${bins[@]}"; do
		echo "$run, $(basename "$bin"):"
		open_run "$bin" "$RUNS/$run"
		/usr/bin/time -f "  report: %e s wall, %U+%S CPU-s, peak %M KB" "$bin" report "$RUNS/$run" --out "$work/report-$(basename "$bin")" >/dev/null
		/usr/bin/time -o "$work/time" -f "  export: %e s wall, %U+%S CPU-s, peak %M KB" "$bin" export --run "$RUNS/$run" --format csv --out "$work/export-$(basename "$bin").csv" >/dev/null 2>&1
		cat "$work/time"
	done
	if [ ${#bins[@]} -eq 2 ]; then
		cmp -s "$work/report-rlt-this/report.html" "$work/report-rlt-base/report.html" && echo "  reports: the same bytes" || echo "  reports: DIFFER"
		cmp -s "$work/export-rlt-this.csv" "$work/export-rlt-base.csv" && echo "  exports: the same bytes" || echo "  exports: DIFFER"
	fi
	rm -rf "$work"/report-* "$work"/export-*
done
