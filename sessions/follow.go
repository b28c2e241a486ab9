package sessions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"
)

// DefaultPollInterval is how often Run polls for new data.
const DefaultPollInterval = 200 * time.Millisecond

// MaxFollowLine bounds one line; a longer unterminated line is an error
// (the file is not JSON Lines, or its writer is broken).
const MaxFollowLine = 64 << 20

// maxPollBytes bounds the bytes read by one Poll, so it returns promptly on
// a large backlog; the rest comes with the next Poll.
const maxPollBytes = 8 << 20

// NoticeKind says what happened to a followed file.
type NoticeKind int

const (
	NoticeAppeared  NoticeKind = iota + 1 // the file now exists
	NoticeVanished                        // the file was removed; waiting for it to return
	NoticeTruncated                       // shorter than what was read, or rewritten: restarted from offset 0
	NoticeReplaced                        // a different file now has the name: restarted from offset 0
)

func (k NoticeKind) String() string {
	switch k {
	case NoticeAppeared:
		return "appeared"
	case NoticeVanished:
		return "vanished"
	case NoticeTruncated:
		return "truncated"
	case NoticeReplaced:
		return "replaced"
	}
	return fmt.Sprintf("NoticeKind(%d)", int(k))
}

// Notice is a non-fatal event seen while following a file.
type Notice struct {
	Path string
	Kind NoticeKind
	Msg  string
}

func (n Notice) String() string { return n.Path + ": " + n.Msg }

// Follower tails a JSON Lines file that another process appends to. It
// never blocks waiting for data: Poll returns whatever complete lines are new
// (possibly none). A partial last line is held back until its newline
// arrives. A file that does not exist yet is waited for; a file that shrinks,
// is rewritten, or is replaced by another file (rename over it) is read again
// from the beginning, with a Notice. A Follower is not safe for concurrent
// use; Run owns it while it runs.
type Follower struct {
	// Interval is the polling period used by Run (DefaultPollInterval if 0).
	Interval time.Duration

	path    string
	f       *os.File
	info    os.FileInfo
	offset  int64  // start of the first undelivered byte (a line start)
	pending []byte // bytes read past offset: an unterminated line
	tail    []byte // last bytes before offset, to detect rewrites
	checked bool   // offset validated against the file content
	notices []Notice
	more    bool      // the last Poll stopped at maxPollBytes
	missing bool      // the file was seen not to exist
	parked  bool      // closed by park until the file changes
	pos     []LinePos // where each line the last Poll returned is
	blanks  int       // blank lines read since the last line returned
}

// LinePos is where a line Poll returned is in its file: the byte offset it
// starts at, and how many blank lines came just before it (skipped, yet
// lines of the file that its line number counts).
type LinePos struct {
	Offset int64
	Blanks int
}

// NewFollower follows path starting at byte fromOffset, which should be 0 or
// a value from Offset (a line start). If the file turns out shorter than
// fromOffset, or fromOffset is not at a line start, the Follower starts from
// 0 with a NoticeTruncated.
func NewFollower(path string, fromOffset int64) *Follower {
	if fromOffset < 0 {
		fromOffset = 0
	}
	return &Follower{path: path, offset: fromOffset, checked: fromOffset == 0}
}

// followTail is how many bytes before its offset a Follower keeps, to tell
// a file rewritten in place from one appended to.
const followTail = 32

// followAfter follows path from where a read of it (ReadLog) stopped: the
// bytes it read last are checked at every poll, as those of a Poll are, so
// a file rewritten after it was read is read again from its start (not
// only one that shrank).
func followAfter(path string, st ReadStats) *Follower {
	f := NewFollower(path, st.Offset)
	if len(st.Tail) > 0 {
		f.tail, f.checked = append([]byte(nil), st.Tail...), true
	}
	return f
}

// Path is the followed file.
func (f *Follower) Path() string { return f.path }

// Positions returns where each line the last Poll returned is, in order
// (valid until the next Poll).
func (f *Follower) Positions() []LinePos { return f.pos }

// Offset is the position just after the last delivered line; pass it to
// NewFollower to resume later.
func (f *Follower) Offset() int64 { return f.offset }

