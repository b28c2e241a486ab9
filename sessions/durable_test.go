package sessions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
)

// TestReadOnlyRefusesWrites: every write to a read-only run is refused with
// an error naming the run, and the folder is left exactly as it was.
func TestReadOnlyRefusesWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 2, 1, 2)
	if err := w.Review("0-0-0", LabelAccept, "ok"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.SaveCheckpoint(1, saveFake(1), CheckpointState{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before := treeDigest(t, dir)
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, ckErr := ro.SaveCheckpoint(2, saveFake(2), CheckpointState{})
	sc := fakeScored(0, 0)
	for name, err := range map[string]error{
		"review":     ro.Review("0-0-1", LabelAccept, ""),
		"undo":       ro.Undo("0-0-0"), // has a label: only read-only can refuse it
		"checkpoint": ckErr,
		"resume":     ro.Resume(0),
		"rescore":    ro.AppendRescores([]RescoreRecord{NewRescore("0-0-0", *sc, "t", "s", record.DefaultRewardConfig())}),
	} {
		if err == nil || !strings.Contains(err.Error(), "read-only") || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s on a read-only run: %v, want an error saying the run %s is read-only", name, err, dir)
		}
	}
	emitSteps(ro, 5, 6, 1, 1)
	ro.Emit(event.Error{Time: time.Now(), Err: errors.New("x")})
	if !strings.Contains(fmt.Sprint(ro.Store().Issues()), "refused: the run is open read-only") {
		t.Errorf("a refused Emit left no issue: %v", ro.Store().Issues())
	}
	if nm, nt, _ := ro.Store().Counts(); nm != 2 || nt != 4 {
		t.Errorf("refused events reached the store: %d metrics, %d traces", nm, nt)
	}
	if l := ro.Store().Label("0-0-0"); l.Label != LabelAccept {
		t.Errorf("label %+v", l)
	}
	ro.Close()
	if after := treeDigest(t, dir); after != before {
		t.Error("the read-only run's folder changed")
	}
}

// fullDisk is a disk with a byte budget shared by every file: a write that
// crosses it is partial and fails with ENOSPC.
type fullDisk struct {
	logFile
	budget *atomic.Int64
}

func (f *fullDisk) WriteAt(p []byte, off int64) (int, error) {
	left := f.budget.Add(-int64(len(p)))
	if left >= 0 {
		return f.logFile.WriteAt(p, off)
	}
	n := len(p) + int(left)
	if n < 0 {
		n = 0
	}
	f.budget.Store(0)
	n, _ = f.logFile.WriteAt(p[:n], off)
	return n, &os.PathError{Op: "write", Path: "disk", Err: syscall.ENOSPC}
}

// TestDiskFullFailsCheckpoint: when the disk fills, Err says so, the next
// checkpoint fails with a clear error (a driver stops the run on it), Close
// reports the records lost, and the folder stays readable: whole records
// only, steps in order, and it can be opened again to continue.
func TestDiskFullFailsCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	var budget atomic.Int64
	budget.Store(1 << 40)
	r := mustCreate(t, dir, Options{wrapFile: func(f logFile) logFile { return &fullDisk{f, &budget} }})
	emitSteps(r, 0, 3, 1, 2)
	if _, err := r.SaveCheckpoint(2, saveFake(2), CheckpointState{}); err != nil {
		t.Fatal(err)
	}
	budget.Store(3000) // the disk fills during step 3
	emitSteps(r, 3, 6, 1, 2)
	_, err := r.SaveCheckpoint(5, saveFake(5), CheckpointState{})
	if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "is full (write disk: no space left on device)") ||
		!strings.Contains(err.Error(), dir) {
		t.Fatalf("checkpoint on a full disk: %v", err)
	}
	if werr := r.Err(); werr == nil || !errors.Is(werr, syscall.ENOSPC) || !strings.Contains(werr.Error(), dir) {
		t.Errorf("Err() = %v, want ENOSPC naming the file", werr)
	}
	if !strings.Contains(fmt.Sprint(r.Store().Issues()), "write failed") {
		t.Errorf("no issue about the failed write: %v", r.Store().Issues())
	}
	cerr := r.Close()
	if cerr == nil || !strings.Contains(cerr.Error(), "records could not be written") {
		t.Errorf("Close on a full disk: %v", cerr)
	}
	if cks, _ := Checkpoints(dir); len(cks) != 1 || cks[0].Step != 2 {
		t.Errorf("checkpoints %+v: the failed one must not exist", cks)
	}

	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := ro.Store().Broken(); n != 0 {
		t.Errorf("%d broken records after a full disk: %v", n, ro.Store().Issues())
	}
	ms, _ := ro.Store().MetricsSince(0)
	for i, m := range ms {
		if m.Step != i {
			t.Fatalf("metrics steps %v: not 0, 1, 2, … in order", ms)
		}
	}
	if len(ms) < 3 {
		t.Errorf("%d metric records, want at least the 3 before the checkpoint", len(ms))
	}
	ro.Close()
	// Space is back: the run opens again and resumes after its checkpoint.
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ck, _, err := w.LatestCheckpoint()
	if err != nil || ck.Step != 2 {
		t.Fatalf("latest checkpoint %+v %v", ck, err)
	}
	if err := w.Resume(ck.Step); err != nil {
		t.Fatal(err)
	}
	emitSteps(w, 3, 6, 1, 2)
	if _, err := w.SaveCheckpoint(5, saveFake(5), CheckpointState{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ro, _ = OpenReadOnly(dir)
	defer ro.Close()
	ms, _ = ro.Store().MetricsSince(0)
	if len(ms) != 6 || ro.Store().Broken() != 0 {
		t.Errorf("after resuming: %d metric records, %d broken", len(ms), ro.Store().Broken())
	}
}

// TestCheckpointWaitsForRecords: a checkpoint of step N is written only
// after the records of step N are on disk, however slow the disk.
func TestCheckpointWaitsForRecords(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{wrapFile: func(f logFile) logFile { return &slowFile{f, 30 * time.Millisecond} }})
	defer r.Close()
	emitSteps(r, 0, 3, 2, 2)
	if _, err := r.SaveCheckpoint(2, saveFake(2), CheckpointState{}); err != nil {
		t.Fatal(err)
	}
	lines := fileLines(t, filepath.Join(dir, MetricsFile))
	if len(lines) != 3 || !strings.HasPrefix(lines[2], `{"step":2,`) {
		t.Fatalf("metrics on disk when the checkpoint was written: %q", lines)
	}
	if n := len(fileLines(t, traceFileName(dir, 2))); n != 4 {
		t.Errorf("%d traces of step 2 on disk, want 4", n)
	}
}

