// Package golden compares rendered views with files under testdata and
// checks that they fit their box. Run tests with -update to rewrite the
// files.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/mattn/go-runewidth"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// testdata is the package's testdata folder, fixed at start-up so that
// tests that change the working folder (t.Chdir) still find it.
var testdata = func() string {
	wd, err := os.Getwd()
	if err != nil {
		return "testdata"
	}
	return filepath.Join(wd, "testdata")
}()

// Sizes are the terminal sizes every screen is checked at.
var Sizes = []struct{ W, H int }{{80, 24}, {120, 40}, {60, 15}}

// Assert compares got with testdata/<name>.golden (rewriting it under
// -update). The golden screens are Unix's: where a screen shows a file
// path, Windows shows it with its own separator, so there the comparison
// is left out (the rest of the test goes on).
func Assert(t testing.TB, name, got string) {
	t.Helper()
	if filepath.Separator != '/' && !*update {
		t.Logf("%s: golden screens are compared on Unix", name)
		return
	}
	path := filepath.Join(testdata, name+".golden")
	if *update {
		if err := os.MkdirAll(testdata, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// Fits reports an error if a line of s is wider than w cells (by lipgloss
// and by go-runewidth, after stripping escapes) or s has more than h lines
// (h ≤ 0: unchecked).
func Fits(t testing.TB, s string, w, h int) {
	t.Helper()
	if s == "" {
		return
	}
	lines := strings.Split(s, "\n")
	if h > 0 && len(lines) > h {
		t.Errorf("%d lines, want ≤ %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("line %d is %d cells wide (lipgloss), want ≤ %d: %q", i, lw, w, l)
		}
		if rw := runewidth.StringWidth(ansi.Strip(l)); rw > w {
			t.Errorf("line %d is %d cells wide (runewidth), want ≤ %d: %q", i, rw, w, l)
		}
	}
}

// NoEscapes reports an error if s holds an escape sequence.
func NoEscapes(t testing.TB, s string) {
	t.Helper()
	if strings.ContainsRune(s, '\x1b') {
		t.Errorf("output holds escape sequences: %q", s)
	}
}
