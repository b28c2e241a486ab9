package vulkan

import (
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/kernels"
)

type rowsPush struct{ n, d, mode uint32 }

func (d *Device) checkIDs(op string, ids []int32, limit int) {
	for i, id := range ids {
		if id < 0 || int(id) >= limit {
			panic(fmt.Sprintf("vulkan: %s: id %d at %d is outside 0..%d", op, id, i, limit-1))
		}
	}
}

// Embedding sets out[n] = table[ids[n]]; out [N, d], table [V, d].
func (d *Device) Embedding(out, table *Tensor, ids []int32) { d.GatherRows(out, table, ids) }

// EmbeddingBackward accumulates dTable[ids[n]] += dOut[n].
func (d *Device) EmbeddingBackward(dTable, dOut *Tensor, ids []int32) {
	d.ScatterRowsBackward(dTable, dOut, ids)
}

// GatherRows sets out[i] = x[rows[i]] for 2-D x.
func (d *Device) GatherRows(out, x *Tensor, rows []int32) {
	d.own(out, x)
	dim := x.lastDim()
	if out.n != len(rows)*dim {
		panic(fmt.Sprintf("vulkan: gather %d rows of %v into %v", len(rows), x, out))
	}
	d.checkIDs("gather", rows, x.rows())
	if len(rows) == 0 || dim == 0 {
		return
	}
	if !d.fits(x, x.n) {
		d.gatherWindows(out, x, rows)
		return
	}
	if ib, ok := d.uploadInts(rows); ok {
		d.gatherDispatch(out, x.span(0, x.n), x.dt, len(rows), dim, ib)
	}
}

// ScatterRowsBackward accumulates dx[rows[i]] += dout[i], repeated rows
// adding in order. The rows are grouped by id on the host (groupRows) and
// the kernel runs one invocation per (distinct id, column), each adding its
// id's rows in increasing order onto dx: the CPU backend's order, so the
// result matches it bit for bit, with no atomics.
func (d *Device) ScatterRowsBackward(dx, dout *Tensor, rows []int32) {
	d.own(dx, dout)
	dim := dx.lastDim()
	if dout.n != len(rows)*dim {
		panic(fmt.Sprintf("vulkan: scatter %v by %d rows into %v", dout, len(rows), dx))
	}
	d.checkIDs("scatter", rows, dx.rows())
	if len(rows) == 0 || dim == 0 {
		return
	}
	if !d.fits(dx, dx.n) {
		d.scatterWindows(dx, dout, rows)
		return
	}
	csr, unique := d.groupRows(rows)
	ib, ok := d.uploadInts(csr) // one upload: a second could flush the batch under the first
	if !ok {
		return
	}
	dispatch(d, kRows, &rowsPush{n: uint32(unique), d: uint32(dim), mode: 1}, linearGroups(ceilDiv(unique*dim, groupSize)), dx.bind(), dout.bind(), ib)
}

// groupRows groups row indices by their id, as rows.comp mode 1 reads
// them: for u distinct ids, u+1 offsets, the u ids in increasing order,
// then each id's rows in increasing order (offsets[k] to offsets[k+1]).
// The slice is the Device's scratch, valid until the next call.
func (d *Device) groupRows(ids []int32) (csr []int32, unique int) {
	n := len(ids)
	// id in the high half, row in the low: sorting orders by id, then row.
	keys := slices.Grow(d.groupKeys[:0], n)[:n]
	for r, id := range ids {
		keys[r] = uint64(uint32(id))<<32 | uint64(r)
	}
	slices.Sort(keys)
	d.groupKeys = keys
	for i, k := range keys {
		if i == 0 || k>>32 != keys[i-1]>>32 {
			unique++
		}
	}
	csr = slices.Grow(d.groupCSR[:0], 2*unique+1+n)[:2*unique+1+n]
	d.groupCSR = csr
	offsets, uniq, rows := csr[:unique+1], csr[unique+1:2*unique+1], csr[2*unique+1:]
	u := -1
	for i, k := range keys {
		if i == 0 || k>>32 != keys[i-1]>>32 {
			u++
			offsets[u], uniq[u] = int32(i), int32(k>>32)
		}
		rows[i] = int32(uint32(k))
	}
	offsets[unique] = int32(n)
	return csr, unique
}

// RoPETable holds the rotary cos and sin tables on the device, each
// [MaxPos, HeadDim/2], computed on the host exactly as the CPU backend does.
type RoPETable struct {
	MaxPos, HeadDim int
	Theta           float64
	Cos, Sin        *Tensor
}

