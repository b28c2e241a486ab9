package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const distillTeacher = "engine/defaults/models/teacher"

// A wrong mix of --reference, --teacher and --tokenizer-from is refused
// before any work, naming the flag that is really wrong or missing (not
// "--teacher is required" when --teacher was given), and writes nothing.
func TestDistillNamesTheWrongFlag(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	small := []string{"--questions", "2", "--steps", "1", "--device", "cpu"}
	for _, c := range []struct {
		args []string
		code int
		last string // the last line of stderr
	}{
		{[]string{"--reference", "--teacher", distillTeacher, "--out", out}, 2,
			"rlt distill: --teacher with --reference: the rows are the task's own explanations, not a teacher's; give the folder whose tokenizer.json to use as --tokenizer-from (--tokenizer-from " + distillTeacher + "?)"},
		{[]string{"--reference", "--teacher", distillTeacher, "--tokenizer-from", distillTeacher, "--out", out}, 2,
			"rlt distill: --teacher with --reference"},
		{[]string{"--reference", "--out", out}, 2,
			"rlt distill: --reference needs --tokenizer-from: the model folder whose tokenizer.json the rows are tokenized with"},
		{[]string{"--teacher", distillTeacher, "--tokenizer-from", distillTeacher, "--out", out}, 2,
			"rlt distill: --tokenizer-from without --reference"},
		{[]string{"--out", out}, 2, "rlt distill: --teacher is required"},
		{[]string{"--reference", "--tokenizer-from", distillTeacher}, 2, "rlt distill: --out is required"},
		{[]string{"--teacher", distillTeacher}, 2, "rlt distill: --out is required"},
		// A folder without a tokenizer is named by the flag that gave it.
		{[]string{"--reference", "--tokenizer-from", filepath.Join(out, "none"), "--out", out}, 1,
			"rlt distill: --tokenizer-from " + filepath.Join(out, "none") + ": "},
		{[]string{"--teacher", filepath.Join(out, "none"), "--out", out}, 1,
			"rlt distill: --teacher " + filepath.Join(out, "none") + ": "},
	} {
		// Small counts: a call that wrongly went ahead ends soon.
		args := append(append([]string{"distill"}, c.args...), small...)
		code, _, errs := runCLI(t, "", args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if last := lines[len(lines)-1]; code != c.code || !strings.Contains(last, c.last) {
			t.Errorf("rlt distill %v: exit %d, last line %q; want exit %d and %q", c.args, code, last, c.code, c.last)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("rlt distill %v: a refused call made %s", c.args, out)
		}
	}
}
