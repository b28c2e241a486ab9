package sessions

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// A session left at once (Run.Leave: the commands' second stop signal)
// while its engine goes on emitting and a checkpoint is being written
// records a close named "left" that says where it left the run, releases
// run.lock, and writes nothing after it: the listing says stopped with
// that note, not "gone without stopping it"; events.jsonl and the other
// logs are whole; the checkpoint being written never comes into place,
// and the run opens again and resumes from its last one, the note gone
// once a session trains it again. Left, the folder read as a killed
// writer's (no close, run.lock naming the pid) until its next open.
func TestLeaveRecordsWhereTheRunWasLeft(t *testing.T) {
	runs := t.TempDir()
	dir := filepath.Join(runs, "run")
	r := mustCreate(t, dir, Options{SyncInterval: -1})
	emitSteps(r, 0, 3, 1, 2)
	if _, err := r.SaveCheckpoint(1, saveFake(1), CheckpointState{}); err != nil {
		t.Fatal(err)
	}
	r.Emit(event.Progress{Time: time.Now(), Step: 3, Phase: "sampling", Done: 1, Total: 8, Unit: "tokens"})

	// The engine goes on: records of its step, and the checkpoint of step
	// 2 (written late, as a final one is), held in its save when the run
	// is left.
	stop := make(chan struct{})
	var engine sync.WaitGroup
	engine.Add(1)
	go func() {
		defer engine.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r.Emit(event.Phase{Time: time.Now(), Name: "scoring", Step: 3})
			r.Emit(fakeTrace(3, 0, i))
		}
	}()
	saving, release := make(chan struct{}), make(chan struct{})
	saved := make(chan error, 1)
	go func() {
		_, err := r.SaveCheckpoint(2, func(d string) error {
			if err := saveFake(2)(d); err != nil {
				return err
			}
			close(saving)
			<-release
			return nil
		}, CheckpointState{})
		saved <- err
	}()
	<-saving
	if err := r.Leave("on a second stop signal", time.Minute); err != nil {
		t.Fatalf("leave: %v", err)
	}
	close(release)
	if err := <-saved; err == nil {
		t.Error("the checkpoint being written when the run was left was saved")
	}
	close(stop)
	engine.Wait()
	r.Emit(fakeMetrics(3)) // refused: the session has ended

	// events.jsonl: whole lines, the close last, saying where.
	var events []EventRecord
	for _, name := range []string{EventsFile, MetricsFile} {
		st, err := ReadLog(filepath.Join(dir, name), func(_ int, raw []byte) error {
			if name == EventsFile {
				var e EventRecord
				if err := json.Unmarshal(raw, &e); err != nil {
					return err
				}
				events = append(events, e)
			}
			return nil
		})
		if err != nil || st.PartialBytes != 0 {
			t.Fatalf("%s: %v, %d bytes of a partial line", name, err, st.PartialBytes)
		}
	}
	last := events[len(events)-1]
	wantNote := "left at once on a second stop signal while the checkpoint of step 2 was written, which is lost; it continues from its checkpoint of step 1"
	if last.Kind != KindClose || last.Name != CloseLeft || last.Step != 2 || last.Dir != filepath.Join(CheckpointsDir, "step-000001") || last.Extra != wantNote {
		t.Errorf("last event %+v; want the close named %q, step 2, the checkpoint of step 1, %q", last, CloseLeft, wantNote)
	}
	if got := r.LeftNote(); got != last.Extra { // what the commands say on leaving
		t.Errorf("LeftNote %q; want the close's note %q", got, last.Extra)
	}
	for _, e := range events[:len(events)-1] {
		if e.Kind == KindClose || e.Kind == KindCheckpoint && e.Step == 2 {
			t.Errorf("event %+v before the close", e)
		}
	}
	if ms, _ := ReadLog(filepath.Join(dir, MetricsFile), func(int, []byte) error { return nil }); ms.Lines != 3 {
		t.Errorf("metrics.jsonl has %d records; want the 3 steps done, none after the close", ms.Lines)
	}
	cks, _ := Checkpoints(dir)
	if len(cks) != 1 || cks[0].Step != 1 || cks[0].Err != nil {
		t.Errorf("checkpoints %+v; want step 1's alone", cks)
	}
	if lock, err := os.ReadFile(filepath.Join(dir, LockFileName)); err != nil || len(bytes.TrimSpace(lock)) != 0 {
		t.Errorf("run.lock %q, %v; want it emptied", lock, err)
	}
	if held, _, err := probeLock(dir); held || err != nil {
		t.Errorf("run.lock still held (%v)", err)
	}
	list, err := List(runs)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if s := list[0]; s.State != StateStopped || s.Note != wantNote {
		t.Errorf("listed %s (%s); want stopped (%s)", s.State, s.Note, wantNote)
	}

	// It goes on from its checkpoint, and is no longer said left once it
	// trains again.
	again, err := OpenWith(dir, nil, Options{Intent: IntentResume})
	if err != nil {
		t.Fatal(err)
	}
	if state, note, interrupted := again.State(); state != StateResuming || interrupted {
		t.Errorf("reopened to resume: %s (%s), interrupted %v", state, note, interrupted)
	}
	ck, _, err := again.LatestCheckpoint()
	if err != nil || ck.Step != 1 {
		t.Fatalf("latest checkpoint %d, %v; want step 1", ck.Step, err)
	}
	if err := again.Resume(ck.Step); err != nil {
		t.Fatal(err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	if list, _ := List(runs); len(list) != 1 || strings.Contains(list[0].Note, "left at once") {
		t.Errorf("after a resume: %+v; want the leave no longer noted", list)
	}
}

// A session left that never trained the run (a review) records a plain
// close; one left before its first step says so.
func TestLeaveSaysWhatTheSessionHadDone(t *testing.T) {
	runs := t.TempDir()
	dir := filepath.Join(runs, "run")
	r := mustCreate(t, dir, Options{})
	if err := r.Leave("on a second stop signal", time.Minute); err != nil {
		t.Fatal(err)
	}
	want := "left at once on a second stop signal before its first step; it has no checkpoint to continue from"
	if list, err := List(runs); err != nil || len(list) != 1 || list[0].State != StateStopped || list[0].Note != want {
		t.Fatalf("listed %+v, %v; want stopped (%s)", list, err, want)
	}
	review, err := OpenWith(dir, nil, Options{Intent: IntentReview})
	if err != nil {
		t.Fatal(err)
	}
	if err := review.Leave("on a second stop signal", time.Minute); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, EventsFile))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var e EventRecord
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &e); err != nil || e.Kind != KindClose || e.Name != "" {
		t.Errorf("a review left: last event %s; want a plain close", lines[len(lines)-1])
	}
	if got := review.LeftNote(); got != "" {
		t.Errorf("a review left: LeftNote %q; want none, its close plain", got)
	}
	if list, _ := List(runs); len(list) != 1 || list[0].Note != want {
		t.Errorf("after a review left: %+v; want the training's leave still noted (%s)", list, want)
	}
}

