package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRunName: rlt run --name NAME names the new run's folder after the
// time and NAME (runs/20261208-000330-lam3), so that a sweep's runs read
// apart in rlt sessions, the Runs screen, the dashboard's legend and rlt
// report; rlt sessions widens its RUN column to a name past 20 characters
// (its columns stayed at 20, a long name's row pushed out from under the
// header). A name that is not one portable word, or --name with --resume,
// is refused before any folder is made. There was no way to name a run:
// a sweep's folders were times alone.
func TestRunName(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := filepath.Join(t.TempDir(), "small.toml")
	if err := os.WriteFile(cfg, []byte(smallRun), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(t.TempDir(), "runs")
	const long = "kl_mean=0.5-seed2"
	for _, name := range []string{"lam3", long} {
		code, _, errs := runCLI(t, "", "run", "--headless", "--device", "cpu", "--steps", "1", "--runs", runs, "--config", cfg, "--name", name)
		if code != 0 {
			t.Fatalf("--name %s: exit %d: %s", name, code, errs)
		}
	}
	entries, err := os.ReadDir(runs)
	if err != nil || len(entries) != 2 {
		t.Fatalf("runs: %v, %v", entries, err)
	}
	for _, want := range []string{"lam3", long} {
		found := false
		for _, e := range entries { // by name: both may share a second
			ok, _ := regexp.MatchString(`^\d{8}-\d{6}-`+regexp.QuoteMeta(want)+`$`, e.Name())
			found = found || ok
		}
		if !found {
			t.Errorf("run folders %v, want one <time>-%s", entries, want)
		}
	}
	code, out, errs := runCLI(t, "", "sessions", "--runs", runs)
	if code != 0 {
		t.Fatalf("sessions: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	at := strings.Index(lines[0], "STATE")
	for _, l := range lines[1:] {
		if strings.Index(l, "finished") != at {
			t.Errorf("sessions: a row's state is not under STATE:\n%s", out)
		}
	}

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"a slash", []string{"--name", "a/b"}, `--name "a/b" holds '/'`},
		{"a space", []string{"--name", "lam 3"}, `--name "lam 3" holds ' '`},
		{"dots alone", []string{"--name", ".."}, `--name ".." is no name`},
		{"a dot at its end", []string{"--name", "lam."}, `--name "lam." ends in '.'`},
		{"too long", []string{"--name", strings.Repeat("x", 65)}, "is 65 bytes long"},
		{"with --resume", []string{"--name", "lam3", "--resume", filepath.Join(runs, entries[0].Name())}, "--name with --resume"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fresh := filepath.Join(t.TempDir(), "runs")
			args := append([]string{"run", "--headless", "--device", "cpu", "--steps", "1", "--runs", fresh, "--config", cfg}, c.args...)
			if c.name == "with --resume" {
				args = append([]string{"run", "--headless", "--runs", fresh}, c.args...)
			}
			code, _, errs := runCLI(t, "", args...)
			if code != 2 || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d:\n%s\nwant exit 2 saying %q", code, errs, c.want)
			}
			// A bad value is its line and the way to the usage, not the
			// usage first (badValue); a wrong call's usage is printed.
			if lines := strings.Split(strings.TrimSpace(errs), "\n"); c.name != "with --resume" && (len(lines) != 2 || lines[1] != "See 'rlt run --help'.") {
				t.Errorf("a bad --name said\n%s\nwant its line and See 'rlt run --help'. alone", errs)
			}
			if _, err := os.Stat(fresh); !os.IsNotExist(err) {
				t.Errorf("%s made (%v): a refused name makes no folder", fresh, err)
			}
		})
	}
}
