package vulkan

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
)

// TestBackendConformance runs the Backend conformance suite on the device, with
// the fused head's chunk small enough that the test shapes span chunks.
func TestBackendConformance(t *testing.T) {
	old := headChunkFloats
	headChunkFloats = 1 << 10
	defer func() { headChunkFloats = old }()
	backendtest.Run(t, func(t *testing.T) compute.Backend {
		return NewBackend(openOrSkip(t))
	})
}

// TestBackendConformanceSplitK runs the suite again with every product that
// can be split along K split (slices of 16), as a GPU splits the products
// of few output tiles; lavapipe never would on its own. Few-row products
// take the tiled kernel here too (gemv has the default run).
func TestBackendConformanceSplitK(t *testing.T) {
	d := openOrSkip(t)
	oldHead, oldTarget, oldMin, oldGemv := headChunkFloats, d.splitTarget, d.splitMinK, d.gemvMaxRows
	headChunkFloats, d.splitTarget, d.splitMinK, d.gemvMaxRows = 1<<10, 1<<20, 16, 0
	defer func() {
		headChunkFloats, d.splitTarget, d.splitMinK, d.gemvMaxRows = oldHead, oldTarget, oldMin, oldGemv
	}()
	if err := d.StartProfile(); err != nil { // the count below needs timestamps
		backendtest.Run(t, func(t *testing.T) compute.Backend { return NewBackend(d) })
		t.Skipf("the suite ran, but whether it split products is unknown: %v", err)
	}
	backendtest.Run(t, func(t *testing.T) compute.Backend { return NewBackend(d) })
	split := 0
	for _, k := range d.StopProfile().Kernels {
		if k.Name == "gemm_reduce" {
			split = k.Count
		}
	}
	if split == 0 {
		t.Error("no product was split along K: the suite checked nothing new")
	}
	t.Logf("%d products split along K", split)
}

// TestBackendConformance128 runs the suite again with every product on the
// 128×128-tile kernel (gemm128, gemm128_16), few-row ones included, as a
// GPU runs large products; lavapipe would choose it only for products
// far larger than the suite's.
func TestBackendConformance128(t *testing.T) {
	d := openOrSkip(t)
	oldHead, oldForce, oldGemv := headChunkFloats, d.gemmForce, d.gemvMaxRows
	headChunkFloats, d.gemmForce, d.gemvMaxRows = 1<<10, gemmBigTile, 0
	defer func() { headChunkFloats, d.gemmForce, d.gemvMaxRows = oldHead, oldForce, oldGemv }()
	if err := d.StartProfile(); err != nil { // the count below needs timestamps
		backendtest.Run(t, func(t *testing.T) compute.Backend { return NewBackend(d) })
		t.Skipf("the suite ran, but whether it ran gemm128 is unknown: %v", err)
	}
	backendtest.Run(t, func(t *testing.T) compute.Backend { return NewBackend(d) })
	counts := map[string]int{}
	for _, k := range d.StopProfile().Kernels {
		counts[k.Name] = k.Count
	}
	if counts["gemm128"] == 0 || counts["gemm128_16"] == 0 || counts["gemm"] != 0 || counts["gemm16"] != 0 {
		t.Errorf("products ran as gemm128 %d, gemm128_16 %d, gemm %d, gemm16 %d times: want only the first two",
			counts["gemm128"], counts["gemm128_16"], counts["gemm"], counts["gemm16"])
	}
	t.Logf("%d products on gemm128, %d on gemm128_16", counts["gemm128"], counts["gemm128_16"])
}

func TestSplitK(t *testing.T) {
	d := &Device{splitTarget: 1024, splitMinK: 256}
	d.info.MaxWorkGroupCount = [3]uint32{1 << 31, 65535, 65535}
	for _, c := range []struct {
		name    string
		m, n, k uint32
		splits  uint32
	}{
		{"the tiles fill the device", 4096, 896, 4864, 1},
		{"K too short to split", 8, 896, 300, 1},
		{"the head's dh = dz·W", 820, 896, 151936, 6},
		{"v's weight gradient", 128, 896, 4096, 16},
		{"decoding 8 tokens, down projection", 8, 896, 4864, 19},
		{"ragged K", 8, 64, 1000, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			splits, chunk := d.splitK(c.m, c.n, c.k, gemmTile)
			if splits != c.splits {
				t.Errorf("splitK(%d, %d, %d) = %d slices, want %d", c.m, c.n, c.k, splits, c.splits)
			}
			if splits > 1 && chunk%16 != 0 {
				t.Errorf("slice of %d is not whole k-steps of 16", chunk)
			}
			if (splits-1)*chunk >= c.k || splits*chunk < c.k {
				t.Errorf("%d slices of %d do not cover K = %d exactly once", splits, chunk, c.k)
			}
		})
	}
	cpu := &Device{} // splitTarget 0: a CPU device never splits
	if s, k := cpu.splitK(8, 64, 1<<20, gemmTile); s != 1 || k != 1<<20 {
		t.Errorf("a CPU device split K: %d slices of %d", s, k)
	}
}

