package sessions

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/rlt-workbench/rlt/engine/durable"
)

// DefaultSyncEvery is the number of appended records after which a Log opened
// with default options fsyncs the file. Sync and Close always fsync.
const DefaultSyncEvery = 64

// LogOptions tune a Log. The zero value gives the defaults.
type LogOptions struct {
	// SyncEvery sets the fsync policy: 1 fsyncs after every record; n > 1
	// fsyncs after every n records; 0 means DefaultSyncEvery; a negative
	// value fsyncs only in Sync and Close. Whatever the policy, every Append
	// hands its line to the operating system before returning, so readers in
	// other processes see it at once; the policy only decides what survives a
	// power loss or kernel crash.
	SyncEvery int
	// Perm is the mode for a newly created file (default 0o644).
	Perm os.FileMode
}

// logFile is the part of *os.File a Log uses; tests substitute a failing one.
type logFile interface {
	WriteAt(p []byte, off int64) (int, error)
	Truncate(size int64) error
	Sync() error
	Close() error
}

// Log is an append-only JSON Lines file: one JSON value per line, each line
// written whole with one write. It is safe for use by several goroutines.
//
// Open it with OpenLog; a Log does not lock against other processes (use
// LockRun on the run folder for that).
type Log struct {
	mu        sync.Mutex
	path      string
	f         logFile
	size      int64 // bytes of complete lines in the file
	records   int   // complete lines (records) in the file
	dropped   int64 // bytes of a partial tail removed at open
	syncEvery int
	unsynced  int
	buf       []byte
	err       error // sticky: the file could not be restored after a failure
}

// OpenLog opens (creating if needed) the JSON Lines file at path for
// appending, with default options. See OpenLogWith.
func OpenLog(path string) (*Log, error) {
	return OpenLogWith(path, LogOptions{})
}

// OpenLogWith opens the JSON Lines file at path for appending. It scans the
// file; if the last line has no trailing newline (a writer died mid-line) that
// partial tail is truncated away and fsynced, so the file again ends on a
// record boundary: records are never cut short or duplicated. Dropped reports
// how many bytes were removed.
func OpenLogWith(path string, opt LogOptions) (*Log, error) {
	perm := opt.Perm
	if perm == 0 {
		perm = 0o644
	}
	_, statErr := os.Lstat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, perm)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		// A new file: make its directory entry durable too.
		if err := durable.SyncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, fmt.Errorf("open log %s: sync directory: %w", path, err)
		}
	}
	complete, lines, err := scanComplete(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	l := &Log{path: path, f: f, size: complete, records: lines}
	if tail := st.Size() - complete; tail > 0 {
		if err := f.Truncate(complete); err != nil {
			f.Close()
			return nil, fmt.Errorf("open log %s: drop %d-byte partial last line (line %d): %w", path, tail, lines+1, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("open log %s: sync after repair: %w", path, err)
		}
		l.dropped = tail
	}
	switch {
	case opt.SyncEvery == 0:
		l.syncEvery = DefaultSyncEvery
	case opt.SyncEvery < 0:
		l.syncEvery = 0
	default:
		l.syncEvery = opt.SyncEvery
	}
	return l, nil
}

// scanComplete returns the length of the file's prefix that ends in a newline
// and the number of newlines in it.
func scanComplete(r io.Reader) (complete int64, lines int, err error) {
	buf := make([]byte, 256<<10)
	var off int64
	for {
		n, rerr := r.Read(buf)
		chunk := buf[:n]
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			complete = off + int64(i) + 1
			lines += bytes.Count(chunk, []byte{'\n'})
		}
		off += int64(n)
		if rerr == io.EOF {
			return complete, lines, nil
		}
		if rerr != nil {
			return 0, 0, rerr
		}
	}
}

// Path is the file's path.
func (l *Log) Path() string { return l.path }

// Dropped is the number of bytes of a partial last line removed by OpenLog
// (0 if the file ended cleanly).
func (l *Log) Dropped() int64 { return l.dropped }

// Records is the number of complete lines in the file: those present at open
// plus those appended since.
func (l *Log) Records() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.records
}

