package vulkan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestKernelFits: the one rule of shared memory, read from each kernel's
// SPIR-V, at the edges of the kernels past the 16 KiB Vulkan guarantees
// (gemm128, gemv3, gemv_glu; attention's tiles) and of shortlist, and nil
// for a kernel whose arrays are sized as its pipeline is built (attn_cm, on
// cooperative matrices: attnCoopFits checks it). Every kernel without a
// fallback fits in those 16 KiB: shortlist needed 22,024 bytes, and a
// device of 16 KiB was refused (requiredFit). One of less, which Vulkan
// does not allow, still is.
func TestKernelFits(t *testing.T) {
	t.Setenv("RLT_VULKAN_MAX_SHARED", "")
	for _, c := range []struct {
		k    kernelID
		need uint32
	}{{kGemm128, 16896}, {kGemv3, 20480}, {kGemvGLU, 20480}, {kShortlist, 13320}, {kAttnFADQ32, 30592}, {kGemm, 8320}} {
		name := kernelSpecs[c.k].name
		if err := kernelFits(c.k, c.need); err != nil {
			t.Errorf("%s at %d bytes: %v, want it to fit", name, c.need, err)
		}
		want := fmt.Sprintf("needs %d bytes of shared memory, the device has %d", c.need, c.need-1)
		if err := kernelFits(c.k, c.need-1); err == nil || err.Error() != want {
			t.Errorf("%s at %d bytes: %v, want %q", name, c.need-1, err, want)
		}
	}
	if err := kernelFits(kAttnCM, 16<<10); err != nil {
		t.Errorf("attn_cm, sized as its pipeline is built: %v, want nil", err)
	}
	if err := requiredFit(Info{Name: "dev", MaxSharedMemory: 16 << 10}); err != nil {
		t.Errorf("a device of 16 KiB, the least Vulkan allows: %v, want every kernel without a fallback to fit", err)
	}
	err := requiredFit(Info{Name: "dev", MaxSharedMemory: 8 << 10})
	if !errors.Is(err, ErrPipeline) || !strings.Contains(err.Error(), "build kernel gemm") || !strings.Contains(err.Error(), "needs 8320 bytes") {
		t.Errorf("a device of 8 KiB: %v, want gemm, which has no fallback, refused", err)
	}
}

// TestKernelsFollowTheSharedMemory: every kernel is checked against the
// device's shared memory a workgroup (RLT_VULKAN_MAX_SHARED lowers it),
// not attention's tiles alone: gemm128, gemv3, gemv_glu and attention's
// tiles need more than the 16 KiB Vulkan guarantees and were built on any
// device, past its limit. An optional kernel past it is left out and said
// (Info.Unavailable), its op taking its fallback; one without a fallback
// past it would refuse the device, naming the kernel and the limit, at the
// probe as at Open. At 16 KiB none is: shortlist needed 22,024 bytes and
// refused such a device; it opens now, without its fast kernels.
func TestKernelsFollowTheSharedMemory(t *testing.T) {
	openOrSkip(t)
	for _, limit := range []uint32{16 << 10, 20480, 22024} {
		t.Run(strconv.Itoa(int(limit)), func(t *testing.T) {
			t.Setenv("RLT_VULKAN_MAX_SHARED", strconv.Itoa(int(limit)))
			var refused []string // the kernels without a fallback past the limit
			for k, spec := range kernelSpecs {
				if need, err := kernelShared(kernelID(k)); err == nil && need > limit && !optionalKernels[kernelID(k)] {
					refused = append(refused, fmt.Sprintf("build kernel %s: compute pipeline creation failed: needs %d bytes of shared memory, the device has %d (RLT_VULKAN_MAX_SHARED=%d)", spec.name, need, limit, limit))
				}
			}
			if limit == 16<<10 && len(refused) > 0 {
				t.Errorf("at the 16 KiB Vulkan guarantees: %s", refused[0])
			}
			_, perr := Probe()
			d, err := Open()
			if len(refused) > 0 {
				if err == nil {
					d.Close()
				}
				for what, err := range map[string]error{"Probe": perr, "Open": err} {
					if !errors.Is(err, ErrPipeline) || !strings.Contains(fmt.Sprint(err), refused[0]) {
						t.Errorf("%s: %v; want the device refused: %s", what, err, refused[0])
					}
				}
				return
			}
			if perr != nil || err != nil {
				t.Fatalf("Probe: %v; Open: %v", perr, err)
			}
			defer d.Close()
			unavailable := fmt.Sprint(d.Info().Unavailable)
			for k, spec := range kernelSpecs {
				if coopKernels[kernelID(k)] || isCoopShape(kernelID(k)) {
					continue // not built at Open
				}
				need, err := kernelShared(kernelID(k))
				if err != nil {
					continue
				}
				said := strings.Contains(unavailable, fmt.Sprintf("%s: needs %d bytes of shared memory, the device has %d", spec.name, need, limit))
				if said != (need > limit) || need > limit && d.has(kernelID(k)) {
					t.Errorf("%s needs %d bytes, the device has %d: left out and said %v, built %v (Unavailable: %s)", spec.name, need, limit, said, d.has(kernelID(k)), unavailable)
				}
			}
		})
	}
}

