package sessions

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/size"
)

// saveFake writes what a trainer would: teacher weights, optimiser moments
// and the sampler state.
func saveFake(step int) func(dir string) error {
	return func(dir string) error {
		if err := os.MkdirAll(filepath.Join(dir, TeacherDir), 0o755); err != nil {
			return err
		}
		w := []hf.NamedTensor{{Name: "model.embed_tokens.weight", Shape: []int{4, 3}, Data: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, float32(step)}}}
		if err := WriteTensors(filepath.Join(dir, TeacherDir, hf.WeightsFile), w, nil); err != nil {
			return err
		}
		opt := []hf.NamedTensor{
			{Name: "m.0", Shape: []int{2, 2}, Data: []float32{0.1, 0.2, 0.3, float32(step)}},
			{Name: "v.0", Shape: []int{2, 2}, Data: []float32{1e-3, 2e-3, 3e-3, 4e-3}},
		}
		if err := WriteTensors(filepath.Join(dir, OptimizerFile), opt, map[string]string{"step": fmt.Sprint(step)}); err != nil {
			return err
		}
		return durable.WriteFile(filepath.Join(dir, TrainerStateFile), []byte(`{"step":1}`), 0o644)
	}
}

func reward(v float64) *float64 { return &v }

func TestCheckpointRotation(t *testing.T) {
	cases := []struct {
		name    string
		opts    Options
		rewards []float64
		want    []int
	}{
		{"keep 2 and best", Options{KeepLast: 2}, []float64{0.1, 0.9, 0.2, 0.3, 0.4, 0.5}, []int{1, 4, 5}},
		{"best is newest", Options{KeepLast: 2}, []float64{0.1, 0.2, 0.3, 0.9}, []int{2, 3}},
		{"no best", Options{KeepLast: 1, NoKeepBest: true}, []float64{0.9, 0.1, 0.2}, []int{2}},
		{"default 3", Options{}, []float64{0.5, 0.1, 0.1, 0.1, 0.1}, []int{0, 2, 3, 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r := mustCreate(t, dir, tc.opts)
			defer r.Close()
			for step, rw := range tc.rewards {
				ck, err := r.SaveCheckpoint(step, saveFake(step), CheckpointState{MeanReward: reward(rw)})
				if err != nil {
					t.Fatal(err)
				}
				if ck.Dir != filepath.Join(dir, CheckpointsDir, checkpointName(step)) {
					t.Errorf("dir %s", ck.Dir)
				}
			}
			cks, err := Checkpoints(dir)
			if err != nil {
				t.Fatal(err)
			}
			var steps []int
			for _, c := range cks {
				if c.Err != nil {
					t.Errorf("step %d: %v", c.Step, c.Err)
				}
				steps = append(steps, c.Step)
			}
			if !slices.Equal(steps, tc.want) {
				t.Errorf("kept %v, want %v", steps, tc.want)
			}
			entries, _ := os.ReadDir(filepath.Join(dir, CheckpointsDir))
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					t.Errorf("leftover %s", e.Name())
				}
			}
			// The latest restores: tensors and the trainer's state.
			last := len(tc.rewards) - 1
			ck, msgs, err := r.LatestCheckpoint()
			if err != nil || ck.Step != last || len(msgs) != 0 {
				t.Fatalf("latest %+v %v %v", ck, msgs, err)
			}
			f, err := r.ReadTrainerCheckpoint(ck)
			if err != nil || string(f.State) != `{"step":1}` || f.OptimizerFile != filepath.Join(ck.Dir, OptimizerFile) {
				t.Fatalf("trainer files of the latest: %+v %v", f, err)
			}
			ts, meta, err := readTensorFile(f.OptimizerFile)
			if err != nil || len(ts) != 2 || ts[0].Name != "m.0" || ts[0].Data[3] != float32(last) || meta["step"] != fmt.Sprint(last) {
				t.Errorf("optimizer tensors %+v %v %v", ts, meta, err)
			}
		})
	}
}

