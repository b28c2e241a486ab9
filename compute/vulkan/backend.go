package vulkan

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/half"
)

// Backend is a compute.Backend on one Device: every compute.Tensor it makes
// stores a device Tensor, and its ops record into the Device's batch. The
// host meets the device only where compute.Backend returns host values
// (Read, Argmax, SumSquares, draws and shortlists).
//
// compute.Backend's methods return no errors: a failing Vulkan call (lost
// device, out of memory) makes the Device's error sticky, later ops record
// nothing, tensors made after it are placeholders, and Err reports it. The
// caller checks Err (compute.Tape.Err does) before trusting a result.
//
// Device memory is released when the garbage collector finds a tensor
// unreachable (the CPU backend's tensors go the same way); allocation runs
// the collector after every gcEvery bytes, and again when the device is
// out of memory, before it gives up.
type Backend struct {
	d *Device
	// dead receives the buffers of collected tensors from finalizers (other
	// goroutines); the Backend's goroutine frees them. It is a list through
	// buffer.nextDead, so a finalizer allocates nothing: a slice grew from
	// nil after every reap, and those appends, made while other code counted
	// its allocations, showed in the process-wide count.
	mu   sync.Mutex
	dead *buffer
	// sinceGC counts bytes allocated since the last forced collection.
	sinceGC, gcEvery uint64
	// scratch holds scratchOf's buffers by name.
	scratch map[string]*Tensor
	// headRows and headTargets are the fused head's host scratch: the rows
	// with a target, and one chunk's targets.
	headRows, headTargets []int32
}

// NewBackend returns a compute.Backend over d. d must not be used directly
// afterwards except through the Backend's Device.
func NewBackend(d *Device) *Backend {
	every := max(uint64(64<<20), min(uint64(1<<30), d.info.DeviceLocalBytes/8))
	return &Backend{d: d, gcEvery: every, scratch: map[string]*Tensor{}}
}

// Device returns the device the Backend computes on.
func (b *Backend) Device() *Device { return b.d }

// Name implements compute.Backend.
func (b *Backend) Name() string { return b.d.Name() }

// Err returns the device's first failure, or nil.
func (b *Backend) Err() error { return b.d.err }

// SetMemoryLimit caps the bytes of device memory the device may hold, as
// on a device that has no more (tests act out one too small for a model
// with it); 0 means the device's own limit. It counts every device-local
// buffer (Device.MemoryUse's held): the Backend's tensors, its scratch
// (the fused head's chunk of logits), the Device's scratch slots. Past
// it, the allocation fails as on a device out of memory, and Err says so.
func (b *Backend) SetMemoryLimit(bytes uint64) { b.d.memLimit = bytes }

// Close frees every tensor and the device. The Backend must not be used
// afterwards.
func (b *Backend) Close() { b.d.Close() }

// bury puts buf on the dead list; finalizers call it. Each buffer is
// buried at most once (one finalizer, of the one tensor that owns it), so
// the list never meets itself.
func (b *Backend) bury(buf *buffer) {
	b.mu.Lock()
	buf.nextDead = b.dead
	b.dead = buf
	b.mu.Unlock()
}

func (b *Backend) reap() {
	b.mu.Lock()
	dead := b.dead
	b.dead = nil
	b.mu.Unlock()
	// No finalizer reaches these buffers any more: they are this
	// goroutine's alone.
	for dead != nil {
		buf := dead
		dead, buf.nextDead = buf.nextDead, nil
		b.d.forget(buf)
	}
}

// New implements compute.Backend. On failure it records the error (Err)
// and returns a placeholder that ops skip.
func (b *Backend) New(name string, dims ...int) *compute.Tensor {
	return b.newTensor(name, compute.F32, dims)
}

