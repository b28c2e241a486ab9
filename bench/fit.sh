#!/usr/bin/env bash
# The largest Qwen2.5 shapes that fit this machine, measured: for each
# teacher:student pair of sizes, `rlt score` of the 8 traces of
# bench/scale.sh (b) with both stored in BF16, and one GRPO step (2
# questions × 4 samples × 64 new tokens) through `rlt train`, each with its
# wall time and peak RSS, or the refusal the memory check gives before
# loading.
#
#   bash bench/fit.sh                         # PAIRS="1.5b:1.5b 3b:3b 0.5b:3b"
#   PAIRS="7b:0.5b" bash bench/fit.sh
#
# Models: random weights of the real shapes (Hugging Face config.json of
# Qwen2.5-0.5B/1.5B/3B/7B-Instruct: hidden, intermediate, layers, heads, KV
# heads, vocabulary, tied embeddings), written once by `rlt model init
# --dtype bf16` into $CACHE with the Qwen tokenizer bench/scale.sh fetches.
# Random weights cost the same to run as trained ones. Pairs that cannot fit
# are refused by the memory check before loading: that refusal, with its
# estimate, is the figure (a 7B pair is 30 GB in BF16).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/qwen.sh
PAIRS=${PAIRS:-"1.5b:1.5b 3b:3b 0.5b:3b"}
PY=/usr/bin/python3
CACHE=${CACHE:-/tmp/rlt-fit-cache}
TOK=${TOK:-/tmp/rlt-scale-cache/tokenizer.json}
TMP=$(mktemp -d /tmp/rlt-fit-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$CACHE"
[ -f "$TOK" ] || { echo "no Qwen tokenizer at $TOK: run bench/scale.sh once (it fetches it), or set TOK"; exit 1; }

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB, available $(awk '/MemAvailable/{printf "%.1f", $2/1048576}' /proc/meminfo) GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
peak_gib() { awk '/Maximum resident/{printf "%.2f", $NF/1048576}' "$1"; }
wall_s() { awk -F': ' '/Elapsed \(wall/{n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; printf "%.1f", s}' "$1"; }
go build -o "$TMP/rlt" .
B_TRACES=8 B_WORDS=330 "$PY" bench/traces.py >"$TMP/traces.jsonl"

shape() { # hidden intermediate layers heads kv vocab tied
	case $1 in
	0.5b) echo 896 4864 24 14 2 151936 true ;;
	1.5b) echo 1536 8960 28 12 2 151936 true ;;
	3b) echo 2048 11008 36 16 2 151936 true ;;
	7b) echo 3584 18944 28 28 4 152064 false ;;
	*) echo "unknown size $1 (0.5b 1.5b 3b 7b)" >&2; exit 1 ;;
	esac
}

# model SIZE SEED: the folder of a BF16 model of that shape (made once).
model() {
	local size=$1 seed=$2 dir=$CACHE/qwen2.5-$1-seed$2
	if ! [ -f "$dir/model.safetensors" ]; then
		read -r d ff layers heads kv vocab tied <<<"$(shape "$size")"
		qwen_config "$vocab" "$d" "$ff" "$layers" "$heads" "$kv" "$tied" >"$TMP/config.json"
		"$TMP/rlt" model init --config "$TMP/config.json" --dtype bf16 --tokenizer "$TOK" --seed "$seed" --out "$dir" >/dev/null || return 1
	fi
	echo "$dir"
}

for pair in $PAIRS; do
	ts=${pair%%:*} ss=${pair##*:}
	echo
	echo "== teacher Qwen2.5-$ts shape ($(shape "$ts")), student Qwen2.5-$ss shape ($(shape "$ss")) (d ff layers heads kv V tied)"
	teacher=$(model "$ts" 1) && student=$(model "$ss" 2) || { echo "model init failed"; continue; }
	stored=$(du -cb "$teacher"/model.safetensors "$student"/model.safetensors | awk 'END{printf "%.2f", $1/1073741824}')
	echo "weights as stored (BF16, both): $stored GiB"

	if /usr/bin/time -v -o "$TMP/s.time" "$TMP/rlt" score --teacher "$teacher" --student "$student" \
		--stats "$TMP/s.stats" <"$TMP/traces.jsonl" >/dev/null 2>"$TMP/s.err"; then
		echo "score 8 traces: $(wall_s "$TMP/s.time") s wall, peak RSS $(peak_gib "$TMP/s.time") GiB = $(awk -v r="$(peak_gib "$TMP/s.time")" -v w="$stored" 'BEGIN{printf "%.2f", r/w}')× the weights; $(head -1 "$TMP/s.stats")"
	else
		echo "score 8 traces: refused or failed: $(head -3 "$TMP/s.err" | tr '\n' ' ')"
	fi

	grpo_config "$teacher" "$student" 1 64 >"$TMP/grpo.toml"
	if /usr/bin/time -v -o "$TMP/g.time" "$TMP/rlt" train --config "$TMP/grpo.toml" >"$TMP/g.out" 2>"$TMP/g.err"; then
		echo "GRPO step 2×4×64: $(wall_s "$TMP/g.time") s wall, peak RSS $(peak_gib "$TMP/g.time") GiB"
	else
		echo "GRPO step 2×4×64: refused or failed: $(head -4 "$TMP/g.err" | tr '\n' ' ')"
	fi
done