// Leave waits at most its bound for a writer stuck on the disk (a hung
// or full disk): past it, it returns an error and leaves the run as a
// killed writer's, run.lock naming its process, rather than hold the
// process that must leave.
func TestLeaveIsBoundedOnAStuckDisk(t *testing.T) {
	var stuck atomic.Bool
	unstick := make(chan struct{})
	wrap := func(f logFile) logFile { return &stuckWhen{f, &stuck, unstick} }
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{wrapFile: wrap})
	defer func() { // the writer unstuck, the leave ends before the folder goes
		close(unstick)
		<-r.ended
	}()
	emitSteps(r, 0, 1, 1, 1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	stuck.Store(true)
	emitSteps(r, 1, 2, 1, 1)
	err := r.Leave("on a second stop signal", 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed writer's") {
		t.Fatalf("leave on a stuck disk: %v; want an error saying the folder reads as a killed writer's", err)
	}
	if lock, _ := os.ReadFile(filepath.Join(dir, LockFileName)); !bytes.Contains(lock, []byte(`"pid"`)) {
		t.Errorf("run.lock %q; want it left naming the process, as a kill leaves it", lock)
	}
}

// stuckWhen is a file whose writes hang while stuck is set, until unstick
// closes.
type stuckWhen struct {
	logFile
	stuck   *atomic.Bool
	unstick chan struct{}
}

func (f *stuckWhen) WriteAt(p []byte, off int64) (int, error) {
	if f.stuck.Load() {
		<-f.unstick
	}
	return f.logFile.WriteAt(p, off)
}

// TestLeaveAllSaysTheCloseOfARunNotReleased: a run whose close LeaveAll
// wrote, and whose run.lock could not be released after it, is among the
// runs left, with its close's note, what the process says of it on
// leaving, and its error says the close is on disk and names the release
// that failed. LeaveAll left its note out: the folder's lines said
// nothing of what it lost, where its close said it.
func TestLeaveAllSaysTheCloseOfARunNotReleased(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	r.lock.f.Close() // its release (Unlock) fails after the close
	left, err := leaveAll([]*Run{r}, "on a second stop signal", time.Minute)
	want := "left at once on a second stop signal before its first step; it has no checkpoint to continue from"
	if len(left) != 1 || left[0].Dir != dir || left[0].Note != want {
		t.Errorf("left %+v; want %s with its note %q", left, dir, want)
	}
	if err == nil || !strings.Contains(err.Error(), "leave run "+dir+": its close is on disk, but it was not released after it (unlock "+filepath.Join(dir, LockFileName)+": ") {
		t.Errorf("error %v; want it to say the close is on disk and name the release that failed", err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, EventsFile))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var e EventRecord
	if json.Unmarshal([]byte(lines[len(lines)-1]), &e); e.Kind != KindClose || e.Name != CloseLeft || e.Extra != want {
		t.Errorf("last event %s; want the close of the leave, noting %q", lines[len(lines)-1], want)
	}
}