// Size is the file's length in bytes (complete lines only).
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size
}

// Append marshals v as JSON and writes it as one line. The line reaches the
// operating system before Append returns; it is fsynced according to the
// log's SyncEvery policy. If the write fails (for example ENOSPC) the file is
// truncated back to its previous length, so it stays readable and the next
// Append may succeed once space is freed.
func (l *Log) Append(v any) error {
	data, err := marshalLine(v)
	if err != nil {
		return fmt.Errorf("append to %s: %w", l.path, err)
	}
	return l.appendLine(data)
}

// AppendRaw writes one already-encoded JSON value as a line. It must be valid
// JSON without a newline (json.Marshal output qualifies).
func (l *Log) AppendRaw(data []byte) error {
	if bytes.IndexByte(data, '\n') >= 0 {
		return fmt.Errorf("append to %s: record contains a newline", l.path)
	}
	if !json.Valid(data) {
		return fmt.Errorf("append to %s: record is not valid JSON", l.path)
	}
	return l.appendLine(data)
}

// appendLine writes data and its newline as one line (writeLinesLocked),
// through the Log's reused buffer.
func (l *Log) appendLine(data []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(append(l.buf[:0], data...), '\n')
	return l.writeLinesLocked(l.buf, 1)
}

func (l *Log) syncLocked() error {
	if l.unsynced == 0 {
		return nil
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", l.path, err)
	}
	l.unsynced = 0
	return nil
}

// Sync fsyncs every record appended so far.
func (l *Log) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("sync %s: %w", l.path, os.ErrClosed)
	}
	return l.syncLocked()
}

// Close fsyncs and closes the file. Closing twice is a no-op.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.syncLocked()
	if cerr := l.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", l.path, cerr)
	}
	l.f = nil
	return err
}

// LineError is a problem with one line of a file.
type LineError struct {
	File string
	Line int // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ReadStats summarises a pass over a JSON Lines file.
type ReadStats struct {
	Lines        int         // complete non-empty lines handed to the callback
	Blank        int         // empty lines skipped
	PartialBytes int64       // bytes of an unterminated last line, skipped (a writer may still be writing it)
	Skipped      int         // lines skipped as corrupt (DecodeLog only)
	Corrupt      []LineError // the first MaxCorruptReported of them
	Offset       int64       // offset just after the last complete line
	// Tail is the last bytes before Offset (at most followTail), for a
	// Follower that goes on from Offset to tell the file rewritten since.
	Tail []byte
}

// MaxCorruptReported bounds ReadStats.Corrupt; Skipped keeps the full count.
const MaxCorruptReported = 100

// ReadLog calls fn for every complete, non-empty line of the JSON Lines file
// at path, in order, with its 1-based line number. raw excludes the newline
// and is only valid during the call. An unterminated last line is skipped and
// counted in PartialBytes, not an error. An error from fn stops the pass and
// is returned as a *LineError naming the file and line. ReadLog does not
// validate JSON itself: fn decodes and decides whether a corrupt line is fatal
// (return its error) or skipped (return nil); DecodeLog does the latter.
func ReadLog(path string, fn func(lineNo int, raw []byte) error) (ReadStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return ReadStats{}, fmt.Errorf("read log: %w", err)
	}
	defer f.Close()
	return readLines(path, f, fn)
}

func readLines(name string, r io.Reader, fn func(lineNo int, raw []byte) error) (ReadStats, error) {
	return readLinesAt(name, r, func(lineNo int, _ int64, raw []byte) error { return fn(lineNo, raw) })
}

// readFailed says that reading the file name through r failed after
// line lineNo: a folder where the file belongs is said as one (its read
// fails with "is a directory"), and the file's path is said once, not
// again in the os.PathError it wraps.
func readFailed(name string, r io.Reader, lineNo int, err error) error {
	if f, ok := r.(*os.File); ok && lineNo == 0 {
		if fi, serr := f.Stat(); serr == nil && fi.IsDir() {
			return fmt.Errorf("%s is a folder, not a file of JSON Lines", name)
		}
	}
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Path == name {
		err = pe.Err
	}
	return fmt.Errorf("read %s: after line %d: %w", name, lineNo, err)
}