// TestMetricsSeveralRecordsPerStep: the held-out evaluation's record of a
// step is kept beside the training record (it used to be dropped as a
// duplicate), and the checkpoint takes its reward from the training record.
func TestMetricsSeveralRecordsPerStep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	emitSteps(r, 0, 2, 1, 1)
	r.Emit(event.Metrics{Time: time.Now(), Step: 1, Values: map[string]float64{"eval_accuracy": 0.5}})
	ck, err := r.SaveCheckpoint(1, saveFake(1), CheckpointState{})
	if err != nil {
		t.Fatal(err)
	}
	if ck.State.MeanReward == nil || *ck.State.MeanReward != -0.9 {
		t.Errorf("checkpoint reward %v, want -0.9", ck.State.MeanReward)
	}
	check := func(st *Store, who string) {
		ms, _ := st.MetricsSince(0)
		if len(ms) != 3 {
			t.Fatalf("%s: %d metric records, want 3", who, len(ms))
		}
		if v, ok := ms[2].Get("eval_accuracy"); !ok || v != 0.5 || ms[2].Step != 1 {
			t.Errorf("%s: evaluation record %+v", who, ms[2])
		}
	}
	check(r.Store(), "live")
	r.Close()
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	check(ro.Store(), "reloaded")
	// A record read twice (a followed file read again from its start) is
	// still dropped.
	ms, _ := ro.Store().MetricsSince(0)
	for _, m := range ms {
		if ro.Store().addMetric(m) {
			t.Errorf("record of step %d with keys %v added twice", m.Step, m.Names)
		}
	}
	check(ro.Store(), "re-read")
}

