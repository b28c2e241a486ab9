package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// childSlowWriter appends count records to path, each in three separate
// writes with pauses between them (so the reader sees partial lines), and
// prints "done <seq> <unix-nanos>" once a record's newline is written.
func childSlowWriter(arg string) error {
	parts := strings.Split(arg, "|")
	path := parts[0]
	count, _ := strconv.Atoi(parts[1])
	pause, _ := time.ParseDuration(parts[2])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	for i := 0; i < count; i++ {
		line, _ := json.Marshal(seqRec{Seq: i, N: 40, Pad: strings.Repeat("q", 40)})
		line = append(line, '\n')
		cuts := []int{0, len(line) / 3, 2 * len(line) / 3, len(line)}
		for p := 0; p < 3; p++ {
			if _, err := f.Write(line[cuts[p]:cuts[p+1]]); err != nil {
				return err
			}
			if p < 2 {
				time.Sleep(pause)
			}
		}
		fmt.Printf("done %d %d\n", i, time.Now().UnixNano())
		time.Sleep(pause)
	}
	fmt.Println("finished")
	return nil
}

func TestFollowerOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live", "metrics.jsonl")
	os.Mkdir(filepath.Dir(path), 0o755)
	const count = 15
	fl := NewFollower(path, 0) // the file does not exist yet
	// The follower sees the file missing first, whatever the scheduler
	// does before Run's first poll: it then says the file appeared.
	if lines, err := fl.Poll(); err != nil || len(lines) != 0 {
		t.Fatalf("poll of a missing file: %d lines, %v", len(lines), err)
	}

	var mu sync.Mutex
	got := map[int]time.Time{}
	var order []int
	var notices []Notice
	wake := make(chan struct{}, 1)
	signal := Signal(wake)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- fl.Run(ctx, func(lines [][]byte, ns []Notice) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			notices = append(notices, ns...)
			for _, l := range lines {
				var r seqRec
				if err := json.Unmarshal(l, &r); err != nil || len(r.Pad) != r.N {
					t.Errorf("incomplete or corrupt line %q: %v", l, err)
					continue
				}
				got[r.Seq] = now
				order = append(order, r.Seq)
			}
			signal()
		})
	}()

	c := startChild(t, "slow-writer", fmt.Sprintf("%s|%d|%s", path, count, 40*time.Millisecond))
	completed := map[int]time.Time{}
	for i := 0; i < count; i++ {
		f := strings.Fields(c.expect(t, "done"))
		seq, _ := strconv.Atoi(f[1])
		ns, _ := strconv.ParseInt(f[2], 10, 64)
		completed[seq] = time.Unix(0, ns)
	}
	c.expect(t, "finished")
	c.cmd.Wait()

	deadline := time.Now().Add(hangGuard)
	for {
		mu.Lock()
		n := len(order)
		mu.Unlock()
		if n >= count || time.Now().After(deadline) {
			break
		}
		select {
		case <-wake:
		case <-time.After(100 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run returned %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != count {
		t.Fatalf("got %d records, want %d: %v", len(order), count, order)
	}
	var worst time.Duration
	for i, s := range order {
		if s != i {
			t.Fatalf("out of order: %v", order)
		}
		// How soon a record arrives is logged, not asserted: a test never
		// asserts on time (a loaded CI machine delays the poll, not the
		// follower's logic).
		worst = max(worst, got[s].Sub(completed[s]))
	}
	if len(notices) == 0 || notices[0].Kind != NoticeAppeared {
		t.Errorf("notices %v, want an 'appeared' notice first", notices)
	}
	t.Logf("%d records, worst latency %v (poll interval %v)", count, worst, DefaultPollInterval)
}

func TestFollowerPoll(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.jsonl")
	fl := NewFollower(path, 0)
	step := func(name string, act func(), want string, wantNotice NoticeKind) {
		t.Helper()
		if act != nil {
			act()
		}
		lines, err := fl.Poll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var s []string
		for _, l := range lines {
			s = append(s, string(l))
		}
		if strings.Join(s, ",") != want {
			t.Errorf("%s: lines %q, want %q", name, s, want)
		}
		ns := fl.Notices()
		switch {
		case wantNotice == 0 && len(ns) > 0:
			t.Errorf("%s: unexpected notices %v", name, ns)
		case wantNotice != 0 && (len(ns) != 1 || ns[0].Kind != wantNotice):
			t.Errorf("%s: notices %v, want one %v", name, ns, wantNotice)
		}
	}
	appendStr := func(s string) func() {
		return func() {
			f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			f.WriteString(s)
			f.Close()
		}
	}
	step("missing file", nil, "", 0)
	step("appears with a partial line", appendStr(`{"a":1}`+"\n"+`{"a":`), `{"a":1}`, NoticeAppeared)
	step("partial line waits", nil, "", 0)
	step("partial line completes", appendStr("2}\n\n"+`{"a":3}`+"\r\n"), `{"a":2},{"a":3}`, 0)
	step("truncated", func() { os.WriteFile(path, []byte(`{"b":1}`+"\n"), 0o644) }, `{"b":1}`, NoticeTruncated)
	step("rewritten in place, longer", func() {
		os.WriteFile(path, []byte(`{"c":1}`+"\n"+`{"c":2}`+"\n"), 0o644)
	}, `{"c":1},{"c":2}`, NoticeTruncated)
	step("replaced by rename", func() {
		tmp := filepath.Join(dir, "tmp")
		os.WriteFile(tmp, []byte(`{"d":1}`+"\n"), 0o644)
		os.Rename(tmp, path)
	}, `{"d":1}`, NoticeReplaced)
	step("vanished", func() { os.Remove(path) }, "", NoticeVanished)
	step("back again", appendStr(`{"e":1}`+"\n"), `{"e":1}`, NoticeAppeared)
	fl.Close()

	// Resuming from a saved offset, valid and not.
	os.WriteFile(path, []byte(`{"a":1}`+"\n"+`{"a":2}`+"\n"+`{"a":3}`+"\n"), 0o644)
	fl = NewFollower(path, 8)
	step("resume at line start", nil, `{"a":2},{"a":3}`, 0)
	fl = NewFollower(path, 3)
	step("resume mid-line restarts", nil, `{"a":1},{"a":2},{"a":3}`, NoticeTruncated)
	fl = NewFollower(path, 1000)
	step("resume past the end restarts", nil, `{"a":1},{"a":2},{"a":3}`, NoticeTruncated)
}

func TestDirFollower(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "traces")
	d, err := NewDirFollower(dir, "*.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if lines, err := d.Poll(); err != nil || len(lines) != 0 {
		t.Fatalf("missing dir: %v %v", lines, err)
	}
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "b.jsonl"), []byte("{\"b\":1}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte("{\"a\":1}\n{\"a\":"), 0o644)
	os.WriteFile(filepath.Join(dir, "c.txt"), []byte("{\"c\":1}\n"), 0o644)
	lines, err := d.Poll()
	if err != nil || fmt.Sprint(lineStrings(lines)) != `[a.jsonl {"a":1} b.jsonl {"b":1}]` {
		t.Fatalf("%v %v", lineStrings(lines), err)
	}
	f, _ := os.OpenFile(filepath.Join(dir, "a.jsonl"), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("2}\n")
	f.Close()
	lines, _ = d.Poll()
	if fmt.Sprint(lineStrings(lines)) != `[a.jsonl {"a":2}]` {
		t.Fatalf("%v", lineStrings(lines))
	}
	if _, err := NewDirFollower(dir, "[x"); err == nil {
		t.Error("bad pattern accepted")
	}
}

func lineStrings(ls []Line) []string {
	var s []string
	for _, l := range ls {
		s = append(s, l.File, string(l.Data))
	}
	return s
}
