package ui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
)

// Our own trace with a short array, re-scored with complete arrays: s
// shows the rescore, and the "incomplete record" warning (about the
// trace's own arrays) goes, since traceGaps reads the shown record's
// Lengths (withRescore sets the rescore's; 87940c7 kept the trace's).
func TestRescoreOfShortTraceNotIncomplete(t *testing.T) {
	r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ev := makeTrace(1, 0, 0, 20)
	full := *ev.Score
	short := full
	short.TeacherLP = short.TeacherLP[:17]
	ev.Score = &short
	r.Emit(ev)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	rs := sessions.NewRescore("1-0-0", full, "T", "S", record.DefaultRewardConfig())
	if err := r.AppendRescores([]sessions.RescoreRecord{rs}); err != nil {
		t.Fatal(err)
	}
	m := sized(t, r, 160, 40, nil)
	send(m, press("2"))
	send(m, press("enter"))
	if v := m.View(); !strings.Contains(v, "incomplete record") {
		t.Fatalf("own short trace not marked incomplete:\n%s", v)
	}
	send(m, press("s"))
	if !m.detail.useRS {
		t.Fatalf("s did not switch to the rescore: %q", m.msg)
	}
	if v := m.View(); strings.Contains(v, "incomplete record") {
		t.Errorf("rescore (complete arrays) shown with the own trace's incomplete-record warning:\n%s", v)
	}
}