// New16 implements compute.Backend: the weight is held as 16-bit storage
// on the device (half a float32 tensor's memory) and widened by the kernels
// that read it: Linear's and the LM head's GEMM and Embedding. Results
// equal the CPU's, which widens the same bits in its GEMM.
func (b *Backend) New16(name string, dt compute.DType, dims ...int) *compute.Tensor {
	if !dt.Is16() {
		panic(fmt.Sprintf("vulkan: New16 %s with %v: want BF16 or F16", name, dt))
	}
	return b.newTensor(name, dt, dims)
}

func (b *Backend) newTensor(name string, dt compute.DType, dims []int) *compute.Tensor {
	d := b.d
	b.reap()
	n := 1
	for _, v := range dims {
		n *= v
	}
	bytes := bytesOf(dt, n)
	b.sinceGC += bytes
	if b.sinceGC > b.gcEvery {
		b.sinceGC = 0
		runtime.GC()
		b.reap()
	}
	var t *Tensor
	var err error
	if d.err == nil {
		t, err = b.alloc(name, dt, dims)
		if err != nil && isOOM(err) {
			runtime.GC()
			runtime.GC() // finalizers queued by the first run have run
			b.reap()
			if ferr := d.Flush(); ferr == nil { // free what the open batch still held
				t, err = b.alloc(name, dt, dims)
			}
		}
		if err != nil && d.err == nil {
			d.err = err
		}
	}
	if t == nil {
		// A placeholder: the device has failed, so no op will dispatch.
		t = &Tensor{Name: name, dims: append([]int(nil), dims...), n: n, dev: d, b: d.dummy, dt: dt}
		if d.dummy == nil {
			t.b = &buffer{}
		}
	}
	ct, cerr := compute.NewTensor(name, t, dims...)
	if cerr != nil {
		panic(fmt.Sprintf("vulkan: %v", cerr))
	}
	return ct
}

func isOOM(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Kind == ErrOutOfMemory
}

func (b *Backend) alloc(name string, dt compute.DType, dims []int) (*Tensor, error) {
	d := b.d
	t, err := d.newTensor(name, dt, dims)
	if err != nil {
		return nil, err
	}
	buf := t.b
	buf.backend = true
	d.backendBytes += buf.size
	runtime.SetFinalizer(t, func(*Tensor) { b.bury(buf) })
	return t, nil
}

// view is the device tensor of c under c's shape (a Tape may reshape a
// tensor or reuse a larger one under a smaller shape).
func view(c *compute.Tensor) *Tensor {
	if c == nil {
		return nil
	}
	s, ok := c.Storage().(*Tensor)
	if !ok {
		panic(fmt.Sprintf("vulkan: %v is not a device tensor", c))
	}
	shape := c.Shape()
	if len(shape) == len(s.dims) && c.Len() == s.n {
		same := true
		for i := range shape {
			same = same && shape[i] == s.dims[i]
		}
		if same {
			return s
		}
	}
	return &Tensor{Name: c.Name, dims: append([]int(nil), shape...), n: c.Len(), b: s.b, dev: s.dev, frozen: s.frozen, dt: s.dt}
}

// part is a view of the first elements of t under dims.
func part(t *Tensor, dims ...int) *Tensor {
	n := 1
	for _, v := range dims {
		n *= v
	}
	if n > t.n {
		panic(fmt.Sprintf("vulkan: view %v as %v", t, dims))
	}
	return &Tensor{Name: t.Name, dims: dims, n: n, b: t.b, dev: t.dev, dt: t.dt}
}

// scratchOf returns a device buffer of at least n elements kept across calls
// under name, for values made and used within one op.
func (b *Backend) scratchOf(name string, n int) *Tensor {
	s := b.scratch[name]
	if s != nil && s.n >= n && s.b != nil && s.b != b.d.dummy {
		return s
	}
	if s != nil {
		delete(b.scratch, name)
		if !b.d.freeScratch(s) { // the device failed: record nothing more
			return &Tensor{Name: name, dims: []int{n}, n: n, dev: b.d, b: b.d.dummy}
		}
	}
	t, err := b.d.New(name, max(n, 1))
	if err != nil {
		if b.d.err == nil {
			b.d.err = err
		}
		return &Tensor{Name: name, dims: []int{n}, n: n, dev: b.d, b: b.d.dummy}
	}
	b.scratch[name] = t
	return t
}