// NewRoPETable precomputes cos and sin for positions 0..maxPos-1.
func (d *Device) NewRoPETable(maxPos, headDim int, theta float64) (*RoPETable, error) {
	cos, sin, err := ropeTables(maxPos, headDim, theta)
	if err != nil {
		return nil, err
	}
	half := headDim / 2
	rt := &RoPETable{MaxPos: maxPos, HeadDim: headDim, Theta: theta}
	if rt.Cos, err = d.New("rope.cos", maxPos, half); err != nil {
		return nil, err
	}
	if rt.Sin, err = d.New("rope.sin", maxPos, half); err != nil {
		d.Free(rt.Cos)
		return nil, err
	}
	if err := d.Write(rt.Cos, cos); err != nil {
		return nil, err
	}
	if err := d.Write(rt.Sin, sin); err != nil {
		return nil, err
	}
	return rt, nil
}

// ropeTables computes a RoPE table's cos and sin on the host, [maxPos,
// headDim/2] each, as the CPU backend does; the device tables are written
// from them.
func ropeTables(maxPos, headDim int, theta float64) (cos, sin []float32, err error) {
	if headDim%2 != 0 || headDim <= 0 || maxPos <= 0 {
		return nil, nil, fmt.Errorf("vulkan: RoPE table for %d positions of head size %d: need positive sizes and an even head size", maxPos, headDim)
	}
	half := headDim / 2
	cos, sin = make([]float32, maxPos*half), make([]float32, maxPos*half)
	kernels.RoPETables(cos, sin, maxPos, headDim, theta)
	return cos, sin, nil
}

type ropePush struct{ rows, heads, half, back uint32 }

func (d *Device) rope(out, x *Tensor, pos []int32, table *RoPETable, heads int, back uint32) {
	d.own(out, x, table.Cos, table.Sin)
	sameLen("rope", out, x)
	rows := len(pos)
	if x.n != rows*heads*table.HeadDim {
		panic(fmt.Sprintf("vulkan: rope of %v at %d positions, %d heads of %d", x, rows, heads, table.HeadDim))
	}
	d.checkIDs("rope position", pos, table.MaxPos)
	pb, ok := d.uploadInts(pos)
	if !ok {
		return
	}
	half := table.HeadDim / 2
	dispatch(d, kRoPE, &ropePush{rows: uint32(rows), heads: uint32(heads), half: uint32(half), back: back},
		linearGroups(ceilDiv(rows*heads*half, groupSize)), out.bind(), x.bind(), table.Cos.bind(), table.Sin.bind(), pb)
}

// RoPE rotates x [N, heads·hd] by position pos[n] (Hugging Face's
// rotate-half pairing); out may alias x.
func (d *Device) RoPE(out, x *Tensor, pos []int32, table *RoPETable, heads int) {
	d.rope(out, x, pos, table, heads, 0)
}

// RoPEBackward accumulates the transposed rotation of dout into dx.
func (d *Device) RoPEBackward(dx, dout *Tensor, pos []int32, table *RoPETable, heads int) {
	d.rope(dx, dout, pos, table, heads, 1)
}

// The Device's scratch slots, each a device buffer reused by the next op
// that needs it (its commands wait for the last ones that used it:
// hazard.go).
const (
	scratchIDs     = iota // Argmax's ids, on their way to the host
	scratchPartial        // reduce's partial sums; attention's scores
	scratchFlag           // reduce's finiteness flag
	scratchProbs          // attention backward's probabilities
	scratchGrads          // attention backward's score gradients
	scratchColSum         // column sums' partials (colSum)
	scratchSplitK         // split-K GEMMs' partial products
	scratchScales         // gemmcm's operand scales
	scratchNormed         // the unfused decode kernels' normed input (bindwindow.go)
	scratchRstd           // and its rstd
	scratchGate           // GatedLinear's unfused gate product
	scratchUp             // and its up product
	numScratch
)

// scratchMinBytes is the least a scratch slot holds once used, so that
// small requests (a flag, a few rows' ids) do not each make a buffer.
const scratchMinBytes = 4096

// scratch returns slot's device buffer, of at least bytes: results on
// their way to the host, or one op's intermediates; a smaller one is
// freed first (release), once the commands that use it are done.
func (d *Device) scratch(slot int, bytes uint64) (*buffer, error) {
	if b := d.scratchBufs[slot]; b != nil && b.size >= bytes {
		return b, nil
	}
	if old := d.scratchBufs[slot]; old != nil {
		if !d.release(old) {
			return nil, d.err
		}
		d.scratchBufs[slot] = nil
	}
	b, err := d.newBuffer(max(bytes, scratchMinBytes), memDeviceLocal, 0, "a result buffer")
	if err != nil {
		d.err = err
		return nil, err
	}
	d.scratchBufs[slot] = b
	return b, nil
}

type argmaxPush struct{ rows, v uint32 }

