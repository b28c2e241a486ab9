package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// cutEventsAfter cuts the run's events.jsonl short after the line of its
// checkpoint event of step, extra bytes into the next line.
func cutEventsAfter(t *testing.T, dir string, step, extra int) {
	t.Helper()
	path := filepath.Join(dir, sessions.EventsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	at := strings.Index(s, fmt.Sprintf(`"kind":"checkpoint","step":%d,`, step))
	if at < 0 {
		t.Fatalf("no checkpoint event of step %d in %s", step, s)
	}
	at += strings.IndexByte(s[at:], '\n') + 1 + extra
	if err := os.WriteFile(path, data[:at], 0o644); err != nil {
		t.Fatal(err)
	}
}

// A run of three steps (a checkpoint each) whose events.jsonl was cut
// short after its first checkpoint and whose metrics.jsonl is gone has
// done three steps wherever they are counted (the Runs screen and rlt
// sessions, the header opened to review and read-only, rlt run
// --resume's refusal), each naming both files as lost; resumed to five,
// it has done five, and events.jsonl still says what it lost, as does
// one that was deleted before the resume. (The listing counted one step,
// from the surviving checkpoint event, where the header and the resume
// counted three, and once a resume had written the events anew their
// loss was not said.)
func TestCutEventsCountedAlikeEverywhere(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 3)
	cfg.Device = "cpu"
	_, done := runToEnd(t, cfg)
	const (
		byCheckpoint   = ", though the run has done 3 steps (its checkpoint of step 2 says so)"
		metricsMissing = "missing" + byCheckpoint + ": their metrics (the curves) are lost"
		eventsCut      = "records no checkpoint past step 0" + byCheckpoint + ": the file was cut short"
		wroteAnew      = "lost the records of the run's first 3 steps: a later session found the file %s and wrote it anew"
		metricsHole    = "has no record of steps 0-2, though the run has done 5 steps (its records of step 4 say so)"
	)
	for _, c := range []struct {
		name    string
		lose    func(t *testing.T, dir string)
		resumed bool // resumed to five steps after the loss
		lost    map[string]string
	}{
		{"events.jsonl cut after a line", func(t *testing.T, dir string) {
			cutEventsAfter(t, dir, 0, 0)
			os.Remove(filepath.Join(dir, sessions.MetricsFile))
		}, false, map[string]string{sessions.MetricsFile: metricsMissing, sessions.EventsFile: eventsCut}},
		{"events.jsonl cut within a line", func(t *testing.T, dir string) {
			cutEventsAfter(t, dir, 0, 10)
			os.Remove(filepath.Join(dir, sessions.MetricsFile))
		}, false, map[string]string{sessions.MetricsFile: metricsMissing, sessions.EventsFile: eventsCut}},
		{"events.jsonl cut, then resumed", func(t *testing.T, dir string) {
			cutEventsAfter(t, dir, 0, 0)
			os.Remove(filepath.Join(dir, sessions.MetricsFile))
		}, true, map[string]string{sessions.MetricsFile: metricsHole, sessions.EventsFile: fmt.Sprintf(wroteAnew, "cut short")}},
		{"events.jsonl deleted, then resumed", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, sessions.EventsFile))
		}, true, map[string]string{sessions.EventsFile: fmt.Sprintf(wroteAnew, "missing")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := t.TempDir()
			dir := filepath.Join(runs, "run")
			copyFolder(t, done, dir)
			c.lose(t, dir)
			want := 3
			if c.resumed {
				resumeToEnd(t, dir, 5)
				want = 5
			}
			stepsEverywhere(t, runs, dir, want, c.lost)
		})
	}
}