// TestCheckpointFolderModes: a checkpoint's folders and files have the
// modes of the rest of the run folder (0755 folders, 0644 files, less the
// umask), not os.MkdirTemp's 0700, which kept another user of a shared
// machine from reading or resuming it and made rlt sessions under-report
// its size.
func TestCheckpointFolderModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows keeps no permission bits")
	}
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	defer r.Close()
	ck, err := r.SaveCheckpoint(1, saveFake(1), CheckpointState{})
	if err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(t.TempDir(), "ref")
	os.Mkdir(ref, 0o755)
	os.WriteFile(filepath.Join(ref, "f"), nil, 0o644)
	dirMode, _ := os.Stat(ref)
	fileMode, _ := os.Stat(filepath.Join(ref, "f"))
	for _, tc := range []struct {
		path string
		want os.FileInfo
	}{
		{filepath.Join(dir, CheckpointsDir), dirMode},
		{ck.Dir, dirMode},
		{filepath.Join(ck.Dir, TeacherDir), dirMode},
		{filepath.Join(ck.Dir, CheckpointStateFile), fileMode},
		{filepath.Join(ck.Dir, OptimizerFile), fileMode},
	} {
		st, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != tc.want.Mode().Perm() {
			t.Errorf("%s: mode %v, want %v", tc.path, st.Mode().Perm(), tc.want.Mode().Perm())
		}
	}
}

