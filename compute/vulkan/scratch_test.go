package vulkan

import (
	"reflect"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// scratchHeld is the device memory the Device's scratch slots and the
// Backend's named scratch hold now, the fused head's logits (what
// HeadBytes bounds) apart.
func (b *Backend) scratchHeld() (scratch, logits int64) {
	for _, s := range b.d.scratchBufs {
		if s != nil {
			scratch += int64(s.size)
		}
	}
	for name, t := range b.scratch {
		switch {
		case t.b == b.d.dummy:
		case name == "head.z" || name == "head.dz":
			logits += int64(t.b.size)
		default:
			scratch += int64(t.b.size)
		}
	}
	return scratch, logits
}

// scratchCase is a model's shapes for TestScratchWithinBound: its
// attention, the width of its rows and its vocabulary.
type scratchCase struct {
	b, t, h, kv, hd, width, inter, vocab int
	// shared is the vocabulary the head's KL runs over (0: vocab): two
	// models' tables of other sizes share the tokenizer's, fewer rows.
	shared int
}

// runScratchOps runs a forward's ops of c on b (the head's KL among them,
// as scoring runs it; with backward, a training step's: their backward
// and the gradient's norm) and a sampling step's, and returns the shapes ScratchBytes is asked with for
// them.
func runScratchOps(t *testing.T, b *Backend, c scratchCase, backward bool) Shapes {
	n, qw, kw := c.b*c.t, c.h*c.hd, c.kv*c.hd
	a := compute.AttnDims{B: c.b, T: c.t, H: c.h, KV: c.kv, HeadDim: c.hd}
	q, k, v := b.New("q", n, qw), b.New("k", n, kw), b.New("v", n, kw)
	out, lse := b.New("out", n, qw), b.New("lse", c.b*c.h*c.t)
	b.Attention(out, lse, q, k, v, a, nil)
	if backward {
		dq, dk, dv := b.New("dq", n, qw), b.New("dk", n, kw), b.New("dv", n, kw)
		b.AttentionBackward(dq, dk, dv, out, out, lse, q, k, v, a, nil)
	}
	// Every product a layer makes: q, k, v, o, gate, up, down.
	ws := []*compute.Tensor{q, k, v}
	for _, w := range [][2]int{{qw, c.width}, {kw, c.width}, {c.width, qw}, {c.inter, c.width}, {c.width, c.inter}} {
		o, in := w[0], w[1]
		x, wt, bias, y := b.New("x", n, in), b.New("w", o, in), b.New("bias", o), b.New("y", n, o)
		b.Linear(y, x, wt, bias)
		if backward {
			b.LinearBackward(b.New("dx", n, in), b.New("dw", o, in), b.New("db", o), y, x, wt)
		}
		ws = append(ws, wt, bias)
	}
	x, y, dx := b.New("x", n, c.width), b.New("y", n, c.width), b.New("dx", n, c.width)
	rstd, nw, dnw := b.New("rstd", n), b.New("nw", c.width), b.New("dnw", c.width)
	b.RMSNorm(y, rstd, x, nw, 1e-6)
	if backward {
		b.RMSNormBackward(dx, dnw, y, x, nw, rstd)
	}

	head := b.New("head", c.vocab, c.width)
	lp, hl, ent, glp := b.New("lp", n), b.New("hl", n), b.New("ent", n), b.New("glp", n)
	shared := c.vocab
	if c.shared > 0 {
		shared = c.shared
	}
	targets := make([]int32, n)
	for i := range targets {
		targets[i] = int32(i % shared)
	}
	b.HeadLogProbs(lp, hl, ent, x, head, shared, targets, 1)
	b.HeadKL(lp, x, head, y, head, shared, 1) // the full estimator's, scoring's: no backward
	ws = append(ws, nw, head)
	params := 0
	if backward {
		b.HeadLogProbsBackward(dx, b.New("dhead", c.vocab, c.width), glp, x, head, hl, shared, targets, 1)
		for _, t := range ws {
			params += t.Len()
		}
		b.SumSquaresEach(ws, make([]float64, len(ws)))
	}

	const draws, candidates = 5, 64
	logits := b.New("logits", draws, c.vocab)
	u := make([]float32, draws)
	if err := b.DrawTokens(make([]int32, draws), make([]float32, draws), logits, u, compute.DrawOptions{InvTemp: 1, Allowed: c.vocab}); err != nil {
		t.Fatal(err)
	}
	var s compute.Shortlist
	if err := b.Shortlist(&s, logits, compute.ShortlistOptions{InvTemp: 1, Allowed: c.vocab, TopK: 4, Capacity: candidates}); err != nil {
		t.Fatal(err)
	}
	b.Argmax(make([]int32, draws), logits)
	if err := b.d.Flush(); err != nil {
		t.Fatal(err)
	}
	shapes := Shapes{Rows: n, T: c.t, Heads: c.h, KVHeads: c.kv, HeadDim: c.hd, Hidden: c.width, Intermediate: c.inter,
		Vocab: c.vocab, Draws: draws, Candidates: candidates, Backward: backward}
	if backward {
		shapes.Params, shapes.Tensors = params, len(ws)
	}
	return shapes
}

// TestScratchWithinBound runs a training step's and a sampling step's ops
// (or a forward's only, as rlt score) at small shapes, on the row and the
// tiled attention paths, of one model or of two on one device, and wants
// the scratch they leave held within ScratchBytes of those shapes, and the
// head's logits within HeadBytes and what ScratchBytes counts past it: an
// op whose scratch grows past the bound the memory check adds fails it.
// The split products' partials, sized from the products the shapes
// multiply, are wanted within twice what they hold: the bound is not the
// cap of 2·gpuSplitTarget tiles it was.
func TestScratchWithinBound(t *testing.T) {
	openOrSkip(t)
	// The caps small, so that the terms each op's own sizes make rule the
	// bound, not the caps' megabytes, and the column sums split in slices.
	defer func(dec, back, slice int) { decodeScratchBytes, attnBackScratchBytes, colSumSlice = dec, back, slice }(decodeScratchBytes, attnBackScratchBytes, colSumSlice)
	decodeScratchBytes, attnBackScratchBytes, colSumSlice = 4096, 4096, 32
	t.Setenv("RLT_VULKAN_SPLIT", "gpu") // products split along K, as on a GPU
	cases := []struct {
		name     string
		rows     bool // attention on the row kernels
		forward  bool // forward passes only (rlt score)
		models   []scratchCase
		headFlts int // the head's logits budget (0: the device's)
	}{
		{"row attention", true, false, []scratchCase{{2, 96, 4, 2, 16, 300, 600, 1000, 0}}, 0},
		{"tiled attention", false, false, []scratchCase{{3, 80, 6, 3, 32, 520, 700, 700, 0}}, 0},
		{"one sequence, wide vocabulary", false, false, []scratchCase{{1, 40, 2, 1, 8, 64, 128, 5000, 0}}, 0},
		// A row of logits past the budget: a chunk of one row each way
		// holds 2·V floats, more than HeadBytes' 1.5× the budget.
		{"a vocabulary wider than the head's budget", false, false, []scratchCase{{2, 40, 2, 1, 8, 64, 128, 5000, 0}}, 4000},
		{"forward only", false, true, []scratchCase{{3, 80, 6, 3, 32, 520, 700, 700, 0}}, 0},
		// The head over a shared vocabulary of fewer rows than the
		// tables' (rlt score's pair): 4000 floats a forward chunk are 3
		// rows of 1010 but 4 of 1000, 2000 a KL or backward chunk 1 row
		// but 2, so a chunk sized from the shared vocabulary held a row of
		// h (of both models in the KL) and its floats more than the bound
		// counts.
		{"the head over fewer rows than the tables'", false, false, []scratchCase{{2, 40, 2, 1, 8, 256, 512, 1010, 1000}}, 4000},
		// Two models on one Device: each slot keeps the larger of their
		// asks, here of different models' (the first's wider products
		// and longer sequences, the second's vocabulary and heads).
		{"two models on one device", false, false, []scratchCase{{2, 96, 4, 2, 16, 600, 900, 300, 0}, {4, 32, 8, 1, 16, 200, 300, 3000, 0}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.headFlts > 0 {
				defer func(f int) { headChunkFloats = f }(headChunkFloats)
				headChunkFloats = c.headFlts
			}
			d, err := Open()
			if err != nil {
				t.Fatal(err)
			}
			b := NewBackend(d)
			t.Cleanup(b.Close)
			if c.rows {
				d.attn = attnRows
			}
			var runs []Shapes
			for _, m := range c.models {
				runs = append(runs, runScratchOps(t, b, m, !c.forward))
			}
			// ScratchBytes counts the logits past HeadBytes (headLogitsPast)
			// beside the rest of the scratch: each part within its own.
			held, zs := b.scratchHeld()
			in := d.Info() // the kernels attention takes: the row case set them
			past := headLogitsPast(in, runs...)
			bound, zBound := ScratchBytes(in, runs[0], runs[1:]...)-past, HeadBytes(in)+past
			if held == 0 || held > bound || zs == 0 || zs > zBound {
				t.Fatalf("the ops' scratch holds %d bytes and the head's logits %d, ScratchBytes bounds them at %d and %d (HeadBytes and %d past it; %+v)",
					held, zs, bound, zBound, past, runs)
			}
			slot, named := scratchTerms(in, runs...)
			// Each of the head's named buffers within its own term: the
			// totals' slack elsewhere hid a chunk a row over.
			for name, i := range map[string]int{"head.h": headH, "head.dh": headDH, "head.hp": headHP, "head.hq": headHQ,
				"head.lp": headLP, "head.lse": headLse, "head.ent": headEnt, "head.g": headG, "head.kl": headKL, "head.z": headZ, "head.dz": headDZ} {
				if s := b.scratch[name]; s != nil && s.b != d.dummy && int64(s.b.size) > named[i] {
					t.Errorf("the head's %s holds %d bytes, bound at %d", name, s.b.size, named[i])
				}
			}
			var split int64
			if sb := d.scratchBufs[scratchSplitK]; sb != nil {
				split = int64(sb.size)
			}
			if split == 0 || slot[scratchSplitK] < split || slot[scratchSplitK] > 2*split {
				t.Errorf("split products' partials hold %d bytes, bound at %d: want them held, and the bound within twice that", split, slot[scratchSplitK])
			}
			if c.forward {
				for _, i := range []int{scratchProbs, scratchGrads, scratchColSum} {
					if d.scratchBufs[i] != nil || slot[i] != 0 {
						t.Errorf("a forward holds scratch slot %d (%v) or its bound counts it (%d)", i, d.scratchBufs[i] != nil, slot[i])
					}
				}
			}
			t.Logf("scratch held %d bytes and logits %d, bound %d and %d; split partials %d, bound %d", held, zs, bound, zBound, split, slot[scratchSplitK])
		})
	}
}

// TestSplitPartialsOfWindowedProducts: a product whose operand passes the
// device's binding range runs a window at a time (gemmWindowed), and a
// window of fewer tiles splits along K where the whole product would not,
// so the split partials' bound counts what its parts make. A head
// [65536, 512] past a 16 MiB window, by 64 rows, was bound at no
// partials (the whole product's 512 tiles fill half gpuSplitTarget),
// while its windows of 8192 columns held 4 MiB; then at 32 MiB, from any
// part of up to the whole's rows and columns, where gemmWindowed makes
// windows of 8192 columns only: the bound is wanted within twice what
// they hold. By 200 rows C passes the window too, and is cut by rows
// first.
func TestSplitPartialsOfWindowedProducts(t *testing.T) {
	openOrSkip(t)
	t.Setenv("RLT_VULKAN_SPLIT", "gpu") // products split along K, as on a GPU
	const window, vocab, hidden = 16 << 20, 65536, 512
	for _, rows := range []int{64, 200} {
		d, err := Open()
		if err != nil {
			t.Fatal(err)
		}
		lowerWindow(t, d, window)
		b := NewBackend(d)
		b.Linear(b.New("y", rows, vocab), b.New("x", rows, hidden), b.New("head", vocab, hidden), nil)
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
		sb := d.scratchBufs[scratchSplitK]
		if sb == nil {
			t.Fatalf("%d rows: the windowed product made no split partials: the test no longer reaches the case", rows)
		}
		in := d.info
		in.MaxStorageBufferRange = window
		slot, _ := scratchTerms(in, Shapes{Rows: rows, Hidden: hidden, Vocab: vocab})
		if held := int64(sb.size); slot[scratchSplitK] < held || slot[scratchSplitK] > 2*held {
			t.Errorf("%d rows: the windowed product's split partials hold %d bytes, bound at %d: want it held, and the bound within twice that", rows, held, slot[scratchSplitK])
		}
		t.Logf("%d rows: split partials %d bytes, bound %d", rows, sb.size, slot[scratchSplitK])
		b.Close()
	}
}

// TestScratchBytesNeedsARun: ScratchBytes takes its first run as a
// parameter of its own, so that an estimate cannot ask it of no runs (a
// bound of 0, under-counting without a word). It was variadic alone:
// ScratchBytes(in) compiled and gave 0.
func TestScratchBytesNeedsARun(t *testing.T) {
	ft := reflect.TypeOf(ScratchBytes)
	if ft.NumIn() != 3 || ft.In(1) != reflect.TypeOf(Shapes{}) || !ft.IsVariadic() {
		t.Fatalf("ScratchBytes is %v, want func(Info, Shapes, ...Shapes) int64: a first run required", ft)
	}
	s := Shapes{Rows: 8, T: 8, Heads: 2, KVHeads: 1, HeadDim: 4, Hidden: 8, Intermediate: 16, Vocab: 32}
	if one, two := ScratchBytes(Info{}, s), ScratchBytes(Info{}, s, s); one <= 0 || one != two {
		t.Fatalf("ScratchBytes of one run %d, of the same run twice %d: want the same bound, above 0", one, two)
	}
}

// TestAttentionBackwardScratchOfShorterBatches: a micro-batch padded to
// fewer positions than the run's longest sequence (Shapes.T) fits more kv
// groups in a dispatch of AttentionBackward's row kernels, so it holds
// more than a batch of T: the bound's term is the cap (within the call's
// heads), not what a batch of the longest holds. At 0.5B's heads (14, 2
// kv) under the 64 MiB cap, two sequences of 1152 hold 37158912 bytes in
// each of the two buffers and two of 774 hold 67096512. Here, with the cap
// at just under two kv groups of T: two sequences of T hold one group a
// dispatch (73728 bytes), three of 64 four groups (131072).
func TestAttentionBackwardScratchOfShorterBatches(t *testing.T) {
	openOrSkip(t)
	const T, rows, heads, kv, hd = 96, 192, 4, 2, 16
	defer func(c int) { attnBackScratchBytes = c }(attnBackScratchBytes)
	attnBackScratchBytes = 2*(heads/kv)*T*T*4 - 1
	d, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	d.attn = attnRows
	b := NewBackend(d)
	t.Cleanup(b.Close)
	held := map[int]int64{}
	for _, tt := range []int{T, 64} {
		a := compute.AttnDims{B: rows / tt, T: tt, H: heads, KV: kv, HeadDim: hd}
		n := a.B * a.T
		q, k, v := b.New("q", n, heads*hd), b.New("k", n, kv*hd), b.New("v", n, kv*hd)
		out, lse := b.New("out", n, heads*hd), b.New("lse", a.B*a.H*a.T)
		b.Attention(out, lse, q, k, v, a, nil)
		b.AttentionBackward(b.New("dq", n, heads*hd), b.New("dk", n, kv*hd), b.New("dv", n, kv*hd), out, out, lse, q, k, v, a, nil)
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
		held[tt] = int64(d.scratchBufs[scratchGrads].size)
	}
	slot, _ := scratchTerms(d.Info(), Shapes{Rows: rows, T: T, Heads: heads, KVHeads: kv, HeadDim: hd, Backward: true})
	if held[64] <= held[T] || held[64] > slot[scratchGrads] || held[64] > slot[scratchProbs] {
		t.Fatalf("attention backward held %d bytes a buffer at %d positions and %d at 64, bound at %d and %d: want the shorter batch holding more, within the bound",
			held[T], T, held[64], slot[scratchProbs], slot[scratchGrads])
	}
	t.Logf("held %d bytes a buffer at %d positions, %d at 64; bound %d", held[T], T, held[64], slot[scratchGrads])
}

// TestAttentionBackwardScratchFollowsTheKernels: the bound of attention's
// backward scratch counts the kernels the device runs (attnOnRows, the
// ops' own choice), on the tiles D and the per-head dk, dv, on the row
// kernels the two [np, T, T] buffers, each slot within twice what the
// op holds. It counted both paths, each slot the larger: on the tiles
// here 144 KiB where they hold 27 (at 0.5B's heads, 8 × 384 tokens, 126
// MiB where they hold 21). A call of more (b, h) pairs than a dispatch
// holds takes the row kernels on any device, and so does every call where
// the driver failed to build a tiled kernel; the bound counts them too.
// A probe, which builds no kernel, knows RLT_VULKAN_ATTN: rows under it.
func TestAttentionBackwardScratchFollowsTheKernels(t *testing.T) {
	openOrSkip(t)
	defer func(c int) { attnBackScratchBytes = c }(attnBackScratchBytes)
	attnBackScratchBytes = 4096
	for _, c := range []struct {
		name            string
		path            attnPath
		b, t, h, kv, hd int
		// loose: shorter calls of these shapes, of fewer pairs, take
		// the tiles and hold D at its bound; this one holds less.
		loose bool
		skip  string // a kernel the driver "failed" to build
	}{
		{"tiles", attnTiled, 2, 96, 4, 2, 16, false, ""},
		{"rows", attnRows, 2, 96, 4, 2, 16, false, ""},
		{"the tiles not built", attnTiled, 2, 96, 4, 2, 16, false, "attn_fa_dq32"},
		{"more pairs than a dispatch holds", attnTiled, maxGroupsX/4 + 1, 1, 4, 2, 16, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.skip != "" {
				skipKernels = map[string]bool{c.skip: true}
			}
			d, err := Open() // its slots hold what this case asks alone
			skipKernels = nil
			if err != nil {
				t.Fatal(err)
			}
			b := NewBackend(d)
			defer b.Close()
			d.attn = c.path
			held, bound := attnBackwardHeld(t, d, b, compute.AttnDims{B: c.b, T: c.t, H: c.h, KV: c.kv, HeadDim: c.hd})
			for _, i := range []int{scratchProbs, scratchGrads} {
				if held[i] == 0 || held[i] > bound[i] || !c.loose && bound[i] > 2*held[i] {
					t.Errorf("slot %d holds %d bytes, bound at %d: want it held, within the bound, the bound within twice it", i, held[i], bound[i])
				}
			}
		})
	}
	for _, c := range []struct {
		setting string
		rows    bool
	}{{"", false}, {"rows", true}} {
		t.Setenv("RLT_VULKAN_ATTN", c.setting)
		in, err := Probe()
		if err != nil {
			t.Fatal(err)
		}
		if got := attnOnRows(in.attnRows, 64, 1); got != c.rows {
			t.Errorf("RLT_VULKAN_ATTN=%q: a probe says the row kernels run: %v, want %v", c.setting, got, c.rows)
		}
	}
}

