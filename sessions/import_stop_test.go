package sessions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// doneAfter is a context whose Err is nil for its first looks calls and
// Canceled after: a stop that comes between two of ImportAsContext's
// looks, as a signal does at its time.
type doneAfter struct {
	context.Context
	looks int
}

func (c *doneAfter) Err() error {
	if c.looks > 0 {
		c.looks--
		return nil
	}
	return context.Canceled
}

// TestImportStoppedRemovesItsStagingFolder: an import whose context is
// done while the source is read makes nothing, and one done while the run
// folder is written in its staging folder removes that folder before it
// is put in place; either is an *ImportStopped (Written said), dst, an
// empty folder given before, is left as it was, and nothing else is left
// beside it. rlt import was killed by the signal, its staging folder
// left, before ImportAsContext (the root's TestImportStoppedBySignal).
func TestImportStoppedRemovesItsStagingFolder(t *testing.T) {
	for _, c := range []struct {
		looks   int
		written bool
	}{{0, false}, {1, true}} {
		t.Run(fmt.Sprint("written=", c.written), func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "traces.jsonl")
			if err := os.WriteFile(src, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one make two"}`+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			runs := filepath.Join(dir, "runs")
			dst := filepath.Join(runs, "mine")
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			rep, err := ImportAsContext(&doneAfter{context.Background(), c.looks}, dst, src, "")
			var stopped *ImportStopped
			if !errors.As(err, &stopped) || stopped.Written != c.written || !errors.Is(err, context.Canceled) || rep != nil {
				t.Fatalf("report %v, err %v: want an *ImportStopped, Written %v, of context.Canceled", rep, err, c.written)
			}
			var names []string
			filepath.WalkDir(runs, func(path string, _ os.DirEntry, err error) error {
				if path != runs {
					rel, _ := filepath.Rel(runs, path)
					names = append(names, rel)
				}
				return err
			})
			if strings.Join(names, ", ") != "mine" {
				t.Errorf("%s holds %q: want the empty folder mine alone, no staging folder", runs, names)
			}
		})
	}
}
