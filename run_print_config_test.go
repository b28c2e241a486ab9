package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunPrintConfig: rlt run --print-config prints the configuration a
// new run would record, the embedded run's with --config's keys and the
// flags over it, checked as the run checks it, and makes no run folder;
// what it prints runs as a --config and prints the same again. There was
// no such flag: the one printed configuration, rlt train --print-config's,
// is not the embedded run's (its micro_batch_tokens 8192, not 2048; the
// prompts not the embedded models'), so a λ sweep's files were written
// from the wrong defaults.
func TestRunPrintConfig(t *testing.T) {
	tmp := t.TempDir()
	runs := filepath.Join(tmp, "runs")
	sweep := filepath.Join(tmp, "lam9.toml")
	if err := os.WriteFile(sweep, []byte("steps = 10\n[reward]\nkl_mean = 9.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(tmp, "bad.toml")
	if err := os.WriteFile(bad, []byte("[reward]\nkl_mean = -1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want []string // lines of the printed configuration
	}{
		{"the embedded run's", nil, []string{"steps = 0", "kl_mean = 3.0", "micro_batch_tokens = 2048", "student_system = 'Solve: thought, then solution.'"}},
		{"a file's keys and a flag over them", []string{"--config", sweep, "--steps", "4"}, []string{"steps = 4", "kl_mean = 9.0", "micro_batch_tokens = 2048"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"run", "--print-config", "--runs", runs}, c.args...)
			code, out, errs := runCLI(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			lines := strings.Split(out, "\n")
			for _, w := range c.want {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("no line %q in\n%s", w, out)
				}
			}
			if _, err := os.Stat(runs); !os.IsNotExist(err) {
				t.Errorf("--print-config made %s (%v): it makes no run folder", runs, err)
			}
			printed := filepath.Join(t.TempDir(), "printed.toml")
			if err := os.WriteFile(printed, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			code, again, errs := runCLI(t, "", "run", "--print-config", "--runs", runs, "--config", printed)
			if code != 0 || again != out {
				t.Errorf("the printed configuration as --config: exit %d, %s, printed\n%s\nwant the same as\n%s", code, errs, again, out)
			}
		})
	}
	// Checked as a run is checked: the file's problem on its line, nothing printed.
	code, out, errs := runCLI(t, "", "run", "--print-config", "--runs", runs, "--config", bad)
	if code == 0 || out != "" || !strings.Contains(errs, bad+":2:") || !strings.Contains(errs, "kl_mean") {
		t.Errorf("a kl_mean of -1: exit %d, stdout %q, stderr %q; want its line named, nothing printed", code, out, errs)
	}
	// A resumed run's configuration is its config.toml: said, not printed.
	code, out, errs = runCLI(t, "", "run", "--print-config", "--resume", filepath.Join(runs, "x"))
	if code != 2 || out != "" || !strings.Contains(errs, "--print-config with --resume") {
		t.Errorf("--print-config --resume: exit %d, stdout %q, stderr %q; want exit 2 saying the run's config.toml", code, out, errs)
	}
}

// TestRunPrintConfigRefusesRunFlags: rlt run --print-config refuses the
// flags of a run it does not start (--name, --headless, --mouse): the
// usage, then one line saying so (main adds See 'rlt run --help'), as
// --resume is refused with it.
// They were accepted and ignored: --print-config --name lam3 printed the
// configuration and no word that the name went nowhere.
func TestRunPrintConfigRefusesRunFlags(t *testing.T) {
	runs := filepath.Join(t.TempDir(), "runs")
	for _, c := range []struct {
		flags []string
		use   string // in the run that reads the printed file
	}{
		{[]string{"--name", "lam3"}, "--name NAME"},
		{[]string{"--headless"}, "--headless"},
		{[]string{"--mouse"}, "--mouse"},
	} {
		t.Run(c.flags[0], func(t *testing.T) {
			args := append([]string{"run", "--print-config", "--runs", runs}, c.flags...)
			code, out, errs := runCLI(t, "", args...)
			want := "rlt run: --print-config with " + c.flags[0] + ": "
			if code != 2 || out != "" || !strings.Contains(errs, "\n"+want) || !strings.HasSuffix(errs, "(rlt run --config FILE "+c.use+")\n") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and a last line beginning %q", code, out, errs, want)
			}
			if _, err := os.Stat(runs); !os.IsNotExist(err) {
				t.Errorf("made %s (%v)", runs, err)
			}
		})
	}
}
