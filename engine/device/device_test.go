package device

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/compute/vulkan"
	"github.com/rlt-workbench/rlt/engine/event"
)

// probed is the Vulkan device vulkan.Probe ranks first, t skipped where
// there is none (backendtest.NeedDevice).
func probed(t *testing.T) vulkan.Info {
	t.Helper()
	in, err := vulkan.Probe()
	backendtest.NeedDevice(t, err)
	return in
}

// TestCheck: the device choices, and the refusals for names that are not.
func TestCheck(t *testing.T) {
	for _, c := range []struct {
		name  string
		kind  string
		index int
		err   string // in the refusal
	}{
		{name: "", kind: Auto, index: vulkan.Ranked},
		{name: "auto", kind: Auto, index: vulkan.Ranked},
		{name: "cpu", kind: CPU, index: vulkan.Ranked},
		{name: "gpu", kind: GPU, index: vulkan.Ranked},
		{name: "gpu:0", kind: GPU, index: 0},
		{name: "gpu:12", kind: GPU, index: 12},
		{name: "tpu", err: "cpu, gpu, gpu:N or auto"},
		{name: "GPU", err: "cpu, gpu, gpu:N or auto"},
		{name: "gpu:", err: "want gpu:N"},
		{name: "gpu:-1", err: "want gpu:N"},
		{name: "gpu:+1", err: "want gpu:N"},
		{name: "gpu: 1", err: "want gpu:N"},
		{name: "gpu:x", err: "want gpu:N"},
		{name: "gpu:99999", err: "want gpu:N"},
		{name: "cpu:0", err: "cpu, gpu, gpu:N or auto"},
	} {
		kind, index, err := parse(c.name)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || Check(c.name) == nil {
				t.Errorf("parse(%q) = %q, %d, %v; want a refusal saying %q", c.name, kind, index, err, c.err)
			}
			continue
		}
		if err != nil || kind != c.kind || index != c.index || Check(c.name) != nil {
			t.Errorf("parse(%q) = %q, %d, %v; want %q, %d", c.name, kind, index, err, c.kind, c.index)
		}
	}
}