func (b *Backend) Write(dst *compute.Tensor, src []float32) { _ = b.d.Write(view(dst), src) }
func (b *Backend) Read(dst []float32, src *compute.Tensor)  { _ = b.d.Read(dst, view(src)) }
func (b *Backend) Zero(t *compute.Tensor)                   { b.d.Zero(view(t)) }

// Write16 implements compute.Backend: the bits go to the device as they are.
func (b *Backend) Write16(dst *compute.Tensor, src []uint16) { _ = b.d.Write16(view(dst), src) }

// HeldBytes is the device memory the Backend's live tensors hold.
func (b *Backend) HeldBytes() uint64 { b.reap(); return b.d.backendBytes }

// MemoryUse implements compute.MemoryMeter: the device-local memory held
// now, tensors collected since the last look given back first, and the
// most held since the last call.
func (b *Backend) MemoryUse() (held, peak uint64) {
	b.reap()
	return b.d.MemoryUse()
}

func kindOf(dt compute.DType) half.Kind {
	if dt == compute.BF16 {
		return half.BF16
	}
	return half.F16
}

// Copy implements compute.Backend: on the device, converting between
// types there (Device.Copy) as the CPU does.
func (b *Backend) Copy(dst, src *compute.Tensor) { b.d.Copy(view(dst), view(src)) }

func (b *Backend) Embedding(out, table *compute.Tensor, ids []int32) {
	b.d.Embedding(view(out), view(table), ids)
}
func (b *Backend) EmbeddingBackward(dTable, dOut *compute.Tensor, ids []int32) {
	b.d.EmbeddingBackward(view(dTable), view(dOut), ids)
}
func (b *Backend) RMSNorm(y, rstd, x, w *compute.Tensor, eps float32) {
	b.d.RMSNorm(view(y), view(rstd), view(x), view(w), eps)
}
func (b *Backend) RMSNormBackward(dx, dw, dy, x, w, rstd *compute.Tensor) {
	b.d.RMSNormBackward(view(dx), view(dw), view(dy), view(x), view(w), view(rstd))
}
func (b *Backend) Linear(y, x, w, bias *compute.Tensor) {
	b.d.Linear(view(y), view(x), view(w), view(bias))
}
func (b *Backend) CanLinear3(rows int, dt compute.DType) bool { return b.d.CanLinear3(rows, dt) }
func (b *Backend) Linear3(y [3]*compute.Tensor, x *compute.Tensor, norm compute.PreNorm, w, bias [3]*compute.Tensor) {
	b.d.Linear3([3]*Tensor{view(y[0]), view(y[1]), view(y[2])}, view(x), view(norm.W), norm.Eps,
		[3]*Tensor{view(w[0]), view(w[1]), view(w[2])}, [3]*Tensor{view(bias[0]), view(bias[1]), view(bias[2])})
}
func (b *Backend) CanGate(rows int, dt compute.DType) bool { return b.d.CanGate(rows, dt) }
func (b *Backend) GatedLinear(h, x *compute.Tensor, norm compute.PreNorm, gate, up *compute.Tensor) {
	b.d.GatedLinear(view(h), view(x), view(norm.W), norm.Eps, view(gate), view(up))
}
func (b *Backend) LinearAdd(y, x, w *compute.Tensor) {
	b.d.LinearAdd(view(y), view(x), view(w))
}
func (b *Backend) LinearBackward(dx, dw, dbias, dy, x, w *compute.Tensor) {
	b.d.LinearBackward(view(dx), view(dw), view(dbias), view(dy), view(x), view(w))
}
func (b *Backend) MatMul(c, a, m *compute.Tensor, transA, transB bool, alpha, beta float32) {
	b.d.MatMul(view(c), view(a), view(m), transA, transB, alpha, beta)
}

