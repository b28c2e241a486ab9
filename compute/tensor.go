package compute

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rlt-workbench/rlt/compute/half"
	"gorgonia.org/tensor"
)

// MaxRank is the largest number of dimensions a Tensor has. Shapes live in a
// fixed array so that making and reading them never allocates.
const MaxRank = 4

// Storage is where a tensor's numbers live. The CPU backend stores a
// contiguous gorgonia Dense, or the 16-bit bits of a frozen weight; a GPU
// backend would store a device buffer. Engine code never looks inside: it
// goes through its Backend.
type Storage interface {
	// Len is the number of elements the storage holds.
	Len() int
	// DType is the element type.
	DType() DType
}

// DType is the element type of a tensor's storage. Activations, gradients
// and trainable parameters are F32. A frozen weight may stay in the 16-bit
// format its checkpoint stores (BF16 or F16): the backend computes with it
// in float32, widening it a block at a time, and never holds a float32 copy.
type DType uint8

const (
	F32  DType = iota // float32
	BF16              // bfloat16
	F16               // IEEE 754 binary16
)

// String spells the type as safetensors headers do.
func (d DType) String() string {
	switch d {
	case F32:
		return "F32"
	case BF16:
		return "BF16"
	case F16:
		return "F16"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Size is the number of bytes of one element.
func (d DType) Size() int {
	if d == F32 {
		return 4
	}
	return 2
}

// Is16 reports whether d is one of the 16-bit float types.
func (d DType) Is16() bool { return d == BF16 || d == F16 }

func (d DType) half() half.Kind {
	switch d {
	case BF16:
		return half.BF16
	case F16:
		return half.F16
	}
	panic(fmt.Sprintf("compute: %v is not a 16-bit type", d))
}

// Tensor is an n-dimensional array owned by one Backend: float32, or a
// frozen weight in 16 bits (DType).
// Grad, when set, receives gradients of that tensor during a backward pass.
type Tensor struct {
	Name    string
	dims    [MaxRank]int
	rank    int
	storage Storage
	Grad    *Tensor
	// requiresGrad marks trainable parameters and the activations that
	// depend on them.
	requiresGrad bool
	// frozen marks a tensor held constant between FreezeWeights and
	// ThawWeights; prep is the backend's faster layout of it (the CPU keeps
	// a GEMM-packed copy, and keeps its memory after a thaw for the next
	// freeze).
	frozen bool
	prep   any
}

// NewTensor returns a tensor over storage s, which must hold at least the
// elements dims ask for. It is for backends outside this package (a GPU's
// device buffers); engine code allocates through Backend.New.
func NewTensor(name string, s Storage, dims ...int) (*Tensor, error) {
	t := &Tensor{Name: name, storage: s}
	if err := setDims(t, dims); err != nil {
		return nil, err
	}
	if s == nil || s.Len() < t.Len() {
		return nil, fmt.Errorf("tensor %q%s: storage too small", name, ShapeString(dims))
	}
	return t, nil
}

// Frozen reports whether t is held constant by FreezeWeights.
func (t *Tensor) Frozen() bool { return t.frozen }

// Shape returns the dimensions. The slice aliases the tensor; do not modify it.
func (t *Tensor) Shape() []int { return t.dims[:t.rank] }

// Dim returns dimension i.
func (t *Tensor) Dim(i int) int { return t.dims[i] }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return t.rank }

// Len returns the number of elements.
func (t *Tensor) Len() int { return numel(t.dims[:t.rank]) }

// Storage returns the backend storage (for backend implementations).
func (t *Tensor) Storage() Storage { return t.storage }

// DType is the element type of t's storage.
func (t *Tensor) DType() DType { return t.storage.DType() }

// Bytes is the memory t's elements take.
func (t *Tensor) Bytes() int64 { return int64(t.Len()) * int64(t.DType().Size()) }

// String describes the tensor for error messages: name and shape.
func (t *Tensor) String() string {
	if t == nil {
		return "<nil tensor>"
	}
	name := t.Name
	if name == "" {
		name = "tensor"
	}
	if t.storage != nil && t.storage.DType() != F32 {
		return fmt.Sprintf("%s%s %v", name, ShapeString(t.Shape()), t.storage.DType())
	}
	return fmt.Sprintf("%s%s", name, ShapeString(t.Shape()))
}

// ShapeString formats dims as [a b c].
func ShapeString(dims []int) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func numel(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

func setDims(t *Tensor, dims []int) error {
	if len(dims) == 0 || len(dims) > MaxRank {
		return fmt.Errorf("tensor %q: rank %d not in 1..%d", t.Name, len(dims), MaxRank)
	}
	for i, d := range dims {
		if d < 0 {
			return fmt.Errorf("tensor %q: dimension %d is negative (%d)", t.Name, i, d)
		}
	}
	t.rank = len(dims)
	copy(t.dims[:], dims)
	return nil
}

// Reshaped returns a new header over the same storage with other dims of the
// same element count.
func (t *Tensor) Reshaped(dims ...int) (*Tensor, error) {
	if n := numel(dims); n != t.Len() {
		return nil, fmt.Errorf("reshape %v to %s: %d elements, want %d", t, ShapeString(dims), n, t.Len())
	}
	r := &Tensor{Name: t.Name, storage: t.storage}
	if err := setDims(r, dims); err != nil {
		return nil, err
	}
	return r, nil
}

// SameShape reports whether a and b have identical dims.
func SameShape(a, b *Tensor) bool {
	return a.rank == b.rank && a.dims == b.dims
}

// HostStorage is the CPU backend's storage: a contiguous gorgonia Dense and
// its backing slice, kept side by side so hot paths never box the slice.
type HostStorage struct {
	Dense *tensor.Dense
	Data  []float32
}

// Len implements Storage.
func (h *HostStorage) Len() int { return len(h.Data) }

// DType implements Storage.
func (h *HostStorage) DType() DType { return F32 }

// HalfStorage is the CPU backend's storage of a 16-bit tensor: a frozen
// weight kept as its checkpoint stores it, half the memory of float32.
type HalfStorage struct {
	Bits []uint16
	Type DType // BF16 or F16
}

// Len implements Storage.
func (h *HalfStorage) Len() int { return len(h.Bits) }

// DType implements Storage.
func (h *HalfStorage) DType() DType { return h.Type }

// HostData16 returns the bits of a 16-bit tensor in host memory, so a loader
// can read a checkpoint's bytes straight into it. ok is false for float32
// and device tensors.
func HostData16(t *Tensor) (bits []uint16, ok bool) {
	h, ok := t.storage.(*HalfStorage)
	if !ok {
		return nil, false
	}
	return h.Bits[:t.Len()], true
}

func newHostStorage(data []float32, dims []int) *HostStorage {
	d := tensor.New(tensor.WithShape(dims...), tensor.WithBacking(data))
	return &HostStorage{Dense: d, Data: data}
}

// Host returns the backing slice of a CPU tensor. It is for backends and for
// tests of the CPU backend; engine code reads tensors through Backend.Read.
func Host(t *Tensor) []float32 {
	h, ok := t.storage.(*HostStorage)
	if !ok {
		if t.storage != nil && t.storage.DType().Is16() {
			panic(fmt.Sprintf("compute: %v is a frozen 16-bit weight: this operation needs a float32 tensor (load the model in float32 to train it)", t))
		}
		panic(fmt.Sprintf("compute: %v is not stored on the host", t))
	}
	return h.Data[:t.Len()]
}

// HostData returns t's backing slice when t lives in host memory, so a
// loader can fill it in place instead of staging a copy (a 0.5B model's
// embedding alone is half a gigabyte). ok is false for device tensors.
func HostData(t *Tensor) (data []float32, ok bool) {
	h, ok := t.storage.(*HostStorage)
	if !ok {
		return nil, false
	}
	return h.Data[:t.Len()], true
}

// Dense returns the gorgonia Dense of a CPU tensor with the tensor's shape,
// for interoperating with gorgonia.org/tensor. It is nil for non-host tensors.
func Dense(t *Tensor) *tensor.Dense {
	h, ok := t.storage.(*HostStorage)
	if !ok {
		return nil
	}
	if len(h.Data) == t.Len() {
		if !slices.Equal(h.Dense.Shape(), t.Shape()) {
			return tensor.New(tensor.WithShape(t.Shape()...), tensor.WithBacking(h.Data))
		}
		return h.Dense
	}
	return tensor.New(tensor.WithShape(t.Shape()...), tensor.WithBacking(h.Data[:t.Len()]))
}
