package sessions

import (
	"fmt"
	"io"
	"os"
)

// appendLines writes n complete lines (data is their concatenation, each
// ending in '\n') with a single write (writeLinesLocked). The Run's
// background writer uses it to write a batch with one system call.
func (l *Log) appendLines(data []byte, n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writeLinesLocked(data, n)
}

// writeLinesLocked is the Log's one way to write: n complete lines (data,
// each ending in '\n') in a single write at the end of the file. On
// failure the file is truncated back to its previous length, so none of the
// n lines is left half-written, and the error names the lines ("line 4",
// "lines 3-5"); where even the truncation fails the Log refuses every later
// write until it is reopened (which repairs the file). l.mu is held.
func (l *Log) writeLinesLocked(data []byte, n int) error {
	if l.err != nil {
		return l.err
	}
	if l.f == nil {
		return fmt.Errorf("append to %s: %w", l.path, os.ErrClosed)
	}
	w, err := l.f.WriteAt(data, l.size)
	if err == nil && w < len(data) {
		err = io.ErrShortWrite
	}
	if err != nil {
		// Truncated back whatever w says: os.File.WriteAt reports 0 bytes
		// when the pwrite that failed had written part of the lines.
		lines := fmt.Sprintf("line %d", l.records+1)
		if n > 1 {
			lines = fmt.Sprintf("lines %d-%d", l.records+1, l.records+n)
		}
		if terr := l.f.Truncate(l.size); terr != nil {
			l.err = fmt.Errorf("log %s: write of %s failed (%v) and what it wrote could not be removed: %w; reopen the log to repair it", l.path, lines, err, terr)
			return l.err
		}
		return fmt.Errorf("append to %s: %s (%d bytes, file left at %d bytes): %w", l.path, lines, len(data), l.size, err)
	}
	l.size += int64(w)
	l.records += n
	l.unsynced += n
	if l.syncEvery > 0 && l.unsynced >= l.syncEvery {
		return l.syncLocked()
	}
	return nil
}