// Notices returns and clears the notices gathered by Poll since the last call.
func (f *Follower) Notices() []Notice {
	n := f.notices
	f.notices = nil
	return n
}

func (f *Follower) notice(k NoticeKind, format string, args ...any) {
	f.notices = append(f.notices, Notice{Path: f.path, Kind: k, Msg: fmt.Sprintf(format, args...)})
}

func (f *Follower) restart() {
	f.offset, f.blanks = 0, 0
	f.pending = f.pending[:0]
	f.tail = f.tail[:0]
	f.checked = true
}

// holdFollowedOpen: the file stays open between polls. Not on Windows,
// where a file os.Open holds cannot be renamed over or removed (Wine
// refuses it even to a handle opened with FILE_SHARE_DELETE): holding a trainer's
// log would make the trainer's own rename fail. There each Poll opens the
// file and closes it before returning, and f.info (from the open handle,
// so it carries the file's identity) tells a replaced file apart.
const holdFollowedOpen = runtime.GOOS != "windows"

// release closes the open file but keeps what identifies it (f.info).
func (f *Follower) release() {
	if f.f != nil {
		f.f.Close()
		f.f = nil
	}
}

// park closes the open file of a follower whose file is not expected to
// grow (a past step's trace file of a run): Poll then opens it again only
// when its size or modification time changed, so that a run of thousands
// of such files does not hold a descriptor for each.
func (f *Follower) park() {
	f.release()
	f.parked = f.info != nil
}

// Close releases the open file. The Follower may be polled again afterwards.
func (f *Follower) Close() error {
	var err error
	if f.f != nil {
		err = f.f.Close()
	}
	f.f, f.info = nil, nil
	return err
}

// Poll returns the complete lines (without their newlines; blank lines
// dropped) added since the previous call. It does not wait. The returned
// slices are freshly allocated and owned by the caller.
func (f *Follower) Poll() ([][]byte, error) {
	f.more = false
	f.pos = f.pos[:0]
	st, err := os.Stat(f.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			f.missing = true
			if f.info != nil {
				f.notice(NoticeVanished, "file removed; waiting for it to reappear")
				f.Close()
				f.restart()
			}
			return nil, nil
		}
		return nil, fmt.Errorf("follow %s: %w", f.path, err)
	}
	if f.info != nil && !os.SameFile(f.info, st) {
		f.Close()
		f.notice(NoticeReplaced, "replaced by a new file; reading it from the start")
		f.restart()
	}
	if f.parked && f.f == nil && f.info != nil && st.Size() == f.offset+int64(len(f.pending)) &&
		st.ModTime().Equal(f.info.ModTime()) {
		return nil, nil // parked and unchanged: nothing to open
	}
	f.parked = false
	if f.f == nil {
		file, err := os.Open(f.path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				f.missing = true
				return nil, nil
			}
			return nil, fmt.Errorf("follow %s: %w", f.path, err)
		}
		if st, err = file.Stat(); err != nil {
			file.Close()
			return nil, fmt.Errorf("follow %s: %w", f.path, err)
		}
		if f.missing {
			f.notice(NoticeAppeared, "file appeared")
			f.missing = false
		}
		f.f, f.info = file, st
	} else {
		f.info = st
	}
	if !holdFollowedOpen {
		defer f.release()
	}
	size := st.Size()
	readPos := f.offset + int64(len(f.pending))
	if size < readPos {
		f.notice(NoticeTruncated, "file shrank to %d bytes (had read %d); reading it from the start", size, readPos)
		f.restart()
		readPos = 0
	} else if err := f.verify(); err != nil {
		return nil, err
	}
	readPos = f.offset + int64(len(f.pending))
	if size == readPos {
		return nil, nil
	}
	n := size - readPos
	if n > maxPollBytes {
		n = maxPollBytes
		f.more = true
	}
	start := len(f.pending)
	buf := append(f.pending, make([]byte, n)...)
	got, err := f.f.ReadAt(buf[start:], readPos)
	buf = buf[:start+got]
	if err != nil && err != io.EOF {
		f.pending = buf
		return nil, fmt.Errorf("follow %s: read at %d: %w", f.path, readPos, err)
	}
	last := bytes.LastIndexByte(buf, '\n')
	if last < 0 {
		f.pending = buf
		if len(f.pending) > MaxFollowLine {
			return nil, fmt.Errorf("follow %s: line at offset %d is longer than %d bytes without a newline", f.path, f.offset, MaxFollowLine)
		}
		return nil, nil
	}
	complete := buf[:last+1]
	var lines [][]byte
	at := f.offset
	for len(complete) > 0 {
		i := bytes.IndexByte(complete, '\n')
		line := bytes.TrimSuffix(complete[:i], []byte{'\r'})
		complete = complete[i+1:]
		start := at
		at += int64(i + 1)
		if len(bytes.TrimSpace(line)) == 0 {
			f.blanks++
			continue
		}
		lines = append(lines, bytes.Clone(line))
		f.pos = append(f.pos, LinePos{Offset: start, Blanks: f.blanks})
		f.blanks = 0
	}
	f.offset += int64(last + 1)
	f.tail = append(f.tail[:0], buf[max(0, last+1-followTail):last+1]...)
	f.pending = append(f.pending[:0:0], buf[last+1:]...)
	return lines, nil
}