func TestCheckpointRewardFromMetrics(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	defer r.Close()
	r.Emit(fakeMetrics(5)) // reward -0.5
	ck, err := r.SaveCheckpoint(5, saveFake(5), CheckpointState{})
	if err != nil {
		t.Fatal(err)
	}
	if ck.State.MeanReward == nil || *ck.State.MeanReward != -0.5 {
		t.Errorf("mean reward %v", ck.State.MeanReward)
	}
	// Saving the same step again replaces it.
	if _, err := r.SaveCheckpoint(5, saveFake(5), CheckpointState{MeanReward: reward(1)}); err != nil {
		t.Fatal(err)
	}
	st, err := VerifyCheckpoint(ck.Dir)
	if err != nil || *st.MeanReward != 1 {
		t.Errorf("%+v %v", st, err)
	}
	// A failing save leaves nothing behind.
	_, err = r.SaveCheckpoint(6, func(string) error { return errors.New("disk full") }, CheckpointState{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err %v", err)
	}
	cks, _ := Checkpoints(dir)
	entries, _ := os.ReadDir(filepath.Join(dir, CheckpointsDir))
	if len(cks) != 1 || len(entries) != 1 {
		t.Errorf("%d checkpoints, %d entries", len(cks), len(entries))
	}
}

func TestLatestCheckpointFallback(t *testing.T) {
	// The system's own words for a missing file ("no such file or
	// directory"; Windows: "The system cannot find the file specified.").
	_, err := os.Open(filepath.Join(t.TempDir(), "absent"))
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Fatalf("opening a missing file: %v", err)
	}
	notExist := strings.TrimSuffix(pe.Err.Error(), ".")
	cases := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
		msg     string
	}{
		{"state.json missing", func(t *testing.T, d string) { os.Remove(filepath.Join(d, CheckpointStateFile)) }, "state.json: " + notExist},
		{"state.json garbage", func(t *testing.T, d string) {
			os.WriteFile(filepath.Join(d, CheckpointStateFile), []byte(`{"step":`), 0o644)
		}, "state.json: it ends at line 1, column 8 before the JSON is complete: the file was cut short"},
		{"weights missing", func(t *testing.T, d string) { os.Remove(filepath.Join(d, TeacherDir, hf.WeightsFile)) }, "model.safetensors: " + notExist},
		{"weights truncated", func(t *testing.T, d string) {
			p := filepath.Join(d, TeacherDir, hf.WeightsFile)
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()-4)
		}, "the manifest says"},
		{"optimizer malformed, same size", func(t *testing.T, d string) {
			p := filepath.Join(d, OptimizerFile)
			data, _ := os.ReadFile(p)
			data[0] = 0xff // header length far too large
			os.WriteFile(p, data, 0o644)
		}, "malformed"},
		{"NaN in the optimizer", func(t *testing.T, d string) { plantNaN(t, filepath.Join(d, OptimizerFile)) }, "optimizer.safetensors has SHA-256"},
		{"NaN in the weights", func(t *testing.T, d string) { plantNaN(t, filepath.Join(d, TeacherDir, hf.WeightsFile)) }, "teacher/model.safetensors has SHA-256"},
		{"weights changed, same size", func(t *testing.T, d string) { flipLastByte(t, filepath.Join(d, TeacherDir, hf.WeightsFile)) }, "changed after it was written"},
		{"trainer.json broken", func(t *testing.T, d string) { replaceFirst(t, filepath.Join(d, TrainerStateFile), "{", "[") }, "trainer.json has SHA-256"},
		{"state.json broken", func(t *testing.T, d string) { replaceFirst(t, filepath.Join(d, CheckpointStateFile), "{", "[") }, "state.json: line 2, column 9: invalid character"},
		// A checkpoint of an older rlt (no checksums) is checked by content.
		{"old format: NaN in the optimizer", func(t *testing.T, d string) {
			dropChecksums(t, d)
			plantNaN(t, filepath.Join(d, OptimizerFile))
		}, `tensor "m.0" of optimizer.safetensors holds NaN (element 0)`},
		{"old format: Inf in the weights", func(t *testing.T, d string) {
			dropChecksums(t, d)
			plantBits(t, filepath.Join(d, TeacherDir, hf.WeightsFile), 0x7f800000)
		}, `holds +Inf`},
		{"old format: trainer.json broken", func(t *testing.T, d string) {
			dropChecksums(t, d)
			replaceFirst(t, filepath.Join(d, TrainerStateFile), "{", "[")
		}, "trainer.json is not valid JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := threeCheckpoints(t)
			tc.corrupt(t, filepath.Join(dir, CheckpointsDir, checkpointName(30)))
			w, err := Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			ck, msgs, err := w.LatestCheckpoint()
			if err != nil {
				t.Fatal(err)
			}
			if ck.Step != 20 {
				t.Errorf("fell back to step %d, want 20", ck.Step)
			}
			if len(msgs) != 1 || !strings.Contains(msgs[0], "step 30") || !strings.Contains(msgs[0], tc.msg) || !strings.Contains(msgs[0], "delete ") {
				t.Errorf("messages %q, want one about step 30 saying %q", msgs, tc.msg)
			}
			if !strings.Contains(fmt.Sprint(w.Store().Issues()), "skipped checkpoint of step 30") {
				t.Errorf("store issues %v", w.Store().Issues())
			}
		})
	}
	// None usable.
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	defer r.Close()
	if _, _, err := r.LatestCheckpoint(); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("empty run: %v", err)
	}
}

// Each checkpoint passed over says what took its place: the newest usable
// one, by its step, or, when every one is corrupt, that none is left (not
// "an earlier one" that is not there).
func TestLatestCheckpointSaysWhatItUses(t *testing.T) {
	for _, c := range []struct {
		name    string
		corrupt []int
		use     int // -1: none usable
		instead string
	}{
		{"the newest corrupt", []int{30}, 20, "using the one of step 20"},
		{"two corrupt", []int{30, 20}, 10, "using the one of step 10"},
		{"every one corrupt", []int{30, 20, 10}, -1, "no earlier one is usable"},
		{"only an older one corrupt", []int{10}, 30, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := threeCheckpoints(t)
			for _, step := range c.corrupt {
				flipLastByte(t, filepath.Join(dir, CheckpointsDir, checkpointName(step), TeacherDir, hf.WeightsFile))
			}
			ck, msgs, err := LatestCheckpoint(dir)
			if c.use < 0 {
				if !errors.Is(err, ErrNoCheckpoint) {
					t.Errorf("got step %d, %v; want ErrNoCheckpoint", ck.Step, err)
				}
			} else if err != nil || ck.Step != c.use {
				t.Errorf("got step %d, %v; want step %d", ck.Step, err, c.use)
			}
			skipped := 0
			for _, step := range c.corrupt {
				if step > c.use {
					skipped++
				}
			}
			if len(msgs) != skipped {
				t.Fatalf("messages %q, want %d", msgs, skipped)
			}
			for i, m := range msgs {
				step := c.corrupt[i]
				want := fmt.Sprintf("skipped checkpoint of step %d: ", step)
				tail := fmt.Sprintf("; %s (delete %s to discard it)", c.instead, filepath.Join(dir, CheckpointsDir, checkpointName(step)))
				if !strings.HasPrefix(m, want) || !strings.HasSuffix(m, tail) || strings.Contains(m, "an earlier one (") {
					t.Errorf("message %q, want %q … %q", m, want, tail)
				}
			}
		})
	}
}

func TestOpenRemovesUnfinishedCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	r.Close()
	tmp := filepath.Join(dir, CheckpointsDir, ".tmp-step-000007-123")
	os.MkdirAll(filepath.Join(tmp, TeacherDir), 0o755)
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := os.Stat(tmp); err == nil || !strings.Contains(strings.Join(w.Repairs(), "\n"), "unfinished checkpoint") {
		t.Errorf("repairs %v", w.Repairs())
	}
}

// TestOpenRestoresReplacedCheckpoint: a save that replaces a checkpoint of
// the same step moves the old one aside first; killed before the new one
// took its place, the old one is put back rather than lost.
func TestOpenRestoresReplacedCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	for _, step := range []int{6, 7} {
		if _, err := r.SaveCheckpoint(step, saveFake(step), CheckpointState{}); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	root := filepath.Join(dir, CheckpointsDir)
	// Killed between the two renames of a second save of step 7.
	if err := os.Rename(filepath.Join(root, checkpointName(7)), filepath.Join(root, ".old-step-000007-1234")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, ".tmp-step-000007-5678", TeacherDir), 0o755)
	// Killed after both renames of a second save of step 6: the old copy is surplus.
	os.MkdirAll(filepath.Join(root, ".old-step-000006-1111", TeacherDir), 0o755)
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ck, _, err := w.LatestCheckpoint()
	if err != nil || ck.Step != 7 {
		t.Fatalf("latest checkpoint %+v %v, want step 7 put back", ck, err)
	}
	entries, _ := os.ReadDir(root)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "step-000006,step-000007" {
		t.Errorf("checkpoints/ holds %v", names)
	}
	if rep := strings.Join(w.Repairs(), "\n"); !strings.Contains(rep, "put back") || !strings.Contains(rep, "removed an unfinished") {
		t.Errorf("repairs %v", w.Repairs())
	}
}

// plantNaN writes a NaN over the first element of the safetensors file at
// path (same size).
func plantNaN(t *testing.T, path string) { plantBits(t, path, 0x7fc00000) }

