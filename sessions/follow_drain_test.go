package sessions

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A backlog larger than one Poll reads (maxPollBytes) is delivered whole
// without waiting for the next tick, by a file's Run and a folder's alike
// (both are pollUntilDone): with an hour between ticks, every line comes.
func TestRunDrainsABacklogWithoutTicks(t *testing.T) {
	line := append(bytes.Repeat([]byte("x"), 1023), '\n')
	lines := maxPollBytes/len(line) + 1000 // more than one Poll's worth
	dir := t.TempDir()
	path := filepath.Join(dir, "big.jsonl")
	if err := os.WriteFile(path, bytes.Repeat(line, lines), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		run  func(ctx context.Context, got func(n int)) error
	}{
		{"file", func(ctx context.Context, got func(int)) error {
			f := NewFollower(path, 0)
			f.Interval = time.Hour
			return f.Run(ctx, func(ls [][]byte, _ []Notice) { got(len(ls)) })
		}},
		{"folder", func(ctx context.Context, got func(int)) error {
			d, err := NewDirFollower(dir, "*.jsonl")
			if err != nil {
				return err
			}
			d.Interval = time.Hour
			return d.Run(ctx, func(ls []Line, _ []Notice) { got(len(ls)) })
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// hangGuard only ends the test where the backlog waits for a
			// tick an hour away; reading 9 MiB takes a fraction of it.
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			n := 0
			err := c.run(ctx, func(k int) {
				if n += k; n >= lines {
					cancel()
				}
			})
			if !errors.Is(err, context.Canceled) || n != lines {
				t.Fatalf("%d of %d lines delivered before the first tick; Run: %v", n, lines, err)
			}
		})
	}
}
