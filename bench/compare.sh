#!/usr/bin/env bash
# Compares the Go engine with the PyTorch peer (../shared/bench/torch_ref.py)
# on this machine, at the peer's default shape (3.0 M parameters, batch 16):
#   training tokens/s  BenchmarkTrainStep  vs  torch_ref "train_tok_s"
#   sampled tokens/s   BenchmarkSample     vs  torch_ref "decode_tok_s"
#   peak RSS (/usr/bin/time -v): ours per benchmark process, the peer's one
#   process (training then sampling)
#
#   bash bench/compare.sh                 # from the repository root
#   REPS=5 bash bench/compare.sh          # more repetitions per side
#
# Each side runs REPS times (each Go benchmark with -count=REPS in its own
# process; the peer as REPS processes per OpenBLAS core type); the table
# shows the median and the best, and the ratios of both. Other work on a
# shared machine only ever slows a run, so the best is the closer estimate
# of each side's speed. The peer runs with its own best settings (it sets
# OPENBLAS_CORETYPE=SkylakeX, 1 torch thread, 2 BLAS threads) and again
# with --coretype Zen (this CPU reports as an AMD EPYC); per metric the
# better core type is used, and named.
#
# Needs Go and, for the peer, Debian's PyTorch:
#   apt-get install -y python3-torch python3-numpy libopenblas0
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
PY=/usr/bin/python3
PEER=${PEER:-../shared/bench/torch_ref.py}
CORETYPES=${CORETYPES:-"SkylakeX Zen"}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== go: $(go version | cut -d' ' -f3-)"

go test -c -o "$TMP/model.test" ./engine/model
: >"$TMP/go.txt"
for b in TrainStep Sample; do
	echo "== ours: Benchmark$b (-count=$REPS, own process)"
	(cd engine/model && /usr/bin/time -v -o "$TMP/go.time" "$TMP/model.test" -test.run '^$' \
		-test.bench "^Benchmark$b\$" -test.count "$REPS" -test.benchtime 2s) | tee -a "$TMP/go.txt"
	grep 'Maximum resident' "$TMP/go.time" | awk -v b=$b '{print b, $NF}' >>"$TMP/go.rss"
done

: >"$TMP/peer.jsonl"
if ! [ -x "$PY" ] || ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
	echo "== peer: skipped: Debian's PyTorch is missing. Install it with"
	echo "   apt-get install -y python3-torch python3-numpy libopenblas0"
elif ! [ -f "$PEER" ]; then
	echo "== peer: skipped: $PEER not found (set PEER=path/to/torch_ref.py)"
else
	for ct in $CORETYPES; do
		for i in $(seq "$REPS"); do
			echo "== peer: torch_ref.py --json --coretype $ct (run $i of $REPS)"
			/usr/bin/time -v -o "$TMP/peer.time" "$PY" "$PEER" --json --coretype "$ct" | tee "$TMP/peer.out" | { grep -v "^{" || true; }
			rss=$(grep 'Maximum resident' "$TMP/peer.time" | awk '{print $NF}')
			tail -n1 "$TMP/peer.out" | "$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); d["coretype_arg"]=sys.argv[1]; d["rss_kb"]=int(sys.argv[2]); print(json.dumps(d))' "$ct" "$rss" >>"$TMP/peer.jsonl"
		done
	done
fi

echo
"$PY" - "$TMP/go.txt" "$TMP/go.rss" "$TMP/peer.jsonl" <<'PYEOF'
import json, re, statistics, sys
go_txt, go_rss, peer_jsonl = sys.argv[1:4]
ours = {"train": [], "sample": [], "prefill": []}
for line in open(go_txt):
    m = re.match(r"Benchmark(TrainStep|Sample)-\d+\s", line)
    if not m:
        continue
    tok = float(re.search(r"([\d.]+) tokens/s", line).group(1))
    if m.group(1) == "TrainStep":
        ours["train"].append(tok)
    else:
        ours["sample"].append(tok)
        ours["prefill"].append(float(re.search(r"([\d.]+) prefill-ms", line).group(1)))
rss_ours = dict((l.split()[0], int(l.split()[1])) for l in open(go_rss) if l.strip())
peer = [json.loads(l) for l in open(peer_jsonl) if l.strip()]

def med(v): return statistics.median(v) if v else float("nan")
def best(v): return max(v) if v else float("nan")

def peer_metric(key):
    by = {}
    for d in peer:
        by.setdefault(d["coretype_arg"], []).append(d[key])
    if not by:
        return float("nan"), float("nan"), "-", 0
    ct = max(by, key=lambda c: med(by[c]))
    return med(by[ct]), best(by[ct]), ct, len(by[ct])

rows = []
for name, ok, pk in (("training tokens/s", "train", "train_tok_s"), ("sampled tokens/s", "sample", "decode_tok_s")):
    pm, pb, ct, n = peer_metric(pk)
    om, ob = med(ours[ok]), best(ours[ok])
    rows.append((name, om, ob, len(ours[ok]), pm, pb, ct, n))

print(f"{'':22}{'ours median':>12}{'ours best':>11}{'peer median':>13}{'peer best':>11}{'ratio median':>14}{'ratio best':>12}  peer core type (runs ours/peer)")
for name, om, ob, no, pm, pb, ct, n in rows:
    rm = om / pm if pm == pm and pm > 0 else float("nan")
    rb = ob / pb if pb == pb and pb > 0 else float("nan")
    print(f"{name:22}{om:12,.0f}{ob:11,.0f}{pm:13,.0f}{pb:11,.0f}{rm:13.2f}x{rb:11.2f}x  {ct} ({no}/{n})")
pf_ours = med(ours["prefill"])
pf_peer = med([d["prefill_ms"] for d in peer]) if peer else float("nan")
print(f"{'prefill 16x16, ms':22}{pf_ours:12.1f}{'':11}{pf_peer:13.1f}")
rss_peer = max((d["rss_kb"] for d in peer), default=0)
print(f"{'peak RSS, MiB':22}{max(rss_ours.values(), default=0)/1024:12.1f}{'':11}{rss_peer/1024:13.1f}"
      f"   (ours: training {rss_ours.get('TrainStep', 0)/1024:.1f}, sampling {rss_ours.get('Sample', 0)/1024:.1f}, separate processes;"
      f" peer: one process doing both)")
for ct in sorted({d["coretype_arg"] for d in peer}):
    ds = [d for d in peer if d["coretype_arg"] == ct]
    print(f"  peer --coretype {ct}: train {med([d['train_tok_s'] for d in ds]):,.0f} tok/s, "
          f"sample {med([d['decode_tok_s'] for d in ds]):,.0f} tok/s (medians of {len(ds)})")
PYEOF
