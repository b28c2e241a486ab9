package defaults

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
)

func TestDirWritesLoadableModelsOnce(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{Teacher, Student} {
		m, err := model.Load(compute.NewCPU(), filepath.Join(dir, who))
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		if m.NumParams() < 100_000 {
			t.Errorf("%s has only %d parameters", who, m.NumParams())
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, Teacher, "tokenizer.json"))
	b, _ := os.ReadFile(filepath.Join(dir, Student, "tokenizer.json"))
	if string(a) != string(b) || len(a) == 0 {
		t.Error("teacher and student do not share one tokenizer.json")
	}
	// A second call finds the complete copy and writes nothing.
	stamp := filepath.Join(dir, "complete")
	before, _ := os.Stat(stamp)
	again, err := Dir()
	if err != nil || again != dir {
		t.Fatalf("second call: %q, %v", again, err)
	}
	after, _ := os.Stat(stamp)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("the embedded models were written again")
	}
}
