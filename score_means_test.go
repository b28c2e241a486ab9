package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestScoreRunSaysTheMeans: rlt score --run ends with the means of the
// rewards it wrote (reward, r_SS, r_KL, to 3 decimals as rlt run's step
// lines), so that a λ sweep's runs, each rescored under one λ (--c3),
// compare without a script over the JSON Lines; the lines already stored
// count, as they are written too. It said how many it scored, not what.
func TestScoreRunSaysTheMeans(t *testing.T) {
	dir, _, _ := stepRun(t)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"the run's reward", nil},
		{"λ 9", []string{"--c3", "9"}},
		{"λ 9 stored", []string{"--c3", "9", "--write"}},
		{"λ 9 read back as stored", []string{"--c3", "9", "--write"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", append([]string{"score", "--device", "cpu", "--run", dir}, c.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var n int
			var reward, rss, rkl float64
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				var s struct {
					Reward float64 `json:"reward"`
					RSS    float64 `json:"r_ss"`
					RKL    float64 `json:"r_kl"`
				}
				if err := json.Unmarshal([]byte(l), &s); err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
				n++
				reward, rss, rkl = reward+s.Reward, rss+s.RSS, rkl+s.RKL
			}
			k := float64(n)
			want := fmt.Sprintf("\nmean of the %d scores written: reward %.3f · r_SS %.3f · r_KL %.3f\n", n, reward/k, rss/k, rkl/k)
			if n < 2 || !strings.Contains(errs, want) {
				t.Errorf("stderr\n%s\nwant the means of its %d lines: %q", errs, n, want)
			}
		})
	}
}
