package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// rlt report takes its flags before or after the runs, writes the page
// where --out says and says so; bad input is a usage error or a message.
func TestReportCommand(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run1")
	rewardRun(t, dir, 3)
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"flags after", []string{"report", dir, "--out", filepath.Join(root, "a")}, 0, "wrote " + filepath.Join(root, "a", "report.html")},
		{"flags before", []string{"report", "--out", filepath.Join(root, "b"), "--traces", "accepted", dir}, 0, "(1 run, 1 metric)"},
		{"no out", []string{"report", dir}, 2, "rlt report: --out is required: the folder to write report.html in (rlt report " + dir + " --out DIR)"},
		{"no run", []string{"report", "--out", filepath.Join(root, "c")}, 2, ""},
		{"bad traces", []string{"report", dir, "--out", filepath.Join(root, "d"), "--traces", "best:3"}, 2, `--traces "best:3": want accepted, top:K or bottom:K, or several joined by commas`},
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

// TestReportReplacesOnlyItsOwnPage: running rlt report again replaces the
// page it wrote before (and says so), but any other report.html in --out
// (a page of the user's, a folder, a symlink), or a file as --out, is
// refused, named, before a run is read, and left as it was.
func TestReportReplacesOnlyItsOwnPage(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run1")
	rewardRun(t, dir, 1)
	again := filepath.Join(root, "again")
	if code, _, errs := runCLI(t, "", "report", dir, "--out", again); code != 0 {
		t.Fatalf("first report: exit %d: %s", code, errs)
	}
	mine := filepath.Join(root, "mine")
	os.MkdirAll(mine, 0o755)
	minePage := "<!DOCTYPE html>\n<html><head><title>my notes</title></head><body><h1>RLT report</h1>kept</body></html>\n"
	os.WriteFile(filepath.Join(mine, "report.html"), []byte(minePage), 0o644)
	folder := filepath.Join(root, "folder")
	os.MkdirAll(filepath.Join(folder, "report.html"), 0o755)
	link := filepath.Join(root, "link")
	os.MkdirAll(link, 0o755)
	os.Symlink(filepath.Join(again, "report.html"), filepath.Join(link, "report.html"))
	file := filepath.Join(root, "file.txt")
	os.WriteFile(file, []byte("kept"), 0o644)
	missingRun := filepath.Join(root, "no-such-run")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"its own page", []string{dir, "--out", again}, 0, "wrote " + filepath.Join(again, "report.html") + " (1 run, 1 metric, replacing the earlier report)"},
		{"a page of the user's", []string{dir, "--out", mine}, 1, "--out " + mine + ": " + filepath.Join(mine, "report.html") + " exists and was not written by a report; it is left as it was: move it away, or choose another --out folder"},
		{"before a run is read", []string{missingRun, "--out", mine}, 1, filepath.Join(mine, "report.html") + " exists and was not written by a report"},
		{"a folder", []string{dir, "--out", folder}, 1, filepath.Join(folder, "report.html") + " exists and was not written by a report"},
		{"a symlink", []string{dir, "--out", link}, 1, filepath.Join(link, "report.html") + " exists and was not written by a report"},
		{"--out a file", []string{dir, "--out", file}, 1, "--out " + file + ": a file, not a folder"},
		// It said "--out FILE/sub: lstat FILE/sub/report.html: not a
		// directory", the file in the way unnamed.
		{"--out below a file", []string{dir, "--out", filepath.Join(file, "sub")}, 1, "--out " + filepath.Join(file, "sub") + ": " + file + " is a file, not a folder, and it is in the way on its path: give --out a folder to write report.html in"},
		{"a run that does not exist", []string{missingRun, "--out", again}, 1, missingRun + " does not exist: give a run folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", append([]string{"report"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Fatalf("exit %d, want %d; output %q %q, want %q", code, tc.code, out, errs, tc.want)
			}
		})
	}
	if data, _ := os.ReadFile(filepath.Join(mine, "report.html")); string(data) != minePage {
		t.Errorf("the user's page now holds %q", data)
	}
	if data, _ := os.ReadFile(file); string(data) != "kept" {
		t.Errorf("%s now holds %q", file, data)
	}
	if st, err := os.Lstat(filepath.Join(link, "report.html")); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v %v", st, err)
	}
}

// rewardRun records a run in dir with steps 1..steps, each a reward of
// its step's number.
func rewardRun(t *testing.T, dir string, steps int) {
	t.Helper()
	r := createAdditionRun(t, dir)
	for s := 1; s <= steps; s++ {
		r.Emit(event.Metrics{Time: time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC), Step: s, Values: map[string]float64{"reward": float64(s)}})
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
