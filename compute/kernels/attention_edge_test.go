package kernels

import (
	"fmt"
	"math"
	"testing"
)

// attnRun is one forward (AttentionForward, and AttentionDecode over the
// whole sequence as one prefill) and backward of attention from zero.
type attnRun struct{ out, lse, dec, dq, dk, dv []float32 }

func runAttention(q, k, v, dout []float32, B, T, H, KV, hd int, kStart []int32) attnRun {
	r := attnRun{out: make([]float32, len(q)), lse: make([]float32, B*H*T), dec: make([]float32, len(q)),
		dq: make([]float32, len(q)), dk: make([]float32, len(k)), dv: make([]float32, len(v))}
	AttentionForward(r.out, r.lse, q, k, v, B, T, H, KV, hd, kStart, make([]float32, AttentionScratch(T)), 0, B*H)
	AttentionBackward(r.dq, r.dk, r.dv, dout, r.out, r.lse, q, k, v, B, T, H, KV, hd, kStart, make([]float32, AttentionScratch(T)), 0, B*KV)
	kc, vc := make([]float32, len(k)), make([]float32, len(v)) // [B, KV, T, hd]
	for b := range B {
		for j := range T {
			for g := range KV {
				copy(kc[((b*KV+g)*T+j)*hd:][:hd], k[((b*T+j)*KV+g)*hd:])
				copy(vc[((b*KV+g)*T+j)*hd:][:hd], v[((b*T+j)*KV+g)*hd:])
			}
		}
	}
	AttentionDecode(r.dec, q, kc, vc, B, T, H, KV, hd, T, 0, kStart, make([]float32, AttentionDecodeScratch(T, T)), 0, B*H)
	return r
}

func finite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }

// TestAttentionMaskedKeysDoNotReachQueries: a NaN in a query, key, value
// or output gradient at position p reaches exactly the results that
// depend on p, on each side of every tile and key block edge: causally
// masked positions and left padding influence nothing. Every other result
// must be finite and match a run with that NaN replaced by 0.5. The
// product of a tile's masked probabilities (zeros) with its values once
// made 0·NaN = NaN of a value at p in the outputs of queries before p, and
// the backward's products did the same to the gradients of queries and
// keys that cannot see each other; the GPU kernels did not.
func TestAttentionMaskedKeysDoNotReachQueries(t *testing.T) {
	const B, H, KV, hd = 2, 2, 1, 16
	for _, T := range []int{70, 300} {
		kStart := []int32{0, 5}
		var places []int
		for _, p := range []int{0, 1, 4, 5, 6, 30, 31, 32, 33, 63, 64, 65, 69, 127, 128, 129, 130, 160, 255, 256, 298, 299} {
			if p < T {
				places = append(places, p)
			}
		}
		for _, which := range []string{"q", "k", "v", "dout"} {
			for _, p := range places {
				t.Run(fmt.Sprintf("T=%d/NaN_in_%s_at_%d", T, which, p), func(t *testing.T) {
					r := newRNG(uint64(p + 1))
					in := map[string][]float32{"q": randVec(r, B*T*H*hd, 1), "k": randVec(r, B*T*KV*hd, 1),
						"v": randVec(r, B*T*KV*hd, 1), "dout": randVec(r, B*T*H*hd, 1)}
					heads := H
					if which == "k" || which == "v" {
						heads = KV
					}
					for b := range B {
						in[which][(b*T+p)*heads*hd+3] = 0.5
					}
					clean := runAttention(in["q"], in["k"], in["v"], in["dout"], B, T, H, KV, hd, kStart)
					for b := range B {
						in[which][(b*T+p)*heads*hd+3] = float32(math.NaN())
					}
					got := runAttention(in["q"], in["k"], in["v"], in["dout"], B, T, H, KV, hd, kStart)
					kv := which == "k" || which == "v"
					// may says whether result row t (a query's, or key's for
					// dk and dv) of sequence b can depend on position p.
					for _, o := range []struct {
						name       string
						got, clean []float32
						per        int // values per position
						may        func(t int) bool
					}{
						{"out", got.out, clean.out, H * hd, func(t int) bool { return kv && t >= p || which == "q" && t == p }},
						{"decode", got.dec, clean.dec, H * hd, func(t int) bool { return kv && t >= p || which == "q" && t == p }},
						{"dq", got.dq, clean.dq, H * hd, func(t int) bool { return kv && t >= p || !kv && t == p }},
						{"dk", got.dk, clean.dk, KV * hd, func(t int) bool { return kv || t <= p }},
						{"dv", got.dv, clean.dv, KV * hd, func(t int) bool { return which == "k" || !kv && t <= p }},
					} {
						for i, w := range o.clean {
							b, tt := i/(T*o.per), i/o.per%T
							if o.may(tt) && p >= int(kStart[b]) && tt >= int(kStart[b]) {
								continue
							}
							if g := o.got[i]; !finite(g) || math.Abs(float64(g-w)) > 1e-5*(1+math.Abs(float64(w))) {
								t.Fatalf("sequence %d (keys from %d): %s of position %d is %g, %g without the NaN at %d", b, kStart[b], o.name, tt, g, w, p)
							}
						}
					}
					for i, w := range clean.lse {
						b, tt := i/(H*T), i%T
						if !(kv && tt >= p && p >= int(kStart[b]) || which == "q" && tt == p) && got.lse[i] != w {
							t.Fatalf("sequence %d: lse of query %d is %g, %g without the NaN at %d", b, tt, got.lse[i], w, p)
						}
					}
				})
			}
		}
	}
}

