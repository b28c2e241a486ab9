package defaults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
	"github.com/rlt-workbench/rlt/engine/warmstart"
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

// TestDirRefusesAChangedCopy: a cached folder without its "complete" stamp
// (each copy appears whole with it) is not loaded; the error names the
// folder and says to remove it, after which the copy is written again.
func TestDirRefusesAChangedCopy(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "complete")); err != nil {
		t.Fatal(err)
	}
	_, err = Dir()
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "remove the folder") {
		t.Fatalf("a copy without its stamp: %v", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			again, err := Dir()
			if err == nil && again != dir {
				err = fmt.Errorf("got %s, want %s", again, dir)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := model.Load(compute.NewCPU(), filepath.Join(dir, Teacher)); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("the cache holds %d entries, want the one folder", len(entries))
	}
}

// TestEmbeddedTeacherLearnedTheLead: the embedded teacher was warm-started
// with its loss from right after the explanation's opening tag
// (warmstart.TeacherSequence), so it writes the prefill's lead "\n\n"
// itself: the reward scores the lead as T's first tokens, and a teacher
// that never learned it (the models embedded until 2026-12-06, a loss of
// about 9 a token here) lowered r_KL by 1.4 on average. Models regenerated
// from a recipe that lost the lead fail here.
func TestEmbeddedTeacherLearnedTheLead(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(compute.NewCPU(), filepath.Join(dir, Teacher))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(filepath.Join(dir, Teacher, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := task.WarmStart(task.DefaultAddition(), 1000, 16, warmstart.DefaultRecipe().TeacherStyles)
	if err != nil {
		t.Fatal(err)
	}
	// The teacher's prompt, learned from its head's end (the tags are added
	// tokens: the lead's tokens are the prompt's last).
	p := warmstart.ShortPrompts()
	var leads []warmstart.Sequence
	for _, tr := range corpus {
		head := tok.Encode(p.TeacherHead(tr.Question, tr.Solution))
		prompt := tok.Encode(p.TeacherPrompt(tr.Question, tr.Solution))
		if len(prompt) != len(head)+len(record.ExplanationLead) {
			t.Fatalf("the prompt has %d tokens, its head %d: the lead is not its last %d", len(prompt), len(head), len(record.ExplanationLead))
		}
		leads = append(leads, warmstart.Sequence{Tokens: prompt, LossFrom: len(head)})
	}
	loss, err := warmstart.Loss(m, leads)
	if err != nil {
		t.Fatal(err)
	}
	if loss > 0.05 {
		t.Errorf("the embedded teacher's loss on the lead is %.3f a token, want about 0: it was not taught the lead", loss)
	}
}
