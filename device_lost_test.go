package main

import (
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/device"
)

// TestCommandsOnALostDevice: rlt score and rlt logprobs on a device lost
// at any batch (RLT_VULKAN_LOSE_AFTER) write each line either as the
// CPU's numbers or as an error record, and fail; they wrote the zeros a
// lost device reads back as valid records (rewards with r_ss 0, log-probs
// of 0) beside a failure on stderr.
func TestCommandsOnALostDevice(t *testing.T) {
	if _, err := device.MemoryOf(device.GPU); err != nil {
		if os.Getenv("RLT_REQUIRE_GPU") == "1" {
			t.Fatal(err)
		}
		t.Skipf("no Vulkan device: %v", err)
	}
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
