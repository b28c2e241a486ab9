//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

// TestTrainSaveFailureKeepsTheTeacher: what befalls --save's folder or the
// teacher's while rlt train trains (--steps 0: until the signal, then
// saved) does not lose the teacher trained. A file put in --save's place
// fails the save, and the teacher is saved whole beside it instead (under
// a new name beside one rescued before), said with the way to use it or
// move it into place (exit 1: no teacher where asked); a teacher folder removed meanwhile does not fail the save, its
// tokenizer read before the training. Both lost the training, said only
// as the save's error. The signal that ends the training is said as the
// save begins (saveHeld), which said nothing until it ended.
func TestTrainSaveFailureKeepsTheTeacher(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	student := "engine/defaults/models/student"
	t.Run("a file in its place", func(t *testing.T) {
		save := filepath.Join(t.TempDir(), "trained")
		earlier := save + "-rescued" // a teacher rescued before, left as it is
		if err := os.MkdirAll(earlier, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(earlier, "notes.txt"), []byte("kept"), 0o644)
		code, errs := runUntilSignalAfter(t, "step 0  reward", func() {
			if err := os.WriteFile(save, []byte("kept"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "train", "--teacher", distillTeacher, "--student", student, "--steps", "0", "--device", "cpu", "--save", save)
		rescued := save + "-rescued-2"
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		last := lines[len(lines)-1]
		for _, want := range []string{"rlt train: write " + save + ": ",
			"; nothing was written there; the teacher trained ", " is saved instead, whole, to " + rescued + ": use it where it is (--teacher " + rescued + "), or move it into place (mv " + rescued + " " + save + ")"} {
			if code != 1 || !strings.Contains(last, want) {
				t.Errorf("exit %d, last line %q\nwant exit 1 and %q", code, last, want)
			}
		}
		for _, kept := range []string{save, filepath.Join(earlier, "notes.txt")} {
			if data, _ := os.ReadFile(kept); string(data) != "kept" {
				t.Errorf("%s now holds %q", kept, data)
			}
		}
		if code, out, errs := runCLI(t, "", "model", "info", rescued); code != 0 || !strings.Contains(out, "tokenizer") {
			t.Errorf("rlt model info %s: exit %d: %s%s", rescued, code, out, errs)
		}
		for _, name := range []string{hf.TokenizerFile, "prompts.json"} {
			if _, err := os.Stat(filepath.Join(rescued, name)); err != nil {
				t.Errorf("the teacher saved instead: %v", err)
			}
		}
	})
	t.Run("its teacher folder removed", func(t *testing.T) {
		teacher := filepath.Join(t.TempDir(), "teacher")
		copyDir(t, distillTeacher, teacher)
		save := filepath.Join(t.TempDir(), "trained")
		code, errs := runUntilSignalAfter(t, "step 0  reward", func() {
			if err := os.RemoveAll(teacher); err != nil {
				t.Fatal(err)
			}
		}, "train", "--teacher", teacher, "--student", student, "--steps", "0", "--device", "cpu", "--save", save)
		if code != 0 || !strings.Contains(errs, "saved the teacher, trained ") {
			t.Fatalf("exit %d: %s", code, errs)
		}
		// The signal that ends the training is said as the save begins,
		// once, not only when it has ended (saveHeld).
		if notice := runner.SaveNotice(save); strings.Count(errs, notice) != 1 || strings.Index(errs, notice) > strings.Index(errs, "saved the teacher, trained ") {
			t.Errorf("stderr %q\nwant %q once, before the save is said", errs, notice)
		}
		want, _ := os.ReadFile(filepath.Join(distillTeacher, hf.TokenizerFile))
		if got, err := os.ReadFile(filepath.Join(save, hf.TokenizerFile)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("the saved teacher's %s: %d bytes (%v), want the teacher's %d", hf.TokenizerFile, len(got), err, len(want))
		}
	})
}

// TestSaveThroughALink: a model folder or run folder given as a link to an
// empty folder (rlt train --save, rlt model init --out, rlt import --out;
// a folder on a bigger disk, say) is written through the link into the
// folder it points to, and the link kept. The folder staged beside the
// link was renamed onto it, which replaced the link and left the folder
// it pointed to empty.
func TestSaveThroughALink(t *testing.T) {
	src := filepath.Join(t.TempDir(), "traces.jsonl")
	os.WriteFile(src, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one"}`+"\n"), 0o644)
	for _, c := range []struct {
		name string
		args []string // --save or --out follows
		file string   // one of the files written
	}{
		{"train --save", []string{"train", "--teacher", distillTeacher, "--student", "engine/defaults/models/student", "--steps", "1", "--device", "cpu", "--save"}, hf.TokenizerFile},
		{"model init --out", []string{"model", "init", "--config", filepath.Join(distillTeacher, "config.json"), "--out"}, "model.safetensors"},
		{"import --out", []string{"import", src, "--out"}, "config.toml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "bigger-disk")
			if err := os.Mkdir(target, 0o755); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(t.TempDir(), "out")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			if code, _, errs := runCLI(t, "", append(c.args, link)...); code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if got, err := os.Readlink(link); err != nil || got != target {
				t.Errorf("%s is no longer the link to %s: %q, %v", link, target, got, err)
			}
			if _, err := os.Stat(filepath.Join(target, c.file)); err != nil {
				t.Errorf("nothing written where the link points: %v", err)
			}
			for _, folder := range []string{filepath.Dir(link), filepath.Dir(target)} {
				entries, _ := os.ReadDir(folder)
				for _, e := range entries {
					if durable.IsStaging(e.Name()) {
						t.Errorf("a staging folder %s was left in %s", e.Name(), folder)
					}
				}
			}
		})
	}
}
