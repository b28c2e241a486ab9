package vulkan

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/compute/kernels"
)

// attnRef is causal grouped-query attention and its gradients in float64,
// written from the definition: out = softmax(scale·q·kᵀ)·v over the keys
// kStart[b]..t, lse the row's log-sum-exp (0 for a row with no visible key),
// and dq, dk, dv for the upstream gradient dout.
func attnRef(q, k, v, dout []float32, a compute.AttnDims, kStart []int32) (out, lse, dq, dk, dv []float64) {
	B, T, H, KV, hd := a.B, a.T, a.H, a.KV, a.HeadDim
	rep := H / KV
	scale := float64(float32(1 / math.Sqrt(float64(hd))))
	out, lse = make([]float64, len(q)), make([]float64, B*H*T)
	dq, dk, dv = make([]float64, len(q)), make([]float64, len(k)), make([]float64, len(k))
	qi := func(b, t, h, e int) int { return ((b*T+t)*H+h)*hd + e }
	ki := func(b, j, g, e int) int { return ((b*T+j)*KV+g)*hd + e }
	for b := range B {
		ks0 := 0
		if kStart != nil {
			ks0 = min(max(int(kStart[b]), 0), T)
		}
		for h := range H {
			g := h / rep
			for t := ks0; t < T; t++ {
				s := make([]float64, t+1)
				m := math.Inf(-1)
				for j := ks0; j <= t; j++ {
					for e := range hd {
						s[j] += float64(q[qi(b, t, h, e)]) * float64(k[ki(b, j, g, e)])
					}
					s[j] *= scale
					m = math.Max(m, s[j])
				}
				z := 0.0
				for j := ks0; j <= t; j++ {
					z += math.Exp(s[j] - m)
				}
				l := m + math.Log(z)
				lse[(b*H+h)*T+t] = l
				p, dp := make([]float64, t+1), make([]float64, t+1)
				dsum := 0.0
				for j := ks0; j <= t; j++ {
					p[j] = math.Exp(s[j] - l)
					for e := range hd {
						out[qi(b, t, h, e)] += p[j] * float64(v[ki(b, j, g, e)])
						dp[j] += float64(dout[qi(b, t, h, e)]) * float64(v[ki(b, j, g, e)])
					}
					dsum += p[j] * dp[j]
				}
				for j := ks0; j <= t; j++ {
					ds := p[j] * (dp[j] - dsum)
					for e := range hd {
						dq[qi(b, t, h, e)] += scale * ds * float64(k[ki(b, j, g, e)])
						dk[ki(b, j, g, e)] += scale * ds * float64(q[qi(b, t, h, e)])
						dv[ki(b, j, g, e)] += p[j] * float64(dout[qi(b, t, h, e)])
					}
				}
			}
		}
	}
	return
}

