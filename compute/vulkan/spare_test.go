package vulkan

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/rlt-workbench/rlt/compute/backendtest"
)

// probeOrSkip probes the device Open would take (no pipelines built):
// skipped where none is, a failure under RLT_REQUIRE_GPU=1.
func probeOrSkip(t *testing.T) {
	t.Helper()
	_, err := Probe()
	backendtest.NeedDevice(t, err)
}

// TestSpareNotTakenUnderAnotherEnvironment: the loader finds its drivers
// and implicit layers through more than its VK_ variables (XDG_DATA_DIRS,
// XDG_CONFIG_DIRS, XDG_DATA_HOME, XDG_CONFIG_HOME, HOME on Linux; an
// implicit layer's own enable_environment and disable_environment, such as
// Mesa's device select layer's NODEVICE_SELECT), so a probe's instance
// made before such a variable changed is not what a probe or an open now
// would make: with the drivers hidden through them, the probe finds none.
func TestSpareNotTakenUnderAnotherEnvironment(t *testing.T) {
	probeOrSkip(t) // leaves the spare, made with the drivers in view
	for _, k := range []string{"VK_ICD_FILENAMES", "VK_DRIVER_FILES", "VK_ADD_DRIVER_FILES"} {
		if _, ok := os.LookupEnv(k); ok {
			t.Skipf("%s names the drivers, so the XDG folders do not hide them", k)
		}
	}
	dir := t.TempDir()
	for _, k := range []string{"XDG_DATA_DIRS", "XDG_CONFIG_DIRS", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "HOME"} {
		t.Setenv(k, dir)
	}
	if _, err := os.Stat("/etc/vulkan/icd.d"); err == nil {
		if m, _ := os.ReadDir("/etc/vulkan/icd.d"); len(m) > 0 {
			t.Skip("/etc/vulkan/icd.d lists drivers, which no XDG folder hides")
		}
	}
	info, err := Probe()
	if err == nil {
		t.Fatalf("Probe took %s with no driver in the loader's folders: the probe before left its instance, made with the drivers in view, and it was taken", info.Name)
	}
	if !errors.Is(err, ErrNoDevice) {
		t.Errorf("error %q: want ErrNoDevice", err)
	}
}

// TestConcurrentProbesAndOpens: probes, opens and ReleaseSpare (--device
// auto taking the CPU) of one process at once pass the spare between them
// (at most one kept, each instance owned by one, a released one by none):
// each finds the device, and each opened one computes and closes (go test
// -race).
func TestConcurrentProbesAndOpens(t *testing.T) {
	probeOrSkip(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%4 != 3 {
				_, errs[i] = Probe()
				if i%4 == 1 {
					ReleaseSpare()
				}
				return
			}
			d, err := Open()
			if err != nil {
				errs[i] = err
				return
			}
			defer d.Close()
			x, err := d.New("x", 3)
			if err == nil {
				err = d.Write(x, []float32{1, 2, 3})
			}
			got := make([]float32, 3)
			if err == nil {
				err = d.Read(got, x)
			}
			if err != nil || got[2] != 3 {
				errs[i] = fmt.Errorf("read back %v, %v", got, err)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if _, err := Probe(); err != nil { // after the opened ones closed theirs
		t.Error(err)
	}
}
