package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pretrain refuses, before any work, a folder that already holds a model
// (or a run), naming the file, and writes nothing there.
func TestPretrainRefusesAModelFolder(t *testing.T) {
	model := tinyFolder(t, "f32") // config.json, model.safetensors, tokenizer.json
	weightsOnly := t.TempDir()
	data, err := os.ReadFile(filepath.Join(model, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(weightsOnly, "model.safetensors"), data, 0o644)
	run := t.TempDir()
	os.WriteFile(filepath.Join(run, "config.toml"), []byte("steps = 1\n"), 0o644)
	for _, c := range []struct {
		out  string
		last string // the last line of stderr
	}{
		{model, "rlt pretrain: --out " + model + ": " + filepath.Join(model, ".") + " already holds a model (config.json) that would be replaced: choose a new folder"},
		{weightsOnly, "rlt pretrain: --out " + weightsOnly + ": " + filepath.Join(weightsOnly, ".") + " already holds a model (model.safetensors)"},
		{run, "a run folder; writing there would mix with its records"},
	} {
		code, _, errs := runCLI(t, "", "pretrain", "--out", c.out, "--steps", "1", "--batch", "1")
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if last := lines[len(lines)-1]; code != 1 || !strings.Contains(last, c.last) {
			t.Errorf("pretrain --out %s: exit %d, last line %q; want exit 1 and %q", c.out, code, last, c.last)
		}
		for _, sub := range []string{"teacher", "student"} {
			if _, err := os.Stat(filepath.Join(c.out, sub)); err == nil {
				t.Errorf("a refused pretrain --out %s wrote %s", c.out, sub)
			}
		}
	}
}

// A folder that could not be made (a file stands in its path) is refused
// before any work, not after hours of it.
func TestOutputFolderRefusedBeforeWork(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	under := filepath.Join(file, "sub", "out")
	want := "--%s " + under + ": cannot be made: " + file + " is a file, not a folder"
	for _, c := range []struct {
		flag string
		args []string
	}{
		{"out", []string{"pretrain", "--out", under, "--steps", "1", "--batch", "1"}},
		{"save", []string{"train", "--save", under, "--steps", "1"}},
		{"out", []string{"distill", "--out", under, "--teacher", t.TempDir(), "--questions", "1"}},
		{"out", []string{"model", "init", "--config", filepath.Join(tinyFolder(t, "f32"), "config.json"), "--out", under}},
		{"stats", []string{"score", "--teacher", t.TempDir(), "--student", t.TempDir(), "--stats", filepath.Join(under, "stats.txt")}},
	} {
		code, _, errs := runCLI(t, "", c.args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		w := fmt.Sprintf(want, c.flag)
		if c.flag == "stats" {
			w = "--stats " + filepath.Join(under, "stats.txt") + ": cannot be made: " + file + " is a file, not a folder"
		}
		if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], w) {
			t.Errorf("rlt %v: exit %d, stderr %q; want exit 1 and only %q", c.args, code, errs, w)
		}
	}
	if data, _ := os.ReadFile(file); string(data) != "kept" {
		t.Errorf("%s now holds %q", file, data)
	}
}

// A model folder holding other files is refused before any work: the model
// is staged and renamed into place, which an occupied folder refuses, and
// that was found only after the training.
func TestModelFolderWithOtherFilesRefusedBeforeWork(t *testing.T) {
	occupied := func() string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("kept"), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	withStudent := t.TempDir()
	os.MkdirAll(filepath.Join(withStudent, "student"), 0o755)
	os.WriteFile(filepath.Join(withStudent, "student", "notes.txt"), []byte("kept"), 0o644)
	withTeacher := t.TempDir()
	os.MkdirAll(filepath.Join(withTeacher, "teacher"), 0o755)
	os.WriteFile(filepath.Join(withTeacher, "teacher", "notes.txt"), []byte("kept"), 0o644)
	save, out := occupied(), occupied()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--save", save, "--steps", "1", "--teacher", distillTeacher, "--student", "engine/defaults/models/student"}, "--save: " + save + " holds notes.txt"},
		{[]string{"model", "init", "--config", filepath.Join(distillTeacher, "config.json"), "--out", out}, "--out: " + out + " holds notes.txt"},
		{[]string{"distill", "--reference", "--tokenizer-from", distillTeacher, "--out", withStudent, "--questions", "2"}, "--out: " + filepath.Join(withStudent, "student") + " holds notes.txt"},
		{[]string{"pretrain", "--out", withTeacher, "--steps", "1", "--batch", "1"}, "--out: " + filepath.Join(withTeacher, "teacher") + " holds notes.txt"},
	} {
		code, _, errs := runCLI(t, "", c.args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], c.want) {
			t.Errorf("rlt %v: exit %d, stderr %q; want exit 1 and only %q", c.args, code, errs, c.want)
		}
	}
	// The folder that holds pretrain's two may hold other files.
	if code, _, errs := runCLI(t, "", "pretrain", "--out", occupied(), "--steps", "1", "--batch", "1"); code != 0 {
		t.Errorf("pretrain into a folder holding a file: exit %d: %s", code, errs)
	}
}