func plantBits(t *testing.T, path string, bits uint32) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	start := 8 + int(binary.LittleEndian.Uint64(data))
	binary.LittleEndian.PutUint32(data[start:], bits)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func flipLastByte(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1] ^= 1
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func replaceFirst(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dropChecksums makes a checkpoint look like one of the previous format
// (a manifest of sizes only).
func dropChecksums(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, CheckpointStateFile)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "sha256")
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// An old checkpoint that verifies is used, with a note.
func TestCheckpointWithoutChecksums(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	if _, err := r.SaveCheckpoint(1, saveFake(1), CheckpointState{}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	dropChecksums(t, filepath.Join(dir, CheckpointsDir, checkpointName(1)))
	ck, msgs, err := LatestCheckpoint(dir)
	if err != nil || ck.Step != 1 {
		t.Fatalf("step %d, %v", ck.Step, err)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "no checksums") {
		t.Errorf("messages %q, want a note about missing checksums", msgs)
	}
}

// A checkpoint with a NaN or an Inf is not written; the previous one
// stays, rotation included.
func TestCheckpointRefusesNonFinite(t *testing.T) {
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
		dir := filepath.Join(t.TempDir(), "run")
		r := mustCreate(t, dir, Options{KeepLast: 1, NoKeepBest: true})
		if _, err := r.SaveCheckpoint(1, saveFake(1), CheckpointState{}); err != nil {
			t.Fatal(err)
		}
		_, err := r.SaveCheckpoint(2, func(d string) error {
			if err := saveFake(2)(d); err != nil {
				return err
			}
			opt := []hf.NamedTensor{{Name: "m.0", Shape: []int{3}, Data: []float32{1, bad, 3}}}
			return WriteTensors(filepath.Join(d, OptimizerFile), opt, nil)
		}, CheckpointState{})
		var nf *NonFiniteError
		if !errors.As(err, &nf) || nf.Step != 2 || nf.Tensor != "m.0" || nf.Index != 1 || nf.Last != 1 {
			t.Fatalf("error %v (%+v), want a NonFiniteError for step 2, m.0[1], last good 1", err, nf)
		}
		if !strings.Contains(err.Error(), "step-000001) stays") || !strings.Contains(err.Error(), "learning_rate") {
			t.Errorf("message %q", err)
		}
		r.Close()
		cks, _ := Checkpoints(dir)
		if len(cks) != 1 || cks[0].Step != 1 {
			t.Errorf("checkpoints %v, want step 1 alone", cks)
		}
	}
}

// Rotation never removes the newest checkpoint that verifies, however
// many damaged ones follow it; the damaged ones are left for inspection.
func TestRotationKeepsLastVerified(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{KeepLast: 3, NoKeepBest: true})
	defer r.Close()
	for step := 1; step <= 3; step++ {
		if _, err := r.SaveCheckpoint(step, saveFake(step), CheckpointState{}); err != nil {
			t.Fatal(err)
		}
	}
	plantNaN(t, filepath.Join(dir, CheckpointsDir, checkpointName(3), OptimizerFile))
	flipLastByte(t, filepath.Join(dir, CheckpointsDir, checkpointName(2), TeacherDir, hf.WeightsFile))
	r.opts.KeepLast = 1
	removed, err := r.rotate()
	if err != nil {
		t.Fatal(err)
	}
	var steps []int
	cks, _ := Checkpoints(dir)
	for _, c := range cks {
		steps = append(steps, c.Step)
	}
	if len(removed) != 0 || !slices.Equal(steps, []int{1, 2, 3}) {
		t.Errorf("removed %v, left %v; want nothing removed", removed, steps)
	}
	ck, msgs, err := LatestCheckpoint(dir)
	if err != nil || ck.Step != 1 || len(msgs) != 2 {
		t.Errorf("latest %d %q %v, want 1 after skipping 3 and 2", ck.Step, msgs, err)
	}
}

// A full disk says how much room a checkpoint needs, and the run: the
// newest KeepLast, the best beside them where rotation keeps it, and the
// one being written.
func TestCheckpointDiskFull(t *testing.T) {
	for _, c := range []struct {
		name  string
		opts  Options
		held  int64
		words string
	}{
		{"newest and best", Options{KeepLast: 2}, 4, "rotation keeping 2 and the best, plus the one being written"},
		{"newest only", Options{KeepLast: 2, NoKeepBest: true}, 3, "rotation keeping 2 plus the one being written"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r := mustCreate(t, dir, c.opts)
			defer r.Close()
			full := func(string) error { return &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC} }
			if _, err := r.SaveCheckpoint(1, full, CheckpointState{}); !errors.Is(err, syscall.ENOSPC) || err.Error() != "the disk holding "+dir+" is full (write x: no space left on device); free some space and start the run again from its config.toml (it has no checkpoint to resume from)" {
				t.Errorf("first checkpoint: %v", err)
			}
			ck, err := r.SaveCheckpoint(1, saveFake(1), CheckpointState{})
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			for _, n := range ck.State.Files {
				total += n
			}
			want := fmt.Sprintf("needs about %s free, and the run about %s with %s; free that much and resume", size.Bytes(total), size.Bytes(total*c.held), c.words)
			if _, err := r.SaveCheckpoint(2, full, CheckpointState{}); !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v, want it to say %q", err, want)
			}
		})
	}
}

