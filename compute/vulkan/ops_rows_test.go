package vulkan

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/allocstest"
)

// TestGroupRows checks the host grouping that ScatterRowsBackward uploads:
// distinct ids in increasing order, each with its rows in increasing order.
func TestGroupRows(t *testing.T) {
	cases := []struct {
		name             string
		ids              []int32
		offsets, uniq, r []int32
	}{
		{"one row", []int32{4}, []int32{0, 1}, []int32{4}, []int32{0}},
		{"all equal", []int32{3, 3, 3, 3}, []int32{0, 4}, []int32{3}, []int32{0, 1, 2, 3}},
		{"all distinct, unsorted", []int32{5, 0, 9, 2}, []int32{0, 1, 2, 3, 4}, []int32{0, 2, 5, 9}, []int32{1, 3, 0, 2}},
		{"repeated apart", []int32{2, 0, 2, 1, 0}, []int32{0, 2, 3, 5}, []int32{0, 1, 2}, []int32{1, 4, 3, 0, 2}},
		{"large ids", []int32{math.MaxInt32, 0, math.MaxInt32}, []int32{0, 1, 3}, []int32{0, math.MaxInt32}, []int32{1, 0, 2}},
	}
	d := &Device{} // groupRows only uses the Device's host scratch
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			csr, u := d.groupRows(c.ids)
			if u != len(c.uniq) || len(csr) != 2*u+1+len(c.ids) {
				t.Fatalf("%d distinct ids in %d values, want %d in %d", u, len(csr), len(c.uniq), 2*len(c.uniq)+1+len(c.ids))
			}
			got := [][]int32{csr[:u+1], csr[u+1 : 2*u+1], csr[2*u+1:]}
			want := [][]int32{c.offsets, c.uniq, c.r}
			for i, what := range []string{"offsets", "ids", "rows"} {
				if !slices.Equal(got[i], want[i]) {
					t.Errorf("%s %v, want %v", what, got[i], want[i])
				}
			}
		})
	}
}

// TestGroupRowsReusesScratch: grouping the same number of rows again (a
// training step's embedding backward) allocates nothing.
func TestGroupRowsReusesScratch(t *testing.T) {
	d := &Device{}
	ids := make([]int32, 4096)
	for i := range ids {
		ids[i] = int32(i*7919) % 1000
	}
	d.groupRows(ids)
	// The fewest: the finalizers of the package's device tensors add to a
	// count now and then (see allocstest).
	if a := allocstest.Fewest(10, func() { d.groupRows(ids) }); a != 0 {
		t.Errorf("groupRows of %d rows allocates %v times per call after the first", len(ids), a)
	}
}

// TestScatterRows compares ScatterRowsBackward (and EmbeddingBackward) with
// the CPU backend bit for bit: both add each id's rows in row order, and a
// float add is correctly rounded in Vulkan as in Go.
func TestScatterRows(t *testing.T) {
	d := openOrSkip(t)
	cpu := compute.NewCPU()
	seq := func(n int, f func(i int) int) []int32 {
		ids := make([]int32, n)
		for i := range ids {
			ids[i] = int32(f(i))
		}
		return ids
	}
	cases := []struct {
		name string
		V, d int
		ids  []int32
		// fillArena leaves less room in the upload arena than the grouped
		// ids need, so their upload submits the batch first.
		fillArena bool
	}{
		{"one row", 5, 7, []int32{3}, false},
		{"one column", 4, 1, seq(9, func(i int) int { return i % 4 }), false},
		{"all ids equal", 6, 300, seq(37, func(int) int { return 2 }), false},
		{"all distinct", 40, 257, seq(40, func(i int) int { return (i * 17) % 40 }), false},
		{"repeated apart", 9, 259, seq(50, func(i int) int { return (i * 5) % 9 }), false},
		{"few ids, many rows", 3, 3, seq(600, func(i int) int { return (i * i) % 3 }), false},
		{"columns past a workgroup", 11, 513, seq(13, func(i int) int { return (i * 3) % 11 }), false},
		{"upload at the arena's end", 9, 33, seq(50, func(i int) int { return (i * 5) % 9 }), true},
	}
	for _, c := range cases {
		for _, embed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/embedding=%v", c.name, embed), func(t *testing.T) {
				n := len(c.ids)
				dx0, dout := randVals(c.V*c.d, int64(n)), randVals(n*c.d, int64(c.d))
				cdx, cdout := cpu.New("dx", c.V, c.d), cpu.New("dout", n, c.d)
				cpu.Write(cdx, dx0)
				cpu.Write(cdout, dout)
				gdx, err := d.New("dx", c.V, c.d)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Free(gdx)
				gdout, err := d.New("dout", n, c.d)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Free(gdout)
				if err := d.Write(gdx, dx0); err != nil {
					t.Fatal(err)
				}
				if err := d.Write(gdout, dout); err != nil {
					t.Fatal(err)
				}
				submits := d.Submits()
				if c.fillArena {
					align := max(d.info.MinStorageAlignment, 16)
					used := (d.upUsed + align - 1) / align * align
					filler, err := d.New("filler", int((d.up.size-used-8)/4))
					if err != nil {
						t.Fatal(err)
					}
					defer d.Free(filler)
					if err := d.Write(filler, make([]float32, filler.n)); err != nil {
						t.Fatal(err)
					}
					submits = d.Submits()
				}
				if embed {
					cpu.EmbeddingBackward(cdx, cdout, c.ids)
					d.EmbeddingBackward(gdx, gdout, c.ids)
				} else {
					cpu.ScatterRowsBackward(cdx, cdout, c.ids)
					d.ScatterRowsBackward(gdx, gdout, c.ids)
				}
				if c.fillArena && d.Submits() == submits {
					t.Fatalf("the grouped ids fit in the arena's last %d bytes: the case tests nothing", d.up.size-d.upUsed)
				}
				want, got := make([]float32, c.V*c.d), make([]float32, c.V*c.d)
				cpu.Read(want, cdx)
				if err := d.Read(got, gdx); err != nil {
					t.Fatal(err)
				}
				bad := 0
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						if bad < 3 {
							t.Errorf("dx[%d, %d] is %g on the device, %g on the CPU", i/c.d, i%c.d, got[i], want[i])
						}
						bad++
					}
				}
				if bad > 0 {
					t.Errorf("%d of %d elements differ", bad, len(want))
				}
			})
		}
	}
}