// TestRankingPassesOverWhatCannotCompute: ranking the loader's devices,
// one that cannot hold a kernel without a fallback (a device under the
// 16 KiB Vulkan allows: gemm needs 8,320 bytes) is passed over for the
// next by rank, and said (Info.PassedOver); it was taken and Open refused
// it, though the next could compute. One without a compute queue ranked
// before the one taken is said too: it went unsaid, so a machine whose
// GPU has none read as if auto had left it for the CPU for no reason.
// Where none is left the choice fails naming each, and a device asked
// for by its index is taken as it is (requiredFit then refuses it, naming
// the kernel).
func TestRankingPassesOverWhatCannotCompute(t *testing.T) {
	t.Setenv("RLT_VULKAN_MAX_SHARED", "")
	small := listedDevice{info: Info{Name: "Small", Type: "discrete", MaxSharedMemory: 8 << 10}, rank: 0, compute: true}
	cpu := listedDevice{info: Info{Name: "llvmpipe", Type: "cpu", MaxSharedMemory: 32 << 10}, rank: 4, compute: true}
	noQueue := listedDevice{info: Info{Name: "Video", Type: "integrated", MaxSharedMemory: 32 << 10}, rank: 1}
	smallCPU := listedDevice{info: Info{Name: "Tiny", Type: "cpu", MaxSharedMemory: 8 << 10}, rank: 4, compute: true}
	gpu := listedDevice{info: Info{Name: "Big", Type: "discrete", MaxSharedMemory: 48 << 10}, rank: 0, compute: true}
	const smallSaid = "gpu:0 Small (discrete) cannot build kernel gemm: needs 8320 bytes of shared memory, the device has 8192"
	const noQueueSaid = "gpu:1 Video (integrated) has no compute queue"
	for _, c := range []struct {
		name    string
		devs    []listedDevice
		index   int
		best    int
		passed  []string
		errWant string
	}{
		{"the next by rank", []listedDevice{small, cpu}, Ranked, 1, []string{smallSaid}, ""},
		{"past a device without a compute queue", []listedDevice{small, noQueue, cpu}, Ranked, 2, []string{smallSaid, noQueueSaid}, ""},
		// Every device is named with why, those without a compute queue
		// too: the error named only the small one, as if the other were
		// not there.
		{"none left", []listedDevice{small, noQueue}, Ranked, -1, []string{smallSaid, noQueueSaid}, "choose a device: compute pipeline creation failed: none can compute: " + smallSaid + "; gpu:1 Video (integrated) has no compute queue"},
		{"none left, a device without a compute queue first", []listedDevice{noQueue, small}, Ranked, -1, []string{"gpu:0 Video (integrated) has no compute queue", "gpu:1 Small (discrete) cannot build kernel gemm: needs 8320 bytes of shared memory, the device has 8192"},
			"none can compute: gpu:0 Video (integrated) has no compute queue; gpu:1 Small (discrete) cannot build kernel gemm"},
		{"asked for by index", []listedDevice{small, cpu}, 0, 0, nil, ""},
		{"past a GPU without a compute queue", []listedDevice{cpu, noQueue}, Ranked, 0, []string{noQueueSaid}, ""},
		{"every device can compute", []listedDevice{cpu, gpu}, Ranked, 1, nil, ""},
		{"a device without a compute queue ranked after the one taken", []listedDevice{gpu, noQueue}, Ranked, 0, nil, ""},
		{"asked for by index past a device without a compute queue", []listedDevice{noQueue, cpu}, 1, 1, nil, ""},
		// A small device ranked after the one taken was never its rival.
		{"ranked after the one taken", []listedDevice{cpu, smallCPU}, Ranked, 0, nil, ""},
		{"listed after an equal taken", []listedDevice{gpu, small}, Ranked, 0, nil, ""},
		{"listed before an equal taken", []listedDevice{small, gpu}, Ranked, 1, []string{smallSaid}, ""},
	} {
		best, passed, err := pick(c.devs, c.index)
		if best != c.best || fmt.Sprint(passed) != fmt.Sprint(c.passed) || (err == nil) != (c.errWant == "") ||
			err != nil && !strings.Contains(err.Error(), c.errWant) {
			t.Errorf("%s: took %d, passed over %q, %v; want %d, %q, %q", c.name, best, passed, err, c.best, c.passed, c.errWant)
		}
		if c.errWant != "" && !errors.Is(err, ErrPipeline) {
			t.Errorf("%s: %v, want an ErrPipeline", c.name, err)
		}
	}
	// Where no device has a compute queue, that is the error (no device),
	// not a failure to build.
	if _, passed, err := pick([]listedDevice{noQueue, noQueue}, Ranked); !errors.Is(err, ErrNoDevice) || passed != nil ||
		!strings.Contains(err.Error(), "none of gpu:0 Video (integrated), gpu:1 Video (integrated) has a compute queue") {
		t.Errorf("no device with a compute queue: passed over %q, %v; want an ErrNoDevice naming both", passed, err)
	}
	if err := requiredFit(small.info); err == nil || !strings.Contains(err.Error(), "build kernel gemm") {
		t.Errorf("Small asked for by index: %v, want it refused naming gemm", err)
	}
}