// TestAttention checks the device's training attention (forward with saved
// log-sum-exp, backward by recomputation) against attnRef on random odd
// shapes, with and without left padding, on the tiled kernels and on the
// row kernels, and with scratch budgets so small that every call is split
// into many dispatches.
func TestAttention(t *testing.T) {
	d := openOrSkip(t)
	rng := rand.New(rand.NewSource(13))
	// Six random shapes, then head sizes the value sum splits differently:
	// 64 (four groups of keys), 100 (two, 56 invocations idle), 300 (past
	// 256: one invocation per element walks every key; rows only), then
	// several tiles of 32 (hd ≤ 64) and of 16 (hd ≤ 128) rows, with
	// Qwen2.5-0.5B's seven query heads per kv head.
	fixed := []compute.AttnDims{
		{B: 1, T: 9, H: 2, KV: 1, HeadDim: 64},
		{B: 2, T: 5, H: 1, KV: 1, HeadDim: 100},
		{B: 1, T: 3, H: 1, KV: 1, HeadDim: 300},
		{B: 2, T: 70, H: 14, KV: 2, HeadDim: 64},
		{B: 1, T: 41, H: 4, KV: 2, HeadDim: 128},
		{B: 2, T: 33, H: 3, KV: 3, HeadDim: 65},
	}
	for trial := range 6 + len(fixed) {
		a := compute.AttnDims{B: 1 + rng.Intn(3), T: 1 + rng.Intn(20), KV: 1 + rng.Intn(2), HeadDim: 1 + 2*rng.Intn(20)}
		a.H = a.KV * (1 + rng.Intn(3))
		if trial >= 6 {
			a = fixed[trial-6]
		}
		var kStart []int32
		if trial%2 == 1 {
			kStart = make([]int32, a.B)
			for i := range kStart {
				kStart[i] = int32(rng.Intn(a.T + 1))
			}
		}
		split := trial == 4 || trial == 5 || trial == 9
		for _, w := range attnWays(d) {
			t.Run(fmt.Sprintf("%+v/kStart=%v/split=%v/%s", a, kStart, split, w.name), func(t *testing.T) {
				tol := w.use(t, d, a.HeadDim)
				if tiles, ok := d.attnTilesFor(a.HeadDim, a.B*a.H); w.path != attnRows && a.HeadDim <= 128 && !ok {
					t.Fatalf("head dim %d: the tiled kernels are not there (%q)", a.HeadDim, d.info.Unavailable)
				} else if want := attnCoopSets[attnSetFor(a.HeadDim)].fwd; w.matmul == MatmulF16 && a.HeadDim <= attnCMHeadDim && tiles.fwd != want {
					t.Fatalf("head dim %d under matmul f16: kernel %s, not %s (%q)", a.HeadDim, kernelSpecs[tiles.fwd].name, kernelSpecs[want].name, d.info.Unavailable)
				}
				if split {
					oldF, oldB := decodeScratchBytes, attnBackScratchBytes
					decodeScratchBytes, attnBackScratchBytes = 2*a.T*4, 1
					defer func() { decodeScratchBytes, attnBackScratchBytes = oldF, oldB }()
				}
				checkAttention(t, d, rng, a, kStart, tol)
			})
		}
	}
}

// attnWay is one choice of attention's kernels for the tests: the tiles,
// the row kernels, and where the device runs matmul f16, the tiles on
// cooperative matrices.
type attnWay struct {
	name   string
	path   attnPath
	matmul string
}

// attnWays lists the choices to check: the cooperative matrices' way is
// there on every device and skipped by use where the device runs none
// (failed under RLT_REQUIRE_COOPMAT=1, backendtest.NeedCoopMat). A device
// opened with RLT_VULKAN_ATTN=f32 leaves it out, so that bench/gpu.sh
// checks the float32 kernels apart from attn_cm.
func attnWays(d *Device) []attnWay {
	ways := []attnWay{{"tiles", attnTiled, MatmulF32}, {"rows", attnRows, MatmulF32}}
	if d.attn != attnTiledF32 {
		ways = append(ways, attnWay{"f16", attnTiled, MatmulF16})
	}
	return ways
}

// attnF16Tol bounds the error of attention on cooperative matrices relative
// to 1 + |reference|: float16 operands scaled per tile keep 11 bits, so
// scores of unit operands over 64 dims err by about 2⁻¹¹·√64·|q||k|, and
// every output inherits that through the probabilities.
const attnF16Tol = 4e-3

// use chooses w on d until the test ends and returns the tolerance of its
// results (against float64) for head dim hd: float32's 1e-5, or attnF16Tol
// where the products run on cooperative matrices.
func (w attnWay) use(t *testing.T, d *Device, hd int) float64 {
	t.Helper()
	oldPath, oldMatmul := d.attn, d.Matmul()
	if err := d.SetMatmul(w.matmul); err != nil {
		if w.matmul == MatmulF16 && !d.info.MatmulF16 {
			backendtest.NeedCoopMat(t, err)
		}
		t.Fatal(err)
	}
	d.attn = w.path
	t.Cleanup(func() {
		d.attn = oldPath
		if err := d.SetMatmul(oldMatmul); err != nil {
			t.Error(err)
		}
	})
	if w.matmul == MatmulF16 && w.path == attnTiled && hd <= attnCMHeadDim {
		return attnF16Tol
	}
	return 1e-5
}