// verify checks, once per opened file and then on every poll, that the bytes
// just before offset are still those delivered (else the file was rewritten
// in place), for a starting offset, that it is at a line start, and, at
// any offset (0 too), that a partial line read is still there
// (verifyPending).
func (f *Follower) verify() error {
	if f.offset == 0 {
		// No line delivered to check, but a partial first line read may
		// have been cut away and written over (a resume's open of a
		// file whose one line was torn).
		return f.verifyPending()
	}
	if !f.checked {
		// Starting offset from the caller: the byte before must be '\n'.
		var b [1]byte
		if _, err := f.f.ReadAt(b[:], f.offset-1); err != nil && err != io.EOF {
			return fmt.Errorf("follow %s: %w", f.path, err)
		}
		f.checked = true
		if b[0] != '\n' {
			f.notice(NoticeTruncated, "offset %d is not at a line start; reading from the start", f.offset)
			f.restart()
			return nil
		}
		return f.verifyPending()
	}
	if len(f.tail) == 0 {
		return f.verifyPending()
	}
	got := make([]byte, len(f.tail))
	if _, err := f.f.ReadAt(got, f.offset-int64(len(f.tail))); err != nil && err != io.EOF {
		return fmt.Errorf("follow %s: %w", f.path, err)
	}
	if !bytes.Equal(got, f.tail) {
		f.notice(NoticeTruncated, "file was rewritten; reading it from the start")
		f.restart()
		return nil
	}
	return f.verifyPending()
}

// pendingCheck is how many bytes of each end of a partial line read
// (pending) verifyPending compares with the file: a long line a writer is
// still writing is not read again whole on every poll.
const pendingCheck = 4096

// verifyPending checks that the partial line read past offset (pending)
// is still in the file there. A writer ends it by appending, never by
// changing it; bytes there that differ are another line: a resume's open
// cut the partial line away and wrote on before this poll, the file no
// shorter than what was read, so no truncation was seen. The partial line
// is dropped and the file read on from offset (the lines before it
// checked by tail): joined to the new line's end, it made one line no
// reader could parse (a broken trace where the resume's was whole).
func (f *Follower) verifyPending() error {
	n := len(f.pending)
	if n == 0 {
		return nil
	}
	check := func(from int) (bool, error) {
		size := min(pendingCheck, n-from)
		got := make([]byte, size)
		m, err := f.f.ReadAt(got, f.offset+int64(from))
		if err != nil && err != io.EOF {
			return false, fmt.Errorf("follow %s: %w", f.path, err)
		}
		return bytes.Equal(got[:m], f.pending[from:from+size]), nil
	}
	same, err := check(0)
	if err == nil && same && n > pendingCheck {
		same, err = check(n - pendingCheck)
	}
	if err != nil {
		return err
	}
	if !same {
		f.pending = f.pending[:0]
	}
	return nil
}