func ropeOf(t *compute.RoPETable) *RoPETable {
	return &RoPETable{MaxPos: t.MaxPos, HeadDim: t.HeadDim, Theta: t.Theta, Cos: view(t.Cos), Sin: view(t.Sin)}
}

func (b *Backend) RoPE(out, x *compute.Tensor, pos []int32, table *compute.RoPETable, heads int) {
	b.d.RoPE(view(out), view(x), pos, ropeOf(table), heads)
}
func (b *Backend) RoPEBackward(dx, dout *compute.Tensor, pos []int32, table *compute.RoPETable, heads int) {
	b.d.RoPEBackward(view(dx), view(dout), pos, ropeOf(table), heads)
}
func (b *Backend) Attention(out, lse, q, k, v *compute.Tensor, a compute.AttnDims, kStart []int32) {
	b.d.Attention(view(out), view(lse), view(q), view(k), view(v), a, kStart)
}

// AttentionBackward implements compute.Backend; the tiled kernels take
// D = dout·out from out, the row kernels recompute it.
func (b *Backend) AttentionBackward(dq, dk, dv, dout, out, lse, q, k, v *compute.Tensor, a compute.AttnDims, kStart []int32) {
	b.d.AttentionBackward(view(dq), view(dk), view(dv), view(dout), view(out), view(q), view(k), view(v), view(lse), a, kStart)
}
func (b *Backend) CacheWrite(kCache, vCache, k, v *compute.Tensor, a compute.AttnDims, maxLen, past int) {
	b.d.CacheWrite(view(kCache), view(vCache), view(k), view(v), a, maxLen, past)
}
func (b *Backend) CanRotaryCacheWrite() bool { return b.d.CanRotaryCacheWrite() }
func (b *Backend) RotaryCacheWrite(qr, kCache, vCache, q, k, v *compute.Tensor, pos []int32, table *compute.RoPETable, a compute.AttnDims, maxLen, past int) {
	b.d.RotaryCacheWrite(view(qr), view(kCache), view(vCache), view(q), view(k), view(v), pos, ropeOf(table), a, maxLen, past)
}
func (b *Backend) AttentionDecode(out, q, kCache, vCache *compute.Tensor, a compute.AttnDims, maxLen, past int, kStart []int32) {
	b.d.AttentionDecode(view(out), view(q), view(kCache), view(vCache), a, maxLen, past, kStart)
}
func (b *Backend) SwiGLU(h, gate, up *compute.Tensor) { b.d.SwiGLU(view(h), view(gate), view(up)) }
func (b *Backend) SwiGLUBackward(dGate, dUp, dh, gate, up *compute.Tensor) {
	b.d.SwiGLUBackward(view(dGate), view(dUp), view(dh), view(gate), view(up))
}
func (b *Backend) Add(out, a, c *compute.Tensor)       { b.d.Add(view(out), view(a), view(c)) }
func (b *Backend) Accumulate(dst, src *compute.Tensor) { b.d.Accumulate(view(dst), view(src)) }
func (b *Backend) GatherRows(out, x *compute.Tensor, rows []int32) {
	b.d.GatherRows(view(out), view(x), rows)
}
func (b *Backend) ScatterRowsBackward(dx, dout *compute.Tensor, rows []int32) {
	b.d.ScatterRowsBackward(view(dx), view(dout), rows)
}
func (b *Backend) TokenLogProbs(lp, lse, logits *compute.Tensor, targets []int32, invTemp float32) {
	b.d.TokenLogProbs(view(lp), view(lse), view(logits), targets, invTemp)
}
func (b *Backend) TokenLogProbsBackward(dlogits, glp, logits, lse *compute.Tensor, targets []int32, invTemp float32) {
	b.d.TokenLogProbsBackward(view(dlogits), view(glp), view(logits), view(lse), targets, invTemp)
}
func (b *Backend) KL(kl, p, q *compute.Tensor, invTemp float32) {
	b.d.KL(view(kl), view(p), view(q), invTemp)
}
func (b *Backend) Entropy(ent, logits *compute.Tensor, invTemp float32) {
	b.d.Entropy(view(ent), view(logits), invTemp)
}

