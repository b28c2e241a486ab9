package vulkan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/half"
)

// convertInputs are float32 values that exercise every rounding rule of
// compute/half: signed zeros, infinities, NaNs with payloads, the largest
// finite values, values that overflow F16 or BF16, F16 subnormals and the
// values around the smallest ones, float32 subnormals, ties to even both
// ways and their neighbours, midpoints between neighbouring halves, random
// bit patterns and random normals. The count is odd, so a 16-bit tensor of
// them has a padding half.
func convertInputs(rng *rand.Rand) []float32 {
	bits := []uint32{
		0x00000000, 0x7f800000, 0x7fc00000, 0x7f800001, 0x7fa5a5a5, 0x7fffffff, 0x7fc12345,
		0x7f7fffff, 0x7f7f8000, 0x7f7f7fff, // float32 max, the values around BF16's overflow
		0x477fe000, 0x477fefff, 0x477ff000, 0x47800000, 0x47c35000, // F16: 65504, below 65520, 65520, 65536, 1e5
		0x38800000, 0x387fffff, 0x387fe000, 0x387ff000, // F16's smallest normal and the subnormals below it
		0x33800000, 0x33000000, 0x33000001, 0x32ffffff, 0x33400000, 0x33c00000, 0x32800000, // around 2^-24
		0x34000000, 0x34200000, 0x34600000, // 2^-23 and ties between subnormals
		0x00000001, 0x007fffff, 0x00800000, 0x00400000, // float32 subnormals and its smallest normal
		0x3f808000, 0x3f818000, 0x3f808001, 0x3f807fff, 0x3f818001, 0x3f817fff, // BF16 ties to even, down and up
		0x3f801000, 0x3f803000, 0x3f801001, 0x3f800fff, 0x3f803001, 0x3f802fff, // F16 ties to even, down and up
		0x3f800000, 0x40490fdb, 0x3eaaaaab,
	}
	var out []float32
	for _, b := range bits {
		out = append(out, math.Float32frombits(b), math.Float32frombits(b|0x80000000))
	}
	for h := uint32(0); h < 0x7bff; h += 13 { // midpoints between neighbouring F16 and BF16 values
		for _, w := range [][2]float32{
			{half.F16ToFloat32(uint16(h)), half.F16ToFloat32(uint16(h + 1))},
			{half.BF16ToFloat32(uint16(h)), half.BF16ToFloat32(uint16(h + 1))},
		} {
			mid := float32((float64(w[0]) + float64(w[1])) / 2)
			out = append(out, mid, math.Nextafter32(mid, 0), -math.Nextafter32(mid, 1e30))
		}
	}
	for range 4096 {
		out = append(out, math.Float32frombits(rng.Uint32()), float32(rng.NormFloat64()*math.Exp(rng.NormFloat64()*4)))
	}
	if len(out)%2 == 0 {
		out = out[:len(out)-1]
	}
	return out
}

// convertCase is one conversion: Copy (mix false) or Mix of a src of one
// type into a dst of another.
type convertCase struct {
	dst, src compute.DType
	mix      bool
	alpha    float32
	alias    bool // Mix(dst, dst)
}

func (c convertCase) String() string {
	op := "copy"
	if c.mix {
		op = fmt.Sprintf("mix %g", c.alpha)
	}
	if c.alias {
		return fmt.Sprintf("%s %v into itself", op, c.dst)
	}
	return fmt.Sprintf("%s %v into %v", op, c.src, c.dst)
}