// TestBackendConformanceDescriptorSets runs the suite on a second device
// opened with push descriptors off (RLT_VULKAN_PUSH_DESCRIPTORS=0): the
// path of devices without VK_KHR_push_descriptor, which allocate, write
// and bind a descriptor set per dispatch.
func TestBackendConformanceDescriptorSets(t *testing.T) {
	openOrSkip(t)
	t.Setenv("RLT_VULKAN_PUSH_DESCRIPTORS", "0")
	d, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.info.PushDescriptors {
		t.Fatal("RLT_VULKAN_PUSH_DESCRIPTORS=0, yet the device uses push descriptors")
	}
	old := headChunkFloats
	headChunkFloats = 1 << 10
	defer func() { headChunkFloats = old }()
	backendtest.Run(t, func(t *testing.T) compute.Backend { return NewBackend(d) })
}

// TestBackendConformanceLeastSharedMemory runs the suite on a device of the
// 16 KiB of shared memory a workgroup Vulkan guarantees
// (RLT_VULKAN_MAX_SHARED=16384): the kernels past it (gemm128, gemv3,
// gemv_glu, attention's tiles) are left out and their ops take the plain
// kernels and the row kernels. Such a device was refused: shortlist, which
// has no fallback, needed 22,024 bytes.
func TestBackendConformanceLeastSharedMemory(t *testing.T) {
	openOrSkip(t)
	t.Setenv("RLT_VULKAN_MAX_SHARED", "16384")
	d, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !slices.ContainsFunc(d.Info().Unavailable, func(k KernelLeftOut) bool { return k.SharedShort }) {
		t.Fatalf("at 16 KiB no kernel was left out (Unavailable: %v): the suite checks nothing new", d.Info().Unavailable)
	}
	old := headChunkFloats
	headChunkFloats = 1 << 10
	defer func() { headChunkFloats = old }()
	backendtest.Run(t, func(t *testing.T) compute.Backend { return NewBackend(d) })
}

// TestRequiredKernelRefused: a driver that cannot build a kernel every op
// needs (elementwise) fails Open with ErrPipeline, naming the device, the
// kernel and the CPU as the way on.
func TestRequiredKernelRefused(t *testing.T) {
	openOrSkip(t)
	skipKernels = map[string]bool{"elementwise": true}
	d, err := Open()
	skipKernels = nil
	if err == nil {
		d.Close()
		t.Fatal("Open succeeded without the elementwise kernel")
	}
	var ve *Error
	if !errors.As(err, &ve) || !errors.Is(err, ErrPipeline) || ve.Device == "" || !strings.Contains(err.Error(), ve.Device) ||
		!strings.Contains(err.Error(), "build kernel elementwise") || !strings.Contains(err.Error(), "--device cpu") {
		t.Fatalf("Open without elementwise: %v; want an ErrPipeline naming the device, the kernel and --device cpu", err)
	}
}

// TestWithoutOptionalKernels opens a device whose driver "failed" to build
// the fast kernels (gemv, gemm128, gemm_reduce): Open goes on, names them,
// and the whole suite passes on the plain gemm, no product running on a
// kernel that is not there.
func TestWithoutOptionalKernels(t *testing.T) {
	openOrSkip(t)
	skipKernels = map[string]bool{}
	for k := range optionalKernels {
		skipKernels[kernelSpecs[k].name] = true
	}
	d, err := Open()
	skipKernels = nil
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// The kernels on cooperative matrices are not tried at Open: the
	// first SetMatmul(f16) builds them, on a device that has them; nor
	// are gemmcm128's other shapes unless chosen.
	count := func(coop bool) (n int) {
		for k := range optionalKernels {
			if !coopKernels[k] && !isCoopShape(k) || coop && coopKernels[k] && !isCoopShape(k) {
				n++
			}
		}
		return n
	}
	if got, want := len(d.Info().Unavailable), count(false); got != want {
		t.Fatalf("Info.Unavailable = %q, want the %d optional kernels not on cooperative matrices", d.Info().Unavailable, want)
	}
	skipKernels = map[string]bool{}
	for k := range optionalKernels {
		skipKernels[kernelSpecs[k].name] = true
	}
	err = d.SetMatmul(MatmulF16)
	skipKernels = nil
	if err == nil {
		t.Fatal("SetMatmul(f16) without gemmcm succeeded")
	}
	if got, want := len(d.Info().Unavailable), count(d.info.MatmulF16); got != want {
		t.Fatalf("after SetMatmul(f16), Info.Unavailable = %q, want the %d optional kernels", d.Info().Unavailable, want)
	}
	old := headChunkFloats
	headChunkFloats, d.splitTarget, d.splitMinK, d.gemmForce = 1<<10, 1<<20, 16, gemmBigTile // ask for all of them
	defer func() { headChunkFloats = old }()
	if err := d.StartProfile(); err != nil { // which kernels ran needs timestamps
		backendtest.Run(t, func(t *testing.T) compute.Backend { return NewBackend(d) })
		t.Skipf("the suite ran, but which kernels it used is unknown: %v", err)
	}
	backendtest.Run(t, func(t *testing.T) compute.Backend { return NewBackend(d) })
	for _, k := range d.StopProfile().Kernels {
		for opt := range optionalKernels {
			if k.Name == kernelSpecs[opt].name {
				t.Errorf("%s ran %d times on a device without it", k.Name, k.Count)
			}
		}
	}
}

