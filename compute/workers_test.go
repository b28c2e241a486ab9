package compute

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlt-workbench/rlt/compute/parallel"
)

// TestReductionsIgnoreTheWorkerCount: the sums over rows that the CPU
// backend splits across the pool (a linear layer's bias gradient, RMSNorm's
// weight gradient, the sum of squares of gradient clipping) have the same
// bits on 1, 2, 3 or 5 workers, so a training run repeats on a machine with
// another core count (GOMAXPROCS). Summing each piece's partial result, as
// they once did, changed the last bits with the number of pieces.
func TestReductionsIgnoreTheWorkerCount(t *testing.T) {
	const rows, in, out = 1000, 48, 64 // several pieces of rows and of columns
	type result struct {
		dx, dw, dbias, ndx, ndw []float32
		ss                      float64
	}
	run := func(workers int) result {
		old := parallel.Workers()
		parallel.SetWorkers(workers)
		defer parallel.SetWorkers(old)
		be := NewCPU()
		r := rand.New(rand.NewPCG(7, 8))
		x := randT(be, r, "x", 1, rows, in)
		w := randT(be, r, "w", 0.2, out, in)
		dy := randT(be, r, "dy", 1, rows, out)
		dx, dw, dbias := be.New("dx", rows, in), be.New("dw", out, in), be.New("dbias", out)
		be.Write(dbias, make([]float32, out))
		be.LinearBackward(dx, dw, dbias, dy, x, w)
		nw := randT(be, r, "nw", 1, out)
		y, rstd := be.New("y", rows, out), be.New("rstd", rows)
		be.RMSNorm(y, rstd, dy, nw, 1e-6)
		ndx, ndw := be.New("ndx", rows, out), be.New("ndw", out)
		be.Write(ndw, make([]float32, out))
		be.RMSNormBackward(ndx, ndw, y, dy, nw, rstd)
		read := func(t *Tensor) []float32 {
			v := make([]float32, t.Len())
			be.Read(v, t)
			return v
		}
		return result{read(dx), read(dw), read(dbias), read(ndx), read(ndw), be.SumSquares(dy)}
	}
	same := func(a, b []float32) bool {
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				return false
			}
		}
		return true
	}
	one := run(1)
	for _, w := range []int{2, 3, 5} {
		got := run(w)
		for _, c := range []struct {
			name      string
			got, want []float32
		}{{"linear dx", got.dx, one.dx}, {"linear dw", got.dw, one.dw}, {"linear dbias", got.dbias, one.dbias},
			{"rmsnorm dx", got.ndx, one.ndx}, {"rmsnorm dw", got.ndw, one.ndw}} {
			if !same(c.got, c.want) {
				t.Errorf("%d workers: %s differs from 1 worker's", w, c.name)
			}
		}
		if math.Float64bits(got.ss) != math.Float64bits(one.ss) {
			t.Errorf("%d workers: SumSquares %v, 1 worker %v", w, got.ss, one.ss)
		}
	}
}
