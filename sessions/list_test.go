package sessions

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// TestPreviousFormatDevice: folders written before KindDevice named the
// device in a "device" phase, as the choice's text; it reads back as the
// choice (label and text as the run showed them), and a device event
// written now round-trips as fields.
func TestPreviousFormatDevice(t *testing.T) {
	cases := []struct {
		text  string
		want  event.DeviceChoice
		label string
	}{
		{"cpu/avx512 (asked for)", event.DeviceChoice{Backend: "cpu/avx512", Why: "asked for"}, "cpu/avx512"},
		{"vulkan/NVIDIA H200 (gpu:1, a discrete GPU; products on tensor cores (float16 operands, float32 sums))",
			event.DeviceChoice{Backend: "vulkan/NVIDIA H200", GPU: "gpu:1", Why: "a discrete GPU", Matmul: "products on tensor cores (float16 operands, float32 sums)", F16: true},
			"vulkan/NVIDIA H200 gpu:1 f16"},
		{"vulkan/llvmpipe (LLVM 15.0.6, 256 bits) (gpu:0, asked for; without its fast kernels gemv, which it failed to build)",
			event.DeviceChoice{Backend: "vulkan/llvmpipe (LLVM 15.0.6, 256 bits)", GPU: "gpu:0", Why: "asked for; without its fast kernels gemv, which it failed to build"},
			"vulkan/llvmpipe gpu:0"},
		{"vulkan/H200 (a discrete GPU; products in float32, not f16: H200 has none)", // a run from before gpu:N
			event.DeviceChoice{Backend: "vulkan/H200", Why: "a discrete GPU", Matmul: "products in float32, not f16: H200 has none"}, "vulkan/H200"},
		{"cpu/avx2", event.DeviceChoice{Backend: "cpu/avx2"}, "cpu/avx2"},
	}
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	for _, c := range cases { // as the previous version's engine emitted it
		w.Emit(event.Phase{Time: time.Now(), Name: "device", Extra: c.text})
	}
	now := event.DeviceChoice{Backend: "vulkan/NVIDIA H200 (rev 2)", GPU: "gpu:3", Why: "asked for; without its fast kernels gemv, which it failed to build"}
	w.Emit(event.Device{Time: time.Now(), Step: 4, DeviceChoice: now})
	w.Close()
	r, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []EventRecord
	evs, _ := r.Store().EventsSince(0)
	for _, e := range evs {
		if e.Kind == KindDevice {
			got = append(got, e)
		} else if e.Kind == KindPhase {
			t.Errorf("phase %q (%q) read back; want every device phase read as a device event", e.Name, e.Extra)
		}
	}
	if len(got) != len(cases)+1 {
		t.Fatalf("%d device events, want %d", len(got), len(cases)+1)
	}
	for i, c := range cases {
		d := got[i].Device
		if d.Label() != c.label {
			t.Errorf("%q: label %q, want %q", c.text, d.Label(), c.label)
		}
		if d != c.want || d.String() != c.text {
			t.Errorf("%q reads as %+v (%q), want %+v", c.text, d, d, c.want)
		}
	}
	if last := got[len(cases)]; last.Device != now || last.Step != 4 || last.Name != "" || last.Extra != "" {
		t.Errorf("device event written now reads back as %+v (%+v), want %+v", last, last.Device, now)
	}
	runs, err := List(filepath.Dir(dir))
	if err != nil || len(runs) != 1 || runs[0].Device != now {
		t.Errorf("List = %+v, %v; want the run's last device, %+v", runs, err, now)
	}
}

// TestDamageIsSaid: a config.toml that is not TOML and an events.jsonl line
// that is not an event are noted in the run list, and export refuses such
// a run rather than write rows with a default prompt.
func TestDamageIsSaid(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 2, 1, 1)
	w.Close()
	cfg := filepath.Join(dir, ConfigFile)
	data, _ := os.ReadFile(cfg)
	line := bytes.Count(data, []byte("\n")) + 1
	os.WriteFile(cfg, append(data, "steps = = 3\n"...), 0o644)
	ev, _ := os.OpenFile(filepath.Join(dir, EventsFile), os.O_APPEND|os.O_WRONLY, 0)
	ev.WriteString("{not an event\n")
	ev.Close()

	runs, err := List(filepath.Dir(dir))
	if err != nil || len(runs) != 1 {
		t.Fatalf("List = %v, %v", runs, err)
	}
	where := fmt.Sprintf("%s:%d:", cfg, line)
	if note := runs[0].Note; !strings.Contains(note, where) || !strings.Contains(note, "1 broken event records") {
		t.Errorf("note %q, want it to name %s and the broken event", note, where)
	}
	r, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.StudentPrompt(); err == nil || !strings.Contains(err.Error(), where) {
		t.Errorf("StudentPrompt: %v, want the config's error at %s", err, where)
	}
	var out bytes.Buffer
	if _, err := r.Export(&out, ExportStratos); err == nil || out.Len() != 0 {
		t.Errorf("Export: %v, wrote %d bytes; want a refusal and nothing written", err, out.Len())
	}
}
