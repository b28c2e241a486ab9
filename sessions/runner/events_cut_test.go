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
// --resume's refusal), each naming both files as lost. (The listing
// counted one step, from the surviving checkpoint event, where the
// header and the resume counted three.)
func TestCutEventsCountedAlikeEverywhere(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 3)
	cfg.Device = "cpu"
	_, done := runToEnd(t, cfg)
	const (
		byCheckpoint   = ", though the run has done 3 steps (its checkpoint of step 2 says so)"
		metricsMissing = "missing" + byCheckpoint + ": their metrics (the curves) are lost"
		eventsCut      = "records no checkpoint past step 0" + byCheckpoint + ": the file was cut short"
	)
	for _, c := range []struct {
		name string
		lose func(t *testing.T, dir string)
		lost map[string]string
	}{
		{"events.jsonl cut after a line", func(t *testing.T, dir string) {
			cutEventsAfter(t, dir, 0, 0)
			os.Remove(filepath.Join(dir, sessions.MetricsFile))
		}, map[string]string{sessions.MetricsFile: metricsMissing, sessions.EventsFile: eventsCut}},
		{"events.jsonl cut within a line", func(t *testing.T, dir string) {
			cutEventsAfter(t, dir, 0, 10)
			os.Remove(filepath.Join(dir, sessions.MetricsFile))
		}, map[string]string{sessions.MetricsFile: metricsMissing, sessions.EventsFile: eventsCut}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := t.TempDir()
			dir := filepath.Join(runs, "run")
			copyFolder(t, done, dir)
			c.lose(t, dir)
			stepsEverywhere(t, runs, dir, 3, c.lost)
		})
	}
}