// TestAttentionRowOfMinusInfinity: a query whose every visible score is
// −Inf (q·k overflows: 3e38 against keys of −2 to −3) is a query with no
// visible key, as compute.Backend's Attention states: output 0, lse 0,
// no gradient of its own, and nothing added to the keys' gradients, where
// a softmax of −Inf − (−Inf) made NaN of its output and every gradient it
// reaches. The other queries must match a run where that query is an
// ordinary one and its output's gradient 0 (so it adds nothing either).
func TestAttentionRowOfMinusInfinity(t *testing.T) {
	const B, H, KV, hd = 1, 2, 1, 16
	for _, T := range []int{70, 300} {
		for _, p := range []int{0, 1, 31, 32, 33, 69, 128, 129, 299} {
			if p >= T {
				continue
			}
			t.Run(fmt.Sprintf("T=%d/query_%d", T, p), func(t *testing.T) {
				r := newRNG(uint64(p + 7))
				q, k, v, dout := randVec(r, B*T*H*hd, 1), randVec(r, B*T*KV*hd, 1), randVec(r, B*T*KV*hd, 1), randVec(r, B*T*H*hd, 1)
				for j := 0; j <= p; j++ {
					k[j*KV*hd] = float32(-2 - r.Float64())
				}
				at := p * H * hd // query p, head 0
				clear(dout[at : at+hd])
				clean := runAttention(q, k, v, dout, B, T, H, KV, hd, nil)
				clear(q[at : at+hd])
				q[at] = 3e38
				copy(dout[at:at+hd], randVec(r, hd, 1))
				got := runAttention(q, k, v, dout, B, T, H, KV, hd, nil)
				for _, o := range []struct {
					name       string
					got, clean []float32
					self       bool // the row's own results are 0
				}{{"out", got.out, clean.out, true}, {"decode", got.dec, clean.dec, true}, {"dq", got.dq, clean.dq, true},
					{"dk", got.dk, clean.dk, false}, {"dv", got.dv, clean.dv, false}} {
					for i, w := range o.clean {
						if o.self && i >= at && i < at+hd {
							if o.got[i] != 0 {
								t.Fatalf("%s[%d] of the query of −Inf scores is %g, want 0", o.name, i-at, o.got[i])
							}
						} else if g := o.got[i]; !finite(g) || math.Abs(float64(g-w)) > 1e-5*(1+math.Abs(float64(w))) {
							t.Fatalf("%s[%d] is %g, %g where query %d is an ordinary one with no output gradient", o.name, i, g, w, p)
						}
					}
				}
				if l := got.lse[p]; l != 0 {
					t.Fatalf("lse of the query of −Inf scores is %g, want 0", l)
				}
			})
		}
	}
}