// TestBackendConformanceKicks runs the suite with batches submitted in
// pieces as they are recorded (kick: the first after one dispatch, then
// after twice as many each time), as a GPU does from its 32nd, and a chain
// of dependent adds across many pieces: each piece's commands must see
// the earlier pieces' results.
func TestBackendConformanceKicks(t *testing.T) {
	d := openOrSkip(t)
	if err := d.Flush(); err != nil { // a batch takes kickAfter when it opens
		t.Fatal(err)
	}
	old := d.kickAfter
	d.kickAfter = 1
	defer func() { d.Flush(); d.kickAfter = old }()
	kicks := d.kicks
	x, _ := d.New("x", 1000)
	one, _ := d.New("one", 1000)
	defer func() { d.Free(x); d.Free(one) }()
	ones := make([]float32, 1000)
	for i := range ones {
		ones[i] = 1
	}
	if err := d.Write(one, ones); err != nil {
		t.Fatal(err)
	}
	const adds = 300
	for range adds {
		d.Add(x, x, one)
	}
	got := make([]float32, 1000)
	if err := d.Read(got, x); err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != adds {
			t.Fatalf("x[%d] = %g after %d adds in a kicked batch, want %d", i, v, adds, adds)
		}
	}
	if d.kicks-kicks < 7 { // 1, 2, 4, …, 256 dispatches
		t.Fatalf("%d kicks in a batch of %d dispatches", d.kicks-kicks, adds)
	}
	backendtest.Run(t, func(t *testing.T) compute.Backend { return NewBackend(d) })
}

// TestEnvSettings: each RLT_VULKAN_* switch Open reads takes its values,
// leaves its default when unset, and refuses anything else.
func TestEnvSettings(t *testing.T) {
	const def = 64
	type result struct {
		v  int64 // an int64, not an int: RLT_VULKAN_FENCE_TIMEOUT's are nanoseconds past 32 bits
		ok bool
	}
	num := func(n int, err error) result { return result{int64(n), err == nil} }
	flag := func(b bool, err error) result {
		if b {
			return result{1, err == nil}
		}
		return result{0, err == nil}
	}
	for _, c := range []struct {
		env  string
		read func(v string) result
		vals map[string]result
	}{
		{"RLT_VULKAN_KICK", func(v string) result { return num(kickSetting(v, def)) },
			map[string]result{"": {def, true}, "0": {0, true}, "32": {32, true}, "1": {1, true}, "-1": {0, false}, "many": {0, false}}},
		{"RLT_VULKAN_FENCE_TIMEOUT", func(v string) result { l, err := waitLimitSetting(v, def); return result{int64(l), err == nil} },
			map[string]result{"": {def, true}, "90s": {90e9, true}, "1ns": {1, true}, "30m": {1800e9, true}, "0": {0, false}, "-5s": {0, false}, "600": {0, false}, "soon": {0, false}}},
		{"RLT_VULKAN_LOSE_AFTER", func(v string) result { return num(loseAfterSetting(v)) },
			map[string]result{"": {0, true}, "1": {1, true}, "7": {7, true}, "0": {0, false}, "-2": {0, false}, "soon": {0, false}}},
		{"RLT_VULKAN_FUSE", func(v string) result { return flag(noFuseSetting(v)) },
			map[string]result{"": {0, true}, "1": {0, true}, "0": {1, true}, "off": {0, false}}},
		{"RLT_VULKAN_BARRIERS", func(v string) result { return flag(allBarriersSetting(v)) },
			map[string]result{"": {0, true}, "all": {1, true}, "some": {0, false}, "1": {0, false}}},
		{"RLT_VULKAN_ATTN", func(v string) result { p, err := attnSetting(v); return result{int64(p), err == nil} },
			map[string]result{"": {int64(attnTiled), true}, "tiles": {int64(attnTiled), true}, "f32": {int64(attnTiledF32), true}, "rows": {int64(attnRows), true}, "flash": {int64(attnTiled), false}}},
		{"RLT_VULKAN_SPLIT", func(v string) result {
			target, minK, err := splitSetting(v, def, def/2)
			return result{int64(target)<<16 | int64(minK), err == nil}
		},
			map[string]result{"": {def<<16 | def/2, true}, "gpu": {gpuSplitTarget<<16 | gpuSplitMinK, true}, "0": {0, true}, "cpu": {def<<16 | def/2, false}, "1024": {def<<16 | def/2, false}}},
	} {
		for v, want := range c.vals {
			if got := c.read(v); got != want {
				t.Errorf("%s=%q: %+v, want %+v", c.env, v, got, want)
			}
		}
	}
}