// Argmax writes the index of each row's largest value (the first on ties)
// into out. It waits for the batch.
func (d *Device) Argmax(out []int32, logits *Tensor) error {
	d.own(logits)
	rows := logits.rows()
	if len(out) != rows {
		panic(fmt.Sprintf("vulkan: argmax of %v into %d values", logits, len(out)))
	}
	if d.err != nil || rows == 0 {
		return d.err
	}
	b, err := d.scratch(scratchIDs, uint64(rows)*4)
	if err != nil {
		return err
	}
	dispatch(d, kArgmax, &argmaxPush{rows: uint32(rows), v: uint32(logits.lastDim())}, linearGroups(rows),
		binding{b: b, size: uint64(rows) * 4}, logits.bind())
	return d.readBytes(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(out))), rows*4), b)
}

type drawPush struct {
	rows, v, allowed uint32
	invT             float32
	greedy           uint32
}

// DrawTokens draws each row's next token of logits [rows, V] on the device
// (draw.comp; compute.TokenDrawer): only ids and logps come back. u[r] is
// row r's uniform draw in [0, 1) (unused when greedy); ids[r] is −1 for a
// row that is not finite. It waits for the batch.
func (d *Device) DrawTokens(ids []int32, logps []float32, logits *Tensor, u []float32, invT float32, allowed int, greedy bool) error {
	d.own(logits)
	rows, v := logits.rows(), logits.lastDim()
	if len(ids) != rows || len(logps) != rows || len(u) != rows || allowed <= 0 || allowed > v {
		panic(fmt.Sprintf("vulkan: draw from %v into %d ids and %d log-probs with %d uniforms, %d allowed", logits, len(ids), len(logps), len(u), allowed))
	}
	if d.err != nil || rows == 0 {
		return d.err
	}
	ub, ok := d.upload(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(u))), rows*4))
	if !ok {
		return d.err
	}
	b, err := d.scratch(scratchIDs, uint64(rows)*8)
	if err != nil {
		return err
	}
	p := drawPush{rows: uint32(rows), v: uint32(v), allowed: uint32(allowed), invT: invT}
	if greedy {
		p.greedy = 1
	}
	dispatch(d, kDraw, &p, linearGroups(rows), binding{b: b, size: uint64(rows) * 8}, logits.bind(), ub)
	if cap(d.drawn) < 2*rows {
		d.drawn = make([]uint32, 2*rows)
	}
	res := d.drawn[:2*rows]
	if err := d.readBytes(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(res))), rows*8), b); err != nil {
		return err
	}
	for r := range rows {
		ids[r] = int32(res[2*r]) // 0xffffffff: −1
		logps[r] = math.Float32frombits(res[2*r+1])
	}
	return nil
}

type shortlistPush struct {
	rows, v, allowed uint32
	invT             float32
	topK             uint32
	topP, minP       float32
	cap              uint32
}

// shortlistHead is the words before each row's candidates in shortlist.comp's output.
const shortlistHead = 8

// Shortlist narrows each row of logits [rows, V] to the candidates of a
// truncated draw on the device (shortlist.comp; compute.Shortlister): only
// they and a few numbers per row come back, into s. It waits for the batch.
func (d *Device) Shortlist(s *compute.Shortlist, logits *Tensor, o compute.ShortlistOptions) error {
	d.own(logits)
	rows, v := logits.rows(), logits.lastDim()
	if o.Allowed <= 0 || o.Allowed > v || o.Capacity <= 0 || o.TopK < 0 {
		panic(fmt.Sprintf("vulkan: shortlist %v with %d allowed, top-k %d, capacity %d", logits, o.Allowed, o.TopK, o.Capacity))
	}
	if d.err != nil || rows == 0 {
		return d.err
	}
	stride := shortlistHead + 2*o.Capacity
	bytes := uint64(rows) * uint64(stride) * 4
	b, err := d.scratch(scratchIDs, bytes)
	if err != nil {
		return err
	}
	p := shortlistPush{rows: uint32(rows), v: uint32(v), allowed: uint32(o.Allowed), invT: o.InvTemp,
		topK: uint32(o.TopK), topP: o.TopP, minP: o.MinP, cap: uint32(o.Capacity)}
	dispatch(d, kShortlist, &p, linearGroups(rows), binding{b: b, size: bytes}, logits.bind())
	if cap(d.listed) < rows*stride {
		d.listed = make([]uint32, rows*stride)
	}
	res := d.listed[:rows*stride]
	if err := d.readBytes(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(res))), bytes), b); err != nil {
		return err
	}
	if cap(s.Rows) < rows {
		s.Rows = make([]compute.ShortlistRow, rows)
	}
	if n := rows * o.Capacity; cap(s.IDs) < n {
		s.IDs, s.Z = make([]int32, n), make([]float32, n)
	}
	s.Rows, s.IDs, s.Z, s.Capacity = s.Rows[:rows], s.IDs[:rows*o.Capacity], s.Z[:rows*o.Capacity], o.Capacity
	f := math.Float32frombits
	for r := range rows {
		h := res[r*stride : r*stride+stride]
		row := compute.ShortlistRow{Count: int(int32(h[0])), Class: int(min(h[1], compute.ShortlistClasses-1)), NonZero: int(h[2]),
			ZMax: f(h[3]), AMax: f(h[4]), LogSum: f(h[5]), Total: f(h[6])}
		if row.Count > o.Capacity || row.Count < compute.ShortlistOverflow {
			// Not the kernel's answer (it caps both): read the row whole.
			row.Count = compute.ShortlistOverflow
		}
		s.Rows[r] = row
		for i := range max(row.Count, 0) {
			s.IDs[r*o.Capacity+i] = int32(h[shortlistHead+2*i])
			s.Z[r*o.Capacity+i] = f(h[shortlistHead+2*i+1])
		}
	}
	return nil
}

