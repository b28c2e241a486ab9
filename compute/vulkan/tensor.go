package vulkan

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/half"
)

// Tensor is a float32 array resident in one Device's memory, row-major.
// Only what the host asks for (Read) crosses to host memory.
type Tensor struct {
	Name string
	dims []int
	n    int
	b    *buffer
	dev  *Device
	// frozen marks a weight held constant between FreezeWeights and
	// ThawWeights; writing to it is a programmer error.
	frozen bool
	// dt is the element type (compute.Storage): F32, or BF16/F16 for a
	// frozen weight (New16), held as 16-bit storage packed two to a
	// 32-bit word (element i in the low half when i is even), read only
	// by the kernels that widen it (Linear's and the head's GEMM,
	// Embedding/GatherRows, the conversion kernel of Copy and Mix) and
	// by Read and Write16.
	dt compute.DType
}

// DType implements compute.Storage.
func (t *Tensor) DType() compute.DType { return t.dt }

// Frozen reports whether t is held constant by FreezeWeights.
func (t *Tensor) Frozen() bool { return t.frozen }

// FreezeWeights promises that ws stay constant until ThawWeights. The CPU
// backend repacks frozen weights for its GEMM; device weights already stay
// resident in the layout the kernels read, so here it only guards them:
// writing to a frozen tensor panics, as on the CPU.
func (d *Device) FreezeWeights(ws []*Tensor) {
	for _, w := range ws {
		d.own(w)
		w.frozen = true
	}
}

// ThawWeights ends FreezeWeights for ws.
func (d *Device) ThawWeights(ws []*Tensor) {
	for _, w := range ws {
		d.own(w)
		w.frozen = false
	}
}

func mustNotBeFrozen(t *Tensor) {
	if t.frozen {
		panic(fmt.Sprintf("vulkan: %v is frozen (FreezeWeights) and cannot be written", t))
	}
}

// Shape returns the dimensions; do not modify the slice.
func (t *Tensor) Shape() []int { return t.dims }

// Dim returns dimension i.
func (t *Tensor) Dim(i int) int { return t.dims[i] }

// Len is the number of elements.
func (t *Tensor) Len() int { return t.n }

func (t *Tensor) String() string {
	parts := make([]string, len(t.dims))
	for i, d := range t.dims {
		parts[i] = fmt.Sprint(d)
	}
	name := t.Name
	if name == "" {
		name = "tensor"
	}
	return name + "[" + strings.Join(parts, " ") + "]"
}

// bind binds a float32 tensor to a kernel; a 16-bit tensor given to a
// kernel that reads float32 is a programmer error.
func (t *Tensor) bind() binding {
	if t.dt.Is16() {
		panic(fmt.Sprintf("vulkan: %v is %v: this op reads float32 (only Linear, the LM head and Embedding widen 16-bit weights)", t, t.dt))
	}
	return binding{b: t.b, off: 0, size: uint64(max(t.n, 1)) * 4}
}

// bind16 binds a 16-bit tensor to a kernel that widens it.
func (t *Tensor) bind16() binding { return binding{b: t.b, off: 0, size: bytesOf(t.dt, t.n)} }

// bytesOf is the buffer size of n elements of dt: 16-bit elements are
// packed two to a 4-byte word.
func bytesOf(dt compute.DType, n int) uint64 {
	if dt.Is16() {
		return uint64(max(n+n%2, 2)) * 2
	}
	return uint64(max(n, 1)) * 4
}

// dataBytes is how many bytes t's elements occupy.
func (t *Tensor) dataBytes() uint64 {
	if t.dt.Is16() {
		return uint64(t.n) * 2
	}
	return uint64(t.n) * 4
}

// lastDim and rows view a tensor as rows of its last dimension.
func (t *Tensor) lastDim() int { return t.dims[len(t.dims)-1] }
func (t *Tensor) rows() int {
	if t.lastDim() == 0 {
		return 0
	}
	return t.n / t.lastDim()
}

// New returns a zero-filled float32 tensor on the device: one allocation,
// of up to maxMemoryAllocationSize bytes (Info.MaxAllocation; 2 GiB on
// lavapipe). Kernels bind one past maxStorageBufferRange a window at a
// time (bindwindow.go).
func (d *Device) New(name string, dims ...int) (*Tensor, error) {
	return d.newTensor(name, compute.F32, dims)
}

// New16 returns a zero-filled 16-bit tensor (dt BF16 or F16), two bytes an
// element, for a frozen weight: Linear takes it as w, Embedding and
// GatherRows as their table, widening it as they read.
func (d *Device) New16(name string, dt compute.DType, dims ...int) (*Tensor, error) {
	if !dt.Is16() {
		return nil, fmt.Errorf("vulkan: tensor %q: New16 with %v, want BF16 or F16", name, dt)
	}
	return d.newTensor(name, dt, dims)
}