// pretrain ends by checking the teacher as rlt eval --teacher --student
// --questions 200 counts, on the folder's pair: the teacher it trained or
// kept, the student it trained or kept (--only). The embedded teacher
// beside a student trained for 2 steps verifies as it does in rlt eval
// (its explanations verify whatever the student answers), above the bar;
// a teacher trained for 2 steps beside the embedded student verifies
// none, under it, and is warned of. Without a student there, it says how
// to check the teacher with another. Before, a pretrain that made a
// teacher of 54.5 % said nothing of it.
func TestPretrainChecksTheTeacher(t *testing.T) {
	check := regexp.MustCompile(`(?m)^teacher check: ([0-9.]+) % of its explanations verify, and from them the student answers ([0-9.]+) % right \(as rlt eval --teacher (\S+) --student (\S+) --task addition --questions 200 counts\)$`)
	for _, c := range []struct {
		only, keep string // the model trained; the embedded one kept beside it ("" none)
		warned     bool
	}{
		{"student", "teacher", false},
		{"teacher", "student", true},
		{"teacher", "", false},
	} {
		out := t.TempDir()
		if c.keep != "" {
			copyDir(t, filepath.Join("engine/defaults/models", c.keep), filepath.Join(out, c.keep))
		}
		code, stdout, errs := runCLI(t, "", "pretrain", "--out", out, "--only", c.only, "--steps", "2", "--batch", "2")
		if code != 0 || !strings.HasPrefix(stdout, "wrote "+filepath.Join(out, c.only)) {
			t.Fatalf("pretrain --only %s: exit %d, stdout %q, stderr %s", c.only, code, stdout, errs)
		}
		if warned := strings.Contains(errs, "warning: the teacher is under the 90 % a default teacher must reach"); warned != c.warned {
			t.Errorf("pretrain --only %s beside the embedded %s: warned %v, want %v: %s", c.only, c.keep, warned, c.warned, errs)
		}
		tdir, sdir := filepath.Join(out, "teacher"), filepath.Join(out, "student")
		if c.keep == "" {
			want := "the teacher is not checked: " + sdir + " holds no model; rlt eval --teacher " + tdir + " --student " + sdir + " --task addition --questions 200 checks it"
			if !strings.Contains(errs, want) || check.MatchString(errs) {
				t.Errorf("pretrain --only %s with no student: stderr %q; want %q and no check", c.only, errs, want)
			}
			continue
		}
		m := check.FindStringSubmatch(errs)
		if m == nil || m[3] != tdir || m[4] != sdir {
			t.Fatalf("pretrain --only %s: no check of %s with %s in stderr %q", c.only, tdir, sdir, errs)
		}
		code, stdout, errs = runCLI(t, "", "eval", "--teacher", tdir, "--student", sdir, "--questions", "200", "--device", "cpu")
		var eval struct {
			Accuracy     float64 `json:"accuracy"`
			VerifiedRate float64 `json:"verified_rate"`
		}
		if err := json.Unmarshal([]byte(stdout), &eval); code != 0 || err != nil {
			t.Fatalf("rlt eval: exit %d, %v: %s", code, err, errs)
		}
		if got, want := m[1]+" "+m[2], fmt.Sprintf("%.1f %.1f", 100*eval.VerifiedRate, 100*eval.Accuracy); got != want {
			t.Errorf("pretrain --only %s: the check says %s %% verify and right; rlt eval on the folder, %s", c.only, got, want)
		}
		if c.keep == "teacher" && m[1] != "96.5" {
			t.Errorf("the embedded teacher checked at %s %%; rlt eval gives 96.5 %%", m[1])
		}
	}
}

