package sample

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/kernels"
)

// picker draws one token from a row of logits under Options' temperature,
// top-k, top-p, min-p and vocabulary mask. Its buffers are sized once, so a
// pick allocates nothing.
type picker struct {
	greedy  bool
	invT    float32 // 1/temperature (1 when greedy: log-probs of the raw logits)
	topK    int     // 0 = off
	topP    float64 // 0 = off
	minP    float64 // 0 = off
	allowed int     // ids ≥ allowed are never drawn

	u    []float32 // (z − max z)·invT over the whole row
	w    []float32 // exp(u); then the allowed ids' weights, the largest 1
	cand candidates
}

// candidates sorts token ids by probability, largest first, lower id first
// among equals: the order top-k and top-p truncate in.
type candidates struct {
	ids []int32
	e   []float32
}

func (c *candidates) Len() int      { return len(c.ids) }
func (c *candidates) Swap(i, j int) { c.ids[i], c.ids[j] = c.ids[j], c.ids[i] }
func (c *candidates) Less(i, j int) bool {
	a, b := c.ids[i], c.ids[j]
	if c.e[a] != c.e[b] {
		return c.e[a] > c.e[b]
	}
	return a < b
}

func newPicker(o *Options, vocab int) *picker {
	p := &picker{u: make([]float32, vocab), w: make([]float32, vocab)}
	p.configure(o, vocab)
	return p
}

// configure sets p's rules from o for a vocabulary of vocab ids, keeping
// its buffers (sized for vocab), so that a Generator reuses its pickers
// from call to call.
func (p *picker) configure(o *Options, vocab int) {
	p.greedy, p.invT, p.allowed = o.Temperature == 0, 1, vocab
	p.topK, p.topP, p.minP = 0, 0, 0
	if o.AllowedVocab > 0 && o.AllowedVocab < vocab {
		p.allowed = o.AllowedVocab
	}
	if !p.greedy {
		// A temperature below 1/MaxFloat32 (~2.9e-39, float32's
		// subnormals) has no float32 reciprocal: an invT of +Inf made the
		// largest logit's (z − max)·invT 0·Inf, NaN, and every draw of a
		// sound model failed as one whose logits are not finite.
		// MaxFloat32 is its limit, τ → 0+: the largest logits alone, greedy.
		p.invT = min(1/o.Temperature, math.MaxFloat32)
		if o.TopK > 0 && o.TopK < p.allowed {
			p.topK = o.TopK
		}
		if o.TopP > 0 && o.TopP < 1 {
			p.topP = float64(o.TopP)
		}
		if o.MinP > 0 {
			p.minP = float64(o.MinP)
		}
		if cap(p.cand.ids) < p.allowed {
			p.cand.ids = make([]int32, 0, p.allowed)
		}
		p.cand = candidates{ids: p.cand.ids[:0], e: p.w}
	}
}

// uniform returns a float64 in [0, 1) from one draw of r.
func uniform(r *rand.PCG) float64 { return float64(r.Uint64()>>11) * 0x1p-53 }

// uniform24 returns a float32 in [0, 1) from one draw of r: the top 24 bits
// of uniform's, for a draw on a device (compute.TokenDrawer), whose sums are
// float32.
func uniform24(r *rand.PCG) float32 { return float32(r.Uint64()>>40) * 0x1p-24 }

// untruncated reports whether p draws from the whole allowed vocabulary (no
// top-k, top-p or min-p), the draw a compute.TokenDrawer makes.
func (p *picker) untruncated() bool { return p.topK == 0 && p.topP == 0 && p.minP == 0 }

// pick returns the drawn id and its log-probability under softmax(z·invT)
// over the whole row (before masking and truncation). ok is false when the
// row is not finite. A greedy picker takes the first maximum and does not
// draw from r; a sampling picker draws exactly once.
func (p *picker) pick(z []float32, r *rand.PCG) (id int32, logp float32, ok bool) {
	A := p.allowed
	amax, best := z[0], 0
	for i, v := range z[:A] {
		if v > amax {
			amax, best = v, i
		}
	}
	zmax := amax
	for _, v := range z[A:] {
		zmax = max(zmax, v)
	}
	if math.IsInf(float64(zmax), 0) || math.IsNaN(float64(zmax)) || math.IsInf(float64(amax), -1) {
		return 0, 0, false
	}
	// log-sum-exp of the whole row at this temperature
	u, w := p.u, p.w
	for i, v := range z {
		u[i] = (v - zmax) * p.invT
	}
	kernels.ExpSlice(w, u, 0, len(u))
	var sum float64
	for _, x := range w {
		sum += float64(x)
	}
	if !(sum >= 1) || math.IsInf(sum, 0) { // the maximum alone gives 1; NaN fails too
		return 0, 0, false
	}
	logSum := math.Log(sum)
	if !p.greedy {
		// e: the allowed ids' probabilities up to one factor, the largest exactly 1
		e := w[:A]
		if amax < zmax {
			for i, v := range z[:A] {
				u[i] = (v - amax) * p.invT
			}
			kernels.ExpSlice(e, u, 0, A)
		}
		if p.topK == 0 && p.topP == 0 && p.minP == 0 {
			best = p.draw(e, r)
		} else {
			best = p.drawTruncated(e, r)
		}
	}
	return int32(best), float32(float64((z[best]-zmax)*p.invT) - logSum), true
}