// SumSquaresEach sets sums[i] = Σ ts[i]², each exactly as SumSquares
// computes it (the same kernel, its partials added in order in float64),
// with one wait for the batch: every tensor's partials go into one scratch
// buffer, each at an offset the device may bind, and come back in one read.
func (d *Device) SumSquaresEach(ts []*Tensor, sums []float64) error {
	d.own(ts...)
	if len(sums) != len(ts) {
		panic(fmt.Sprintf("vulkan: sums of squares of %d tensors into %d values", len(ts), len(sums)))
	}
	clear(sums)
	if d.err != nil {
		return d.err
	}
	align := max(d.info.MinStorageAlignment, 4)
	offs := make([]uint64, len(ts)+1)
	for i, t := range ts {
		offs[i+1] = (offs[i] + uint64(ceilDiv(t.n, 4*groupSize))*4 + align - 1) / align * align
	}
	total := offs[len(ts)]
	if total == 0 {
		return nil
	}
	part, err := d.scratch(scratchPartial, total)
	if err != nil {
		return err
	}
	flag, err := d.scratch(scratchFlag, 4) // finiteness shows in the sums themselves
	if err != nil {
		return err
	}
	for i, t := range ts {
		// A window's partials continue the tensor's: its first element is
		// whole partials in (windowQuantum), so they add in the same order.
		d.eachWindow(t, func(e0, n int) {
			groups := ceilDiv(n, 4*groupSize)
			if groups == 0 {
				return
			}
			dispatch(d, kReduce, &struct{ n uint32 }{uint32(n)}, linearGroups(groups),
				binding{b: part, off: offs[i] + uint64(e0/(4*groupSize))*4, size: uint64(groups) * 4}, binding{b: flag, size: 4}, t.span(e0, n))
		})
	}
	if cap(d.sumParts) < int(total/4) {
		d.sumParts = make([]float32, total/4)
	}
	parts := d.sumParts[:total/4]
	if err := d.readBytes(unsafe.Slice((*byte)(unsafe.Pointer(&parts[0])), total), part); err != nil {
		return err
	}
	for i, t := range ts {
		var s float64
		for _, v := range parts[offs[i]/4 : offs[i]/4+uint64(ceilDiv(t.n, 4*groupSize))] {
			s += float64(v)
		}
		sums[i] = s
	}
	return nil
}

// SumSquares returns Σ t² (SumSquaresEach of one tensor). It waits for the
// batch.
func (d *Device) SumSquares(t *Tensor) (float64, error) {
	var s [1]float64
	err := d.SumSquaresEach([]*Tensor{t}, s[:])
	return s[0], err
}

type distPush struct {
	rows, v uint32
	invTemp float32
	mode    uint32
}

// KL sets kl[n] = KL(softmax(p[n]·invTemp) ‖ softmax(q[n]·invTemp)).
func (d *Device) KL(kl, p, q *Tensor, invTemp float32) {
	d.own(kl, p, q)
	sameLen("kl", p, q)
	rows := p.rows()
	if kl.n != rows {
		panic(fmt.Sprintf("vulkan: kl of %v and %v into %v", p, q, kl))
	}
	dispatch(d, kDist, &distPush{rows: uint32(rows), v: uint32(p.lastDim()), invTemp: invTemp, mode: 1}, linearGroups(rows),
		kl.bind(), p.bind(), q.bind())
}

// Entropy sets ent[n] to the entropy of softmax(logits[n]·invTemp).
func (d *Device) Entropy(ent, logits *Tensor, invTemp float32) {
	d.own(ent, logits)
	rows := logits.rows()
	if ent.n != rows {
		panic(fmt.Sprintf("vulkan: entropy of %v into %v", logits, ent))
	}
	dispatch(d, kDist, &distPush{rows: uint32(rows), v: uint32(logits.lastDim()), invTemp: invTemp}, linearGroups(rows),
		ent.bind(), logits.bind(), logits.bind())
}