// --only names one of the two models, and --lr is a finite rate above 0
// in float32, the optimiser's numbers (1e300 was taken: +Inf there, and
// every update with it; 1e-50 is 0 there): anything else is refused
// before any work, naming the flag.
func TestPretrainRefusesABadOnlyOrLR(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--only", "both"}, `rlt pretrain: --only "both": want one of teacher, student`},
		{[]string{"--lr", "0"}, "rlt pretrain: --lr 0: want a finite number above 0 that float32, the optimiser's numbers, holds (1.401298464324817e-45, its smallest, to 3.4028234663852886e+38, its largest)"},
		{[]string{"--lr", "-1e-3"}, "rlt pretrain: --lr -0.001: want a finite number above 0 that float32, the optimiser's numbers, holds (1.401298464324817e-45, its smallest, to 3.4028234663852886e+38, its largest)"},
		{[]string{"--lr", "Inf"}, "rlt pretrain: --lr +Inf: want a finite number above 0 that float32, the optimiser's numbers, holds (1.401298464324817e-45, its smallest, to 3.4028234663852886e+38, its largest)"},
		{[]string{"--lr", "1e300"}, "rlt pretrain: --lr 1e+300: want a finite number above 0 that float32, the optimiser's numbers, holds (1.401298464324817e-45, its smallest, to 3.4028234663852886e+38, its largest)"},
		{[]string{"--lr", "1e-50"}, "rlt pretrain: --lr 1e-50: want a finite number above 0 that float32, the optimiser's numbers, holds (1.401298464324817e-45, its smallest, to 3.4028234663852886e+38, its largest)"},
		// 1e-45 rounds up to float32's least and was taken while the words said 1.4e-45 was the lowest.
		{[]string{"--lr", "1e-45"}, "rlt pretrain: --lr 1e-45: want a finite number above 0 that float32, the optimiser's numbers, holds (1.401298464324817e-45, its smallest, to 3.4028234663852886e+38, its largest)"},
		{[]string{"--lr", "NaN"}, "rlt pretrain: --lr NaN: want a finite number above 0 that float32, the optimiser's numbers, holds (1.401298464324817e-45, its smallest, to 3.4028234663852886e+38, its largest)"},
	} {
		out := t.TempDir()
		code, _, errs := runCLI(t, "", append([]string{"pretrain", "--out", out, "--steps", "1", "--batch", "1"}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("pretrain %v: exit %d, stderr %q; want exit 2 and %q", c.args, code, errs, c.want)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("a refused pretrain %v wrote into %s", c.args, out)
		}
	}
}

// TestPretrainRefusesWhatCannotFit: a --batch or --steps × --batch past
// the host's memory is refused before any model trains or anything is
// written, the estimate said part by part (the training's and the
// corpus's) with the flags that make it fit. --batch 1000000000 ended in
// the Go runtime's "fatal error: out of memory" (115 TB of corpus asked
// for at once), and --steps × --batch past int64 in a makeslice panic,
// each with a stack dump. Where a smaller --batch fits, the largest that
// does is said (TestPretrainRefusalGivesABatchThatFits); where none does
// (the corpus of --steps alone past the memory, or a limit under any
// training), the batch it has.
func TestPretrainRefusesWhatCannotFit(t *testing.T) {
	for _, c := range []struct {
		limit         string // RLT_MEMORY_LIMIT: "" for the host's own
		args          []string
		corpus, batch string
		smaller       string // how the smaller --batch is offered
	}{
		{"", []string{"--batch", "1000000000"}, "the warm-start corpus (900 steps × 1000000000 sequences)", "1000000000 sequences", "- a smaller --batch: --batch "},
		{"", []string{"--batch", "9000000000000", "--steps", "9000000000000"}, "the warm-start corpus (9000000000000 steps × 9000000000000 sequences)", "9000000000000 sequences", "- a smaller --batch (now "},
		// One of each is said as one: it said "1 steps × 1 sequences".
		// --only teacher: no check after (TestPretrainCountsTheTeacherCheck),
		// whose sampling holds more than one sequence's training.
		{"1MB", []string{"--batch", "1", "--steps", "1", "--only", "teacher"}, "the warm-start corpus (1 step × 1 sequence)", "1 sequence", "- a smaller --batch (now "},
	} {
		t.Setenv("RLT_MEMORY_LIMIT", c.limit)
		parent := t.TempDir()
		out := filepath.Join(parent, "models")
		code, stdout, errs := runCLI(t, "", append([]string{"pretrain", "--out", out}, c.args...)...)
		for _, w := range []string{"rlt pretrain: pretraining needs about ", "teacher forward and backward", c.corpus, "To fit, try:",
			c.smaller, "now " + c.batch + " a step, in one forward and backward)", "- fewer --steps (now "} {
			if !strings.Contains(errs, w) {
				t.Errorf("pretrain %v: stderr %q; want %q in it", c.args, errs, w)
			}
		}
		if code != 1 || stdout != "" {
			t.Errorf("pretrain %v: exit %d, stdout %q; want exit 1 and nothing on stdout", c.args, code, stdout)
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 0 {
			t.Errorf("a refused pretrain %v wrote %s into %s", c.args, entries[0].Name(), parent)
		}
	}
}