// checkAttention runs Attention and AttentionBackward once on random
// operands and compares every output with attnRef.
func checkAttention(t *testing.T, d *Device, rng *rand.Rand, a compute.AttnDims, kStart []int32, tol float64) {
	t.Helper()
	nq, nk := a.B*a.T*a.H*a.HeadDim, a.B*a.T*a.KV*a.HeadDim
	vals := map[string][]float32{}
	tensors := map[string]*Tensor{}
	for _, s := range []struct {
		name string
		n    int
	}{{"q", nq}, {"k", nk}, {"v", nk}, {"dout", nq}, {"out", nq}, {"lse", a.B * a.H * a.T}, {"dq", nq}, {"dk", nk}, {"dv", nk}} {
		vals[s.name] = randVals(s.n, rng.Int63())
		x, err := d.New(s.name, s.n)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Free(x)
		if err := d.Write(x, vals[s.name]); err != nil {
			t.Fatal(err)
		}
		tensors[s.name] = x
	}
	tt := tensors
	d.Attention(tt["out"], tt["lse"], tt["q"], tt["k"], tt["v"], a, kStart)
	d.AttentionBackward(tt["dq"], tt["dk"], tt["dv"], tt["dout"], tt["out"], tt["q"], tt["k"], tt["v"], tt["lse"], a, kStart)
	out, lse, dq, dk, dv := attnRef(vals["q"], vals["k"], vals["v"], vals["dout"], a, kStart)
	for name, want := range map[string][]float64{"out": out, "lse": lse, "dq": dq, "dk": dk, "dv": dv} {
		got := make([]float32, len(want))
		if err := d.Read(got, tt[name]); err != nil {
			t.Fatal(err)
		}
		init := vals[name]
		for i := range want {
			w := want[i]
			if name == "dq" || name == "dk" || name == "dv" {
				w += float64(init[i]) // gradients accumulate
			}
			if e := math.Abs(float64(got[i])-w) / (1 + math.Abs(w)); e > tol || math.IsNaN(e) {
				t.Fatalf("%s[%d]: device %g, reference %g (relative error %.3g > %g)", name, i, got[i], w, e, tol)
			}
		}
	}
}

// TestAttnTilesFor: which head dimensions take the tiled kernels, with which
// tile, under each product precision, and what RLT_VULKAN_ATTN accepts.
func TestAttnTilesFor(t *testing.T) {
	d := openOrSkip(t)
	cm := 0 // attn_cm's tile, where the device runs it
	if d.info.MatmulF16 {
		cm = attnCMSubgroups * int(d.info.CoopSize)
	}
	for _, c := range []struct {
		hd, pairs int
		path      attnPath
		f16       bool
		side      int // 0: the row kernels; -1: attn_cm's
	}{
		{64, 112, attnTiled, false, 32}, {1, 1, attnTiled, false, 32}, {65, 112, attnTiled, false, 16}, {128, 96, attnTiled, false, 16},
		{129, 1, attnTiled, false, 0}, {0, 1, attnTiled, false, 0}, {64, maxGroupsX + 1, attnTiled, false, 0}, {64, 112, attnRows, false, 0},
		{64, 112, attnTiled, true, -1}, {7, 3, attnTiled, true, -1}, {65, 112, attnTiled, true, -1}, {128, 96, attnTiled, true, -1},
		{129, 1, attnTiled, true, 0}, {64, 112, attnTiledF32, true, 32}, {100, 112, attnTiledF32, true, 16},
		{64, 112, attnRows, true, 0}, {64, 112, attnTiledF32, false, 32},
	} {
		if c.f16 && !d.info.MatmulF16 {
			continue
		}
		want := c.side
		if want < 0 {
			want = cm
		}
		old := d.attn
		d.attn = c.path
		if c.f16 {
			if err := d.SetMatmul(MatmulF16); err != nil {
				t.Fatal(err)
			}
		}
		tiles, ok := d.attnTilesFor(c.hd, c.pairs)
		d.attn = old
		if err := d.SetMatmul(MatmulF32); err != nil {
			t.Fatal(err)
		}
		if side := map[bool]int{true: tiles.side}[ok]; side != want {
			t.Errorf("attnTilesFor(hd %d, pairs %d, path %d, f16 %v) = tile %d (ok %v), want %d", c.hd, c.pairs, c.path, c.f16, tiles.side, ok, want)
		}
		wantFwd := attnTileSets[attnSetFor(c.hd)].fwd
		if c.side < 0 {
			wantFwd = attnCoopSets[attnSetFor(c.hd)].fwd
		}
		if ok && tiles.fwd != wantFwd {
			t.Errorf("attnTilesFor(hd %d, path %d, f16 %v): forward kernel %s, want %s", c.hd, c.path, c.f16, kernelSpecs[tiles.fwd].name, kernelSpecs[wantFwd].name)
		}
	}
	for _, c := range []struct {
		v    string
		path attnPath
		ok   bool
	}{{"", attnTiled, true}, {"tiles", attnTiled, true}, {"f32", attnTiledF32, true}, {"rows", attnRows, true}, {"flash", attnTiled, false}, {"Rows", attnTiled, false}} {
		path, err := attnSetting(c.v)
		if path != c.path || (err == nil) != c.ok {
			t.Errorf("RLT_VULKAN_ATTN=%q: path %d, error %v; want path %d, ok %v", c.v, path, err, c.path, c.ok)
		}
	}
	refusesSetting(t, "RLT_VULKAN_ATTN", "flash")
}

