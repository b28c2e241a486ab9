package sessions

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// TestHolderSaysWhatKindOfProcessTrains: a session that creates a run or
// opens it to resume says in run.lock what kind of process trains it
// (Options.Process), and the listing, the holder's own Run and the Runs
// screen's words (Holder.String) say it: a workbench, where the run can be
// reviewed, or a headless rlt run, which has none. One that does not say,
// as run.lock was before, writes no "process" key and reads as before.
// Nothing recorded which, and a workbench could not tell its user where to
// review a run another process trained. run.lock says the holder's system
// too ("os", runtime.GOOS), which says how it is stopped (Holder.OS); it
// did not, and a holder on another host was told both ways.
func TestHolderSaysWhatKindOfProcessTrains(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		name    string
		open    func(dir string, opts Options) (*Run, error)
		process string
		doing   string
		says    string // Holder.String after "pid N, "
	}{
		{"created in a workbench", createWith, ProcessWorkbench, HolderTraining, "training it in a workbench"},
		{"created headless", createWith, ProcessHeadless, HolderTraining, "training it headless (no workbench)"},
		{"created, not said", createWith, "", HolderTraining, "training it"},
		{"resumed headless", resumeWith, ProcessHeadless, HolderResuming, "loading its engine to resume it headless (no workbench)"},
		{"resumed, not said", resumeWith, "", HolderResuming, "loading its engine to resume it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(root, filepath.Base(t.Name()))
			r, err := c.open(dir, Options{Process: c.process})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			data, err := os.ReadFile(filepath.Join(dir, LockFileName))
			if err != nil {
				t.Fatal(err)
			}
			var keys map[string]any
			if err := json.Unmarshal(data, &keys); err != nil {
				t.Fatalf("run.lock %q: %v", data, err)
			}
			if got, ok := keys["process"]; c.process == "" && ok || c.process != "" && got != c.process {
				t.Errorf("run.lock %s; want \"process\": %q (none for \"\")", data, c.process)
			}
			if got := keys["os"]; got != runtime.GOOS {
				t.Errorf("run.lock %s; want \"os\": %q", data, runtime.GOOS)
			}
			host, _ := os.Hostname()
			want := Holder{PID: os.Getpid(), Doing: c.doing, Process: c.process, Host: host, OS: runtime.GOOS}
			runs, err := List(root)
			if err != nil {
				t.Fatal(err)
			}
			var listed Holder
			for _, s := range runs {
				if s.Dir == dir {
					listed = s.Holder
				}
			}
			for _, got := range []struct {
				by string
				h  Holder
			}{{"listing", listed}, {"its Run", r.Holder()}} {
				if got.h != want {
					t.Errorf("%s: holder %#v, want %#v", got.by, got.h, want)
				}
			}
			if got, wantS := listed.String(), "pid "+strconv.Itoa(os.Getpid())+", "+c.says; got != wantS {
				t.Errorf("Holder.String %q, want %q", got, wantS)
			}
		})
	}
}

// createWith creates a run in dir with opts, as rlt run does.
func createWith(dir string, opts Options) (*Run, error) {
	cfg := testCfg()
	return CreateWith(dir, &cfg, opts)
}

// resumeWith creates a run, closes it and opens it to resume, its checks
// running (DeferOpen), as rlt run --resume does.
func resumeWith(dir string, opts Options) (*Run, error) {
	r, err := createWith(dir, Options{})
	if err != nil {
		return nil, err
	}
	if err := r.Close(); err != nil {
		return nil, err
	}
	opts.Intent, opts.DeferOpen = IntentResume, true
	return OpenWith(dir, nil, opts)
}