// draw samples an index of e in proportion to e.
func (p *picker) draw(e []float32, r *rand.PCG) int {
	var total float64
	for _, x := range e {
		total += float64(x)
	}
	t := uniform(r) * total
	var cum float64
	last := 0
	for i, x := range e {
		if x == 0 {
			continue
		}
		cum += float64(x)
		last = i
		if t < cum {
			return i
		}
	}
	return last // rounding left t at the very top
}

// buckets is the number of probability classes of drawTruncated: class c
// holds the probabilities whose binary exponent is c below the maximum's
// (compute.ShortlistClasses, a device's classes).
const buckets = compute.ShortlistClasses

// topExp is the biased binary exponent of e's maximum, 1 (float32 bits
// 0x3f800000 >> 23).
const topExp = 127

// classOf is the class of a weight in (0, 1].
func classOf(x float32) int { return min(topExp-int(math.Float32bits(x)>>23), buckets-1) }

// classStats are the allowed weights' count and sum in each class.
type classStats struct {
	count [buckets]int
	mass  [buckets]float64
}

// drawTruncated applies top-k, then top-p on what top-k kept, then min-p,
// and samples from the rest.
func (p *picker) drawTruncated(e []float32, r *rand.PCG) int {
	n, kept := p.keep(e)
	return p.drawPrefix(kept, n, r)
}

// keep sorts the kept ids into p.cand.ids[:n] and returns n and their mass.
// To avoid sorting the whole vocabulary it first groups the weights by
// binary exponent, finds the smallest prefix of groups that must hold the
// kept set, and sorts only that.
func (p *picker) keep(e []float32) (int, float64) {
	var st classStats
	var total float64
	nz := 0
	for _, x := range e {
		if x == 0 {
			continue
		}
		c := classOf(x)
		st.count[c]++
		st.mass[c] += float64(x)
		total += float64(x)
		nz++
	}
	cut, _ := p.cut(&st, buckets-1, nz, total)
	p.collect(e, cut)
	n, kept := p.truncate(e, cut == buckets-1, p.holdsMinP(cut), total)
	if n == 0 {
		// the nucleus reaches past the groups collected (float rounding
		// between the two sums): take them all
		p.collect(e, buckets-1)
		n, kept = p.truncate(e, true, true, total)
	}
	return n, kept
}

// cut returns the last class of the smallest prefix of classes that must
// hold the kept set, by the counts and sums st of the classes up to known
// (those past it unknown), nz nonzero weights in all, total their sum; ok
// is false when it lies past known. With top-k on the prefix must hold all
// of the top k, whose mass top-p needs; otherwise the top-p and min-p
// classes bound it.
func (p *picker) cut(st *classStats, known, nz int, total float64) (cut int, ok bool) {
	cut = buckets - 1
	if p.topK > 0 && p.topK < nz {
		n := 0
		for c := 0; c <= known; c++ {
			if n += st.count[c]; n >= p.topK {
				return c, true
			}
		}
		return cut, known == buckets-1
	}
	if p.topP > 0 {
		m := 0.0
		for c := 0; c <= known; c++ {
			if m += st.mass[c]; m >= p.topP*total {
				cut = c
				break
			}
		}
	}
	if c, on := p.minPClass(); on {
		cut = min(cut, c)
	}
	return cut, cut <= known
}

// minPClass returns the class of min-p's threshold (times the maximum, 1):
// every id min-p keeps lies in a class up to it; on is false without min-p.
func (p *picker) minPClass() (c int, on bool) {
	th := float32(p.minP)
	if th <= 0 || th > 1 {
		return 0, false
	}
	return max(topExp-int(math.Float32bits(th)>>23), 0), true
}

// holdsMinP reports whether ids collected up to class cut hold every id
// min-p keeps.
func (p *picker) holdsMinP(cut int) bool {
	c, on := p.minPClass()
	return on && cut >= c
}

// collect sets p.cand.ids to the ids of e's nonzero weights in classes ≤ cut.
func (p *picker) collect(e []float32, cut int) {
	ids := p.cand.ids[:0]
	if cut == buckets-1 { // every nonzero weight
		for i, x := range e {
			if x != 0 {
				ids = append(ids, int32(i))
			}
		}
		p.cand.ids = ids
		return
	}
	for i, x := range e { // classOf(x) ≤ cut < buckets−1, without its min
		if x != 0 && topExp-int(math.Float32bits(x)>>23) <= cut {
			ids = append(ids, int32(i))
		}
	}
	p.cand.ids = ids
}