// TestSumSquaresEachWaitsOnce: the sums of squares of many tensors (a
// gradient norm over every parameter) cost one submission, not one per
// tensor, and equal SumSquares tensor by tensor.
func TestSumSquaresEachWaitsOnce(t *testing.T) {
	d := openOrSkip(t)
	var ts []*Tensor
	for i, n := range []int{1, 1023, 1024, 1025, 5000, 300} {
		x, err := d.New("x", n)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Free(x)
		if err := d.Write(x, randVals(n, int64(i))); err != nil {
			t.Fatal(err)
		}
		ts = append(ts, x)
	}
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	sums := make([]float64, len(ts))
	before := d.Submits()
	if err := d.SumSquaresEach(ts, sums); err != nil {
		t.Fatal(err)
	}
	if n := d.Submits() - before; n != 1 {
		t.Errorf("SumSquaresEach of %d tensors took %d submissions, want 1", len(ts), n)
	}
	for i, x := range ts {
		one, err := d.SumSquares(x)
		if err != nil || one != sums[i] {
			t.Errorf("tensor %d: SumSquaresEach %v, SumSquares %v (%v)", i, sums[i], one, err)
		}
	}
}

// TestDrawTokens: greedy draws are Argmax's ids with the log-softmax of
// the row (in float64 on the host); a draw at u = 0 takes the first allowed
// id and one at the top of [0, 1) the last (here the largest, so that the
// top of the running sum is its own); a row with a NaN gives −1.
// engine/sample's TestDeviceDraws compares the draws with its picker.
func TestDrawTokens(t *testing.T) {
	d := openOrSkip(t)
	const rows, v, allowed = 5, 3001, 2990
	vals := randVals(rows*v, 21)
	for i := range vals {
		vals[i] *= 4
	}
	for r := range rows {
		vals[r*v+allowed-1] = 20
	}
	vals[3*v+17] = float32(math.NaN())
	x, err := d.New("logits", rows, v)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free(x)
	if err := d.Write(x, vals); err != nil {
		t.Fatal(err)
	}
	ids, lps := make([]int32, rows), make([]float32, rows)
	if err := d.DrawTokens(ids, lps, x, make([]float32, rows), 1, v, true); err != nil {
		t.Fatal(err)
	}
	want := make([]int32, rows)
	if err := d.Argmax(want, x); err != nil {
		t.Fatal(err)
	}
	for r := range rows {
		if r == 3 {
			if ids[r] != -1 {
				t.Errorf("row %d holds a NaN: id %d, want −1", r, ids[r])
			}
			continue
		}
		row := vals[r*v : (r+1)*v]
		m := float64(row[want[r]])
		sum := 0.0
		for _, z := range row {
			sum += math.Exp(float64(z) - m)
		}
		if lp := -math.Log(sum); ids[r] != want[r] || math.Abs(float64(lps[r])-lp) > 1e-5 {
			t.Errorf("row %d greedy: id %d log-prob %g, want %d and %g", r, ids[r], lps[r], want[r], lp)
		}
	}
	for _, c := range []struct {
		u    float32
		want int32
	}{{0, 0}, {1 - 0x1p-24, allowed - 1}} {
		u := []float32{c.u, c.u, c.u, c.u, c.u}
		if err := d.DrawTokens(ids, lps, x, u, 1/0.7, allowed, false); err != nil {
			t.Fatal(err)
		}
		for r := range rows {
			if w := map[bool]int32{true: -1, false: c.want}[r == 3]; ids[r] != w {
				t.Errorf("u = %g, row %d: id %d, want %d", c.u, r, ids[r], w)
			}
		}
	}
}
