package sessions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type seqRec struct {
	Seq int    `json:"seq"`
	N   int    `json:"n"`
	Pad string `json:"pad"`
}

func TestOpenLogRepairsPartialTail(t *testing.T) {
	cases := []struct {
		name        string
		content     string
		wantDropped int64
		wantRecords int
		wantContent string
	}{
		{"empty", "", 0, 0, ""},
		{"clean", "{\"a\":1}\n{\"a\":2}\n", 0, 2, "{\"a\":1}\n{\"a\":2}\n"},
		{"partial tail", "{\"a\":1}\n{\"a\":2}\n{\"a\":", 5, 2, "{\"a\":1}\n{\"a\":2}\n"},
		{"only partial", "{\"a\"", 4, 0, ""},
		{"zero-filled tail", "{\"a\":1}\n\x00\x00\x00\x00", 4, 1, "{\"a\":1}\n"},
		{"complete-looking tail without newline", "{\"a\":1}\n{\"a\":2}", 7, 1, "{\"a\":1}\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "metrics.jsonl")
			os.WriteFile(path, []byte(tc.content), 0o644)
			l, err := OpenLog(path)
			if err != nil {
				t.Fatal(err)
			}
			if l.Dropped() != tc.wantDropped || l.Records() != tc.wantRecords {
				t.Errorf("dropped %d records %d, want %d %d", l.Dropped(), l.Records(), tc.wantDropped, tc.wantRecords)
			}
			if err := l.Append(map[string]int{"a": 9}); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if want := tc.wantContent + "{\"a\":9}\n"; string(got) != want {
				t.Errorf("file %q, want %q", got, want)
			}
		})
	}
}

func TestReadLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.jsonl")
	long := strings.Repeat("y", 200<<10) // longer than the reader's buffer
	content := "{\"seq\":0}\n\n{\"seq\":1,\"pad\":\"" + long + "\"}\r\nnot json\n{\"seq\":3}\n{\"seq\":"
	os.WriteFile(path, []byte(content), 0o644)

	// Strict use: the callback returns the decode error, which names the line.
	_, err := ReadLog(path, func(n int, raw []byte) error {
		var r seqRec
		return json.Unmarshal(raw, &r)
	})
	var le *LineError
	if !errors.As(err, &le) || le.Line != 4 || !strings.HasPrefix(err.Error(), path+":4: ") {
		t.Fatalf("strict read: %v", err)
	}

	// Default helper: skip and count.
	var seqs []int
	st, err := DecodeLog(path, func(n int, r seqRec) error {
		seqs = append(seqs, r.Seq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seqs) != "[0 1 3]" || st.Skipped != 1 || st.Corrupt[0].Line != 4 ||
		st.Blank != 1 || st.PartialBytes != int64(len("{\"seq\":")) || st.Lines != 4 {
		t.Fatalf("seqs %v stats %+v", seqs, st)
	}
	if st.Offset != int64(len(content)-len("{\"seq\":")) {
		t.Errorf("offset %d", st.Offset)
	}
}

func TestAppendRaw(t *testing.T) {
	l, err := OpenLog(filepath.Join(t.TempDir(), "x.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, bad := range []string{"{\"a\":\n1}", "{nope", ""} {
		if err := l.AppendRaw([]byte(bad)); err == nil {
			t.Errorf("AppendRaw(%q) accepted", bad)
		}
	}
	if err := l.AppendRaw([]byte(`{"ok":true}`)); err != nil || l.Records() != 1 {
		t.Fatal(err, l.Records())
	}
}

// failingFile lets the first budget bytes through to the real file, then
// fails like a full disk: the write that crosses the budget is partial.
// mu guards budget: a run's writer goroutine writes through it while the
// test frees space (free).
type failingFile struct {
	*os.File
	mu            sync.Mutex
	budget        int
	failTruncate  bool
	truncateCalls int
}

// free gives the file room again, as a disk whose space was freed.
func (f *failingFile) free() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.budget = 1 << 20
}

func (f *failingFile) WriteAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(p) <= f.budget {
		f.budget -= len(p)
		return f.File.WriteAt(p, off)
	}
	f.File.WriteAt(p[:f.budget], off)
	f.budget = 0
	// As os.File.WriteAt: a pwrite that fails after writing part of p
	// reports none of it (its loop breaks before counting).
	return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

func (f *failingFile) Truncate(size int64) error {
	f.truncateCalls++
	if f.failTruncate {
		return &os.PathError{Op: "truncate", Path: f.Name(), Err: syscall.EIO}
	}
	return f.File.Truncate(size)
}

// TestAppendDiskFull simulates ENOSPC with a writer wrapper (no tiny tmpfs
// here): a write that fails partway must be truncated back, leaving the file
// readable and appendable once space returns.
func TestAppendDiskFull(t *testing.T) {
	rec := seqRec{Pad: strings.Repeat("p", 100)}
	line, _ := json.Marshal(rec)
	lineLen := len(line) + 1
	for _, failTruncate := range []bool{false, true} {
		t.Run(fmt.Sprintf("truncate-fails=%v", failTruncate), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.jsonl")
			l, err := OpenLog(path)
			if err != nil {
				t.Fatal(err)
			}
			ff := &failingFile{File: l.f.(*os.File), budget: 3*lineLen + 40, failTruncate: failTruncate}
			l.f = ff
			for i := 0; i < 3; i++ {
				if err := l.Append(rec); err != nil {
					t.Fatal(err)
				}
			}
			err = l.Append(rec)
			if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EIO) {
				t.Fatalf("err %v, want ENOSPC", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 4") {
				t.Errorf("error lacks context: %v", err)
			}
			if !failTruncate {
				st, _ := os.Stat(path)
				if st.Size() != int64(3*lineLen) {
					t.Fatalf("size %d after failed append, want %d", st.Size(), 3*lineLen)
				}
				ff.free()
				if err := l.Append(rec); err != nil {
					t.Fatal(err)
				}
				l.Close()
				n := 0
				st2, err := DecodeLog(path, func(int, seqRec) error { n++; return nil })
				if err != nil || n != 4 || st2.Skipped != 0 || st2.PartialBytes != 0 {
					t.Fatalf("after recovery: n=%d %+v %v", n, st2, err)
				}
				return
			}
			// The partial line could not be removed: the log refuses further
			// appends, and reopening repairs the file.
			ff.free()
			if err2 := l.Append(rec); err2 == nil || !strings.Contains(err2.Error(), "reopen") {
				t.Fatalf("append after unrepaired failure: %v", err2)
			}
			l.Close()
			l2, err := OpenLog(path)
			if err != nil {
				t.Fatal(err)
			}
			if l2.Dropped() != 40 || l2.Records() != 3 {
				t.Fatalf("reopen: dropped %d records %d", l2.Dropped(), l2.Records())
			}
			l2.Close()
		})
	}
}

func TestLogConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.jsonl")
	l, err := OpenLogWith(path, LogOptions{SyncEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if err := l.Append(seqRec{Seq: i, Pad: strings.Repeat("z", i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := DecodeLog(path, func(int, seqRec) error { return nil })
	if err != nil || st.Lines != 2000 || st.Skipped != 0 {
		t.Fatalf("%+v %v", st, err)
	}
}

// childLogWriter appends numbered records to the log at path as fast as it
// can, continuing the numbering from the records already there, until killed.
func childLogWriter(path string) error {
	l, err := OpenLog(path)
	if err != nil {
		return err
	}
	seq := l.Records()
	fmt.Println("ready", seq)
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(seq)))
	pad := strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 64<<10/36+1)
	for {
		n := rng.IntN(512)
		if rng.IntN(8) == 0 {
			n = 16<<10 + rng.IntN(48<<10) // some large records, more likely to be cut mid-write
		}
		if err := l.Append(seqRec{Seq: seq, N: n, Pad: pad[:n]}); err != nil {
			return err
		}
		seq++
	}
}

// TestKillNineLoop kills a writer process with SIGKILL at random moments and
// checks, after each kill, that reopening leaves only complete records
// numbered without gaps or duplicates.
func TestKillNineLoop(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	rng := rand.New(rand.NewPCG(1, 2))
	var dropped []int64
	var verified int64 // bytes checked so far
	next := 0          // next expected seq
	for round := 0; round < rounds; round++ {
		c := startChild(t, "log-writer", path)
		c.expect(t, "ready")
		time.Sleep(time.Duration(5+rng.IntN(60)) * time.Millisecond)
		if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := c.cmd.Wait()
		var ee interface{ Sys() any }
		if !errors.As(err, &ee) {
			t.Fatalf("round %d: child ended with %v, want killed", round, err)
		}
		wantDrop := partialTailLen(t, path)
		l, err := OpenLog(path)
		if err != nil {
			t.Fatal(err)
		}
		dropped = append(dropped, l.Dropped())
		if l.Dropped() != wantDrop {
			t.Fatalf("round %d: dropped %d, want %d", round, l.Dropped(), wantDrop)
		}
		l.Close()
		// Check the records added this round (earlier ones were checked
		// before and an append-only writer cannot touch them), then all of
		// them once at the end.
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		size := l.Size()
		st, err := readLines(path, io.NewSectionReader(f, verified, size-verified), checkSeq(&next))
		f.Close()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if st.PartialBytes != 0 || verified+st.Offset != size {
			t.Fatalf("round %d: partial tail survived reopen", round)
		}
		verified = size
	}
	total := next
	next = 0
	if _, err := ReadLog(path, checkSeq(&next)); err != nil || next != total {
		t.Fatalf("final check: %d of %d records: %v", next, total, err)
	}
	t.Logf("%d rounds, %d records in the end; partial tails dropped per round (bytes): %v", rounds, total, dropped)
}

// checkSeq returns a ReadLog callback that wants complete seqRec records
// numbered *next, *next+1, ...
func checkSeq(next *int) func(int, []byte) error {
	return func(_ int, b []byte) error {
		var r seqRec
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		if r.Seq != *next || len(r.Pad) != r.N {
			return fmt.Errorf("record seq %d (pad %d/%d), want seq %d", r.Seq, len(r.Pad), r.N, *next)
		}
		*next++
		return nil
	}
}

// partialTailLen is the number of bytes after the file's last newline.
func partialTailLen(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	n := min(st.Size(), 1<<20)
	buf := make([]byte, n)
	f.ReadAt(buf, st.Size()-n)
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 || n == st.Size() {
		return n - int64(i+1)
	}
	t.Fatal("tail longer than 1 MiB")
	return 0
}

func benchRec(i int) any {
	return struct {
		Step   int     `json:"step"`
		Reward float64 `json:"reward"`
		KL     float64 `json:"kl"`
		Loss   float64 `json:"loss"`
		Note   string  `json:"note"`
	}{i, -0.93 + float64(i)*1e-4, 0.0012, 0.034, "benchmark record of about a hundred bytes"}
}

func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		name string
		opt  LogOptions
	}{
		{"sync=every", LogOptions{SyncEvery: 1}},
		{"sync=64(default)", LogOptions{}},
		{"sync=close", LogOptions{SyncEvery: -1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l, err := OpenLogWith(filepath.Join(b.TempDir(), "m.jsonl"), bc.opt)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := l.Append(benchRec(i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// appendLines (the run's writer: a batch in one write) leaves no part of a
// batch that did not fit, however little of it the failed write reports.
func TestAppendLinesDiskFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.jsonl")
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	line := []byte(`{"a":1}` + "\n")
	ff := &failingFile{File: l.f.(*os.File), budget: 3*len(line) + 5}
	l.f = ff
	if err := l.appendLines(bytes.Repeat(line, 2), 2); err != nil {
		t.Fatal(err)
	}
	err = l.appendLines(bytes.Repeat(line, 3), 3)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "lines 3-5") || !strings.Contains(err.Error(), fmt.Sprintf("file left at %d bytes", 2*len(line))) {
		t.Fatalf("err %v", err)
	}
	if st, _ := os.Stat(path); st.Size() != int64(2*len(line)) {
		t.Fatalf("size %d after the failed batch, want %d: a part of it was left", st.Size(), 2*len(line))
	}
	ff.free()
	if err := l.appendLines(line, 1); err != nil || l.Records() != 3 {
		t.Fatalf("after space came back: %v, %d records", err, l.Records())
	}
}

// A failed write names its lines the same way whether one line came
// (Append) or a batch (appendLines, a batch of one included), and a batch
// whose truncation fails too leaves the Log refusing writes until reopened,
// as a single line's does (TestAppendDiskFull): both go through
// writeLinesLocked.
func TestWriteLinesFailureWords(t *testing.T) {
	line := []byte(`{"a":1}` + "\n")
	for _, c := range []struct {
		name         string
		lines        int
		failTruncate bool
		want         string
	}{
		{"batch of one", 1, false, "append to %s: line 3 (8 bytes, file left at 16 bytes)"},
		{"batch of three", 3, false, "append to %s: lines 3-5 (24 bytes, file left at 16 bytes)"},
		{"batch of one, truncation fails", 1, true, "log %s: write of line 3 failed"},
		{"batch of three, truncation fails", 3, true, "log %s: write of lines 3-5 failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.jsonl")
			l, err := OpenLog(path)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			l.f = &failingFile{File: l.f.(*os.File), budget: 2*len(line) + 3, failTruncate: c.failTruncate}
			if err := l.appendLines(bytes.Repeat(line, 2), 2); err != nil {
				t.Fatal(err)
			}
			err = l.appendLines(bytes.Repeat(line, c.lines), c.lines)
			if want := fmt.Sprintf(c.want, path); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err %v, want it to say %q", err, want)
			}
			if err2 := l.AppendRaw([]byte(`{"b":2}`)); c.failTruncate != (err2 != nil && strings.Contains(err2.Error(), "reopen the log")) {
				t.Fatalf("a line after the failed batch (truncation fails: %v): %v", c.failTruncate, err2)
			}
		})
	}
}

// ReadStats.Tail is the last 32 bytes of the complete lines, however long
// the lines are (a follower compares it to notice a same-size rewrite).
func TestReadTail(t *testing.T) {
	for _, text := range []string{"", "a\n", "short\nlines\nonly\n", strings.Repeat("x", 50) + "\nb\n",
		"a\n" + strings.Repeat("y", 31) + "\n", strings.Repeat("z", 100) + "\n" + "partial"} {
		st, err := readLinesAt("t", strings.NewReader(text), func(int, int64, []byte) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		whole := text[:len(text)-int(st.PartialBytes)]
		if want := whole[max(0, len(whole)-followTail):]; string(st.Tail) != want {
			t.Errorf("%q: tail %q, want %q", text, st.Tail, want)
		}
	}
}

// scanLines hands its callback every line that is not blank, an
// unterminated last one too when asked (flagged, as the file holds it,
// of any length), and counts them as readLinesAt does: the unterminated
// line in PartialBytes, its line number after the last line's.
func TestScanLinesUnterminated(t *testing.T) {
	long := `{"a":"` + strings.Repeat("x", 200_000) + `"}`
	type call struct {
		line int
		off  int64
		raw  string
		last bool
	}
	for _, c := range []struct {
		name, text string
		last       bool
		want       []call
		partial    int64
	}{
		{"terminated", "a\n\nb\n", true, []call{{1, 0, "a", false}, {3, 3, "b", false}}, 0},
		{"unterminated", "a\n\nb", true, []call{{1, 0, "a", false}, {3, 3, "b", true}}, 1},
		{"unterminated, not asked", "a\n\nb", false, []call{{1, 0, "a", false}}, 1},
		{"CR and spaces kept", "a\r\n b\r", true, []call{{1, 0, "a", false}, {2, 3, " b\r", true}}, 3},
		{"blank", "a\n \r\t", true, []call{{1, 0, "a", false}}, 3},
		{"only the last", "b", true, []call{{1, 0, "b", true}}, 1},
		{"long", "a\n" + long, true, []call{{1, 0, "a", false}, {2, 2, long, true}}, int64(len(long))},
		{"long lines", long + "\n" + long, true, []call{{1, 0, long, false}, {2, int64(len(long) + 1), long, true}}, int64(len(long))},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []call
			st, err := scanLines("t", strings.NewReader(c.text), c.last, func(lineNo int, off int64, raw []byte, last bool) error {
				got = append(got, call{lineNo, off, string(raw), last})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				short := func(cs []call) []call {
					for i := range cs {
						if len(cs[i].raw) > 20 {
							cs[i].raw = fmt.Sprintf("%s… (%d bytes)", cs[i].raw[:20], len(cs[i].raw))
						}
					}
					return cs
				}
				t.Errorf("calls %+v\nwant  %+v", short(got), short(slices.Clone(c.want)))
			}
			if st.PartialBytes != c.partial || st.Offset != int64(len(c.text))-c.partial {
				t.Errorf("partial %d, offset %d; want %d, %d", st.PartialBytes, st.Offset, c.partial, int64(len(c.text))-c.partial)
			}
		})
	}
	_, err := scanLines("t.jsonl", strings.NewReader("a\nb"), true, func(_ int, _ int64, _ []byte, last bool) error {
		if last {
			return errors.New("no")
		}
		return nil
	})
	if err == nil || err.Error() != "t.jsonl:2: no" {
		t.Errorf("error of the last line: %v", err)
	}
}

// TestReadLinesSaysWhereAReadFailed: a read that fails mid-file (an I/O
// error of the disk or a network file system) names the file and the
// last line read whole, and the lines before it were handed over; a long
// line or a partial one being read when it fails is not counted.
func TestReadLinesSaysWhereAReadFailed(t *testing.T) {
	eio := errors.New("input/output error")
	for _, c := range []struct {
		name, before string
		lines        int
	}{
		{"at a line's end", "{\"a\":1}\n{\"a\":2}\n", 2},
		{"mid-line", "{\"a\":1}\n{\"a\":", 1},
		{"in a line longer than the buffer", "{\"a\":1}\n" + strings.Repeat("x", 70_000), 1},
		{"at the start", "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			_, err := readLinesAt("traces/000003.jsonl", io.MultiReader(strings.NewReader(c.before), errReader{eio}), func(_ int, _ int64, raw []byte) error {
				got = append(got, string(raw))
				return nil
			})
			want := fmt.Sprintf("read traces/000003.jsonl: after line %d: input/output error", c.lines)
			if !errors.Is(err, eio) || err.Error() != want {
				t.Errorf("error %v, want %q", err, want)
			}
			if len(got) != c.lines {
				t.Errorf("%d lines handed over, want %d", len(got), c.lines)
			}
		})
	}
}

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestReadLogOfAFolder: a folder where a run's JSON Lines file belongs
// (metrics.jsonl made a folder) is said as one, its path once; it read
// "read D/metrics.jsonl: after line 0: read D/metrics.jsonl: is a
// directory".
func TestReadLogOfAFolder(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"metrics.jsonl", "events.jsonl"} {
		p := filepath.Join(dir, name)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			read string
			err  error
		}{
			{"ReadLog", func() error { _, err := ReadLog(p, func(int, []byte) error { return nil }); return err }()},
			{"readLogAt", func() error {
				_, err := readLogAt(p, func(int, int64, []byte) error { return nil })
				return err
			}()},
			{"DecodeLog", func() error { _, err := DecodeLog(p, func(int, map[string]any) error { return nil }); return err }()},
		} {
			want := p + " is a folder, not a file of JSON Lines"
			if c.err == nil || c.err.Error() != want {
				t.Errorf("%s of %s: %v, want %q", c.read, name, c.err, want)
			}
		}
	}
}