func TestRescores(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	emitSteps(r, 0, 2, 1, 2)
	r.Review("0-0-1", LabelAccept, "good")
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	traceBytes := map[string]string{}
	files, _ := traceFiles(dir)
	for _, f := range files {
		data, _ := os.ReadFile(f)
		traceBytes[f] = string(data)
	}
	cfg := record.DefaultRewardConfig()
	sc1, sc2 := fakeScored(7, 1), fakeScored(8, 2)
	if err := r.AppendRescores([]RescoreRecord{NewRescore("0-0-1", *sc1, "T", "S", cfg), NewRescore("9-9-9", *sc1, "T", "S", cfg)}); err == nil ||
		!strings.Contains(err.Error(), `no trace "9-9-9"`) {
		t.Errorf("rescore of an unknown trace: %v", err)
	}
	if err := r.AppendRescores([]RescoreRecord{NewRescore("0-0-1", *sc1, "T", "S", cfg), NewRescore("1-0-0", *sc1, "T", "S", cfg)}); err != nil {
		t.Fatal(err)
	}
	cfg.KLMean = 0
	if err := r.AppendRescores([]RescoreRecord{NewRescore("0-0-1", *sc2, "T2", "S2", cfg)}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	for f, b := range traceBytes {
		if data, _ := os.ReadFile(f); string(data) != b {
			t.Errorf("%s changed", f)
		}
	}
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	st := ro.Store()
	if n, k := st.Rescores(); n != 3 || k != 2 {
		t.Errorf("rescores: %d records for %d traces, want 3 for 2", n, k)
	}
	rs, err := st.ReadRescore("0-0-1")
	if err != nil || rs.Teacher != "T2" || rs.Reward.KLMean != 0 || rs.Reward.Estimator != record.LogRatio || rs.Terms != sc2.Terms ||
		!sameF32(rs.D, sc2.D) || !sameF32(rs.SolutionLP, sc2.SolutionLP) || len(rs.ExplanationTokens) != len(sc2.ExplanationTokens) {
		t.Errorf("latest rescore of 0-0-1: %+v", rs)
	}
	if _, ok := st.Rescore("0-0-0"); ok {
		t.Error("a trace never rescored has a rescore")
	}
	if l := st.Label("0-0-1"); l.Label != LabelAccept || l.Note != "good" {
		t.Errorf("review lost: %+v", l)
	}
	if tr, _ := st.Trace("0-0-1"); tr.Terms.Reward != fakeScored(0, 1).Terms.Reward {
		t.Errorf("the trace's own score changed: %+v", tr.Terms)
	}
	evs, _ := st.EventsSince(0)
	n := 0
	for _, e := range evs {
		if e.Kind == KindRescore {
			n += e.Count
		}
	}
	if n != 3 {
		t.Errorf("rescore events count %d, want 3", n)
	}
}

// A run open read-only follows rescores.jsonl like the other files: the
// rescores another writer appends arrive (the latest record of a trace
// wins), a half-written line waits for its end, and a rewritten file is
// read again from its start.
func TestRescoresFollowedReadOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	defer w.Close()
	emitSteps(w, 0, 2, 1, 2)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	ro := followRun(t, dir)
	st := ro.Store()
	if _, ok := st.Rescore("0-0-1"); ok {
		t.Fatal("a rescore before any was written")
	}
	cfg := record.DefaultRewardConfig()
	sc1, sc2 := fakeScored(7, 1), fakeScored(8, 2)
	if err := w.AppendRescores([]RescoreRecord{NewRescore("0-0-1", *sc1, "T", "S", cfg)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, st, func() bool { rs, ok := st.Rescore("0-0-1"); return ok && rs.Teacher == "T" })
	if err := w.AppendRescores([]RescoreRecord{NewRescore("0-0-1", *sc2, "T2", "S2", cfg)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, st, func() bool { rs, _ := st.Rescore("0-0-1"); return rs.Teacher == "T2" })
	if rs, _ := st.ReadRescore("0-0-1"); rs.Terms != sc2.Terms || !sameF32(rs.D, sc2.D) {
		t.Errorf("followed rescore %+v", rs.Terms)
	}
	if n, k := st.Rescores(); n != 2 || k != 1 {
		t.Errorf("rescores: %d records for %d traces, want 2 for 1", n, k)
	}

	// Another tool writing a line in two parts.
	rec := NewRescore("1-0-0", *sc1, "T3", "S3", cfg)
	line, err := encodeRescore(&rec)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, RescoresFile)
	appendRaw := func(b []byte) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	appendRaw(line[:len(line)/2])
	time.Sleep(50 * time.Millisecond)
	if _, ok := st.Rescore("1-0-0"); ok {
		t.Fatal("half a line was read")
	}
	appendRaw(append(line[len(line)/2:], '\n'))
	waitFor(t, st, func() bool { _, ok := st.Rescore("1-0-0"); return ok })

	// Rewritten with one record: read again from its start.
	if err := os.WriteFile(path, append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, st, func() bool {
		_, old := st.Rescore("0-0-1")
		_, kept := st.Rescore("1-0-0")
		return !old && kept
	})
	if n, k := st.Rescores(); n != 1 || k != 1 {
		t.Errorf("after the rewrite: %d records for %d traces, want 1 for 1", n, k)
	}
	if rs, ok := st.Rescore("1-0-0"); !ok || rs.Teacher != "T3" {
		t.Errorf("after the rewrite: %+v", rs)
	}
	found := false
	for _, is := range st.Issues() {
		found = found || is.File == path
	}
	if !found {
		t.Errorf("the rewrite is not reported: %v", st.Issues())
	}
}