// Run polls every Interval until ctx is done, calling deliver whenever there
// are new lines or notices. deliver runs on Run's goroutine: it should append
// the lines to a store, wake the reader without blocking (see Signal) and
// return quickly; the reader then pulls from the store at its own pace. A
// backlog larger than one Poll's read limit is drained without waiting for
// the next tick. Run closes the file and returns ctx.Err() when cancelled, or
// the first error from Poll.
func (f *Follower) Run(ctx context.Context, deliver func(lines [][]byte, notices []Notice)) error {
	defer f.Close()
	return pollUntilDone(ctx, f.Interval, f.Poll, f.Notices, func() bool { return f.more }, deliver)
}

// pollUntilDone is Run's loop, a file's (Follower) and a folder's
// (DirFollower): every interval (DefaultPollInterval when not set) it
// polls, hands what is new to deliver, and returns poll's first error or,
// once ctx is done, ctx.Err(). While more says the last poll stopped at
// its read limit it polls again at once, so that a backlog is drained
// without waiting for the ticks.
func pollUntilDone[L any](ctx context.Context, interval time.Duration, poll func() ([]L, error), notices func() []Notice,
	more func() bool, deliver func(lines []L, notices []Notice)) error {
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		lines, err := poll()
		ns := notices()
		if len(lines) > 0 || len(ns) > 0 {
			deliver(lines, ns)
		}
		if err != nil {
			return err
		}
		if more() {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Signal returns a function that sends on ch without blocking: if a signal
// is already pending the new one is dropped. Use a channel of capacity 1.
func Signal(ch chan<- struct{}) func() {
	return func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Line is one line from a DirFollower.
type Line struct {
	File string // base name of the file within the folder
	Data []byte
}

// DirFollower follows every file in a folder whose name matches a glob
// pattern (e.g. "*.jsonl"), including files created later. Each file is
// followed from its start by its own Follower; Poll returns new lines file by
// file in name order.
type DirFollower struct {
	Interval time.Duration
	dir      string
	pattern  string
	files    map[string]*Follower
	notices  []Notice
}

// NewDirFollower follows the files in dir matching pattern (filepath.Match
// syntax). dir need not exist yet.
func NewDirFollower(dir, pattern string) (*DirFollower, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("follow %s: bad pattern %q: %w", dir, pattern, err)
	}
	return &DirFollower{dir: dir, pattern: pattern, files: map[string]*Follower{}}, nil
}

// Poll returns new complete lines from every matching file. It does not wait.
func (d *DirFollower) Poll() ([]Line, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("follow %s: %w", d.dir, err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if ok, _ := filepath.Match(d.pattern, e.Name()); ok {
			names = append(names, e.Name())
		}
	}
	for name := range d.files {
		names = append(names, name) // vanished files still get a last poll
	}
	sort.Strings(names)
	var out []Line
	var errs []error
	prev := ""
	for _, name := range names {
		if name == prev {
			continue
		}
		prev = name
		fl := d.files[name]
		if fl == nil {
			fl = NewFollower(filepath.Join(d.dir, name), 0)
			d.files[name] = fl
		}
		lines, err := fl.Poll()
		for _, l := range lines {
			out = append(out, Line{File: name, Data: l})
		}
		d.notices = append(d.notices, fl.Notices()...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// Notices returns and clears the notices gathered by Poll.
func (d *DirFollower) Notices() []Notice {
	n := d.notices
	d.notices = nil
	return n
}

// Close closes every open file.
func (d *DirFollower) Close() error {
	var errs []error
	for _, f := range d.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// Run is Follower.Run for a folder: a file's backlog, too, is drained
// without waiting for the ticks.
func (d *DirFollower) Run(ctx context.Context, deliver func(lines []Line, notices []Notice)) error {
	defer d.Close()
	return pollUntilDone(ctx, d.Interval, d.Poll, d.Notices, d.more, deliver)
}

// more reports whether the last Poll stopped at the read limit in any file.
func (d *DirFollower) more() bool {
	for _, f := range d.files {
		if f.more {
			return true
		}
	}
	return false
}
