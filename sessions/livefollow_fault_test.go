package sessions

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFollowErrorIsGraded: the error event a followed trainer's folder
// gets when reading it again fails twice on the same files is written
// with its severity and fault, as every error event is (Run.Emit): it
// was written with neither, so a reader graded it by its words (a
// message starting "warning: " a warning, one quoting event.ResumeOnCPU,
// in a path or the import's error, a device's failure: legacyFault).
func TestFollowErrorIsGraded(t *testing.T) {
	live := filepath.Join(t.TempDir(), "live")
	if err := os.MkdirAll(live, 0o755); err != nil {
		t.Fatal(err)
	}
	// A folder that is gone: each look's import fails on the same files.
	f := &trainerFollow{src: filepath.Join(t.TempDir(), "gone"), format: ImportTRL, live: live, cache: &importCache{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.run(ctx, "before", time.Millisecond) }()
	events := filepath.Join(live, EventsFile)
	var data []byte
	for deadline := time.Now().Add(time.Minute); !strings.Contains(string(data), `"kind":"error"`); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatal("no error event written for a folder that cannot be read")
		}
		data, _ = os.ReadFile(events)
	}
	cancel()
	<-done
	line := strings.TrimSpace(string(data))
	for _, want := range []string{`"kind":"error"`, `"severity":"error"`, `"fault":"other"`, "tried again when its files change"} {
		if !strings.Contains(line, want) {
			t.Errorf("the follow's error event %s: want %s in it", line, want)
		}
	}
}
