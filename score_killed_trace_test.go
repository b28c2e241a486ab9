package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/warmstart"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestScoreRunKilledAtItsFirstTrace: rlt score --run of a run killed as it
// wrote its first trace, its one trace file holding that trace's partial
// line alone, says the trace was cut as the writer was killed and how the
// run goes on (here, with no checkpoint, started again), exit 1, with and
// without --write (which removes the line). It said "has no traces to
// score" alone.
func TestScoreRunKilledAtItsFirstTrace(t *testing.T) {
	prompts := warmstart.ShortPrompts()
	for _, write := range []bool{false, true} {
		t.Run(map[bool]string{false: "read-only", true: "--write"}[write], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r := createAdditionRun(t, dir)
			r.Emit(event.Phase{Time: time.Now(), Name: "sampling", Step: 0})
			r.Emit(event.Trace{Time: time.Now(), Step: 0, Sample: 0, Question: "2+3=?", Solution: "5", Completion: "add them" + record.EndExplanation})
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			leaveAsKilled(t, dir)
			file := filepath.Join(dir, sessions.TracesDir, "000000.jsonl")
			data, err := os.ReadFile(file)
			if err != nil || strings.Count(string(data), "\n") != 1 {
				t.Fatalf("%s: %v, want one whole line:\n%s", file, err, data)
			}
			if err := os.WriteFile(file, data[:20], 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"score", "--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem,
				"--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu", "--run", dir}
			removed := ""
			if write {
				args = append(args, "--write")
				removed = " (removed as the run was opened to write)"
			}
			code, out, errs := runCLI(t, "", args...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			want := "rlt score: " + dir + " has no traces to score: its one trace, the 20-byte partial last line of " + file + ":1" + removed +
				", was cut short as the run's writer was killed writing it (or a process writes it now: wait for its step to end), so the run recorded none; " +
				"the step is done again, its traces written whole, as the run goes on: it has no checkpoint to continue from; start it again: rlt run --config " +
				sessions.ShellQuote(filepath.Join(dir, sessions.ConfigFile)) + "; then score it"
			if last := lines[len(lines)-1]; code != 1 || last != want || out != "" {
				t.Errorf("exit %d, stdout %q, last line\n%s\nwant exit 1, nothing and\n%s", code, out, last, want)
			}
		})
	}
}

// TestScoreRunUnreadableBesideAKilledLine: rlt score --run of a run with no
// readable trace, its one whole line unreadable and its writer killed
// writing the next, says the killed line beside the one to mend, so that
// mending it is not expected to bring a second trace back. It said the
// unreadable line alone.
func TestScoreRunUnreadableBesideAKilledLine(t *testing.T) {
	prompts := warmstart.ShortPrompts()
	dir := filepath.Join(t.TempDir(), "run")
	r := createAdditionRun(t, dir)
	r.Emit(event.Phase{Time: time.Now(), Name: "sampling", Step: 0})
	for i := range 2 {
		r.Emit(event.Trace{Time: time.Now(), Step: 0, Sample: i, Question: "2+3=?", Solution: "5", Completion: "add them" + record.EndExplanation})
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	leaveAsKilled(t, dir)
	file := filepath.Join(dir, sessions.TracesDir, "000000.jsonl")
	breakLines(t, file, []int{1})
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.SplitAfter(string(data), "\n")
	if len(rows) != 3 { // two lines and the empty string after the last
		t.Fatalf("%s: want two lines:\n%s", file, data)
	}
	if err := os.WriteFile(file, []byte(rows[0]+rows[1][:20]), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "score", "--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem,
		"--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu", "--run", dir)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	want := "rlt score: " + dir + " has no readable traces to score: the 20-byte partial last line of " + file + ":2" +
		", the trace its writer was writing as it was killed (or is writing now), is no trace the run recorded: not scored; 1 trace record of " + dir +
		" could not be read and was not scored ("
	if last := lines[len(lines)-1]; code != 1 || !strings.HasPrefix(last, want) || !strings.HasSuffix(last, "; then run the same command again") || out != "" {
		t.Errorf("exit %d, stdout %q, last line\n%s\nwant exit 1, nothing and a line starting\n%s", code, out, last, want)
	}
}
