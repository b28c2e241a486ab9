#!/usr/bin/env bash
# Compares compute/gemm with OpenBLAS (through Debian's numpy) on the
# transformer shapes, 1 and 2 threads, and prints GFLOP/s and our/OpenBLAS.
#
#   bash bench/gemm_vs_openblas.sh            # from the repository root
#   ROUNDS=5 bash bench/gemm_vs_openblas.sh   # more repetitions (best is kept)
#
# Needs Debian's python3-numpy and libopenblas0 (apt-get install python3-numpy
# libopenblas0-pthread). numpy reaches BLAS through the libblas.so.3
# alternative; this script only reads it. If it does not point at OpenBLAS,
# switch it yourself and switch it back afterwards:
#   update-alternatives --set libblas.so.3-x86_64-linux-gnu \
#       /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
#
# OpenBLAS is run with OPENBLAS_CORETYPE unset, SkylakeX, Zen and Haswell; the
# ratio uses, per row, the best of them. Rounds interleave OpenBLAS and ours;
# every figure is the best of ROUNDS runs, because other work on a shared
# 2-core machine only ever slows a run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

load=$(cut -d' ' -f1 /proc/loadavg)
echo "== load average at start: $load"
awk -v l="$load" 'BEGIN{exit !(l > 1.0)}' && echo "WARNING: other work is running on this machine; figures will be low and noisy."
echo "== BLAS seen by numpy"
update-alternatives --display libblas.so.3-x86_64-linux-gnu 2>/dev/null | sed -n '1,3p' || echo "(no libblas alternative)"

cat >"$TMP/np.py" <<'PYEOF'
import sys, time
import numpy as np
shapes = [(512, 256, 1024), (2048, 256, 688)]
rng = np.random.default_rng(0)
np.ones((64, 64), np.float32) @ np.ones((64, 64), np.float32)
libs = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l and '.so' in l})
print("# loaded: " + " ".join(libs), file=sys.stderr)
for form in ("NN", "NT"):
    for m, k, n in shapes:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n) if form == "NN" else (n, k), dtype=np.float32)
        bb = b if form == "NN" else b.T   # a transposed view: sgemm with transB, no copy
        c = np.empty((m, n), np.float32)
        np.matmul(a, bb, out=c)
        best = 1e9
        for _ in range(3):  # like the Go side: 3 samples of ~0.1 s, best kept
            reps, t0 = 0, time.perf_counter()
            while True:
                np.matmul(a, bb, out=c)
                reps += 1
                t = time.perf_counter() - t0
                if t > 0.1:
                    break
            best = min(best, t / reps)
        print(f"{form} {m}x{k}x{n} {2*m*n*k/best/1e9:.1f}")
PYEOF

go test -c -o "$TMP/gemm.test" ./compute/gemm/
"$TMP/gemm.test" -test.run '^TestKernelName$' -test.v | grep 'kernel in use' || true
echo "== $ROUNDS rounds, each: OpenBLAS via numpy (4 core types × 1,2 threads), then compute/gemm"
for r in $(seq "$ROUNDS"); do
  for ct in unset SkylakeX Zen Haswell; do
    for th in 1 2; do
      if [ "$ct" = unset ]; then
        env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=$th $PY "$TMP/np.py" 2>"$TMP/libs"
      else
        OPENBLAS_CORETYPE=$ct OPENBLAS_NUM_THREADS=$th $PY "$TMP/np.py" 2>"$TMP/libs"
      fi | awk -v ct="$ct" -v th="$th" '{print "ob", ct, th, $1, $2, $3}' >>"$TMP/res"
    done
  done
  "$TMP/gemm.test" -test.run '^$' -test.bench '^BenchmarkSgemm$' -test.benchtime=0.1s -test.count=3 >"$TMP/go.txt"
  # BenchmarkSgemm/NN/512x256x1024/workers=1-2  N  ns/op  X GFLOP/s
  awk '/^BenchmarkSgemm\//{split($1,p,"/"); sub(/-[0-9]+$/,"",p[4]); sub("workers=","",p[4]); for(i=1;i<=NF;i++) if($(i+1)=="GFLOP/s") print "go", "-", p[4], p[2], p[3], $i}' "$TMP/go.txt" >>"$TMP/res"
  echo "round $r done (load average $(cut -d' ' -f1 /proc/loadavg))"
done
grep -q openblas "$TMP/libs" || echo "WARNING: numpy did not load OpenBLAS: $(cat "$TMP/libs")"
sed 's/^# //' "$TMP/libs"
echo
# Print rows in a fixed order.
for form in NN NT; do for shape in 512x256x1024 2048x256x688; do for th in 1 2; do
  awk -v f="$form" -v s="$shape" -v t="$th" '
    $4==f && $5==s && $3==t { v=$6+0
      if ($1=="go") { if (v>g) g=v } else { if (v>o[$2]) o[$2]=v; if (v>b) {b=v; bc=$2} } }
    END { printf "%-5s %-13s %-7s %8.1f", f, s, t, g
          n=split("unset SkylakeX Zen Haswell", order, " ")
          for (i=1;i<=n;i++) printf " %10.1f", o[order[i]]
          printf "   %5.2f (vs %s)\n", (b>0? g/b : 0), bc }' "$TMP/res"
done; done; done | { printf "%-5s %-13s %-7s %8s %10s %10s %10s %10s   %s\n" form "m×k×n" threads ours "OB unset" "OB SkylakeX" "OB Zen" "OB Haswell" "ours/best OpenBLAS"; cat; }
echo "(GFLOP/s, best of $ROUNDS; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
