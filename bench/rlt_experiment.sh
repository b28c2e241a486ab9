#!/usr/bin/env bash
# The RLT experiment on the embedded default (issue 4), for several seeds:
#  (a) reward, r_SS and r_KL at the start and the end of RL;
#  (b) held-out accuracy of fresh students distilled, with equal budget, from
#      the warm-start teacher, from the RL teacher's raw explanations, and
#      from the reference explanation generator;
#  (c) the λ = 0 ablation (no r_KL term) and how often its explanations state
#      the answer before deriving it;
#  (d) the RL teacher zero-shot on the second task (linear equations).
# Prints a table of mean ± half-range over seeds, with the share of each
# source's distillation rows whose explanation is exactly the clean column
# derivation. Everything runs on the CPU; on 2 cores one seed takes about
# 20 minutes (most of it the three 900-step distillations).
#   bash bench/rlt_experiment.sh            # SEEDS="1 2 3" STEPS=80
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"1 2 3"}
STEPS=${STEPS:-80}          # GRPO steps per run
QUESTIONS=${QUESTIONS:-4096} # distillation rows
DSTEPS=${DSTEPS:-900}       # student fine-tuning steps (equal budget for all three; the embedded student had 900)
EVALQ=${EVALQ:-200}         # held-out questions per evaluation
W=${W:-$(mktemp -d /tmp/rlt-exp-XXXXXX)}
T0=engine/defaults/models/teacher
S=engine/defaults/models/student
go build -o "$W/rlt" .
R="$W/rlt"
echo "# work folder $W; seeds $SEEDS; $STEPS GRPO steps; distill $QUESTIONS rows × $DSTEPS steps; eval $EVALQ questions" >&2

"$R" train --teacher "$T0" --student "$S" --print-config > "$W/base.toml"
sed -e 's/^kl_mean = .*/kl_mean = 0.0/' -e 's/^kl_max = .*/kl_max = 0.0/' "$W/base.toml" > "$W/lambda0.toml"
sed -i 's/^eval_every = .*/eval_every = 0/' "$W/base.toml" "$W/lambda0.toml"

"$R" eval --teacher "$T0" --student "$S" --questions "$EVALQ" > "$W/eval-ws.json"
"$R" eval --teacher "$T0" --student "$S" --questions "$EVALQ" --task linear > "$W/transfer-ws.json"
for s in $SEEDS; do
	echo "# seed $s" >&2
	"$R" train --config "$W/base.toml" --steps "$STEPS" --seed "$s" --save "$W/rl-$s" > "$W/rl-$s.jsonl" 2>"$W/rl-$s.log"
	"$R" train --config "$W/lambda0.toml" --steps "$STEPS" --seed "$s" --save "$W/l0-$s" > "$W/l0-$s.jsonl" 2>"$W/l0-$s.log"
	"$R" eval --teacher "$W/rl-$s" --student "$S" --questions "$EVALQ" > "$W/eval-rl-$s.json"
	"$R" eval --teacher "$W/l0-$s" --student "$S" --questions "$EVALQ" > "$W/eval-l0-$s.json"
	"$R" eval --teacher "$W/rl-$s" --student "$S" --questions "$EVALQ" --task linear > "$W/transfer-rl-$s.json"
	for src in ws rl ref; do
		case $src in
		ws) args=(--teacher "$T0") ;;
		rl) args=(--teacher "$W/rl-$s") ;;
		ref) args=(--reference --tokenizer-from "$T0") ;;
		esac
		"$R" distill "${args[@]}" --out "$W/d-$src-$s" --questions "$QUESTIONS" --steps "$DSTEPS" --seed "$s" 2>"$W/d-$src-$s.log" >/dev/null
		"$R" eval --student "$W/d-$src-$s/student" --questions "$EVALQ" > "$W/eval-d-$src-$s.json"
	done
done

