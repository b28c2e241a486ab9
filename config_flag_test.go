package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigFlagNamesWhatItGot: a --config that is not there, or that is
// a folder (a run folder, whose config.toml was meant), is said with the
// flag and what to give, not in os.ReadFile's words ("open x.toml: no
// such file or directory", "read DIR: is a directory").
func TestConfigFlagNamesWhatItGot(t *testing.T) {
	tmp := t.TempDir()
	missing := filepath.Join(tmp, "run.toml")
	empty := filepath.Join(tmp, "empty")
	run := filepath.Join(tmp, "run")
	for _, d := range []string{empty, run} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(run, "config.toml"), []byte("steps = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// start names the command's own --print-config: rlt train's defaults
	// are not the embedded run's (rlt run's named rlt train's).
	start := func(cmd string) string {
		return "give a TOML run configuration (rlt " + cmd + " --print-config writes one to start from)"
	}
	runs := filepath.Join(tmp, "runs")
	for _, c := range []struct {
		config string
		want   func(cmd string) string
	}{
		{missing, func(cmd string) string { return "--config " + missing + ": no such file: " + start(cmd) }},
		{empty, func(cmd string) string { return "--config " + empty + " is a folder, not a file: " + start(cmd) }},
		{run, func(string) string {
			return "--config " + run + " is a folder, not a file: give its config.toml (" + filepath.Join(run, "config.toml") + ") to start from that run's configuration"
		}},
	} {
		// rlt run --config says it in the same words (configFileProblem):
		// it said os.ReadFile's.
		for _, cmd := range [][]string{
			{"train"}, {"train", "--print-config"}, {"run", "--headless", "--runs", runs}, {"run", "--print-config"},
		} {
			args := append(append([]string{}, cmd...), "--config", c.config)
			code, _, errs := runCLI(t, "", args...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			want := "rlt " + cmd[0] + ": " + c.want(cmd[0])
			if last := lines[len(lines)-1]; code != 1 || last != want {
				t.Errorf("rlt %v: exit %d, last line %q; want exit 1 and %q", args, code, last, want)
			}
		}
	}
	if _, err := os.Stat(runs); !os.IsNotExist(err) {
		t.Errorf("rlt run with a --config it cannot read made %s (%v); want nothing written", runs, err)
	}
}
