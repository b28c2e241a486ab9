package runner

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/sessions"
)

// A resume on a device that is not there (gpu:N past the loader's list,
// or any GPU without a Vulkan driver), asked for by --device or by the
// run's config.toml, is refused by OpenForResume before any engine starts:
// one message naming the device and the way on (--device cpu), the run
// left as it was (finished, its files untouched, no error recorded). It
// was opened, its engine's device failed to open, and the run was listed
// failed. --device cpu then resumes it.
func TestResumeRefusesAMissingDevice(t *testing.T) {
	gpus, _ := device.GPUs()
	missing := fmt.Sprintf("gpu:%d", len(gpus)) // one past the last the loader lists
	cfg := smallConfig(t, 1)
	cfg.Device = "cpu"
	runs, dir := runToEnd(t, cfg)
	cfgPath := filepath.Join(dir, sessions.ConfigFile)
	recorded, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	onMissing := strings.Replace(string(recorded), `device = 'cpu'`, `device = '`+missing+`'`, 1)
	if onMissing == string(recorded) {
		t.Fatalf("config.toml has no device = 'cpu':\n%s", recorded)
	}
	tree := func() map[string]string { return runFiles(dir) }
	before := tree()
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	l := NewLauncher(context.Background(), runs, models)
	head := "resume " + dir + ": device " + missing + ": "
	tail := ", so the run is unchanged: resume it on the CPU with --device cpu, or give --device gpu:N of a GPU that is there"
	for _, c := range []struct {
		name, config string
		over         Overrides
		workbench    bool // the workbench's resume is refused too (it has no --device)
	}{
		{"--device names it", string(recorded), Overrides{Steps: 2, Device: missing}, false},
		{"config.toml names it", onMissing, Overrides{Steps: 2}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(cfgPath, []byte(c.config), 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(cfgPath, recorded, 0o644)
			r, err := OpenForResume(dir, c.over, sessions.ProcessHeadless)
			if r.Rec != nil {
				r.Rec.Close()
			}
			if msg := fmt.Sprint(err); err == nil || !strings.HasPrefix(msg, head) || !strings.HasSuffix(msg, tail) || strings.Count(msg, "--device cpu") != 1 {
				t.Errorf("rlt run --resume:\n%v\nwant it to begin\n%s\nand end\n%s", err, head, tail)
			}
			if c.workbench {
				if _, err := l.Resume(dir); err == nil || !strings.HasPrefix(err.Error(), head) {
					t.Errorf("the workbench's resume:\n%v\nwant it to begin\n%s", err, head)
				}
			}
			list, err := sessions.List(runs)
			if err != nil || len(list) != 1 || list[0].State != sessions.StateFinished || list[0].Note != "" {
				t.Errorf("after the refused resume the run is listed as %+v (%v), want finished", list, err)
			}
			os.WriteFile(cfgPath, recorded, 0o644)
			if after := tree(); !maps.Equal(after, before) {
				t.Errorf("the refused resume changed the run's files")
			}
		})
	}
	// The way on: --device cpu over a config.toml that names the device.
	os.WriteFile(cfgPath, []byte(onMissing), 0o644)
	r, err := OpenForResume(dir, Overrides{Steps: 2, Device: "cpu"}, sessions.ProcessHeadless)
	if err != nil {
		t.Fatalf("--device cpu: %v", err)
	}
	r.Rec.Close()
}

// A resume that cannot fit the memory where it computes is refused by
// OpenForResume with the estimate, the run left as it was: found when the
// engine was built, it was recorded as the run failing.
func TestResumeRefusesWhatCannotFit(t *testing.T) {
	runs, dir := oneStepRun(t)
	before := runFiles(dir)
	t.Setenv("RLT_MEMORY_LIMIT", "1MiB")
	r, err := OpenForResume(dir, Overrides{Steps: 2}, sessions.ProcessHeadless)
	if r.Rec != nil {
		r.Rec.Close()
	}
	if msg := fmt.Sprint(err); err == nil || !strings.HasPrefix(msg, "resume "+dir+": ") || !strings.Contains(msg, "needs about") ||
		!strings.HasSuffix(msg, "; the run is unchanged") {
		t.Errorf("resume over the memory limit: %v", err)
	}
	list, err := sessions.List(runs)
	if err != nil || len(list) != 1 || list[0].State != sessions.StateFinished || list[0].Note != "" {
		t.Errorf("after the refused resume the run is listed as %+v (%v), want finished", list, err)
	}
	if after := runFiles(dir); !maps.Equal(after, before) {
		t.Errorf("the refused resume changed the run's files")
	}
}

// runFiles is every file of the run folder dir but the lock (which a
// refused resume takes, to check the run), events.jsonl included (its
// open event waits for the checks), each by its content's digest: what a
// refused resume must leave as it was.
func runFiles(dir string) map[string]string {
	files := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != sessions.LockFileName {
			b, _ := os.ReadFile(p)
			files[p] = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		return nil
	})
	return files
}

// A resume of a run that lost metrics.jsonl says so among its notes (the
// session is about to write the file anew, after which no open says it
// again); refused, it leaves the loss as it was.
func TestResumeSaysALostFile(t *testing.T) {
	_, dir := oneStepRun(t)
	if err := os.Remove(filepath.Join(dir, sessions.MetricsFile)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RLT_MEMORY_LIMIT", "1MiB")
	r, err := OpenForResume(dir, Overrides{Steps: 2}, sessions.ProcessHeadless)
	if r.Rec != nil {
		r.Rec.Close()
	}
	if err == nil || !strings.Contains(strings.Join(r.Notes, "\n"), sessions.MetricsFile+": missing, though the run has done 1 step (its checkpoint of step 0 says so)") {
		t.Errorf("refused resume: %v; notes %q", err, r.Notes)
	}
	if _, err := os.Stat(filepath.Join(dir, sessions.MetricsFile)); err == nil {
		t.Error("the refused resume made metrics.jsonl again")
	}
}

// A resume of a run with broken records says the first, and how many more:
// they are skipped, not repaired, so its curves go on without them.
func TestResumeSaysBrokenRecords(t *testing.T) {
	for _, c := range []struct {
		name   string
		broken int
		more   string
	}{
		{"one", 1, ""},
		{"three", 3, "(and 2 more broken records"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, dir := oneStepRun(t)
			path := filepath.Join(dir, sessions.MetricsFile)
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			for range c.broken {
				f.WriteString("{\"step\":7,\"ti\n")
			}
			f.Close()
			t.Setenv("RLT_MEMORY_LIMIT", "1MiB") // refused after the notes: nothing runs
			r, _ := OpenForResume(dir, Overrides{Steps: 2}, sessions.ProcessHeadless)
			if r.Rec != nil {
				r.Rec.Close()
			}
			var got []string
			for _, n := range r.Notes {
				if strings.Contains(n, "broken record") {
					got = append(got, n)
				}
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], path+":") || !strings.Contains(got[0], c.more) || (c.more == "" && strings.Contains(got[0], "more")) {
				t.Errorf("notes of broken records %q, want one naming %s %s", got, path, c.more)
			}
		})
	}
}
