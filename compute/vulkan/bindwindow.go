package vulkan

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/rlt-workbench/rlt/compute"
)

// Windows. A kernel's operand is one storage buffer binding, and a device
// binds at most maxStorageBufferRange bytes at once (lavapipe: 128 MiB;
// Qwen2.5-0.5B's embedding is 519 MiB in float32). A tensor is one
// allocation of up to maxMemoryAllocationSize bytes, and the ops that meet
// tensors that large bind them a window at a time:
//   - products (gemm) split along M, N or K, whichever shortens the operand
//     that does not fit, each part binding the windows of its operands (a
//     part of K after the first adds onto C with beta 1);
//   - elementwise ops, SwiGLU, AdamW, conversions and sums of squares take
//     the same window of each operand in turn (whole groups of windowQuantum
//     elements, so a sum of squares adds the same partials in the same
//     order as in one piece, bit for bit);
//   - row gathers and scatters (Embedding and its backward) visit the
//     table's rows a window at a time: a gather's ids outside the window
//     are -1 and skipped, a scatter takes the ids inside it;
//   - decoding's fused kernels (Linear3, GatedLinear), given a weight past
//     the window, run unfused: the norm, then windowed products (and
//     SwiGLU).
//
// Any other kernel given an operand past the range fails the device with
// ErrTooLarge naming the kernel (dispatch), never a driver's undefined
// behaviour. RLT_VULKAN_MAX_BINDING lowers the range, so that tests reach
// every window at small shapes.

// windowQuantum is the least granularity of elementwise windows, in
// elements: four reduce.comp partials (4·groupSize elements each), so a
// window's partials start on 16 bytes (windowLen).
const windowQuantum = 4 * 4 * groupSize

// maintenance3Properties is VkPhysicalDeviceMaintenance3Properties.
type maintenance3Properties struct {
	sType                   uint32
	pNext                   unsafe.Pointer
	maxPerSetDescriptors    uint32
	maxMemoryAllocationSize uint64
}

const stMaintenance3Properties = 1000168000

// maxAllocation is pd's maxMemoryAllocationSize (Vulkan 1.1), or 1 GiB,
// the least any Vulkan 1.1 device offers, where the loader cannot say.
func (d *Device) maxAllocation(pd vkPhysicalDevice) uint64 {
	props2 := d.vk.getInstanceProcAddr(d.instance, cString("vkGetPhysicalDeviceProperties2"))
	if props2 == 0 {
		return 1 << 30
	}
	m3 := &maintenance3Properties{sType: stMaintenance3Properties}
	p2 := &physicalDeviceProperties2{sType: stPhysicalDeviceProperties2, pNext: unsafe.Pointer(m3)}
	purego.SyscallN(props2, uintptr(pd), uintptr(unsafe.Pointer(p2)))
	if m3.maxMemoryAllocationSize == 0 {
		return 1 << 30
	}
	return m3.maxMemoryAllocationSize
}

// span binds elements [e0, e0+n) of t whatever its type; callers start
// windows on whole quanta (windowLen) or lines (lineStep), so e0 of a
// 16-bit tensor is even and every offset aligned.
func (t *Tensor) span(e0, n int) binding {
	if t.dt.Is16() {
		return binding{b: t.b, off: uint64(e0) * 2, size: bytesOf(t.dt, n)}
	}
	return binding{b: t.b, off: uint64(e0) * 4, size: uint64(max(n, 1)) * 4}
}

// fits reports whether n elements of t bind at once.
func (d *Device) fits(t *Tensor, n int) bool { return bytesOf(t.dt, n) <= d.window }

// windowLen is the elements of an elementwise window: the most whole
// quanta a float32 operand binds. A quantum's reduce partials also span a
// multiple of the device's offset alignment (at most 256 bytes).
func (d *Device) windowLen() int {
	q := max(windowQuantum, 4*groupSize*int(d.info.MinStorageAlignment)/4)
	return max(1, int(d.window/4)/q) * q
}

// lineStep is the granularity of a product's or a table's window in lines:
// 8, or more where the device aligns offsets to more than 16 bytes, so
// that a window of float32 or 16-bit lines starts on an aligned offset
// whatever the line's length.
func (d *Device) lineStep() int { return max(8, int(d.info.MinStorageAlignment)/2) }

// eachWindow calls fn on [e0, e0+n) windows covering n elements: one call
// over all of them when t binds whole.
func (d *Device) eachWindow(t *Tensor, fn func(e0, n int)) {
	if d.fits(t, t.n) {
		fn(0, t.n)
		return
	}
	w := d.windowLen()
	for e0 := 0; e0 < t.n; e0 += w {
		fn(e0, min(w, t.n-e0))
	}
}

