package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A run's [reward] is read by one rule (sessions.RunReward): a key a
// hand-edited config.toml lacks is its default, as rlt run --config fills
// it. rlt score --run scores with it and says it on its reward line (it
// read 0: kl_max dropped scored with c4 0, said as the file's), unless a
// flag gives the key; rlt run --resume trains with it and says so among
// its notes (it trained at 0, unsaid). A value the engine refuses stops
// rlt score --run before any model loads, at config.toml's line with its
// key (it was said as a flag's, --temperature, which was not given),
// unless a flag gives one.
func TestRunRewardReadOneWay(t *testing.T) {
	dir, _, _ := stepRun(t)
	student, _ := filepath.Abs(embeddedStudent)
	cfgPath := filepath.Join(dir, "config.toml")
	orig, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	edited := func(old, new string) []byte {
		t.Helper()
		if !bytes.Contains(orig, []byte(old)) {
			t.Fatalf("config.toml has no %q:\n%s", old, orig)
		}
		return bytes.Replace(orig, []byte(old), []byte(new), 1)
	}
	const defaults = "reward: c1 1 c2 0.01 c3 3 c4 0.03 · penalty -1 · τ 0.7 · logratio, against the frozen student "
	from := " (" + cfgPath + "'s [reward]"
	noKLMax := edited("kl_max = 0.03\n", "")
	zeroTemp := edited("[reward]\ntemperature = 0.7\n", "[reward]\ntemperature = 0.0\n")
	line := 1 + bytes.Count(zeroTemp[:bytes.Index(zeroTemp, []byte("temperature = 0.0"))], []byte("\n"))
	for _, c := range []struct {
		name string
		text []byte
		args []string
		said string // the reward line, where it scores
		err  string // stderr's refusal, where it does not
	}{
		{"kl_max dropped", noKLMax, nil, defaults + student + from + "; not set there, so at its default: kl_max 0.03)", ""},
		{"kl_max dropped, --c4 given", noKLMax, []string{"--c4", "0"},
			"reward: c1 1 c2 0.01 c3 3 c4 0 · penalty -1 · τ 0.7 · logratio, against the frozen student " + student + from + "; the flags given win: --c4 0 over its 0.03)", ""},
		{"a temperature of 0", zeroTemp, nil, "", cfgPath + "'s [reward] cannot be scored with, so nothing was scored: mend it, or give --temperature to score with a value of your own\n" +
			fmt.Sprintf("%s:%d:1: reward.temperature 0 must be a finite positive number", cfgPath, line)},
		{"a temperature of 0, --temperature given", zeroTemp, []string{"--temperature", "0.7"},
			defaults + student + from + "; the flags given win: --temperature 0.7 over its 0)", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(cfgPath, c.text, 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errs := runCLI(t, "", append([]string{"score", "--device", "cpu", "--run", dir}, c.args...)...)
			if c.err != "" {
				if code == 0 || !strings.Contains(errs, c.err) || strings.Contains(errs, "reward: c1") {
					t.Errorf("exit %d:\n%s\nwant\n%s", code, errs, c.err)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			wantRewardSaid(t, c.name, errs, c.said, "scored ")
		})
	}

	// The resume trains with kl_max's default, and says so.
	if err := os.WriteFile(cfgPath, noKLMax, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "", "run", "--headless", "--device", "cpu", "--resume", dir, "--steps", "4")
	if want := cfgPath + "'s [reward] does not set kl_max, so the run trains with its default: kl_max 0.03\n"; code != 0 || !strings.Contains(errs, want) {
		t.Errorf("rlt run --resume of a [reward] without kl_max: exit %d:\n%s\nwant %q", code, errs, want)
	}
}