// threeCheckpoints is a closed run with checkpoints of steps 10, 20 and 30.
func threeCheckpoints(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	for step := 1; step <= 3; step++ {
		if _, err := r.SaveCheckpoint(step*10, saveFake(step), CheckpointState{MeanReward: reward(0)}); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	return dir
}

// TestUnfinishedCheckpointsKeepAReplacedOneNotPutBack: a checkpoint moved
// aside for a replacement (.old-step-N-*) is removed only once step-N is
// there; where putting it back failed it is the step's only copy, kept.
func TestUnfinishedCheckpointsKeepAReplacedOneNotPutBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	defer r.Close()
	root := filepath.Join(dir, CheckpointsDir)
	for _, d := range []string{".old-step-000007-1234", ".old-step-000006-1111", "step-000006", ".tmp-step-000008-99"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.removeUnfinishedCheckpoints() // without restoreReplacedCheckpoints: as if its rename failed
	entries, _ := os.ReadDir(root)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, ","); got != ".old-step-000007-1234,step-000006" {
		t.Errorf("checkpoints/ holds %s, want the unplaced .old-step-000007 kept and step 6 alone", got)
	}
}

// TestNewestUsable: the checkpoint a leave continues from (leftAt) and
// HasCheckpoint's answer are the newest whose manifest and headers verify,
// as Checkpoints says them, found newest first: a damaged newer one is
// passed over, and none where none verifies.
func TestNewestUsable(t *testing.T) {
	breakState := func(t *testing.T, dir string, step int) {
		if err := os.WriteFile(filepath.Join(CheckpointDir(dir, step), CheckpointStateFile), []byte(`{"step":`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name   string
		broken []int // the checkpoints (of steps 10, 20, 30) made unusable
		want   int   // the step found, -1: none
	}{
		{"all usable", nil, 30},
		{"the newest damaged", []int{30}, 20},
		{"the newest and the oldest damaged", []int{10, 30}, 20},
		{"none usable", []int{10, 20, 30}, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := threeCheckpoints(t)
			for _, s := range c.broken {
				breakState(t, dir, s)
			}
			ck, ok := newestUsable(dir)
			got := -1
			if ok {
				got = ck.Step
			}
			if got != c.want || ok && (ck.Dir != CheckpointDir(dir, c.want) || ck.State.Step != c.want) {
				t.Errorf("newestUsable: %+v, %v; want step %d", ck, ok, c.want)
			}
			if HasCheckpoint(dir) != (c.want >= 0) {
				t.Errorf("HasCheckpoint %v, want %v", !(c.want >= 0), c.want >= 0)
			}
		})
	}
	if _, ok := newestUsable(t.TempDir()); ok {
		t.Error("a folder without checkpoints/ has a usable checkpoint")
	}
}

// readTensorFile reads every tensor of the safetensors file at path as
// float32, sorted by name, with the file's metadata: what a test checks
// a checkpoint's optimizer.safetensors by (a resume reads it a tensor at
// a time into the optimiser, run.Engine.Restore).
func readTensorFile(path string) ([]hf.NamedTensor, map[string]string, error) {
	f, err := hf.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return readTensors(f)
}

// readTensors is readTensorFile on an open file.
func readTensors(f *hf.File) ([]hf.NamedTensor, map[string]string, error) {
	infos := f.Tensors()
	out := make([]hf.NamedTensor, 0, len(infos))
	for _, t := range infos {
		data := make([]float32, t.NumElements())
		if err := f.ReadFloat32(t.Name, data); err != nil {
			return nil, nil, err
		}
		out = append(out, hf.NamedTensor{Name: t.Name, Shape: slices.Clone(t.Shape), Data: data})
	}
	return out, f.Metadata(), nil
}
