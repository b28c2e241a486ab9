package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/device"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestContinueCommand: the command the workbench prints on exit for each
// run it trained continues that run as it can go on: a run whose device
// failed (lost, out of its memory) resumes on the CPU, as the failure
// says and docs/gpu.md does (`rlt run --resume DIR --device cpu`); it
// printed `rlt run --resume DIR`, which takes the run's config.toml device
// (the GPU) again.
func TestContinueCommand(t *testing.T) {
	lost := device.Failed(compute.NewCPU(), "step 1", errors.New("vulkan (llvmpipe): wait for a batch: device lost: VK_ERROR_DEVICE_LOST"))
	for _, c := range []struct {
		name, events string
		want         string // after "rlt run --resume DIR"
	}{
		{"device lost", `{"kind":"error","step":1,"error":` + strconv.Quote(lost.Error()) + `,"fatal":true,"severity":"error"}`, " --device cpu"},
		{"other failure", `{"kind":"error","step":1,"error":"step 1: checkpoint: no space left on device","fatal":true,"severity":"error"}`, ""},
		{"stopped", `{"kind":"phase","step":1,"name":"stopped"}`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			events := `{"time":"2026-12-05T05:06:13Z","kind":"create","step":0,"pid":1}
{"time":"2026-12-05T05:06:14Z","kind":"device","step":0,"device":{"backend":"vulkan/llvmpipe","gpu":"gpu:0","why":"asked for"}}
` + strings.Replace(c.events, "{", `{"time":"2026-12-05T05:07:00Z",`, 1) + `
{"time":"2026-12-05T05:07:01Z","kind":"close","step":1}
`
			if err := os.WriteFile(filepath.Join(dir, "events.jsonl"), []byte(events), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte("device = 'gpu'\nsteps = 3\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if got, want := sessions.ResumeCommand(dir), "rlt run --resume "+sessions.ShellQuote(dir)+c.want; got != want {
				t.Errorf("ResumeCommand = %q, want %q", got, want)
			}
		})
	}
}

// TestContinueLine: the line the workbench prints on exit under a run it
// trained continues the run from its checkpoint, or, for one with no
// usable checkpoint (a full disk at its first), starts it again from its
// configuration: it said `rlt run --resume`, which is refused there.
func TestContinueLine(t *testing.T) {
	for _, c := range []struct {
		name       string
		checkpoint bool
		want       string // after the run folder
	}{
		{"a checkpoint", true, "continue it: rlt run --resume "},
		{"none", false, "it has no checkpoint to continue from; start it again: rlt run --config "},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r, err := sessions.Create(dir, runpkg.DefaultConfig("teacher", "student"))
			if err != nil {
				t.Fatal(err)
			}
			if c.checkpoint {
				save := func(d string) error { return os.WriteFile(filepath.Join(d, "note.txt"), []byte("step 0\n"), 0o644) }
				if _, err := r.SaveCheckpoint(0, save, sessions.CheckpointState{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			want := c.want + sessions.ShellQuote(dir)
			if !c.checkpoint {
				want = c.want + sessions.ShellQuote(filepath.Join(dir, sessions.ConfigFile))
			}
			if got := sessions.ContinueLine(dir); got != want {
				t.Errorf("ContinueLine = %q, want %q", got, want)
			}
		})
	}
}