python3 - "$W" "$SEEDS" <<'PY'
import json, sys, statistics as st
w, seeds = sys.argv[1], sys.argv[2].split()
def load(p): return json.load(open(f"{w}/{p}"))
def lines(p): return [json.loads(l) for l in open(f"{w}/{p}") if l.strip()]
def ev(x, k): return x[k] if k in x else x["eval_" + k]  # rlt eval --teacher wrote eval_* before
def fmt(xs):
    m = st.mean(xs); h = (max(xs) - min(xs)) / 2
    return f"{m:8.3f} ± {h:.3f}"
def window(recs, key, first):
    r = [x[key] for x in recs if key in x and isinstance(x[key], (int, float))]
    r = r[:5] if first else r[-5:]
    return st.mean(r)
rows = []
for name, pre in [("RL (λ = 3)", "rl"), ("λ = 0 ablation", "l0")]:
    recs = {s: lines(f"{pre}-{s}.jsonl") for s in seeds}
    for key, label in [("reward", "reward"), ("solution_log_prob_reward", "r_SS"), ("kl_reward", "−r_KL")]:
        a = [window(recs[s], key, True) for s in seeds]
        b = [window(recs[s], key, False) for s in seeds]
        rows.append((f"{name}: {label}, first 5 steps → last 5", f"{fmt(a)} → {fmt(b)}"))
ws = load("eval-ws.json")
rows.append(("warm-start teacher: student accuracy from its explanations / verified / answer-first rate",
             f"{ev(ws, 'accuracy'):.3f} / {ev(ws, 'verified_rate'):.3f} / {ev(ws, 'leak_rate'):.3f}"))
for name, pre in [("RL teacher", "eval-rl"), ("λ = 0 teacher", "eval-l0")]:
    e = [load(f"{pre}-{s}.json") for s in seeds]
    rows.append((f"{name}: student accuracy / verified / answer-first rate",
                 f"{fmt([ev(x, 'accuracy') for x in e])} / {fmt([ev(x, 'verified_rate') for x in e])} / {fmt([ev(x, 'leak_rate') for x in e])}"))
for src, name in [("ws", "warm-start teacher"), ("rl", "RL teacher (raw)"), ("ref", "reference generator")]:
    e = [load(f"eval-d-{src}-{s}.json") for s in seeds]
    rows.append((f"distilled student from {name}: held-out accuracy / verified thoughts",
                 f"{fmt([x['accuracy'] for x in e])} / {fmt([x['verified_rate'] for x in e])}"))
def canon(q):
    # the clean column derivation of an addition question, as the reference generator writes it
    a, b = q.split("=")[0].split("+"); A, B = a[::-1], b[::-1]; c = 0; steps = []
    for i in range(max(len(A), len(B))):
        x = int(A[i]) if i < len(A) else 0; y = int(B[i]) if i < len(B) else 0; s = x + y + c
        steps.append(f"{x}+{y}{'+1' if c else ''}={s} w{s % 10} c{s // 10}"); c = s // 10
    return "; ".join(steps) + f"; ans {int(a) + int(b)}"
def clean_rate(path):
    tot = ok = 0
    for l in open(path):
        r = json.loads(l); q = r["conversations"][0]["value"]; v = r["conversations"][1]["value"]
        e = v.split("<|begin_of_thought|>")[1].split("<|end_of_thought|>")[0].strip()
        tot += 1; ok += e == canon(q)
    return ok / tot
for src, name in [("ws", "warm-start teacher"), ("rl", "RL teacher (raw, τ = 0.7)")]:
    rows.append((f"distillation rows from {name}: share with a clean, correct derivation",
                 fmt([clean_rate(f"{w}/d-{src}-{s}/distill.jsonl") for s in seeds])))
tw = load("transfer-ws.json")
tr = [load(f"transfer-rl-{s}.json") for s in seeds]
rows.append(("linear equations, zero-shot: verified explanations, warm-start → RL teacher",
             f"{ev(tw, 'verified_rate'):.3f} → {fmt([ev(x, 'verified_rate') for x in tr])}"))
print("| measurement | value (mean ± half-range over seeds " + ", ".join(seeds) + ") |")
print("|---|---|")
for k, v in rows: print(f"| {k} | {v} |")
PY
