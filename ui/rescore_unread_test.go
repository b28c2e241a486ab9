package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
)

// A rescore whose arrays cannot be read back (rescores.jsonl rewritten since
// the run was opened): s shows it saying that its tokens were to come from
// rescores.jsonl, not the trace file (whose tokens read back fine), and the
// status line keeps the reason rather than only "showing its rescore".
func TestRescoreUnreadNamesRescoresFile(t *testing.T) {
	r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ev := makeTrace(1, 0, 0, 20)
	r.Emit(ev)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	rs := sessions.NewRescore("1-0-0", *ev.Score, "T", "S", record.DefaultRewardConfig())
	if err := r.AppendRescores([]sessions.RescoreRecord{rs}); err != nil {
		t.Fatal(err)
	}
	// Another process rewrites rescores.jsonl: the line no longer holds it.
	if err := os.WriteFile(filepath.Join(r.Dir(), sessions.RescoresFile), []byte("\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := sized(t, r, 160, 40, nil)
	send(m, press("2"))
	send(m, press("enter"))
	if v := m.View(); !strings.Contains(v, "tok 1/20") {
		t.Fatalf("the trace's own tokens are not shown:\n%s", v)
	}
	send(m, press("s"))
	if !m.detail.useRS {
		t.Fatalf("s did not switch to the rescore: %q", m.msg)
	}
	v := m.View()
	if !strings.Contains(v, "the 20 explanation tokens could not be read back from rescores.jsonl") {
		t.Errorf("the rescore's missing tokens are not said to come from rescores.jsonl:\n%s", v)
	}
	if !strings.Contains(m.msg, "without per-token arrays") || !strings.Contains(m.msg, "no longer holds it") {
		t.Errorf("status line after s: %q", m.msg)
	}
	send(m, press("s"))
	if v := m.View(); !strings.Contains(v, "tok 1/20") {
		t.Errorf("back to its own scores, the tokens are not shown:\n%s", v)
	}
}