// TestConvert runs Copy between every pair of types and Mix wherever a
// side is 16-bit on the device, over every 16-bit bit pattern and the
// values of convertInputs, on whole tensors (an odd length: the padding
// half stays 0) and on views of their first elements of even and odd
// length (the elements past the view, the last word's high half among
// them, stay as they were), and compares the bits of dst's whole storage
// with compute.NewCPU's, which rounds with compute/half and mixes with
// compute/kernels.Mix. Copies must match bit for bit; a mix may differ only
// where Vulkan leaves the result to the device: NaN payloads of an
// arithmetic NaN, and float32 subnormals flushed to zero (a device without
// denormal preservation), each counted in the log.
func TestConvert(t *testing.T) {
	d := openOrSkip(t)
	b := NewBackend(d)
	cpu := compute.NewCPU()
	rng := rand.New(rand.NewPCG(3, 5))
	f32 := convertInputs(rng)
	types := []compute.DType{compute.F32, compute.BF16, compute.F16}
	var cases []convertCase
	for _, dst := range types {
		for _, src := range types {
			cases = append(cases, convertCase{dst: dst, src: src})
			if dst.Is16() || src.Is16() {
				for _, a := range []float32{0.3, 0.75, 1} {
					cases = append(cases, convertCase{dst: dst, src: src, mix: true, alpha: a})
				}
			}
		}
	}
	cases = append(cases, convertCase{dst: compute.BF16, src: compute.BF16, mix: true, alpha: 0.3, alias: true},
		convertCase{dst: compute.F16, src: compute.F16, mix: true, alpha: 0.3, alias: true})
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			n := len(f32)
			if c.src.Is16() {
				n = 1<<16 + 1 // every bit pattern, and a padding half
			}
			for _, m := range []int{n, n - 1, n - 2} {
				runConvert(t, d, b, cpu, c, f32, n, m)
			}
		})
	}
}

