package main

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestKilledRunResumes kills a real run with SIGKILL at a random moment
// (after at least one checkpoint), resumes it, and checks that the run
// folder then holds every step exactly once and a finished state: at most
// the step in progress was lost, nothing is truncated or duplicated.
func TestKilledRunResumes(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "rlt")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	env := append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	runs := filepath.Join(dir, "runs")
	const steps = 6
	cmd := exec.Command(bin, "run", "--headless", "--steps", "6", "--runs", runs)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for a first checkpoint, then kill at a random moment within a step.
	deadline := time.Now().Add(120 * time.Second)
	for {
		cks, _ := filepath.Glob(filepath.Join(runs, "*", "checkpoints", "step-*", "state.json"))
		if len(cks) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint appeared")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	entries, _ := os.ReadDir(runs)
	if len(entries) != 1 {
		t.Fatalf("%d run folders", len(entries))
	}
	runDir := filepath.Join(runs, entries[0].Name())
	resume := exec.Command(bin, "run", "--headless", "--resume", runDir, "--steps", "6")
	resume.Env = env
	if out, err := resume.CombinedOutput(); err != nil {
		t.Fatalf("resume after kill -9: %v\n%s", err, out)
	}
	run, err := sessions.OpenReadOnly(runDir)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	if n := run.Store().Broken(); n != 0 {
		t.Errorf("%d broken records after kill -9 and resume: %v", n, run.Store().Issues())
	}
	metrics, _ := run.Store().MetricsSince(0)
	seen := map[int]int{}
	for _, m := range metrics {
		if _, ok := m.Get("reward"); ok {
			seen[m.Step]++
		}
	}
	for s := 0; s < steps; s++ {
		if seen[s] != 1 {
			t.Errorf("step %d has %d reward records after resume, want exactly 1 (all: %v)", s, seen[s], seen)
		}
	}
	list, err := sessions.List(runs)
	if err != nil || len(list) != 1 || list[0].State != sessions.StateFinished || list[0].LastStep != steps-1 {
		t.Errorf("after resume: %+v, %v", list, err)
	}
}