// truncate sorts the collected ids (p.cand.ids, weights e by id) and
// returns how many of them survive top-k, top-p (on the top-k mass) and
// min-p, with their mass; 0 when it cannot tell because top-p needs ids
// not collected and min-p does not end the kept set first. complete says
// that every nonzero weight was collected, minPHeld that every id min-p
// keeps was; total is the weights' sum.
func (p *picker) truncate(e []float32, complete, minPHeld bool, total float64) (int, float64) {
	ids := p.cand.ids
	sort.Sort(&p.cand)
	n := len(ids)
	mass := total
	if p.topK > 0 && p.topK <= n {
		n, mass, complete = p.topK, 0, true
		for _, id := range ids[:n] {
			mass += float64(e[id])
		}
	}
	nm := n // min-p: the prefix within minP of the maximum (which is 1)
	if p.minP > 0 {
		th := float32(p.minP)
		nm = 1
		for nm < n && e[ids[nm]] >= th {
			nm++
		}
	}
	np := n // top-p: the smallest prefix holding topP of the mass
	if p.topP > 0 {
		want, cum := p.topP*mass, 0.0
		np = 0
		for np < n && cum < want {
			cum += float64(e[ids[np]])
			np++
		}
		// Past the collected ids top-p's prefix would go on; it ends the
		// kept set only where min-p does not end it first.
		if cum < want && !complete && nm == n && !minPHeld {
			return 0, 0
		}
	}
	n = min(nm, np)
	kept := 0.0
	for _, id := range ids[:n] {
		kept += float64(e[id])
	}
	return n, kept
}

// pickShortlisted draws as pick does, from a device's shortlist of the row
// (compute.Shortlister): row's numbers, its candidates ids and their
// logits z. whole is true when the shortlist cannot settle the draw (more
// candidates than the device could return, or a kept set reaching past
// the classes it holds, within rounding of a class boundary); r is then
// untouched and the caller picks from the whole row. The weights are the
// host's own (the same exp as pick's, bit for bit), so the draw is pick's
// except for the total weight, which the device summed: top-p's threshold
// may differ within rounding.
func (p *picker) pickShortlisted(row *compute.ShortlistRow, ids []int32, z []float32, r *rand.PCG) (id int32, logp float32, ok, whole bool) {
	switch row.Count {
	case compute.ShortlistNotFinite:
		return 0, 0, false, false
	case compute.ShortlistOverflow:
		return 0, 0, false, true
	}
	// The device's class of a weight is within one of the host's (their
	// exps differ by a few ulps), so the host knows every id of the
	// classes below the device's bound; of all classes when the device
	// took every nonzero weight.
	known := row.Class - 1
	if row.Class == buckets-1 {
		known = buckets - 1
	}
	// By id, only the candidates' entries written and read: weights in
	// p.w, logits in p.u.
	e := p.w
	var st classStats
	for i, id := range ids {
		x := kernels.Exp32((z[i] - row.AMax) * p.invT)
		e[id], p.u[id] = x, z[i]
		if x == 0 {
			continue
		}
		if c := classOf(x); c <= known {
			st.count[c]++
			st.mass[c] += float64(x)
		}
	}
	total := float64(row.Total)
	cut, ok := p.cut(&st, known, row.NonZero, total)
	if !ok {
		return 0, 0, false, true
	}
	p.collectShortlisted(ids, cut)
	n, kept := p.truncate(e, cut == buckets-1 && known == buckets-1, p.holdsMinP(cut), total)
	if n == 0 {
		if known < buckets-1 {
			return 0, 0, false, true
		}
		p.collectShortlisted(ids, buckets-1)
		n, kept = p.truncate(e, true, true, total)
	}
	best := p.drawPrefix(kept, n, r)
	return int32(best), float32(float64((p.u[best]-row.ZMax)*p.invT) - float64(row.LogSum)), true, false
}

// collectShortlisted sets p.cand.ids to the candidates ids whose nonzero
// weight (in p.w) lies in a class ≤ cut.
func (p *picker) collectShortlisted(ids []int32, cut int) {
	out := p.cand.ids[:0]
	for _, id := range ids {
		if x := p.w[id]; x != 0 && classOf(x) <= cut {
			out = append(out, id)
		}
	}
	p.cand.ids = out
}

// drawPrefix samples among the first n sorted candidates, whose mass is kept.
func (p *picker) drawPrefix(kept float64, n int, r *rand.PCG) int {
	ids := p.cand.ids[:n]
	t := uniform(r) * kept
	var cum float64
	for _, id := range ids {
		cum += float64(p.w[id])
		if t < cum {
			return int(id)
		}
	}
	return int(ids[n-1])
}
