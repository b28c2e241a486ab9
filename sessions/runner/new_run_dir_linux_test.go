package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNewRunDirSaysALookThatTellsNothing: where the look for a free run
// folder name fails otherwise than "does not exist" (here runs is so long
// that runs/STAMP is past PATH_MAX: ENAMETOOLONG), NewRunDir says so. It
// took the failure for a name taken and tried the next for ever, as rlt
// import's own loop did (8114994): rlt run spun at 100% CPU, saying
// nothing.
func TestNewRunDirSaysALookThatTellsNothing(t *testing.T) {
	runs := t.TempDir()
	for len(runs) < 4085 {
		n := min(200, 4085-len(runs)-1)
		if n < 1 {
			break
		}
		runs = filepath.Join(runs, strings.Repeat("r", n))
	}
	if err := os.MkdirAll(runs, 0o755); err != nil {
		t.Fatalf("make %d-byte runs: %v", len(runs), err)
	}
	type result struct {
		dir string
		err error
	}
	done := make(chan result, 1)
	go func() {
		dir, err := NewRunDir(runs)
		done <- result{dir, err}
	}()
	select {
	case r := <-done:
		if r.err == nil || !strings.Contains(r.err.Error(), "cannot make a run folder in "+runs+": ") ||
			!strings.Contains(r.err.Error(), "give a folder this process can read and write in") {
			t.Fatalf("NewRunDir = %q, %v\nwant it to say the look's failure", r.dir, r.err)
		}
		if !errors.Is(r.err, syscall.ENAMETOOLONG) {
			t.Errorf("%v: ENAMETOOLONG is not in its chain", r.err)
		}
	case <-time.After(time.Minute): // a hang guard, not a measure
		t.Fatal("NewRunDir never returned: a look that tells nothing was taken for a name taken, for ever")
	}
}