// TestOpenByIndex: gpu:N opens the loader's Nth device and says which;
// an index past the list is refused naming the devices there are, by
// Open and MemoryOf alike.
func TestOpenByIndex(t *testing.T) {
	d, err := vulkan.Open()
	backendtest.NeedDevice(t, err)
	in := d.Info()
	d.Close()
	name := fmt.Sprintf("gpu:%d", in.Index)
	be, c, err := Open(name, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := be.(*vulkan.Backend).Device().Info(); got.Index != in.Index || got.Name != in.Name || c.GPU != name || !strings.HasPrefix(c.Why, "asked for") || c.Backend != be.Name() {
		t.Errorf("Open(%s) opened %s #%d saying %+v; want %s #%d", name, got.Name, got.Index, c, in.Name, in.Index)
	}
	Close(be)
	if mem, err := MemoryOf(name); err != nil || mem.GPU != in.Name {
		t.Errorf("MemoryOf(%s) = %+v, %v; want %s", name, mem, err, in.Name)
	}
	// A gpu:N past the loader's list is said plainly, with the devices
	// there are and what to give: it was the backend's words for how it
	// found out ("vulkan (no device chosen): choose a device: no usable
	// Vulkan device: there is no gpu:64; the loader lists …").
	gpus, _ := GPUs()
	var here, ids []string
	for _, g := range gpus {
		here = append(here, fmt.Sprintf("gpu:%d %s (%s)", g.Index, g.Name, g.Type))
		ids = append(ids, fmt.Sprintf("gpu:%d", g.Index))
	}
	onWhat := "one of them"
	if len(ids) == 1 {
		onWhat = "it"
	}
	past := "gpu:64"
	want := "device " + past + ": there is no " + past + ": this machine's Vulkan devices are " + strings.Join(here, ", ") +
		"; give --device " + strings.Join(ids, " or ") + ` (device = "` + ids[0] + `" in config.toml) to compute on ` + onWhat +
		`, or --device cpu (device = "cpu") to compute on the CPU`
	_, _, err = Open(past, "")
	_, merr := MemoryOf(past)
	for _, e := range []error{err, merr} {
		if e == nil || e.Error() != want || !errors.Is(e, vulkan.ErrNoDevice) {
			t.Errorf("%s on a machine without it: %v; want %q", past, e, want)
		}
	}
}

func TestOpen(t *testing.T) {
	if err := Check("tpu"); err == nil || !strings.Contains(err.Error(), "cpu, gpu, gpu:N or auto") {
		t.Errorf("Check(tpu) = %v, want a refusal listing the choices", err)
	}
	be, _, err := Open(CPU, "")
	if err != nil || !strings.HasPrefix(be.Name(), "cpu/") {
		t.Fatalf("Open(cpu) = %v, %v", be, err)
	}
	d, verr := vulkan.Open()
	if verr != nil {
		backendtest.DeviceRequired(t, verr)
		_, _, err := Open(GPU, "")
		if err == nil || !strings.Contains(err.Error(), "--device cpu") {
			t.Errorf("Open(gpu) without a device = %v, want an error saying to use --device cpu", err)
		}
		return
	}
	discrete := d.Info().Type == "discrete"
	d.Close()
	be, _, err = Open(GPU, "")
	if err != nil || !strings.HasPrefix(be.Name(), "vulkan/") {
		t.Fatalf("Open(gpu) = %v, %v", be, err)
	}
	Close(be)
	for i := 0; i < 2; i++ { // the second call answers from the first probe
		be, c, err := Open(Auto, "")
		if err != nil {
			t.Fatal(err)
		}
		if gpu := strings.HasPrefix(be.Name(), "vulkan/"); gpu != discrete || (c.GPU != "") != discrete {
			t.Errorf("auto chose %s (%+v) with a discrete GPU %v", be.Name(), c, discrete)
		}
		Close(be)
	}
}

// TestOpenMatmul: matmul f16 multiplies on tensor cores where the device
// has them and otherwise computes in float32 saying why (a run asking for
// f16 must still resume on the CPU); an unknown precision is refused.
func TestOpenMatmul(t *testing.T) {
	if _, _, err := Open(CPU, "bf16"); err == nil || !strings.Contains(err.Error(), "f32 or f16") {
		t.Errorf("Open(cpu, bf16) = %v, want a refusal listing the choices", err)
	}
	be, c, err := Open(CPU, MatmulF16)
	if err != nil || !strings.HasPrefix(c.Matmul, "products in float32, not f16: the CPU") || c.Why != "asked for" || c.GPU != "" {
		t.Errorf("Open(cpu, f16) = %+v, %v; want the CPU, saying it multiplies in float32", c, err)
	}
	if ok, _ := TensorCores(be); ok {
		t.Error("TensorCores(cpu) = true")
	}
	d, err := vulkan.Open()
	backendtest.NeedDevice(t, err)
	has := d.Info().MatmulF16
	d.Close()
	for _, matmul := range []string{"", MatmulF32, MatmulF16} {
		be, c, err := Open(GPU, matmul)
		why := c.Matmul
		if err != nil {
			t.Fatal(err)
		}
		dev := be.(*vulkan.Backend).Device()
		want := MatmulF32
		if matmul == MatmulF16 && has {
			want = MatmulF16
			if !strings.Contains(why, "tensor cores") {
				t.Errorf("Open(gpu, f16) says %q, want it to name the tensor cores", why)
			}
		} else if matmul == MatmulF16 && !strings.Contains(why, "not f16: "+dev.Info().Name) {
			t.Errorf("Open(gpu, f16) on a device without them says %q, want why it multiplies in float32", why)
		} else if matmul != MatmulF16 && why != "" {
			t.Errorf("Open(gpu, %q) says %q of its products; want nothing said (float32 asked for)", matmul, why)
		}
		if dev.Matmul() != want || c.F16 != (want == MatmulF16) {
			t.Errorf("Open(gpu, %q): products in %s (choice says f16 %v), want %s", matmul, dev.Matmul(), c.F16, want)
		}
		if ok, _ := TensorCores(be); ok != has {
			t.Errorf("TensorCores = %v on a device with MatmulF16 %v", ok, has)
		}
		Close(be)
	}
}

// TestOpenBadSetting: a Vulkan setting with a value the backend does not
// know fails --device gpu, gpu:N and auto alike, instead of auto falling
// back to the CPU without a word; and MemoryOf, which a run asks before
// its folder exists, refuses it as Open does (it probed the device
// without reading the settings, so the run folder was made and the run
// then failed at Open).
func TestOpenBadSetting(t *testing.T) {
	d, err := vulkan.Open()
	backendtest.NeedDevice(t, err)
	d.Close()
	autoMu.Lock()
	old := autoNoGPU
	autoNoGPU = ""
	autoMu.Unlock()
	defer func() { autoMu.Lock(); autoNoGPU = old; autoMu.Unlock() }()
	for _, c := range []struct{ env, value string }{
		{"RLT_VULKAN_GEMM", "96"},
		{"RLT_VULKAN_PUSH_DESCRIPTORS", "no"},
		{"RLT_VULKAN_MAX_ALLOCATION", "1k"},
		{"RLT_VULKAN_MAX_BINDING", "100"},
		{"RLT_VULKAN_MAX_SHARED", "8192"},
		{"RLT_VULKAN_LOSE_AFTER", "0"},
		{"RLT_VULKAN_SPLIT", "cpu"},
	} {
		t.Run(c.env, func(t *testing.T) {
			t.Setenv(c.env, c.value)
			for _, name := range []string{GPU, "gpu:0", Auto} {
				be, _, err := Open(name, "")
				if err == nil {
					t.Errorf("Open(%s) with %s=%s opened %s; want an error naming the setting", name, c.env, c.value, be.Name())
					Close(be)
				} else if !strings.Contains(err.Error(), c.env) || strings.Contains(err.Error(), "--device cpu") {
					t.Errorf("Open(%s) with %s=%s: %v; want an error naming the setting, not the CPU", name, c.env, c.value, err)
				}
				if m, err := MemoryOf(name); err == nil || !strings.Contains(err.Error(), c.env) {
					t.Errorf("MemoryOf(%s) with %s=%s = %+v, %v; want Open's error naming the setting", name, c.env, c.value, m, err)
				}
			}
		})
	}
}

// MemoryOf answers as Open chooses: the host for cpu, the GPU's memory for
// gpu, and for auto the GPU only when it is a discrete one.
func TestMemoryOf(t *testing.T) {
	if m, err := MemoryOf(CPU); err != nil || m.GPU != "" || m.Probed {
		t.Fatalf("MemoryOf(cpu) = %+v, %v; want the host, nothing probed", m, err)
	}
	// auto on the CPU says its probe's driver stays loaded (Probed), for
	// every command's estimate to count; on a GPU the driver is the GPU's.
	if m, err := MemoryOf(Auto); err != nil || m.Probed != (m.GPU == "") {
		t.Errorf("MemoryOf(auto) = %+v, %v; want Probed where the CPU computes", m, err)
	}
	if _, err := MemoryOf("tpu"); err == nil {
		t.Fatal("MemoryOf(tpu) succeeded")
	}
	d, verr := vulkan.Open()
	if verr != nil {
		backendtest.DeviceRequired(t, verr)
		if _, err := MemoryOf(GPU); err == nil || !strings.Contains(err.Error(), "--device cpu") {
			t.Errorf("MemoryOf(gpu) without a device = %v, want Open's error", err)
		}
		return
	}
	in := d.Info()
	d.Close()
	m, err := MemoryOf(GPU)
	if err != nil || m.GPU != in.Name || m.Bytes != in.DeviceLocalBytes || m.HeadBytes != vulkan.HeadBytes(in) || m.Probed {
		t.Fatalf("MemoryOf(gpu) = %+v, %v; want %q with %d bytes", m, err, in.Name, in.DeviceLocalBytes)
	}
	// The scratch bound is the GPU's; the CPU's is none: its activations
	// count it.
	s := vulkan.Shapes{Rows: 64, T: 64, Heads: 2, KVHeads: 1, HeadDim: 8, Hidden: 16, Intermediate: 32, Vocab: 100, Backward: true}
	if got, want := m.Scratch(s), vulkan.ScratchBytes(in, s); got <= 0 || got != want {
		t.Errorf("MemoryOf(gpu).Scratch(%+v) = %d bytes, want the device's scratch bound, %d", s, got, want)
	}
	if got := (Memory{}).Scratch(s); got != 0 {
		t.Errorf("the CPU's Scratch(%+v) = %d bytes, want 0", s, got)
	}
	m, err = MemoryOf(Auto)
	if err != nil || (m.GPU != "") != (in.Type == "discrete") {
		t.Fatalf("MemoryOf(auto) = %+v, %v with a %s device", m, err, in.Type)
	}
}

// TestFailedSaysTheWayOnOnce: a failure met while working (a lost device)
// names the device and says --device cpu once, in the caller's way on
// (resume the run, run the command again); the device's own error ends
// with the same advice, and a run's message said it twice. The cause stays
// matchable (errors.Is).
func TestFailedSaysTheWayOnOnce(t *testing.T) {
	lost := &vulkan.Error{Kind: vulkan.ErrDeviceLost, Device: "llvmpipe", Op: "wait for a batch", Err: errors.New("VK_ERROR_DEVICE_LOST")}
	be := compute.NewCPU()
	for _, c := range []struct {
		name   string
		err    error
		wayOn  string
		vulkan bool   // the cause holds lost, whose text must stay
		starts string // what the message starts with: what failed, and where
	}{
		{"a run's step", lost, ResumeOnCPU, true, "step 0: vulkan (llvmpipe): "},
		{"wrapped on the way up", fmt.Errorf("step 0: sampling: %w", lost), ResumeOnCPU, true, "step 0: sampling: vulkan (llvmpipe): "},
		{"the work's error and the device's", errors.Join(fmt.Errorf("score: %w", lost), lost), "run it again with --device cpu", true, "step 0: score: vulkan (llvmpipe): "},
		{"a cause without the advice", errors.New("device lost: VK_ERROR_DEVICE_LOST"), ResumeOnCPU, false, "step 0 on " + be.Name() + ": device lost"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := FailedWith(be, "step 0", c.err, c.wayOn)
			if c.wayOn == ResumeOnCPU {
				if plain := Failed(be, "step 0", c.err); plain.Error() != err.Error() {
					t.Errorf("Failed says %q, FailedWith with ResumeOnCPU %q", plain, err)
				}
			}
			msg := err.Error()
			if n := strings.Count(msg, "--device cpu"); n != 1 {
				t.Errorf("--device cpu said %d times, want once:\n%s", n, msg)
			}
			if !strings.HasPrefix(msg, c.starts) || !strings.HasSuffix(msg, "; "+c.wayOn) {
				t.Errorf("%q: want it to start %q (what failed, on which device, each once) and end with the way on", msg, c.starts)
			}
			if strings.Count(msg, "step 0") != 1 {
				t.Errorf("%q: what failed said more than once", msg)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("%v does not wrap its cause", err)
			}
			// A run records it so (sessions.EventRecord.Fault), so that
			// its way on is not read from these words.
			if f := event.FaultOf(fmt.Errorf("checkpoint: %w", err)); f != event.FaultDevice {
				t.Errorf("event.FaultOf(%v) = %q, want %q", err, f, event.FaultDevice)
			}
			if c.vulkan && (!errors.Is(err, vulkan.ErrDeviceLost) || !strings.Contains(msg, "vulkan (llvmpipe): wait for a batch: device lost: VK_ERROR_DEVICE_LOST")) {
				t.Errorf("%q: want the device's own error kept, its device named, and matchable", msg)
			}
		})
	}
}

