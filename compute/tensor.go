package compute

import (
	"fmt"
	"strings"

	"gorgonia.org/tensor"
)

// MaxRank is the largest number of dimensions a Tensor has. Shapes live in a
// fixed array so that making and reading them never allocates.
const MaxRank = 4

// Storage is where a tensor's numbers live. The CPU backend stores a
// contiguous gorgonia Dense; a GPU backend would store a device buffer.
// Engine code never looks inside: it goes through its Backend.
type Storage interface {
	// Len is the number of float32 elements the storage holds.
	Len() int
}

// Tensor is a float32 n-dimensional array owned by one Backend.
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

// String describes the tensor for error messages: name and shape.
func (t *Tensor) String() string {
	if t == nil {
		return "<nil tensor>"
	}
	name := t.Name
	if name == "" {
		name = "tensor"
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

func newHostStorage(data []float32, dims []int) *HostStorage {
	d := tensor.New(tensor.WithShape(dims...), tensor.WithBacking(data))
	return &HostStorage{Dense: d, Data: data}
}

// Host returns the backing slice of a CPU tensor. It is for backends and for
// tests of the CPU backend; engine code reads tensors through Backend.Read.
func Host(t *Tensor) []float32 {
	h, ok := t.storage.(*HostStorage)
	if !ok {
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
		if !sameDims(h.Dense.Shape(), t.Shape()) {
			return tensor.New(tensor.WithShape(t.Shape()...), tensor.WithBacking(h.Data))
		}
		return h.Dense
	}
	return tensor.New(tensor.WithShape(t.Shape()...), tensor.WithBacking(h.Data[:t.Len()]))
}

func sameDims(a tensor.Shape, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
