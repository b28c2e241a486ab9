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
	const start = "give a TOML run configuration (rlt train --print-config writes one to start from)"
	for _, c := range []struct {
		config, want string
	}{
		{missing, "rlt train: --config " + missing + ": no such file: " + start},
		{empty, "rlt train: --config " + empty + " is a folder, not a file: " + start},
		{run, "rlt train: --config " + run + " is a folder, not a file: give its config.toml (" + filepath.Join(run, "config.toml") + ") to start from that run's configuration"},
	} {
		for _, extra := range [][]string{nil, {"--print-config"}} {
			args := append([]string{"train", "--config", c.config}, extra...)
			code, _, errs := runCLI(t, "", args...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if last := lines[len(lines)-1]; code != 1 || last != c.want {
				t.Errorf("rlt %v: exit %d, last line %q; want exit 1 and %q", args, code, last, c.want)
			}
		}
	}
}