// TestAttentionDecodeTiles: a prefill's stretch of new tokens (at least
// attnTiledMinRows, so the tiled kernel runs) attending to a KV cache with
// earlier positions and left padding, on the tiled and on the row kernels,
// against the CPU's kernels.AttentionDecode.
func TestAttentionDecodeTiles(t *testing.T) {
	d := openOrSkip(t)
	rng := rand.New(rand.NewSource(17))
	for _, c := range []struct {
		a            compute.AttnDims
		past, maxLen int
	}{
		{compute.AttnDims{B: 2, T: 40, H: 14, KV: 2, HeadDim: 64}, 9, 60},
		{compute.AttnDims{B: 3, T: 8, H: 2, KV: 1, HeadDim: 100}, 30, 38},
		{compute.AttnDims{B: 1, T: 17, H: 3, KV: 3, HeadDim: 7}, 0, 20},
	} {
		a := c.a
		kStart := make([]int32, a.B)
		for b := range kStart {
			kStart[b] = int32(rng.Intn(c.past + a.T))
		}
		nq, nc := a.B*a.T*a.H*a.HeadDim, a.B*a.KV*c.maxLen*a.HeadDim
		qv, kv, vv := randVals(nq, rng.Int63()), randVals(nc, rng.Int63()), randVals(nc, rng.Int63())
		want := make([]float32, nq)
		kernels.AttentionDecode(want, qv, kv, vv, a.B, a.T, a.H, a.KV, a.HeadDim, c.maxLen, c.past, kStart,
			make([]float32, kernels.AttentionDecodeScratch(a.T, c.maxLen)), 0, a.B*a.H)
		for _, w := range attnWays(d) {
			t.Run(fmt.Sprintf("%+v/past=%d/%s", a, c.past, w.name), func(t *testing.T) {
				tol := w.use(t, d, a.HeadDim)
				ts := map[string]*Tensor{}
				for name, vals := range map[string][]float32{"q": qv, "kcache": kv, "vcache": vv, "out": make([]float32, nq)} {
					x, err := d.New(name, len(vals))
					if err != nil {
						t.Fatal(err)
					}
					defer d.Free(x)
					if err := d.Write(x, vals); err != nil {
						t.Fatal(err)
					}
					ts[name] = x
				}
				d.AttentionDecode(ts["out"], ts["q"], ts["kcache"], ts["vcache"], a, c.maxLen, c.past, kStart)
				got := make([]float32, nq)
				if err := d.Read(got, ts["out"]); err != nil {
					t.Fatal(err)
				}
				for i := range want {
					if e := math.Abs(float64(got[i]-want[i])) / (1 + math.Abs(float64(want[i]))); e > tol || math.IsNaN(e) {
						t.Fatalf("out[%d]: device %g, CPU %g (relative error %.3g > %g)", i, got[i], want[i], e, tol)
					}
				}
			})
		}
	}
}