func (d *Device) newTensor(name string, dt compute.DType, dims []int) (*Tensor, error) {
	if d.err != nil {
		return nil, d.err
	}
	if len(dims) == 0 {
		return nil, fmt.Errorf("vulkan: tensor %q has no dimensions", name)
	}
	n := 1
	for i, v := range dims {
		if v < 0 {
			return nil, fmt.Errorf("vulkan: tensor %q: dimension %d is negative (%d)", name, i, v)
		}
		n *= v
	}
	t := &Tensor{Name: name, dims: append([]int(nil), dims...), n: n, dev: d, dt: dt}
	bytes := bytesOf(dt, n)
	if bytes > d.info.MaxAllocation {
		return nil, &Error{Kind: ErrTooLarge, Device: d.info.Name, Op: "allocate " + t.String(),
			Err: fmt.Errorf("%s, past the %s the device allocates at once (maxMemoryAllocationSize)", sizeString(bytes), sizeString(d.info.MaxAllocation))}
	}
	b, err := d.newBuffer(bytes, memDeviceLocal, 0, "tensor "+t.String())
	if err != nil {
		return nil, err
	}
	t.b = b
	d.tensors[b] = struct{}{}
	d.Zero(t)
	return t, nil
}

// Free releases t's device memory once the batch that may use it is done.
func (d *Device) Free(t *Tensor) {
	if t == nil || t.b == nil {
		return
	}
	d.own(t)
	d.forget(t.b)
	t.b = nil
}

// forget takes buf off the live tensors (and a Backend's off
// backendBytes) and frees it once the batch that may use it is done. A
// buffer forgotten already, or one of a closed device (whose memory is
// gone), is let be: a Backend's tensor freed by Free is forgotten again
// when its finalizer runs.
func (d *Device) forget(buf *buffer) {
	if !d.untrack(buf) {
		return
	}
	if d.recording {
		d.garbage = append(d.garbage, buf)
	} else {
		d.freeBuffer(buf)
	}
}

// untrack takes buf off the live tensors (and a Backend's off
// backendBytes), reporting whether it was one: forget's bookkeeping.
func (d *Device) untrack(buf *buffer) bool {
	if d.dev == 0 || buf.buf == 0 {
		return false
	}
	if _, ok := d.tensors[buf]; !ok {
		return false
	}
	delete(d.tensors, buf)
	if buf.backend {
		d.backendBytes -= buf.size
	}
	return true
}

// freeScratch frees t, a Backend's scratch that a larger one replaces
// (Backend.scratchOf), before that one is made: as release frees a
// scratch slot's, so that the two are not held together until the
// batch's end.
func (d *Device) freeScratch(t *Tensor) bool {
	if t == nil || t.b == nil {
		return true
	}
	d.own(t)
	buf := t.b
	t.b = nil
	if !d.untrack(buf) {
		return d.err == nil
	}
	if d.release(buf) {
		return true
	}
	// The drain failed. Off the live tensors, the buffer would be freed
	// by nobody: a lost device's Close frees it with the batch's garbage;
	// a hung one's frees none, as the GPU may still use them.
	d.garbage = append(d.garbage, buf)
	return false
}

// own panics when t belongs to another device or was freed: a programmer
// error, like a shape mismatch.
func (d *Device) own(ts ...*Tensor) {
	for _, t := range ts {
		if t == nil {
			continue
		}
		if t.dev != d || t.b == nil {
			panic(fmt.Sprintf("vulkan: %v is freed or belongs to another device", t))
		}
	}
}

func sameLen(op string, a *Tensor, bs ...*Tensor) {
	for _, b := range bs {
		if b.n != a.n {
			panic(fmt.Sprintf("vulkan: %s: %v and %v differ in length", op, a, b))
		}
	}
}

// Write copies host numbers into dst (len(src) == dst.Len()) through the
// upload arena; the copy joins the current batch.
func (d *Device) Write(dst *Tensor, src []float32) error {
	d.own(dst)
	mustNotBeFrozen(dst)
	if len(src) != dst.n || dst.dt.Is16() {
		panic(fmt.Sprintf("vulkan: write %d float32 values into %v (%v)", len(src), dst, dst.dt))
	}
	return d.writeBytes(dst, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(src))), len(src)*4))
}

