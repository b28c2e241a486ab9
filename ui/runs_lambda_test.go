package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestRunsScreenSaysEachRunsLambda: where the width keeps the name its 29
// columns beside the device, the Runs screen lists each run's λ (r_KL's
// weight) after BEST REWARD, in rlt sessions' and rlt report's words: a
// λ sweep's best rewards were listed side by side with no word of the λ
// each was trained under. A narrower screen leaves the column out.
func TestRunsScreenSaysEachRunsLambda(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct{ run, reward string }{
		{"20260102-030405-lam0", "[reward]\nkl_mean = 0.0\n"},
		{"20260103-101500-lam9", "[reward]\nkl_mean = 9.0\n"},
	} {
		dir := filepath.Join(root, "runs", c.run)
		writeRun(t, dir, t0, 3, true)
		cfg, err := os.ReadFile(filepath.Join(dir, sessions.ConfigFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, sessions.ConfigFile), append(cfg, c.reward...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(root)
	for _, c := range []struct {
		w, h  int
		shown bool
	}{{120, 40, true}, {80, 24, false}} {
		m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
		m.Update(tea.WindowSizeMsg{Width: c.w, Height: c.h})
		hit(t, m, "4")
		listNow(t, m)
		v := m.View()
		lines := strings.Split(v, "\n")
		head := ""
		for _, l := range lines {
			if strings.Contains(l, "BEST REWARD") {
				head = l
			}
		}
		if got := strings.Contains(head, "BEST REWARD λ "); got != c.shown {
			t.Errorf("%dx%d: a λ column after BEST REWARD: %v, want %v:\n%s", c.w, c.h, got, c.shown, v)
			closeModel(t, m)
			continue
		}
		if c.shown {
			at := len([]rune(head[:strings.Index(head, "BEST REWARD λ ")])) + len("BEST REWARD ")
			for _, want := range []struct{ run, cell string }{{"lam0", "λ=0"}, {"lam9", "λ=9"}} {
				found := false
				for _, l := range lines {
					if r := []rune(l); strings.Contains(l, want.run+" ") && len(r) > at+len([]rune(want.cell)) {
						found = found || string(r[at:at+len([]rune(want.cell))]) == want.cell
					}
				}
				if !found {
					t.Errorf("%dx%d: run %s: want %q under λ:\n%s", c.w, c.h, want.run, want.cell, v)
				}
			}
		}
		closeModel(t, m)
	}
}