// TestUnusable: a device a command cannot compute on is found by probing,
// as MemoryOf probes (a resume asks before its run is opened for writing),
// said without the device's own advice to compute on the CPU, which the
// caller words (cpu: true); a mistyped Vulkan setting's way on is the
// setting, not the CPU (cpu: false). cpu and auto always compute.
func TestUnusable(t *testing.T) {
	gpus, _ := GPUs()
	missing := fmt.Sprintf("gpu:%d", len(gpus)) // one past the last the loader lists
	for _, c := range []struct {
		name, env string // env: a Vulkan setting's bad value; needs a device
		cpu       bool
		want      string // the error's start; "" = usable
	}{
		{name: CPU},
		{name: Auto},
		{name: missing, cpu: true, want: "device " + missing + ": "},
		{name: "gpu:0", env: "RLT_VULKAN_GEMM", want: "RLT_VULKAN_GEMM"},
	} {
		t.Run(c.name+c.env, func(t *testing.T) {
			if c.env != "" {
				if len(gpus) == 0 {
					backendtest.NeedDevice(t, errors.New("the loader lists none"))
				}
				t.Setenv(c.env, "96")
			}
			cpu, err := Unusable(c.name)
			if c.want == "" {
				if err != nil {
					t.Errorf("Unusable(%s) = %v", c.name, err)
				}
				return
			}
			msg := fmt.Sprint(err)
			if err == nil || cpu != c.cpu || !strings.Contains(msg, c.want) || strings.Contains(msg, "--device cpu") {
				t.Errorf("Unusable(%s) = %v, %v; want cpu %v and an error saying %q, without --device cpu", c.name, cpu, err, c.cpu, c.want)
			}
		})
	}
}

