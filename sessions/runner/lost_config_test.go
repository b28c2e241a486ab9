package runner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestOpenRunThatLostItsConfig: a run folder of rlt's whose config.toml is
// gone, its records kept (metrics.jsonl, events.jsonl), opens read-only to
// review and to follow, the loss said with what to do, as
// sessions.OpenReadOnly says it; it was refused as "a workbench run folder
// (it has config.toml or metrics.jsonl), not another trainer's", which
// said neither what was wrong nor what to do.
func TestOpenRunThatLostItsConfig(t *testing.T) {
	l := NewLauncher(context.Background(), t.TempDir(), t.TempDir())
	for _, kept := range []string{sessions.MetricsFile, sessions.EventsFile} {
		for name, open := range map[string]func(string) (*sessions.Session, error){"OpenReadOnly": l.OpenReadOnly, "OpenForReview": l.OpenForReview} {
			t.Run(kept+"/"+name, func(t *testing.T) {
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, kept), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				s, err := open(dir)
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				defer s.Close()
				if !s.ReadOnly || !slices.Contains(s.Notes, "config.toml is missing: shown without its settings") {
					t.Errorf("read-only %v, notes %q", s.ReadOnly, s.Notes)
				}
				said := false
				for _, is := range s.Run.Store().Issues() {
					said = said || is.File == filepath.Join(dir, sessions.ConfigFile) && strings.Contains(is.Msg, "missing") &&
						strings.Contains(is.Msg, "rlt run --print-config prints one to start from for a run of the embedded models, rlt train --print-config for one of your own")
				}
				if !said {
					t.Errorf("issues %+v say nothing of the missing %s and what to do", s.Run.Store().Issues(), sessions.ConfigFile)
				}
			})
		}
	}
}