// attnBackwardHeld runs attention's forward and backward at a on b, a
// backend of d, and says for each of the backward's two scratch slots
// (scratchProbs, scratchGrads) what d holds after and its bound: the
// slot's term of scratchTerms, at least scratchMinBytes, as ScratchBytes
// counts a slot used.
func attnBackwardHeld(t *testing.T, d *Device, b *Backend, a compute.AttnDims) (held, bound [numScratch]int64) {
	t.Helper()
	n := a.B * a.T
	q, k, v := b.New("q", n, a.H*a.HeadDim), b.New("k", n, a.KV*a.HeadDim), b.New("v", n, a.KV*a.HeadDim)
	out, lse := b.New("out", n, a.H*a.HeadDim), b.New("lse", a.B*a.H*a.T)
	dq, dk, dv := b.New("dq", n, a.H*a.HeadDim), b.New("dk", n, a.KV*a.HeadDim), b.New("dv", n, a.KV*a.HeadDim)
	b.Attention(out, lse, q, k, v, a, nil)
	b.AttentionBackward(dq, dk, dv, out, out, lse, q, k, v, a, nil)
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	slot, _ := scratchTerms(d.Info(), Shapes{Rows: n, T: a.T, Heads: a.H, KVHeads: a.KV, HeadDim: a.HeadDim, Backward: true})
	for _, i := range []int{scratchProbs, scratchGrads} {
		if s := d.scratchBufs[i]; s != nil {
			held[i] = int64(s.size)
		}
		bound[i] = max(slot[i], scratchMinBytes)
	}
	return held, bound
}

