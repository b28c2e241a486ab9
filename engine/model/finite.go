package model

import (
	"context"
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

// finiteChunk is how many elements CheckFolderFinite reads at a time: 4
// MiB of float32, so a folder of any size is checked in that memory.
const finiteChunk = 1 << 20

// CheckFolderFinite reads every float tensor of the folder once (F32,
// F64, BF16, F16; a part of finiteChunk elements at a time, whatever the
// tensor's size) and refuses the first, in the files' order, that holds
// NaN or ±Inf, in a load's words: the file, the tensor, the value and its
// index. A load refuses such a weight too, but only the tensors it loads
// and only once a run has started; rlt model info --check-weights says it
// of a folder before. It returns how many tensors and bytes it read.
// Integer and other tensors, which hold no NaN, are passed over. ctx
// stops it between parts.
func CheckFolderFinite(ctx context.Context, fo *hf.Folder) (tensors int, read int64, err error) {
	var f32 []float32
	var b16 []uint16
	for _, t := range fo.Tensors() {
		n := t.NumElements()
		switch t.DType {
		case hf.F32, hf.F64:
			if len(f32) < min(n, finiteChunk) {
				f32 = make([]float32, min(n, finiteChunk))
			}
		case hf.BF16, hf.F16:
			if len(b16) < min(n, finiteChunk) {
				b16 = make([]uint16, min(n, finiteChunk))
			}
		default:
			continue
		}
		for first := 0; first < n; first += finiteChunk {
			if err := ctx.Err(); err != nil {
				return tensors, read, err
			}
			part := min(finiteChunk, n-first)
			var i int
			var v float32
			if t.DType == hf.F32 || t.DType == hf.F64 {
				buf := f32[:part]
				if err := fo.ReadFloat32At(t.Name, first, buf); err != nil {
					return tensors, read, err
				}
				if i = scanFinite(part, func(lo, hi int) int { return offsetOr(lo, kernels.FirstNonFinite(buf[lo:hi])) }); i >= 0 {
					v = buf[i]
				}
			} else {
				buf := b16[:part]
				if err := fo.ReadBits16At(t.Name, first, buf); err != nil {
					return tensors, read, err
				}
				kind := half.BF16
				if t.DType == hf.F16 {
					kind = half.F16
				}
				if i = scanFinite(part, func(lo, hi int) int { return offsetOr(lo, kernels.FirstNonFinite16(buf[lo:hi], kind == half.F16)) }); i >= 0 {
					w := make([]float32, 1)
					half.Widen(kind, w, buf[i:i+1])
					v = w[0]
				}
			}
			if i >= 0 {
				return tensors, read, nonFinite(t, first+i, v, n)
			}
		}
		tensors++
		read += t.Bytes()
	}
	return tensors, read, nil
}

// offsetOr is lo+j, or -1 where j is.
func offsetOr(lo, j int) int {
	if j < 0 {
		return -1
	}
	return lo + j
}
