#!/usr/bin/env bash
# Writes the user-data fixtures of engine/run and the CLI tests:
#   train.jsonl  40 rows: addition questions in the short format the embedded
#                models know ("347+285=?"), in the three layouts (RLT
#                "question" and "prompt" rows, Bespoke-Stratos "conversations"
#                rows), with six hand-written rows at lines 21-26: four that
#                must be skipped and two usable ones that are not additions;
#   eval.jsonl   8 rows: held-out additions (none in train.jsonl), a text
#                question checked by exact match, and one skipped row.
# Deterministic (a fixed LCG); rerun with: bash engine/run/testdata/make_data.sh
set -euo pipefail
cd "$(dirname "$0")"

x=12345
rnd() { # rnd LO HI: sets r to a number in [LO, HI]
	x=$(( (x * 1103515245 + 12345) % 2147483648 ))
	r=$(( $1 + (x / 65536) % ($2 - $1 + 1) ))
}
declare -A seen
row() { # row N LAYOUT: one addition row with unseen operands
	local a b
	while :; do
		rnd 10 999; a=$r
		rnd 10 999; b=$r
		[[ -z ${seen[$a+$b]:-} && -z ${seen[$b+$a]:-} ]] && break
	done
	seen[$a+$b]=1
	local q="$a+$b=?" s=$((a + b))
	case $2 in
	question) printf '{"question":"%s","solution":"%s"}\n' "$q" "$s" ;;
	prompt) printf '{"prompt":"%s","solution":"%s"}\n' "$q" "$s" ;;
	stratos) printf '{"system":"Solve: thought, then solution.","conversations":[{"from":"user","value":"%s"},{"from":"assistant","value":"<|begin_of_solution|>%s<|end_of_solution|>"}]}\n' "$q" "$s" ;;
	esac
}
layouts=(question prompt stratos)
{
	for i in $(seq 1 20); do row "$i" "${layouts[i % 3]}"; done
	# Lines 21-26.
	echo '{"question":"12+34=?","solution":"47"}'                                    # 21: wrong for addition: skipped
	echo '{"question":"5+7=?","solution":""}'                                         # 22: empty solution: skipped
	echo '{"question":"2+2=? <|begin_of_thought|>","solution":"4"}'                   # 23: reserved tag: skipped
	echo '{"question":"9+9=?"'                                                        # 24: not JSON: skipped
	echo '{"question":"Capital of France?","solution":"Paris"}'                       # 25: text, exact match
	echo '{"question":"3x+5=20, x=?","solution":"5","reasoning_trace":"20-5=15; 15/3=5; ans 5"}' # 26: linear
	for i in $(seq 27 40); do row "$i" "${layouts[i % 3]}"; done
} >train.jsonl
{
	for i in $(seq 1 6); do row "$i" question; done
	echo '{"question":"Capital of Italy?","solution":"Rome"}'
	echo '{"question":"1+1=?"}'
} >eval.jsonl