// readLogAt is ReadLog, telling fn also where each line starts in the file
// (its byte offset; the line's length is len(raw), without the newline).
func readLogAt(path string, fn func(lineNo int, off int64, raw []byte) error) (ReadStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return ReadStats{}, fmt.Errorf("read log: %w", err)
	}
	defer f.Close()
	return readLinesAt(path, f, fn)
}

// lineReaders keeps readLinesAt's buffers: opening a run of 20,000 trace
// files made and cleared 64 KiB for each, 14% of its time.
var lineReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

func readLinesAt(name string, r io.Reader, fn func(lineNo int, off int64, raw []byte) error) (ReadStats, error) {
	return scanLines(name, r, false, func(lineNo int, off int64, raw []byte, _ bool) error { return fn(lineNo, off, raw) })
}

// scanLines is readLinesAt; with last, it also hands fn an unterminated
// last line that is not blank, with unterminated true (false for every
// other line): raw is then the line as the file holds it, a CR and
// spaces included (len(raw) is PartialBytes), at the line number after
// the last line's. Such a line is still counted in PartialBytes, not in
// Lines, and Offset stays before it.
func scanLines(name string, r io.Reader, last bool, fn func(lineNo int, off int64, raw []byte, unterminated bool) error) (ReadStats, error) {
	var st ReadStats
	br := lineReaders.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil)
		lineReaders.Put(br)
	}()
	var long []byte
	lineNo := 0
	// The last followTail bytes of the complete lines, kept in place (a
	// slice appended to and cut from its front reallocated at every line).
	var tail [followTail]byte
	tn := 0
	stats := func() ReadStats {
		st.Tail = append([]byte(nil), tail[:tn]...)
		return st
	}
	for {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long, chunk...)
			continue
		}
		if err == io.EOF {
			st.PartialBytes = int64(len(long) + len(chunk))
			if last && st.PartialBytes > 0 {
				line := chunk
				if len(long) > 0 {
					line = append(long, chunk...)
				}
				if len(bytes.TrimSpace(line)) > 0 {
					if ferr := fn(lineNo+1, st.Offset, line, true); ferr != nil {
						return stats(), &LineError{File: name, Line: lineNo + 1, Err: ferr}
					}
				}
			}
			return stats(), nil
		}
		if err != nil {
			return stats(), readFailed(name, r, lineNo, err)
		}
		line := chunk
		if len(long) > 0 {
			long = append(long, chunk...)
			line = long
		}
		lineNo++
		start := st.Offset
		st.Offset += int64(len(line))
		if len(line) >= followTail {
			tn = copy(tail[:], line[len(line)-followTail:])
		} else {
			keep := min(tn, followTail-len(line))
			copy(tail[:], tail[tn-keep:tn])
			tn = keep + copy(tail[keep:], line)
		}
		line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			st.Blank++
		} else {
			st.Lines++
			if ferr := fn(lineNo, start, line, false); ferr != nil {
				return stats(), &LineError{File: name, Line: lineNo, Err: ferr}
			}
		}
		long = long[:0]
	}
}

// DecodeLog reads the JSON Lines file at path, decoding each complete line
// into a fresh T and calling fn with it. Lines that are not valid JSON for T
// are skipped and counted (ReadStats.Skipped, with details in Corrupt); an
// unterminated last line is skipped as in ReadLog. An error from fn stops the
// pass.
func DecodeLog[T any](path string, fn func(lineNo int, rec T) error) (ReadStats, error) {
	var skipped int
	var corrupt []LineError
	st, err := ReadLog(path, func(lineNo int, raw []byte) error {
		var rec T
		if derr := json.Unmarshal(raw, &rec); derr != nil {
			skipped++
			if len(corrupt) < MaxCorruptReported {
				corrupt = append(corrupt, LineError{File: path, Line: lineNo, Err: derr})
			}
			return nil
		}
		return fn(lineNo, rec)
	})
	st.Skipped, st.Corrupt = skipped, corrupt
	return st, err
}