// TestWindowedSplitFloatsEveryCount: windowedSplitFloats bounds a product
// of up to m rows without trying each count of rows (that took 40 ms of
// scratchTerms at 0.5B, 9216 rows); it is wanted equal to the most any
// count makes, each in every layout such a product takes (A untransposed,
// B transposed or not, in 32 bits or 16), on windows that cut C, A, B or
// several of them, and rows past, at and short of the cuts.
func TestWindowedSplitFloatsEveryCount(t *testing.T) {
	everyCount := func(in Info, m, n, k, tile int) int {
		best := 0
		for rows := 1; rows <= m; rows++ {
			for i := range 4 {
				l := windowLayout{transB: i&1 != 0, bBytes: 4, ldc: n, lda: k, ldb: n}
				if i&2 != 0 {
					l.bBytes = 2
				}
				if l.transB {
					l.ldb = k
				}
				best = max(best, l.parts(in, rows, n, k, tile, true))
			}
		}
		return best
	}
	for _, c := range []struct {
		window, align int
		m, n, k, tile int
	}{
		{16 << 20, 64, 200, 65536, 512, 128},  // TestSplitPartialsOfWindowedProducts' head: C cut by rows, B by columns
		{16 << 20, 64, 64, 65536, 512, 128},   // B alone cut
		{1 << 20, 256, 700, 600, 2000, 128},   // A and C cut by rows, K long enough to split
		{1 << 20, 16, 1500, 3000, 900, 64},    // C cut, A too at more rows
		{4 << 20, 64, 1200, 300, 9000, 128},   // A cut by rows, B by K
		{256 << 10, 64, 900, 5000, 1024, 256}, // a window under a line step of C
		{128 << 20, 64, 2048, 151936, 896, 128},
		{128 << 20, 64, 3000, 4864, 896, 128}, // nothing past the window
	} {
		in := Info{MaxStorageBufferRange: uint64(c.window), MinStorageAlignment: uint64(c.align)}
		if !windowed(in, c.m, c.n, c.k) {
			continue
		}
		want := everyCount(in, c.m, c.n, c.k, c.tile)
		if got := windowedSplitFloats(in, c.m, c.n, c.k, c.tile, false); got != want {
			t.Errorf("%+v: windowedSplitFloats %d, every count of rows %d", c, got, want)
		}
	}
}