// tableRows is how many rows of a [rows, dim] table one window binds: all
// of them when the table binds whole, else a multiple of lineStep.
func (d *Device) tableRows(t *Tensor) int {
	rows := t.rows()
	if d.fits(t, t.n) || t.lastDim() == 0 {
		return rows
	}
	g := d.lineStep()
	return max(g, int(d.window/4)/t.lastDim()/g*g)
}

// tooLarge fails the device for an operand no window of the op's makes
// fit: dispatch calls it before recording.
func (d *Device) tooLarge(k kernelID, i int, op binding) {
	if d.err == nil {
		d.err = &Error{Kind: ErrTooLarge, Device: d.info.Name, Op: "run kernel " + kernelSpecs[k].name,
			Err: fmt.Errorf("operand %d spans %s, past the %s the device binds at once, and this op does not split it", i, sizeString(op.size), sizeString(d.info.MaxStorageBufferRange))}
	}
}

// gemmArgs is a product on operands given as tensors and the element
// where the product's origin lies in each: c, a, b (possibly a 16-bit
// weight) and bias, under p's sizes, strides and flags.
type gemmArgs struct {
	c, a, b, bias     *Tensor
	co, ao, bo, biasO int
	p                 gemmPush
}

// extents are the elements each operand spans from its origin.
func (g *gemmArgs) extents() (c, a, b int) {
	p := g.p
	m, n, k := int(p.m), int(p.n), int(p.k)
	c = (m-1)*int(p.ldc) + n
	if p.flags&gemmTransA != 0 {
		a = (k-1)*int(p.lda) + m
	} else {
		a = (m-1)*int(p.lda) + k
	}
	if p.flags&gemmTransB != 0 {
		b = (n-1)*int(p.ldb) + k
	} else {
		b = (k-1)*int(p.ldb) + n
	}
	return c, a, b
}

// gemmWindowed records g, split while an operand spans more than the
// device binds; gemmParts records each part.
func (d *Device) gemmWindowed(g gemmArgs) {
	ce, ae, be := g.extents()
	cOver, aOver, bOver := !d.fits(g.c, ce), !d.fits(g.a, ae), !d.fits(g.b, be)
	if !cOver && !aOver && !bOver { // every product but the largest: bound whole
		d.gemmParts(g, ce, ae, be)
		return
	}
	transA, transB := g.p.flags&gemmTransA != 0, g.p.flags&gemmTransB != 0
	aDim, bDim := byte('m'), byte('k')
	if transA {
		aDim = 'k'
	}
	if transB {
		bDim = 'n'
	}
	// Each operand past the window shortens along its outer dimension
	// (the one its stride steps over): C along M, A along M or K, B along
	// N or K. The first that can still be cut is.
	var dim byte
	var total uint32
	var step int
	for _, c := range [...]struct {
		over  bool
		dim   byte
		outer uint32
	}{{cOver, 'm', g.p.ldc}, {aOver, aDim, g.p.lda}, {bOver, bDim, g.p.ldb}} {
		if !c.over {
			continue
		}
		// The window: the most lines the operand's binding holds, a
		// multiple of lineStep (offsets then stay aligned for 16-bit and
		// float32 operands alike).
		n := g.p.m
		switch c.dim {
		case 'n':
			n = g.p.n
		case 'k':
			n = g.p.k
		}
		ls := d.lineStep()
		s := max(ls, int(d.window/4)/max(int(c.outer), 1)/ls*ls)
		if int(n) > s {
			dim, total, step = c.dim, n, s
			break
		}
	}
	if dim == 0 { // all fit, or no cut helps: dispatch refuses a span past the range
		d.gemmParts(g, ce, ae, be)
		return
	}
	for x0 := 0; x0 < int(total); x0 += step {
		part := g
		w := uint32(min(step, int(total)-x0))
		switch dim {
		case 'm':
			part.p.m = w
			part.co += x0 * int(g.p.ldc)
			if transA {
				part.ao += x0
			} else {
				part.ao += x0 * int(g.p.lda)
			}
		case 'n':
			part.p.n = w
			part.co += x0
			part.biasO += x0
			if transB {
				part.bo += x0 * int(g.p.ldb)
			} else {
				part.bo += x0
			}
		case 'k':
			part.p.k = w
			if transA {
				part.ao += x0 * int(g.p.lda)
			} else {
				part.ao += x0
			}
			if transB {
				part.bo += x0
			} else {
				part.bo += x0 * int(g.p.ldb)
			}
			if x0 > 0 { // later parts of K add onto the first's C
				part.p.beta, part.bias = 1, nil
				part.p.flags &^= gemmBias
			}
		}
		d.gemmWindowed(part)
	}
}