// TestAttentionCoopRange: attention on cooperative matrices keeps operands
// that float16 alone could not hold, since every tile is staged scaled
// (attn_cm.glsl): values of 1e5 (past float16's 65504) and output
// gradients of 1e-6 (float16 subnormals, 4 bits or fewer), at heads of 64
// and 128. Errors are measured against each output's largest magnitude,
// which a tolerance relative to 1 + |reference| would not see at 1e-6.
func TestAttentionCoopRange(t *testing.T) {
	d := coopOrSkip(t)
	rng := rand.New(rand.NewSource(23))
	for _, c := range []struct {
		name        string
		a           compute.AttnDims
		qk, v, dout float32 // each operand's scale
	}{
		{"values past float16", compute.AttnDims{B: 2, T: 37, H: 4, KV: 2, HeadDim: 64}, 1, 1e5, 1},
		{"tiny output gradients", compute.AttnDims{B: 2, T: 37, H: 4, KV: 2, HeadDim: 64}, 1, 1, 1e-6},
		{"both, heads of 128", compute.AttnDims{B: 1, T: 45, H: 2, KV: 1, HeadDim: 128}, 3, 1e5, 1e-6},
	} {
		t.Run(c.name, func(t *testing.T) {
			attnWay{"f16", attnTiled, MatmulF16}.use(t, d, c.a.HeadDim)
			a := c.a
			nq, nk := a.B*a.T*a.H*a.HeadDim, a.B*a.T*a.KV*a.HeadDim
			scaled := func(n int, s float32) []float32 {
				v := randVals(n, rng.Int63())
				for i := range v {
					v[i] *= s
				}
				return v
			}
			vals := map[string][]float32{"q": scaled(nq, c.qk), "k": scaled(nk, c.qk), "v": scaled(nk, c.v), "dout": scaled(nq, c.dout),
				"out": make([]float32, nq), "lse": make([]float32, a.B*a.H*a.T), "dq": make([]float32, nq), "dk": make([]float32, nk), "dv": make([]float32, nk)}
			ts := map[string]*Tensor{}
			for name, v := range vals {
				x, err := d.New(name, len(v))
				if err != nil {
					t.Fatal(err)
				}
				defer d.Free(x)
				if err := d.Write(x, v); err != nil {
					t.Fatal(err)
				}
				ts[name] = x
			}
			d.Attention(ts["out"], ts["lse"], ts["q"], ts["k"], ts["v"], a, nil)
			d.AttentionBackward(ts["dq"], ts["dk"], ts["dv"], ts["dout"], ts["out"], ts["q"], ts["k"], ts["v"], ts["lse"], a, nil)
			out, _, dq, dk, dv := attnRef(vals["q"], vals["k"], vals["v"], vals["dout"], a, nil)
			for name, want := range map[string][]float64{"out": out, "dq": dq, "dk": dk, "dv": dv} {
				got := make([]float32, len(want))
				if err := d.Read(got, ts[name]); err != nil {
					t.Fatal(err)
				}
				top, worst, at := 0.0, 0.0, 0
				for i, w := range want {
					top = math.Max(top, math.Abs(w))
					if e := math.Abs(float64(got[i]) - w); e > worst || math.IsNaN(e) {
						worst, at = e, i
						if math.IsNaN(e) {
							worst = math.Inf(1)
						}
					}
				}
				if worst > attnF16Tol*top {
					t.Errorf("%s[%d]: device %g, reference %g: error %.3g of the largest magnitude %.3g (> %g)",
						name, at, got[at], want[at], worst/top, top, attnF16Tol)
				}
			}
		})
	}
}