// runConvert runs c on tensors of n elements on both backends, through
// views of their first m, and compares dst's storage bit for bit.
func runConvert(t *testing.T, d *Device, b *Backend, cpu *compute.CPU, c convertCase, f32 []float32, n, m int) {
	t.Helper()
	// src: every 16-bit pattern in turn, or the float32 inputs; dst: a
	// permutation of the patterns, or the inputs in another order.
	fill := func(bk compute.Backend, dt compute.DType, name string, order uint32) *compute.Tensor {
		if !dt.Is16() {
			x := bk.New(name, n)
			v := make([]float32, n)
			for i := range v {
				v[i] = f32[(uint32(i)*order+order/2)%uint32(len(f32))]
			}
			bk.Write(x, v)
			return x
		}
		x := bk.New16(name, dt, n)
		v := make([]uint16, n)
		for i := range v {
			v[i] = uint16(uint32(i)*order + order/2)
		}
		bk.Write16(x, v)
		return x
	}
	viewOf := func(x *compute.Tensor) *compute.Tensor {
		v, err := compute.NewTensor(x.Name, x.Storage(), m)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cd, gd := fill(cpu, c.dst, "dst", 40503), fill(b, c.dst, "dst", 40503)
	cs, gs := fill(cpu, c.src, "src", 1), fill(b, c.src, "src", 1)
	if c.alias {
		cs, gs = cd, gd
	}
	before, srcBefore := storageWords(t, d, gd), cpuWords(cs)
	cdv, gdv, csv, gsv := viewOf(cd), viewOf(gd), viewOf(cs), viewOf(gs)
	if c.mix {
		cpu.Mix(cdv, csv, c.alpha)
		b.Mix(gdv, gsv, c.alpha)
	} else {
		cpu.Copy(cdv, csv)
		b.Copy(gdv, gsv)
	}
	got := storageWords(t, d, gd)
	want := cpuWords(cd)
	if len(got) != len(want) {
		t.Fatalf("%d elements: %d words on the device, %d on the CPU", m, len(got), len(want))
	}
	var nanPayload, flushed, bad int
	for w := range got {
		if got[w] == want[w] {
			continue
		}
		for _, h := range elementsOf(c.dst, w) {
			g, x, old := wordElem(c.dst, got, h), wordElem(c.dst, want, h), wordElem(c.dst, before, h)
			if g == x {
				continue
			}
			what := fmt.Sprintf("%d of %d elements: element %d: got %#x, want %#x (cpu)", m, n, h, g, x)
			switch {
			case h >= n: // the padding half
				what = fmt.Sprintf("%d of %d elements: the padding half: got %#x, want %#x", m, n, g, x)
			case h >= m:
				what = fmt.Sprintf("%d of %d elements: element %d past the view changed from %#x to %#x", m, n, h, old, g)
			case c.mix && isNaN(c.dst, g) && isNaN(c.dst, x):
				nanPayload++
				continue
			case c.mix && g == flushedMix(c, old, kindOfBits(c.src, wordElem(c.src, srcBefore, h)), c.alpha):
				flushed++
				continue
			}
			if bad < 5 {
				t.Error(what)
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%d of %d elements: %d elements differ", m, n, bad)
	}
	if nanPayload+flushed > 0 {
		t.Logf("%d of %d elements: %d arithmetic NaNs with another payload, %d results with float32 subnormals flushed", m, n, nanPayload, flushed)
	}
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
}

// storageWords reads the whole storage of a device tensor, padding
// included, as 32-bit words.
func storageWords(t *testing.T, d *Device, x *compute.Tensor) []uint32 {
	t.Helper()
	s := x.Storage().(*Tensor)
	w := make([]uint32, bytesOf(s.dt, s.n)/4)
	if err := d.readBytes(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), len(w)*4), s.b); err != nil {
		t.Fatal(err)
	}
	return w
}

// cpuWords packs a CPU tensor's storage as the device holds it: 16-bit
// elements two to a word, element i in the low half when i is even, the
// padding half 0.
func cpuWords(x *compute.Tensor) []uint32 {
	switch s := x.Storage().(type) {
	case *compute.HalfStorage:
		w := make([]uint32, (len(s.Bits)+1)/2)
		for i, v := range s.Bits {
			w[i/2] |= uint32(v) << (16 * (i % 2))
		}
		return w
	case *compute.HostStorage:
		w := make([]uint32, len(s.Data))
		for i, v := range s.Data {
			w[i] = math.Float32bits(v)
		}
		return w
	}
	panic(fmt.Sprintf("storage %T", x.Storage()))
}

// elementsOf lists the elements word w holds.
func elementsOf(dt compute.DType, w int) []int {
	if dt.Is16() {
		return []int{2 * w, 2*w + 1}
	}
	return []int{w}
}

// wordElem is element i's bits in words of type dt.
func wordElem(dt compute.DType, words []uint32, i int) uint32 {
	if dt.Is16() {
		return words[i/2] >> (16 * (i % 2)) & 0xffff
	}
	return words[i]
}

func isNaN(dt compute.DType, bits uint32) bool {
	switch dt {
	case compute.BF16:
		return bits&0x7fff > 0x7f80
	case compute.F16:
		return bits&0x7fff > 0x7c00
	}
	return bits&0x7fffffff > 0x7f800000
}

func kindOfBits(dt compute.DType, bits uint32) float32 {
	switch dt {
	case compute.BF16:
		return half.BF16ToFloat32(uint16(bits))
	case compute.F16:
		return half.F16ToFloat32(uint16(bits))
	}
	return math.Float32frombits(bits)
}

// flushedMix is the mix of dst bits old and src value v as a device that
// flushes float32 subnormals to zero computes it: inputs, products and sum
// flushed, then rounded to dst's type as compute/half does.
func flushedMix(c convertCase, old uint32, v, alpha float32) uint32 {
	ftz := func(x float32) float32 {
		if x != 0 && math.Abs(float64(x)) < 0x1p-126 {
			return float32(math.Copysign(0, float64(x)))
		}
		return x
	}
	beta := 1 - alpha
	p := ftz(float32(alpha * ftz(v)))
	q := ftz(float32(beta * ftz(kindOfBits(c.dst, old))))
	r := ftz(float32(p + q))
	switch c.dst {
	case compute.BF16:
		return uint32(half.ToBF16(r))
	case compute.F16:
		return uint32(half.ToF16(r))
	}
	return math.Float32bits(r)
}
