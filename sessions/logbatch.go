package sessions

import (
	"fmt"
	"io"
	"os"
)

// appendLines writes n complete lines (data is their concatenation, each
// ending in '\n') with a single write, as appendLine does for one line: on
// failure the file is truncated back to its previous length, so none of
// the n lines is left half-written, and the error names the line range.
// The Run's background writer uses it to write a batch with one system call.
func (l *Log) appendLines(data []byte, n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
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
		first := l.records + 1
		if terr := l.f.Truncate(l.size); terr != nil {
			l.err = fmt.Errorf("log %s: write of lines %d-%d failed (%v) and what it wrote could not be removed: %w; reopen the log to repair it", l.path, first, first+n-1, err, terr)
			return l.err
		}
		return fmt.Errorf("append to %s: lines %d-%d (%d bytes, file left at %d bytes): %w", l.path, first, first+n-1, len(data), l.size, err)
	}
	l.size += int64(w)
	l.records += n
	l.unsynced += n
	if l.syncEvery > 0 && l.unsynced >= l.syncEvery {
		return l.syncLocked()
	}
	return nil
}