// Write16 copies 16-bit bits of dst's type into dst (len(src) == dst.Len()).
func (d *Device) Write16(dst *Tensor, src []uint16) error {
	d.own(dst)
	mustNotBeFrozen(dst)
	if len(src) != dst.n || !dst.dt.Is16() {
		panic(fmt.Sprintf("vulkan: write %d 16-bit values into %v (%v)", len(src), dst, dst.dt))
	}
	return d.writeBytes(dst, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(src))), len(src)*2))
}

// writeBytes copies raw into the start of dst's buffer through the upload
// arena, in chunks; the copies join the current batch.
func (d *Device) writeBytes(dst *Tensor, raw []byte) error {
	for off := 0; off < len(raw); {
		chunk := min(len(raw)-off, int(d.up.size))
		bd, ok := d.upload(raw[off : off+chunk])
		if !ok || !d.begin() {
			return d.err
		}
		region := &bufferCopy{srcOffset: bd.off, dstOffset: uint64(off), size: uint64(chunk)}
		d.transfer(bd.b, dst.b)
		d.vk.cmdCopyBuffer(d.cmd, bd.b.buf, dst.b.buf, 1, unsafe.Pointer(region))
		d.after()
		d.stamp("upload", 0)
		off += chunk
	}
	return d.err
}

// Read copies src into host memory (len(dst) == src.Len()). It submits the
// batch and waits for it: the one point where the host meets the device.
func (d *Device) Read(dst []float32, src *Tensor) error {
	d.own(src)
	if len(dst) != src.n {
		panic(fmt.Sprintf("vulkan: read %v into %d values", src, len(dst)))
	}
	if src.dt.Is16() {
		bits := make([]uint16, src.n)
		if err := d.readBytes(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(bits))), len(bits)*2), src.b); err != nil {
			return err
		}
		half.Widen(kindOf(src.dt), dst, bits)
		return nil
	}
	return d.readBytes(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), len(dst)*4), src.b)
}

// readBytes copies the first len(dst) bytes of src to the host, submitting
// the batch and waiting for it.
func (d *Device) readBytes(dst []byte, src *buffer) error {
	bytes := uint64(len(dst))
	if d.err != nil || bytes == 0 {
		return d.err
	}
	if d.down == nil || d.down.size < bytes {
		if err := d.Flush(); err != nil {
			return err
		}
		b, err := d.newBuffer(max(bytes, 1<<20), memHostVisible|memHostCoherent, memHostCached, "the read-back buffer")
		if err != nil {
			d.err = err
			return err
		}
		d.freeBuffer(d.down)
		d.down = b
	}
	if !d.begin() {
		return d.err
	}
	region := &bufferCopy{size: bytes}
	d.transfer(src, d.down)
	d.vk.cmdCopyBuffer(d.cmd, src.buf, d.down.buf, 1, unsafe.Pointer(region))
	mb := &memoryBarrier{sType: stMemoryBarrier, srcAccessMask: accessTransferWrite, dstAccessMask: accessHostRead}
	d.vk.cmdPipelineBarrier(d.cmd, pipeStageTransfer, pipeStageHost, 0, 1, unsafe.Pointer(mb), 0, nil, 0, nil)
	d.stamp("read", 0)
	if err := d.Flush(); err != nil {
		return err
	}
	copy(dst, unsafe.Slice((*byte)(d.down.mapped), bytes))
	return nil
}

// Zero sets every element of t to 0.
func (d *Device) Zero(t *Tensor) {
	d.own(t)
	mustNotBeFrozen(t)
	d.fillZero(t.b, t.b.size)
}

// fillZero records zeroing the first size bytes of b, ordered as a command
// that writes b (hazard.go).
func (d *Device) fillZero(b *buffer, size uint64) {
	if !d.begin() {
		return
	}
	d.transfer(nil, b)
	d.vk.cmdFillBuffer(d.cmd, b.buf, 0, size, 0)
	d.after()
	d.stamp("zero", 0)
}

// Copy sets dst = src (equal lengths). Between types it converts on the
// device as compute.NewCPU does: widening is exact, narrowing (float32 or
// the other 16-bit type into BF16 or F16) rounds to nearest even.
func (d *Device) Copy(dst, src *Tensor) {
	d.own(dst, src)
	mustNotBeFrozen(dst)
	sameLen("copy", dst, src)
	if dst.dt != src.dt {
		d.convert(dst, src, false, 0)
		return
	}
	if dst.n == 0 || !d.begin() {
		return
	}
	region := &bufferCopy{size: dst.dataBytes()}
	d.transfer(src.b, dst.b)
	d.vk.cmdCopyBuffer(d.cmd, src.b.buf, dst.b.buf, 1, unsafe.Pointer(region))
	d.after()
	d.stamp("copy", 0)
}
