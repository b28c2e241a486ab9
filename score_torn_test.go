package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/warmstart"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/sessionstest"
)

// A trace file that ends in a partial line lost the trace it began. rlt
// score --run said so only among the problems read, and its summary
// counted the whole traces alone ("scored 4 of 4"), exit 0. The partial
// last line a killed writer left in the trace file of its last step is no
// trace the run recorded: said, not failed, so that scoring a killed run
// works. Any other (a finished or closed run's, an import's, an earlier
// step's file: the run had written it whole, and the file was cut since)
// lost a trace: counted in the summary, exit 1, whether the open cut the
// line (--write) or not.
func TestScoreRunTornTraceFile(t *testing.T) {
	prompts := warmstart.ShortPrompts()
	for _, c := range []struct {
		name   string
		killed bool
		file   string // the trace file whose last line is cut short
		write  bool
		code   int
		want   []string
	}{
		{"closed, last file", false, "000001.jsonl", false, 1, []string{"scored 3 of 4 traces of ", "; 1 lost: the 20-byte partial last line of ",
			"1 trace of ", " was cut short after the run wrote it whole", "put the file back from a copy of the run folder"}},
		{"closed, last file, --write", false, "000001.jsonl", true, 1, []string{"scored 3 of 4 traces of ", "; 1 lost: ",
			"(removed as the run was opened to write)", " was cut short after the run wrote it whole"}},
		{"closed, earlier file", false, "000000.jsonl", false, 1, []string{"scored 3 of 4 traces of ", "; 1 lost: "}},
		{"killed, earlier file", true, "000000.jsonl", false, 1, []string{"scored 3 of 4 traces of ", "; 1 lost: "}},
		{"killed, last file", true, "000001.jsonl", false, 0, []string{"scored 3 of 3 traces of ",
			"000001.jsonl:2, the trace its writer was writing as it was killed (or is writing now), is no trace the run recorded: not scored"}},
		{"killed, last file, --write", true, "000001.jsonl", true, 0, []string{"scored 3 of 3 traces of ",
			"(removed as the run was opened to write), the trace its writer was writing as it was killed"}},
		{"closed, whole", false, "", false, 0, []string{"scored 4 of 4 traces of "}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			writeTornRun(t, dir, c.killed)
			if c.file != "" {
				tearSecondLine(t, filepath.Join(dir, sessions.TracesDir, c.file))
			}
			args := []string{"score", "--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem,
				"--teacher", embeddedTeacher, "--student", embeddedStudent, "--run", dir}
			if c.write {
				args = append(args, "--write")
			}
			code, out, errs := runCLI(t, "", args...)
			if code != c.code {
				t.Errorf("exit %d, want %d:\n%s", code, c.code, errs)
			}
			for _, want := range c.want {
				if !strings.Contains(errs, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errs)
				}
			}
			if strings.Contains(out, `"error"`) {
				t.Errorf("a trace was not scored:\n%s", out)
			}
		})
	}
}

// TestScoreRunTornReviewedTraceIsLost: the partial last line of a killed
// run's last step whose trace has a review is a trace lost, not the one
// the killed writer was writing: the review proves it was read whole.
// It was said as the killed writer's line, not counted, exit 0.
func TestScoreRunTornReviewedTraceIsLost(t *testing.T) {
	prompts := warmstart.ShortPrompts()
	dir := filepath.Join(t.TempDir(), "run")
	writeTornRun(t, dir, true, "1-0-1")
	tearSecondLine(t, filepath.Join(dir, sessions.TracesDir, "000001.jsonl"))
	code, _, errs := runCLI(t, "", "score", "--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem,
		"--teacher", embeddedTeacher, "--student", embeddedStudent, "--run", dir)
	if code != 1 {
		t.Errorf("exit %d, want 1:\n%s", code, errs)
	}
	for _, want := range []string{"scored 3 of 4 traces of ", "; 1 lost: the 20-byte partial last line of ", " was cut short after the run wrote it whole"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

// writeTornRun makes a run of two steps, two traces each (traces/000000
// and 000001.jsonl), the traces accept reviewed as accepted, closed, or
// left as a writer killed with SIGKILL leaves it.
func writeTornRun(t *testing.T, dir string, killed bool, accept ...string) {
	t.Helper()
	r := createAdditionRun(t, dir)
	for step := range 2 {
		r.Emit(event.Phase{Time: time.Now(), Name: "sampling", Step: step})
		for s := range 2 {
			r.Emit(event.Trace{Time: time.Now(), Step: step, Sample: s, Question: fmt.Sprintf("2+%d=?", s+3), Solution: fmt.Sprint(s + 5),
				Completion: "add them" + record.EndExplanation})
		}
		r.Emit(event.Metrics{Time: time.Now(), Step: step, Values: map[string]float64{"reward": -1}})
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, id := range accept {
		if err := r.Review(id, sessions.LabelAccept, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if killed {
		leaveAsKilled(t, dir)
	}
}

// leaveAsKilled makes the closed run in dir, written by this process, read
// as a writer killed with SIGKILL leaves it: its close taken back, its
// events and run.lock naming a process that is gone.
func leaveAsKilled(t *testing.T, dir string) {
	t.Helper()
	sessionstest.TakeBackClose(t, dir)
	evPath := filepath.Join(dir, sessions.EventsFile)
	data, err := os.ReadFile(evPath)
	if err != nil {
		t.Fatal(err)
	}
	dead := sessionstest.DeadPID(t)
	self := fmt.Sprintf(`"pid":%d`, os.Getpid())
	if !strings.Contains(string(data), self) {
		t.Fatalf("no event names this process: %s", data)
	}
	kept := strings.ReplaceAll(string(data), self, fmt.Sprintf(`"pid":%d`, dead))
	if err := os.WriteFile(evPath, []byte(kept), 0o644); err != nil {
		t.Fatal(err)
	}
	lock := fmt.Sprintf(`{"pid":%d,"started":"2026-01-02T03:04:05Z"}`, dead) + "\n"
	if err := os.WriteFile(filepath.Join(dir, sessions.LockFileName), []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tearSecondLine cuts the file at path, two whole lines, 20 bytes into its
// second line: a write torn by a kill.
func tearSecondLine(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) != 3 || lines[2] != "" {
		t.Fatalf("%s holds %q, want two whole lines", path, data)
	}
	if err := os.WriteFile(path, []byte(lines[0]+lines[1][:20]), 0o644); err != nil {
		t.Fatal(err)
	}
}

// breakLines overwrites lines (numbered from 1) of the JSON-lines file at
// path with a record that cannot be read.
func breakLines(t *testing.T, path string, lines []int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.SplitAfter(string(data), "\n")
	for _, n := range lines {
		rows[n-1] = `{"id": broken` + "\n"
	}
	if err := os.WriteFile(path, []byte(strings.Join(rows, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}