// probeThenOpen does in a test's child process what a command does to
// compute on name: MemoryOf(name), before anything is loaded, then
// Open(name). An error is printed and the child exits 2.
func probeThenOpen(name string) (compute.Backend, event.DeviceChoice) {
	if _, err := MemoryOf(name); err != nil {
		fmt.Println("MemoryOf:", err)
		os.Exit(2)
	}
	be, c, err := Open(name, MatmulF32)
	if err != nil {
		fmt.Println("Open:", err)
		os.Exit(2)
	}
	return be, c
}

// TestAutoProbesOnce: a command asks where --device auto computes
// (MemoryOf, before anything is loaded) and then opens it (Open). With no
// discrete GPU (lavapipe alone) auto takes the CPU, and the Vulkan devices
// are listed once, by MemoryOf's probe: Open listed them again, opening
// lavapipe and building its pipelines to find it no discrete GPU. The
// Vulkan instances are counted in the loader's own log
// (VK_LOADER_DEBUG=driver: one search for the drivers an instance), of a
// child process that starts with none.
func TestAutoProbesOnce(t *testing.T) {
	if os.Getenv("RLT_TEST_AUTO_CHILD") == "1" {
		be, c := probeThenOpen("auto")
		fmt.Printf("auto took %s: %s\n", be.Name(), c.Why)
		Close(be)
		os.Exit(0)
	}
	in := probed(t)
	if in.Type == "discrete" {
		t.Skipf("%s is a discrete GPU: auto opens it, an instance of its own", in.Name)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAutoProbesOnce$")
	cmd.Env = append(os.Environ(), "RLT_TEST_AUTO_CHILD=1", "VK_LOADER_DEBUG=driver")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	n := strings.Count(stderr.String(), "Searching for driver manifest files")
	if out := stdout.String(); err != nil || n != 1 || !strings.HasPrefix(out, "auto took cpu") || !strings.Contains(out, ": no discrete GPU: "+in.Name) {
		t.Fatalf("MemoryOf(auto) then Open(auto) on %s: %v, %d Vulkan instances, want 1, and the CPU taken:\n%s", in.Name, err, n, stdout.String())
	}
}

// TestProbeAndOpenShareAnInstance: a command asks where --device gpu
// computes (MemoryOf, before anything is loaded) and then opens it (Open):
// the probe's Vulkan instance is the one the device opens on (vulkan's
// spare), where Open made a second, a driver search and start again (10
// to 100 ms on a real driver, its notices printed twice). So does auto on
// a discrete GPU. Counted as TestAutoProbesOnce counts them, in a child
// process's loader log: 2 before, 1 now.
func TestProbeAndOpenShareAnInstance(t *testing.T) {
	if os.Getenv("RLT_TEST_SHARE_CHILD") == "1" {
		be, c := probeThenOpen("gpu")
		fmt.Printf("gpu took %s (%s)\n", be.Name(), c.GPU)
		Close(be)
		os.Exit(0)
	}
	probed(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestProbeAndOpenShareAnInstance$")
	cmd.Env = append(os.Environ(), "RLT_TEST_SHARE_CHILD=1", "VK_LOADER_DEBUG=driver")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	n := strings.Count(stderr.String(), "Searching for driver manifest files")
	if out := stdout.String(); err != nil || n != 1 || !strings.HasPrefix(out, "gpu took vulkan/") {
		t.Fatalf("MemoryOf(gpu) then Open(gpu): %v, %d Vulkan instances, want 1, and the GPU opened:\n%s", err, n, stdout.String())
	}
}

// TestAutoOnTheCPULetsTheProbeGo: where --device auto takes the CPU (no
// discrete GPU), the instance MemoryOf's probe kept for Open (vulkan's
// spare) is destroyed, and the driver with it: it stayed loaded for the
// rest of the process, lavapipe's libvulkan_lvp (with LLVM) mapped in a
// command computing on the CPU. Read in a child process's memory map
// after MemoryOf(auto) then Open(auto): Mesa's and other drivers'
// libraries are named libvulkan_*; the loader's own, libvulkan.so.1, stays.
// Only lavapipe's own library is asked to be gone: whether the loader can
// unload another driver it searched is that driver's affair (Mesa 26's
// libvulkan_nouveau stays mapped after its instance is destroyed).
func TestAutoOnTheCPULetsTheProbeGo(t *testing.T) {
	if os.Getenv("RLT_TEST_RELEASE_CHILD") == "1" {
		be, c := probeThenOpen("auto")
		maps, err := os.ReadFile("/proc/self/maps")
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		var drivers []string
		for _, line := range strings.Split(string(maps), "\n") {
			if i := strings.Index(line, "/libvulkan_"); i >= 0 && !slices.Contains(drivers, line[i:]) {
				drivers = append(drivers, line[i:])
			}
		}
		fmt.Printf("auto took %s: %s; drivers mapped: %q\n", be.Name(), c.Why, drivers)
		Close(be)
		os.Exit(0)
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/maps")
	}
	in := probed(t)
	if in.Type == "discrete" {
		t.Skipf("%s is a discrete GPU: auto opens it", in.Name)
	}
	if !strings.HasPrefix(in.Name, "llvmpipe") {
		t.Skipf("%s is not lavapipe, whose driver library this test knows", in.Name)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAutoOnTheCPULetsTheProbeGo$")
	cmd.Env = append(os.Environ(), "RLT_TEST_RELEASE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "auto took cpu") || strings.Contains(string(out), "/libvulkan_lvp.so") {
		t.Fatalf("MemoryOf(auto) then Open(auto) on %s: %v, want the CPU taken and lavapipe's libvulkan_lvp.so no longer mapped:\n%s", in.Name, err, out)
	}
}

// TestOpenSaysTheSharedMemory: a device whose shared memory a workgroup
// cannot hold some fast kernels (here attention's float32 tiles, under
// RLT_VULKAN_MAX_SHARED) leaves them out unbuilt, and --device says that,
// with the limit, where it said the device failed to build them.
func TestOpenSaysTheSharedMemory(t *testing.T) {
	probed(t)
	t.Setenv("RLT_VULKAN_MAX_SHARED", "22024")
	be, c, err := Open(GPU, "")
	if err != nil {
		t.Fatal(err)
	}
	defer Close(be)
	want := "; without its fast kernels attn_fa_dq32, attn_fa_dq16, attn_fa_dkv32, attn_fa_dkv16, which need more shared memory a workgroup than its 22024 bytes"
	if !strings.HasSuffix(c.Why, want) || strings.Contains(c.Why, "failed to build") {
		t.Errorf("--device gpu at 22,024 bytes of shared memory: %q, want it to end %q", c.Why, want)
	}
}

// TestAutoSaysWhyTheGPUCannotCompute: where the device auto would take
// cannot compute, the CPU's line says what stopped it: the device, the
// kernel and the limit (a shared-memory refusal, as a device under
// Vulkan's 16 KiB would give), or the loader's finding; it said the kind
// alone ("no usable GPU (compute pipeline creation failed)"). No Vulkan
// loader at all is said by its kind, which names what to install.
func TestAutoSaysWhyTheGPUCannotCompute(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&vulkan.Error{Kind: vulkan.ErrPipeline, Device: "SmallGPU", Op: "build kernel shortlist", Err: errors.New("needs 22024 bytes of shared memory, the device has 16384")},
			"no usable GPU (compute pipeline creation failed): SmallGPU: build kernel shortlist: needs 22024 bytes of shared memory, the device has 16384"},
		{&vulkan.Error{Kind: vulkan.ErrNoDevice, Op: "list devices", Err: errors.New("the loader found no device (install a driver, e.g. mesa-vulkan-drivers for lavapipe)")},
			"no usable GPU (no usable Vulkan device): list devices: the loader found no device (install a driver, e.g. mesa-vulkan-drivers for lavapipe)"},
		{&vulkan.Error{Kind: vulkan.ErrOutOfMemory, Device: "SmallGPU", Op: "create a device"},
			"no usable GPU (out of device memory): SmallGPU: create a device"},
		{&vulkan.Error{Kind: vulkan.ErrNoLoader, Op: "load the Vulkan loader", Err: errors.New("libvulkan.so.1: cannot open shared object file")},
			"no usable GPU (" + vulkan.ErrNoLoader.Error() + ")"},
		{errors.New("no 64-bit platform"), "no usable GPU"},
	} {
		if got := noAutoGPU(vulkan.Info{}, c.err); got != c.want {
			t.Errorf("auto after %v:\n got %q\nwant %q", c.err, got, c.want)
		}
	}
}

// TestAutoSaysTheGPUsPassedOver: a device passed over in the ranking
// because it cannot compute (vulkan.Info.PassedOver) is said on the device
// line, with why: where auto, left with lavapipe's CPU device, takes the
// CPU, and where a GPU after it is taken (gpuChoice).
func TestAutoSaysTheGPUsPassedOver(t *testing.T) {
	said := "gpu:0 Small (discrete) cannot build kernel gemm: needs 8320 bytes of shared memory, the device has 8192"
	in := vulkan.Info{Name: "llvmpipe", Type: "cpu", PassedOver: []string{said}}
	want := "no discrete GPU: llvmpipe is a cpu device, which --device gpu uses; passed over " + said
	if got := noAutoGPU(in, nil); got != want {
		t.Errorf("auto past a small GPU:\n got %q\nwant %q", got, want)
	}
	in.Type = "discrete"
	if got := noAutoGPU(in, nil); got != "" {
		t.Errorf("auto on a discrete GPU after a small one: %q, want it taken", got)
	}
}

// A probe that found no Vulkan loader (a host without libvulkan) loaded
// no driver: MemoryOf(auto) takes the CPU without Probed, whose 64 MiB
// every estimate counts as "the Vulkan driver --device auto loaded to look
// for a GPU" (it counted them where nothing was loaded), the first time
// and from the remembered answer.
func TestMemoryOfWithoutLoaderProbedNothing(t *testing.T) {
	autoMu.Lock()
	oldWhy, oldNoLoader := autoNoGPU, autoNoLoader
	autoNoGPU = ""
	autoMu.Unlock()
	defer func() { autoMu.Lock(); autoNoGPU, autoNoLoader = oldWhy, oldNoLoader; autoMu.Unlock() }()
	t.Setenv("RLT_VULKAN_LOADER", "/nonexistent/libvulkan.so.1")
	for _, when := range []string{"probing", "remembered"} {
		m, err := MemoryOf(Auto)
		if err != nil || m.GPU != "" || m.Probed {
			t.Errorf("%s: MemoryOf(auto) without a loader = %+v, %v; want the CPU, no driver loaded (Probed false)", when, m, err)
		}
	}
}
