package vulkan

import (
	"strings"
	"testing"
)

func TestProfile(t *testing.T) {
	d := openOrSkip(t)
	if p := d.StopProfile(); len(p.Kernels) != 0 || p.Batches != 0 {
		t.Fatalf("StopProfile without StartProfile gave %+v, want an empty profile", p)
	}
	x, _ := d.New("x", 64, 32)
	w, _ := d.New("w", 48, 32)
	y, _ := d.New("y", 64, 48)
	defer func() { d.Free(x); d.Free(w); d.Free(y) }()
	if err := d.Write(x, randVals(64*32, 1)); err != nil {
		t.Fatal(err)
	}
	if err := d.Write(w, randVals(48*32, 2)); err != nil {
		t.Fatal(err)
	}
	if err := d.StartProfile(); err != nil {
		t.Skipf("no timestamps: %v", err)
	}
	if err := d.StartProfile(); err == nil {
		t.Error("a second StartProfile succeeded, want an error")
	}
	for range 3 {
		d.Linear(y, x, w, nil)
	}
	d.Scale(y, 0.5)
	out := make([]float32, 64*48)
	if err := d.Read(out, y); err != nil {
		t.Fatal(err)
	}
	d.Zero(y)
	p := d.StopProfile()
	count := map[string]int{}
	for _, k := range p.Kernels {
		count[k.Name] = k.Count
		if k.Total < 0 {
			t.Errorf("%s: negative time %v", k.Name, k.Total)
		}
	}
	want := map[string]int{"gemm": 3, "elementwise": 1, "read": 1, "zero": 1}
	for name, n := range want {
		if count[name] != n {
			t.Errorf("%s ran %d times in the profile, want %d (profile: %+v)", name, count[name], n, p.Kernels)
		}
	}
	if p.Batches != 2 || p.Commands != 6 {
		t.Errorf("profile saw %d batches and %d commands, want 2 and 6", p.Batches, p.Commands)
	}
	if p.GPU <= 0 || p.Wall < p.Wait {
		t.Errorf("profile times: GPU %v, wall %v, wait %v", p.GPU, p.Wall, p.Wait)
	}
	if s := p.String(); !strings.Contains(s, "gemm") || !strings.Contains(s, "GPU busy") {
		t.Errorf("profile table lacks its rows:\n%s", s)
	}
	// The device works on unprofiled once the profile stops.
	d.Scale(y, 2)
	if err := d.Read(out, y); err != nil {
		t.Fatal(err)
	}
}