// Argmax implements compute.Backend; it waits for the batch.
func (b *Backend) Argmax(out []int32, logits *compute.Tensor) { _ = b.d.Argmax(out, view(logits)) }

// DrawTokens implements compute.TokenDrawer; it waits for the batch.
func (b *Backend) DrawTokens(ids []int32, logps []float32, logits *compute.Tensor, u []float32, o compute.DrawOptions) error {
	return b.d.DrawTokens(ids, logps, view(logits), u, o.InvTemp, o.Allowed, o.Greedy)
}

// Shortlist implements compute.Shortlister; it waits for the batch.
func (b *Backend) Shortlist(s *compute.Shortlist, logits *compute.Tensor, o compute.ShortlistOptions) error {
	return b.d.Shortlist(s, view(logits), o)
}

func (b *Backend) AdamW(p, g, m, v *compute.Tensor, s compute.AdamWStep) {
	b.d.AdamW(view(p), view(g), view(m), view(v), s)
}

// SumSquares implements compute.Backend; it waits for the batch.
func (b *Backend) SumSquares(t *compute.Tensor) float64 {
	s, _ := b.d.SumSquares(view(t))
	return s
}
func (b *Backend) Scale(t *compute.Tensor, s float32) { b.d.Scale(view(t), s) }

// Mix implements compute.Backend: on the device, in float32 and rounded
// into a 16-bit dst where either side is 16-bit (Device.Mix), as the CPU
// does.
func (b *Backend) Mix(dst, src *compute.Tensor, alpha float32) {
	b.d.Mix(view(dst), view(src), alpha)
}

// SumSquaresEach implements compute.Backend; it waits for the batch once.
func (b *Backend) SumSquaresEach(ts []*compute.Tensor, sums []float64) {
	views := make([]*Tensor, len(ts))
	for i, t := range ts {
		views[i] = view(t)
	}
	_ = b.d.SumSquaresEach(views, sums)
}

func storages(ws []*compute.Tensor) []*Tensor {
	out := make([]*Tensor, len(ws))
	for i, w := range ws {
		s, ok := w.Storage().(*Tensor)
		if !ok {
			panic(fmt.Sprintf("vulkan: %v is not a device tensor", w))
		}
		out[i] = s
	}
	return out
}

// FreezeWeights implements compute.Backend: device weights already sit in
// the layout the kernels read, so it only guards them against writes.
func (b *Backend) FreezeWeights(ws []*compute.Tensor) { b.d.FreezeWeights(storages(ws)) }

// ThawWeights implements compute.Backend.
func (b *Backend) ThawWeights(ws []*compute.Tensor) { b.d.ThawWeights(storages(ws)) }

// NewRoPETable implements compute.Backend: the tables are computed on the
// host exactly as the CPU backend does and written into the Backend's
// tensors straight away: no second pair on the device to copy them from,
// which would hold twice their memory while they are made.
func (b *Backend) NewRoPETable(maxPos, headDim int, theta float64) *compute.RoPETable {
	half := headDim / 2
	cos, sin := b.New("rope.cos", maxPos, half), b.New("rope.sin", maxPos, half)
	if b.d.err == nil {
		hc, hs, err := ropeTables(maxPos, headDim, theta)
		if err != nil {
			b.d.err = err
		} else {
			b.Write(cos, hc)
			b.Write(sin, hs)
		}
	}
	return &compute.RoPETable{MaxPos: maxPos, HeadDim: headDim, Theta: theta, Cos: cos, Sin: sin}
}

var (
	_ compute.Backend       = (*Backend)(nil)
	_ compute.TokenDrawer   = (*Backend)(nil)
	_ compute.Shortlister   = (*Backend)(nil)
	_ compute.GatedLinearer = (*Backend)(nil)
	_ compute.Linear3er     = (*Backend)(nil)
	_ compute.MemoryMeter   = (*Backend)(nil)
)
