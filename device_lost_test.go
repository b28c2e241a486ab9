package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestCommandsOnALostDevice: rlt score and rlt logprobs on a device lost
// at any batch (RLT_VULKAN_LOSE_AFTER) write each line either as the
// CPU's numbers or as an error record, and fail; they wrote the zeros a
// lost device reads back as valid records (rewards with r_ss 0, log-probs
// of 0) beside a failure on stderr.
func TestCommandsOnALostDevice(t *testing.T) {
	gpuOrSkip(t)
	teacher, student := tinyFolder(t, "f32"), tinyFolder(t, "bf16")
	for _, c := range []struct {
		name, in string
		args     []string
		number   string // the field each line's numbers are compared by
	}{
		{"score", `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1"}
{"question":"1+1=?","solution":"2","explanation":"one and one"}
`, []string{"score", "--teacher", teacher, "--student", student}, "reward"},
		{"logprobs", `{"text":"347+285=?"}
{"text":"1+1=2"}
`, []string{"logprobs", "--model", teacher}, "logprobs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, c.in, append(c.args, "--device", "cpu")...)
			if code != 0 {
				t.Fatalf("--device cpu: exit %d: %s", code, errs)
			}
			want := numbersOf(t, out, c.number)
			for n := 1; ; n++ {
				if n > 100 {
					t.Fatal("the device was still lost at batch 100")
				}
				t.Setenv("RLT_VULKAN_LOSE_AFTER", strconv.Itoa(n))
				code, out, errs := runCLI(t, c.in, append(c.args, "--device", "gpu")...)
				lost := strings.Contains(errs, "device lost")
				if lost == (code == 0) {
					t.Fatalf("lost at batch %d: exit %d, stderr:\n%s", n, code, errs)
				}
				if lost && strings.Count(errs, "--device cpu") != 1 {
					t.Errorf("lost at batch %d: stderr says --device cpu %d times, want once:\n%s", n, strings.Count(errs, "--device cpu"), errs)
				}
				got := numbersOf(t, out, c.number)
				if len(got) != len(want) {
					t.Fatalf("lost at batch %d: %d lines, want %d:\n%s", n, len(got), len(want), out)
				}
				for i, g := range got {
					if g == nil { // an error record
						if !lost {
							t.Errorf("batch %d never lost: line %d is an error record", n, i+1)
						}
						continue
					}
					for k, w := range want[i] {
						if math.Abs(g[k]-w) > 1e-4*(1+math.Abs(w)) {
							t.Errorf("lost at batch %d: line %d's %s[%d] is %v, the CPU's %v:\n%s", n, i+1, c.number, k, g[k], w, out)
							break
						}
					}
				}
				if !lost {
					break
				}
			}
		})
	}
}

// TestARunOnALostDeviceSaysTheWayOnOnce: a run whose GPU is lost, in a
// step or while a checkpoint reads the weights back, stops with the device
// named and --device cpu said once, in the run's own way on (resume it on
// the CPU), on each line that says so; the device's error ended with its
// own advice to use --device cpu, so each line said it twice, and a loss in
// a checkpoint said only that advice, so the workbench's exit line left
// --device cpu out. The command that continues the run is rlt run --resume
// DIR --device cpu.
func TestARunOnALostDeviceSaysTheWayOnOnce(t *testing.T) {
	where := gpuOrSkip(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, c := range []struct {
		name            string
		checkpointEvery string
		// lose: the batches to lose the device at, tried in turn until
		// the loss lands where the case wants it (within).
		lose   []int
		within string
	}{
		// No checkpoints: the loss comes early in step 0's sampling.
		{"in a step", "0", []int{5}, "step 0"},
		// Each checkpoint reads every weight back, many batches.
		{"in a checkpoint", "1", []int{300, 600, 250, 450, 800}, "checkpoint of step"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfgPath := filepath.Join(t.TempDir(), "small.toml")
			if err := os.WriteFile(cfgPath, []byte(strings.Replace(smallRun, "checkpoint_every = 1", "checkpoint_every = "+c.checkpointEvery, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			var errs, dir string
			for _, n := range c.lose {
				t.Setenv("RLT_VULKAN_LOSE_AFTER", strconv.Itoa(n))
				runs := t.TempDir()
				code, out, stderr := runCLI(t, "", "run", "--headless", "--device", "gpu", "--steps", "3", "--runs", runs, "--config", cfgPath)
				if code == 0 {
					continue // lost after the run's last batch
				}
				entries, err := os.ReadDir(runs)
				if err != nil || len(entries) != 1 {
					t.Fatalf("run folders: %v %v\n%s%s", entries, err, out, stderr)
				}
				if strings.Contains(stderr, c.within) {
					errs, dir = stderr, filepath.Join(runs, entries[0].Name())
					break
				}
			}
			if dir == "" {
				t.Fatalf("no loss at batches %v landed %s", c.lose, c.within)
			}
			said := 0
			for _, line := range strings.Split(errs, "\n") {
				if !strings.Contains(line, "device lost") {
					continue
				}
				said++
				if n := strings.Count(line, "--device cpu"); n != 1 {
					t.Errorf("--device cpu said %d times, want once:\n%s", n, line)
				}
				if !strings.Contains(line, "vulkan ("+where.GPU+")") || !strings.HasSuffix(line, "; "+device.ResumeOnCPU) {
					t.Errorf("want the device (%s) named and the way on (%q) at the end:\n%s", where.GPU, device.ResumeOnCPU, line)
				}
			}
			if said == 0 {
				t.Fatalf("no line says the device was lost:\n%s", errs)
			}
			if got, want := sessions.ResumeCommand(dir), "rlt run --resume "+sessions.ShellQuote(dir)+" --device cpu"; got != want {
				t.Errorf("ResumeCommand = %q, want %q", got, want)
			}
		})
	}
}

// numbersOf reads each JSON line's field (a number or an array of numbers
// and nulls, nulls left out); nil for a line that is an error record.
func numbersOf(t *testing.T, out, field string) [][]float64 {
	t.Helper()
	var lines [][]float64
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var rec map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if _, ok := rec["error"]; ok {
			lines = append(lines, nil)
			continue
		}
		var one float64
		var many []*float64
		var vals []float64
		if err := json.Unmarshal(rec[field], &one); err == nil {
			vals = []float64{one}
		} else if err := json.Unmarshal(rec[field], &many); err == nil {
			for _, v := range many {
				if v != nil {
					vals = append(vals, *v)
				}
			}
		} else {
			t.Fatalf("%q: no %s", l, field)
		}
		lines = append(lines, vals)
	}
	return lines
}