// gemmParts records g on its operands' windows, ce, ae and be elements
// long from their origins.
func (d *Device) gemmParts(g gemmArgs, ce, ae, be int) {
	bias := binding{b: d.dummy, size: d.dummy.size}
	if g.bias != nil {
		bias = g.bias.span(g.biasO, int(g.p.n))
	}
	d.gemmBound(g.c.span(g.co, ce), g.a.span(g.ao, ae), g.b.span(g.bo, be), bias, g.b.dt, g.p)
}

// gatherWindows records GatherRows of a table past the binding range: a
// dispatch per window of its rows, each given the ids inside the window
// (made relative to it) and -1 for the rest, which the kernel skips.
func (d *Device) gatherWindows(out, x *Tensor, rows []int32) {
	dim, step := x.lastDim(), d.tableRows(x)
	local := make([]int32, len(rows))
	for r0 := 0; r0 < x.rows(); r0 += step {
		r1 := min(r0+step, x.rows())
		hit := false
		for i, id := range rows {
			local[i] = -1
			if int(id) >= r0 && int(id) < r1 {
				local[i], hit = id-int32(r0), true
			}
		}
		if !hit {
			continue
		}
		ib, ok := d.uploadInts(local)
		if !ok {
			return
		}
		d.gatherDispatch(out, x.span(r0*dim, (r1-r0)*dim), x.dt, len(rows), dim, ib)
	}
}

// scatterWindows records ScatterRowsBackward into a table past the binding
// range: per window of its rows, the grouped rows (groupRows' layout) of
// the ids inside it, made relative to it.
func (d *Device) scatterWindows(dx, dout *Tensor, rows []int32) {
	dim, step := dx.lastDim(), d.tableRows(dx)
	csr, unique := d.groupRows(rows)
	offsets, ids, order := csr[:unique+1], csr[unique+1:2*unique+1], csr[2*unique+1:]
	var part []int32
	u0 := 0
	for r0 := 0; r0 < dx.rows() && u0 < unique; r0 += step {
		r1 := min(r0+step, dx.rows())
		u1 := u0
		for u1 < unique && int(ids[u1]) < r1 {
			u1++
		}
		if u1 == u0 {
			continue
		}
		k := u1 - u0
		lo, hi := offsets[u0], offsets[u1]
		part = slices.Grow(part[:0], 2*k+1+int(hi-lo))[:2*k+1]
		for u := range k {
			part[u], part[k+1+u] = offsets[u0+u]-lo, ids[u0+u]-int32(r0)
		}
		part[k] = hi - lo
		part = append(part, order[lo:hi]...)
		ib, ok := d.uploadInts(part)
		if !ok {
			return
		}
		dispatch(d, kRows, &rowsPush{n: uint32(k), d: uint32(dim), mode: 1}, linearGroups(ceilDiv(k*dim, groupSize)),
			dx.span(r0*dim, (r1-r0)*dim), dout.bind(), ib)
		u0 = u1
	}
}

// gatherDispatch records one gather of n rows of dim columns from the
// table window x (of type dt) by the uploaded ids.
func (d *Device) gatherDispatch(out *Tensor, x binding, dt compute.DType, n, dim int, ids binding) {
	if dt.Is16() { // a 16-bit table, widened as the kernel reads it
		mode := uint32(0)
		if dt == compute.F16 {
			mode = 2
		}
		dispatch(d, kRows16, &rowsPush{n: uint32(n), d: uint32(dim), mode: mode}, linearGroups(ceilDiv(n*dim, groupSize)), out.bind(), x, ids)
		return
	}
	dispatch(d, kRows, &rowsPush{n: uint32(n), d: uint32(dim)}, linearGroups(ceilDiv(n*dim, groupSize)), out.bind(), x, ids)
}

// sizeString says a size in the largest binary unit that keeps it whole
// or above 1.
func sizeString(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", b)
}

// temp is a float32 tensor [rows, cols] on scratch slot, for values made
// and used within one op; on a failed allocation the device has failed and
// records nothing more.
func (d *Device) temp(slot int, name string, rows, cols int) *Tensor {
	t := &Tensor{Name: name, dims: []int{rows, cols}, n: rows * cols, dev: d, b: d.dummy}
	if b, err := d.scratch(slot, uint64(max(t.n, 1))*4); err == nil {
		t.b = b
	}
	return t
}

// normed is RMSNorm(x, norm, eps) on scratch, or x when norm is nil: the
// fused decode kernels' pre-norm, for their unfused path.
func (d *Device) normed(x, norm *Tensor, eps float32) *Tensor {
	if norm == nil {
		return x
	}
	y, rstd := d.temp(scratchNormed, "pre-norm", x.rows(), x.lastDim()), d.temp(scratchRstd, "pre-norm rstd", x.rows(), 1)
	d.RMSNorm(y, rstd, x, norm, eps)
	return y
}
