package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// rlt report takes its flags before or after the runs, writes the page
// where --out says and says so; bad input is a usage error or a message.
func TestReportCommand(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run1")
	r, err := sessions.Create(dir, struct {
		Task string `toml:"task"`
	}{"addition"})
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= 3; s++ {
		r.Emit(event.Metrics{Time: time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC), Step: s, Values: map[string]float64{"reward": float64(s)}})
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"flags after", []string{"report", dir, "--out", filepath.Join(root, "a")}, 0, "wrote " + filepath.Join(root, "a", "report.html")},
		{"flags before", []string{"report", "--out", filepath.Join(root, "b"), "--traces", "accepted", dir}, 0, "1 metrics"},
		{"no out", []string{"report", dir}, 2, ""},
		{"no run", []string{"report", "--out", filepath.Join(root, "c")}, 2, ""},
		{"bad traces", []string{"report", dir, "--out", filepath.Join(root, "d"), "--traces", "best:3"}, 1, "not accepted, top:K or bottom:K"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, nil, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stdout.String()+stderr.String(), tc.out) {
				t.Fatalf("exit %d, want %d; output %q %q, want %q", code, tc.code, stdout.String(), stderr.String(), tc.out)
			}
			if tc.code != 0 {
				if _, err := os.Stat(filepath.Join(root, "c", "report.html")); err == nil {
					t.Error("a page was written on bad input")
				}
			}
		})
	}
}
