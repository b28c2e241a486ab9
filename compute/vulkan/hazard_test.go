package vulkan

import (
	"testing"
	"unsafe"
)

// TestWrittenBindings reads each kernel's written bindings from its SPIR-V
// and checks them against the GLSL's readonly declarations.
func TestWrittenBindings(t *testing.T) {
	for _, c := range []struct {
		kernel kernelID
		writes uint32
	}{
		{kGemm, 1 << 0},
		{kGemm128, 1 << 0},
		{kElementwise, 1 << 0},
		{kAdamW, 1<<0 | 1<<2 | 1<<3},
		{kRMSNorm, 1<<0 | 1<<1},
		{kAttnFADQ32, 1<<0 | 1<<1},
		{kAttnFADKV16, 1 << 0},
		{kAttnFASum, 1<<0 | 1<<1},
		{kDraw, 1 << 0},
		{kShortlist, 1 << 0},
		{kGemmCM128, 1 << 0},
	} {
		spec := kernelSpecs[c.kernel]
		code, err := spirv.ReadFile("shaders/" + spec.name + ".spv")
		if err != nil {
			t.Fatal(err)
		}
		words := unsafe.Slice((*uint32)(unsafe.Pointer(&code[0])), len(code)/4)
		got, err := writtenBindings(words, spec.bindings)
		if err != nil || got != c.writes {
			t.Errorf("%s: writes %b (%v), want %b", spec.name, got, err, c.writes)
		}
	}
	for _, bad := range [][]uint32{nil, {1, 2, 3, 4, 5}, {0x07230203, 0, 0, 0, 0, 9 << 16}} {
		if _, err := writtenBindings(bad, 4); err == nil {
			t.Errorf("writtenBindings(%x): no error", bad)
		}
	}
}

// TestBarriersFollowHazards: commands that share only what they read run
// without a barrier between them; one that reads what they wrote, or
// writes what one read, waits behind one.
func TestBarriersFollowHazards(t *testing.T) {
	d := openOrSkip(t)
	if d.prof != nil || d.allBarriers {
		t.Skip("profiling or RLT_VULKAN_BARRIERS=all: every command is followed by a barrier")
	}
	ts := make([]*Tensor, 5)
	for i := range ts {
		ts[i], _ = d.New("t", 64)
		defer d.Free(ts[i])
	}
	x, y, a, b, c := ts[0], ts[1], ts[2], ts[3], ts[4]
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	d.Add(a, x, y) // writes a after the zero fills: a barrier
	bar, eli := d.haz.barriers, d.haz.elided
	d.Add(b, x, y) // independent of the first
	if d.haz.barriers != bar || d.haz.elided != eli+1 {
		t.Fatalf("an independent add: %d barriers, %d elided; want %d and %d", d.haz.barriers, d.haz.elided, bar, eli+1)
	}
	d.Add(c, a, b) // reads both
	if d.haz.barriers != bar+1 {
		t.Fatalf("an add of their results: %d barriers, want %d", d.haz.barriers, bar+1)
	}
	d.Add(x, a, y) // writes x, which nothing since the barrier read
	if d.haz.barriers != bar+1 {
		t.Fatalf("a write of what nothing read: %d barriers, want %d", d.haz.barriers, bar+1)
	}
	d.Add(y, a, b) // writes y, which the add before read
	if d.haz.barriers != bar+2 {
		t.Fatalf("a write after a read: %d barriers, want %d", d.haz.barriers, bar+2)
	}
	got := make([]float32, 64)
	if err := d.Read(got, y); err != nil {
		t.Fatal(err)
	}
	// A long run of independent commands gets a barrier once maxTracked
	// buffers are tracked, and only then.
	many := make([]*Tensor, maxTracked+10)
	for i := range many {
		many[i], _ = d.New("many", 4)
		defer d.Free(many[i])
	}
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	bar = d.haz.barriers
	for _, x := range many {
		d.Zero(x)
	}
	if d.haz.barriers != bar+1 {
		t.Fatalf("%d independent fills: %d barriers, want 1 (at %d tracked buffers)", len(many), d.haz.barriers-bar, maxTracked)
	}
}

// TestAllBarriers: RLT_VULKAN_BARRIERS=all puts a barrier after every
// command; any other value fails Open.
func TestAllBarriers(t *testing.T) {
	openOrSkip(t)
	t.Setenv("RLT_VULKAN_BARRIERS", "all")
	d, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	x, _ := d.New("x", 8)
	y, _ := d.New("y", 8)
	z, _ := d.New("z", 8)
	defer func() { d.Free(x); d.Free(y); d.Free(z) }()
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	_, eli := d.Barriers()
	d.Add(x, y, y)
	d.Add(z, y, y) // independent of the first: no barrier without the setting
	if _, e := d.Barriers(); e != eli {
		t.Fatalf("RLT_VULKAN_BARRIERS=all: %d commands ran without a barrier", e-eli)
	}
	refusesSetting(t, "RLT_VULKAN_BARRIERS", "some")
}
