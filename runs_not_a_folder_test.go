package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// --runs that is a file, or that leads through one, is refused at once,
// naming the flag and the file, by every command that takes it: rlt
// import looked for a free run folder name inside the file for ever
// (os.Stat's "not a directory" is no "does not exist"), rlt run said
// "mkdir FILE: not a directory" once its models had loaded, and rlt
// sessions "list runs: open FILE: not a directory". The file is left as
// it was.
func TestRunsNotAFolder(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	file := filepath.Join(dir, "runs.txt")
	if err := os.WriteFile(file, []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	traces := filepath.Join(dir, "traces.jsonl")
	if err := os.WriteFile(traces, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	below := filepath.Join(file, "runs")
	const way = "give --runs the folder that holds the run folders"
	// rlt open's run, an import in a runs folder of its own: its open
	// would go on to the workbench.
	good := t.TempDir()
	if code, _, errs := runCLI(t, "", "import", traces, "--runs", good); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	imported, _ := filepath.Glob(filepath.Join(good, "*"))
	if len(imported) != 1 {
		t.Fatalf("the import made %v, want one run folder", imported)
	}
	for _, c := range []struct {
		name string
		args []string
		want string // stderr, after "rlt CMD: "
	}{
		{"import, a file", []string{"import", traces, "--runs", file}, "--runs " + file + " is a file, not a folder: " + way},
		{"import, below a file", []string{"import", traces, "--runs", below}, "--runs " + below + ": " + file + " is a file, not a folder: " + way},
		{"run, a file", []string{"run", "--headless", "--steps", "1", "--device", "cpu", "--runs", file}, "--runs " + file + " is a file, not a folder: " + way},
		{"run, below a file", []string{"run", "--headless", "--steps", "1", "--device", "cpu", "--runs", below}, "--runs " + below + ": " + file + " is a file, not a folder: " + way},
		{"sessions, a file", []string{"sessions", "--runs", file}, "--runs " + file + " is a file, not a folder: " + way},
		{"sessions, below a file", []string{"sessions", "--runs", below}, "--runs " + below + ": " + file + " is a file, not a folder: " + way},
		// rlt open's Runs screen lists --runs and starts runs there: it
		// was checked only once a run was started from the screen.
		{"open, a file", []string{"open", "--runs", file, imported[0]}, "--runs " + file + " is a file, not a folder: " + way},
		{"open, below a file", []string{"open", "--runs", below, imported[0]}, "--runs " + below + ": " + file + " is a file, not a folder: " + way},
	} {
		t.Run(c.name, func(t *testing.T) {
			// A hang guard, not a time limit: rlt import never returned.
			type result struct {
				code     int
				out, err string
			}
			done := make(chan result, 1)
			go func() {
				code, out, errs := runCLI(t, "", c.args...)
				done <- result{code, out, errs}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(2 * time.Minute):
				t.Fatalf("rlt %v did not return", c.args)
			}
			if want := "rlt " + c.args[0] + ": " + c.want; r.code != 1 || r.out != "" || strings.TrimSpace(r.err) != want {
				t.Errorf("exit %d, stdout %q, stderr\n%s\nwant exit 1 and\n%s", r.code, r.out, r.err, want)
			}
			if b, err := os.ReadFile(file); err != nil || string(b) != "my notes\n" {
				t.Errorf("the file holds %q (%v), want it as it was", b, err)
			}
		})
	}
}

// TestResumeWithoutTheWorkbenchTakesNoRuns: rlt run --resume DIR
// --headless uses --runs for nothing (no folder is made there, no Runs
// screen lists it), so a file where the default's runs would be does not
// refuse it: it was refused ("--runs runs is a file, not a folder") in a
// working folder that holds a file named runs. A new run, whose folder is
// made in --runs, is refused there as before.
func TestResumeWithoutTheWorkbenchTakesNoRuns(t *testing.T) {
	runDir := runOneStep(t, "steps = 1\n")
	t.Chdir(t.TempDir())
	if err := os.WriteFile("runs", []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "", "run", "--resume", runDir, "--headless", "--steps", "2"); code != 0 || !strings.Contains(errs, "resuming "+runDir+" after step 0") {
		t.Errorf("the resume: exit %d, stderr\n%s\nwant exit 0, resumed", code, errs)
	}
	want := "rlt run: --runs runs is a file, not a folder: give --runs the folder that holds the run folders"
	if code, out, errs := runCLI(t, "", "run", "--headless", "--steps", "1", "--device", "cpu"); code != 1 || out != "" || strings.TrimSpace(errs) != want {
		t.Errorf("a new run: exit %d, stdout %q, stderr\n%s\nwant exit 1 and\n%s", code, out, errs, want)
	}
	if b, err := os.ReadFile("runs"); err != nil || string(b) != "my notes\n" {
		t.Errorf("the file holds %q (%v), want it as it was", b, err)
	}
}

// TestOpenWithTheDefaultRunsAFile: rlt open RUN, with no --runs, in a
// working folder that holds a file named runs (the default's) opens RUN:
// it was refused ("--runs runs is a file, not a folder"), though nobody
// asked for that folder. An --runs runs given is refused as before.
func TestOpenWithTheDefaultRunsAFile(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	traces := filepath.Join(dir, "traces.jsonl")
	if err := os.WriteFile(traces, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good")
	if code, _, errs := runCLI(t, "", "import", traces, "--runs", good); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	imported, _ := filepath.Glob(filepath.Join(good, "*"))
	if len(imported) != 1 {
		t.Fatalf("the import made %v, want one run folder", imported)
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile("runs", []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	refusal := "--runs runs is a file, not a folder"
	// The open goes on to the workbench, which a test has no terminal
	// for: any error but the refusal is the open going on.
	if _, _, errs := runCLI(t, "", "open", imported[0]); strings.Contains(errs, refusal) {
		t.Errorf("rlt open %s with the default --runs refused:\n%s", imported[0], errs)
	}
	want := "rlt open: " + refusal + ": give --runs the folder that holds the run folders"
	if code, out, errs := runCLI(t, "", "open", "--runs", "runs", imported[0]); code != 1 || out != "" || strings.TrimSpace(errs) != want {
		t.Errorf("--runs runs given: exit %d, stdout %q, stderr\n%s\nwant exit 1 and\n%s", code, out, errs, want)
	}
	if b, err := os.ReadFile("runs"); err != nil || string(b) != "my notes\n" {
		t.Errorf("the file holds %q (%v), want it as it was", b, err)
	}
}
