package vulkan

import (
	"strings"
	"testing"
	"time"
)

func TestProfile(t *testing.T) {
	d := openOrSkip(t)
	if p := d.StopProfile(); len(p.Kernels) != 0 || p.Batches != 0 {
		t.Fatalf("StopProfile without StartProfile gave %+v, want an empty profile", p)
	}
	// Products far longer than the scales between them: a stamp that
	// closed the wrong command would give the scales the products' time.
	const n = 512
	x, _ := d.New("x", n, n)
	w, _ := d.New("w", n, n)
	y, _ := d.New("y", n, n)
	tiny, _ := d.New("tiny", 16)
	defer func() { d.Free(x); d.Free(w); d.Free(y); d.Free(tiny) }()
	if err := d.Write(x, randVals(n*n, 1)); err != nil {
		t.Fatal(err)
	}
	if err := d.Write(w, randVals(n*n, 2)); err != nil {
		t.Fatal(err)
	}
	if err := d.StartProfile(); err != nil {
		t.Skipf("no timestamps: %v", err)
	}
	if err := d.StartProfile(); err == nil {
		t.Error("a second StartProfile succeeded, want an error")
	}
	for range 3 {
		d.Scale(tiny, 0.5)
		d.Linear(y, x, w, nil)
	}
	out := make([]float32, n*n)
	if err := d.Read(out, y); err != nil {
		t.Fatal(err)
	}
	d.Zero(y)
	p := d.StopProfile()
	count := map[string]int{}
	each := map[string]time.Duration{}
	var sum time.Duration
	for _, k := range p.Kernels {
		count[k.Name], each[k.Name] = k.Count, k.Total/time.Duration(k.Count)
		sum += k.Total
		if k.Total < 0 {
			t.Errorf("%s: negative time %v", k.Name, k.Total)
		}
	}
	// Attribution, not speed: each command's interval is its own.
	if each["gemm"] < 5*each["elementwise"] {
		t.Errorf("a %d³ product took %v, a 16-element scale %v: the stamps close the wrong commands", n, each["gemm"], each["elementwise"])
	}
	// Geometry: a 16-element scale is one workgroup, a 512² product
	// several, and a copy none.
	for _, k := range p.Kernels {
		switch k.Name {
		case "elementwise":
			if k.Groups != [2]uint32{1, 1} {
				t.Errorf("a 16-element scale ran %v workgroups, want one", k.Groups)
			}
		case "gemm":
			if k.Groups[0] < 4 || k.Groups[0] != k.Groups[1] {
				t.Errorf("three equal %d³ products ran %v workgroups, want the same few each time", n, k.Groups)
			}
		case "read", "zero":
			if k.Groups != [2]uint32{} {
				t.Errorf("%s, not a dispatch, has workgroups %v", k.Name, k.Groups)
			}
		}
	}
	if sum > p.GPU+time.Duration(p.Commands)*time.Nanosecond {
		t.Errorf("the kernels' times add up to %v, more than the %v the device was busy", sum, p.GPU)
	}
	want := map[string]int{"gemm": 3, "elementwise": 3, "read": 1, "zero": 1}
	for name, n := range want {
		if count[name] != n {
			t.Errorf("%s ran %d times in the profile, want %d (profile: %+v)", name, count[name], n, p.Kernels)
		}
	}
	if p.Batches != 2 || p.Commands != 8 {
		t.Errorf("profile saw %d batches and %d commands, want 2 and 8", p.Batches, p.Commands)
	}
	if p.GPU <= 0 || p.Wall < p.Wait {
		t.Errorf("profile times: GPU %v, wall %v, wait %v", p.GPU, p.Wall, p.Wait)
	}
	if s := p.String(); !strings.Contains(s, "gemm") || !strings.Contains(s, "GPU busy") || !strings.Contains(s, "  1 workgroup\n") {
		t.Errorf("profile table lacks its rows:\n%s", s)
	}
	// The device works on unprofiled once the profile stops.
	d.Scale(y, 2)
	if err := d.Read(out, y); err != nil {
		t.Fatal(err)
	}
}
