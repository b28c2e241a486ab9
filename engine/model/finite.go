package model

import (
	"fmt"
	"sync/atomic"

	"github.com/rlt-workbench/rlt/compute/half"
	"github.com/rlt-workbench/rlt/compute/kernels"
	"github.com/rlt-workbench/rlt/compute/parallel"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// A weight that holds NaN or ±Inf is refused as it loads: a model computing
// with it gives only NaN, which surfaces far from its cause (a reward that
// cannot be written, a sampler that finds no finite logit). The scan
// (kernels.FirstNonFinite) runs on the parallel pool, a fraction of the
// time reading the file takes.

// finiteGrain is the least elements one worker scans.
const finiteGrain = 1 << 16

// firstNonFinite finds the lowest index first(lo, hi) reports over the
// pieces of [0, n) the pool runs.
type firstNonFinite struct {
	first func(lo, hi int) int // in [lo, hi), or -1
	at    atomic.Int64
}

func (s *firstNonFinite) Run(lo, hi int) {
	i := s.first(lo, hi)
	if i < 0 {
		return
	}
	for {
		cur := s.at.Load()
		if cur >= 0 && cur <= int64(i) || s.at.CompareAndSwap(cur, int64(i)) {
			return
		}
	}
}

func scanFinite(n int, first func(lo, hi int) int) int {
	s := &firstNonFinite{first: first}
	s.at.Store(-1)
	parallel.For(n, finiteGrain, s)
	return int(s.at.Load())
}

// checkFinite32 refuses float32 weights that hold NaN or ±Inf, naming the
// tensor, its file and the first such element.
func checkFinite32(info hf.TensorInfo, w []float32) error {
	i := scanFinite(len(w), func(lo, hi int) int {
		if j := kernels.FirstNonFinite(w[lo:hi]); j >= 0 {
			return lo + j
		}
		return -1
	})
	if i >= 0 {
		return nonFinite(info, i, w[i], len(w))
	}
	return nil
}

// checkFinite16 is checkFinite32 for weights held as bfloat16 or float16
// bits.
func checkFinite16(info hf.TensorInfo, k half.Kind, bits []uint16) error {
	i := scanFinite(len(bits), func(lo, hi int) int {
		if j := kernels.FirstNonFinite16(bits[lo:hi], k == half.F16); j >= 0 {
			return lo + j
		}
		return -1
	})
	if i >= 0 {
		v := make([]float32, 1)
		half.Widen(k, v, bits[i:i+1])
		return nonFinite(info, i, v[0], len(bits))
	}
	return nil
}

func nonFinite(info hf.TensorInfo, i int, v float32, n int) error {
	return fmt.Errorf("%s: tensor %q holds %v at index %d of %d: the checkpoint is corrupt (a diverged run saves such weights); load an earlier or another checkpoint",
		info.File, info.Name, v, i, n)
}
