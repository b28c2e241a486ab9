package sessions

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rlt-workbench/rlt/engine/hf"
)

// Files of a checkpoint folder, all written by SaveTrainerCheckpoint (the
// package doc lists them).
const (
	CheckpointStateFile = "state.json"            // written last by SaveCheckpoint: marks a complete checkpoint
	TeacherDir          = "teacher"               // the policy as a Hugging Face folder with its tokenizer.json
	ReferenceDir        = "reference"             // the KL reference, likewise
	OptimizerFile       = "optimizer.safetensors" // AdamW moments (WriteTensors)
	TrainerStateFile    = "trainer.json"          // the trainer's own state (steps, optimiser step, seed, data digest)
)

// ErrNoCheckpoint is returned when a run has no usable checkpoint.
var ErrNoCheckpoint = errors.New("no usable checkpoint")

// CheckpointState is state.json of a checkpoint.
type CheckpointState struct {
	Step int       `json:"step"`
	Time time.Time `json:"time"`
	Seg  int       `json:"seg"`
	// MeanReward ranks checkpoints for rotation (the best is kept). When
	// nil, SaveCheckpoint takes the "reward" metric of the step from the
	// store, if there is one.
	MeanReward *float64 `json:"mean_reward,omitempty"`
	// Files is the manifest, filled by SaveCheckpoint: every file of the
	// checkpoint (path relative to it, slash-separated) with its size.
	Files map[string]int64 `json:"files"`
}

// Checkpoint is one checkpoint folder of a run.
type Checkpoint struct {
	Step  int
	Dir   string
	State CheckpointState // valid when Err is nil
	Err   error           // why the checkpoint is unusable, or nil
}

func checkpointName(step int) string { return fmt.Sprintf("step-%06d", step) }

// SaveCheckpoint writes a checkpoint of step atomically: save is called
// with a fresh temporary folder inside checkpoints/ and writes the model
// and optimiser there (SaveTrainerCheckpoint is the one that writes a
// trainer's files); SaveCheckpoint then fsyncs every file,
// writes state.json with the manifest, and renames the folder to
// checkpoints/step-NNNNNN (replacing an older checkpoint of the same step).
// A crash at any point leaves either no checkpoint of that step or a
// complete one. Rotation then keeps the newest KeepLast checkpoints and the
// best by mean reward; a checkpoint event is recorded.
func (r *Run) SaveCheckpoint(step int, save func(dir string) error, state CheckpointState) (Checkpoint, error) {
	if err := r.writable(fmt.Sprintf("save checkpoint of step %d", step)); err != nil {
		return Checkpoint{}, err
	}
	r.ckMu.Lock()
	defer r.ckMu.Unlock()
	root := filepath.Join(r.dir, CheckpointsDir)
	name := checkpointName(step)
	final := filepath.Join(root, name)
	// Everything emitted so far (the step's metrics and traces) must be on
	// disk before a checkpoint says the step is done: a resume re-does only
	// the steps after it. A failing disk therefore fails the checkpoint.
	if err := r.Flush(); err != nil {
		return Checkpoint{}, fmt.Errorf("save checkpoint %s: the run's records could not be written first: %w", final, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return Checkpoint{}, fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	tmp, err := os.MkdirTemp(root, ".tmp-"+name+"-")
	if err != nil {
		return Checkpoint{}, fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := save(tmp); err != nil {
		return Checkpoint{}, fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	files, err := syncTree(tmp)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	state.Step, state.Seg, state.Files = step, r.seg, files
	if state.Time.IsZero() {
		state.Time = time.Now().UTC()
	}
	if state.MeanReward == nil {
		if v, ok := r.rewardAt(step); ok {
			state.MeanReward = &v
		}
	}
	if state.MeanReward != nil && (math.IsNaN(*state.MeanReward) || math.IsInf(*state.MeanReward, 0)) {
		state.MeanReward = nil
	}
	data, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return Checkpoint{}, fmt.Errorf("save checkpoint %s: state: %w", final, err)
	}
	if err := WriteFileAtomic(filepath.Join(tmp, CheckpointStateFile), append(data, '\n'), 0o644); err != nil {
		return Checkpoint{}, fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	var old string
	if _, err := os.Lstat(final); err == nil {
		old = filepath.Join(root, fmt.Sprintf(".old-%s-%d", name, time.Now().UnixNano()))
		if err := os.Rename(final, old); err != nil {
			return Checkpoint{}, fmt.Errorf("save checkpoint %s: move the previous one aside: %w", final, err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return Checkpoint{}, fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	ok = true
	if err := syncDir(root); err != nil {
		return Checkpoint{}, fmt.Errorf("save checkpoint %s: sync %s: %w", final, root, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	r.enqueueEvent(EventRecord{Time: time.Now().UTC(), Kind: KindCheckpoint, Step: step, Dir: filepath.Join(CheckpointsDir, name)})
	if removed, err := r.rotate(); err != nil {
		r.store.addIssue(Issue{File: root, Msg: fmt.Sprintf("rotation (removed %v): %v", removed, err)}, false)
	}
	return Checkpoint{Step: step, Dir: final, State: state}, nil
}

// ModelSaver writes a model's Hugging Face files (config.json, weights)
// into a folder.
type ModelSaver interface {
	Save(dir string, dtype hf.DType) error
}

// TrainerCheckpoint is what a GRPO trainer's checkpoint holds; the
// trainer hands the parts over and SaveTrainerCheckpoint writes each under
// its name in the checkpoint folder.
type TrainerCheckpoint struct {
	Teacher, Reference ModelSaver
	Tokenizer          []byte // tokenizer.json, copied into both model folders
	Optimizer          []hf.NamedTensor
	OptimizerMeta      map[string]string
	State              json.RawMessage // trainer.json
}

// SaveTrainerCheckpoint writes a checkpoint of step holding ck (see
// SaveCheckpoint for atomicity, rotation and state.json).
func (r *Run) SaveTrainerCheckpoint(step int, ck TrainerCheckpoint) (Checkpoint, error) {
	return r.SaveCheckpoint(step, func(dir string) error {
		for _, m := range []struct {
			name string
			m    ModelSaver
		}{{TeacherDir, ck.Teacher}, {ReferenceDir, ck.Reference}} {
			d := filepath.Join(dir, m.name)
			if err := m.m.Save(d, hf.F32); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(d, hf.TokenizerFile), ck.Tokenizer, 0o644); err != nil {
				return err
			}
		}
		if err := WriteTensors(filepath.Join(dir, OptimizerFile), ck.Optimizer, ck.OptimizerMeta); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, TrainerStateFile), ck.State, 0o644)
	}, CheckpointState{})
}

// TrainerFiles is a saved trainer checkpoint read back: the model folders
// to load, the optimiser's tensors and the trainer's state.
type TrainerFiles struct {
	TeacherDir, ReferenceDir string
	Optimizer                []hf.NamedTensor
	OptimizerMeta            map[string]string
	State                    json.RawMessage
}

// ReadTrainerCheckpoint reads what SaveTrainerCheckpoint wrote into ck
// (folders written before this function existed have the same layout).
func (r *Run) ReadTrainerCheckpoint(ck Checkpoint) (TrainerFiles, error) {
	f := TrainerFiles{TeacherDir: filepath.Join(ck.Dir, TeacherDir), ReferenceDir: filepath.Join(ck.Dir, ReferenceDir)}
	var err error
	if f.State, err = os.ReadFile(filepath.Join(ck.Dir, TrainerStateFile)); err != nil {
		return f, fmt.Errorf("resume: %w", err)
	}
	if f.Optimizer, f.OptimizerMeta, err = ReadTensors(filepath.Join(ck.Dir, OptimizerFile)); err != nil {
		return f, fmt.Errorf("resume: %w", err)
	}
	return f, nil
}

// rewardAt is the newest "reward" metric of step in the store.
func (r *Run) rewardAt(step int) (float64, bool) {
	s := r.store
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := len(s.metrics) - 1; i >= 0; i-- {
		m := s.metrics[i]
		if m.Step != step {
			continue
		}
		// A step may have several records (training, then evaluation):
		// the newest that has a reward decides.
		if v, ok := m.Get("reward"); ok {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, false
			}
			return v, true
		}
	}
	return 0, false
}

// syncTree fsyncs every file and folder under dir and returns the manifest.
func syncTree(dir string) (map[string]int64, error) {
	files := map[string]int64{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", path, err)
		}
		if d.Type().IsRegular() {
			st, err := f.Stat()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			files[filepath.ToSlash(rel)] = st.Size()
		}
		return nil
	})
	return files, err
}

// rotate removes usable checkpoints other than the newest KeepLast and the
// best by mean reward. Unusable ones are left for inspection.
func (r *Run) rotate() (removed []int, err error) {
	cks, err := Checkpoints(r.dir)
	if err != nil {
		return nil, err
	}
	var valid []Checkpoint
	for _, c := range cks {
		if c.Err == nil {
			valid = append(valid, c)
		}
	}
	keep := map[int]bool{}
	for i := max(0, len(valid)-r.opts.KeepLast); i < len(valid); i++ {
		keep[valid[i].Step] = true
	}
	if !r.opts.NoKeepBest {
		if b, ok := bestCheckpoint(valid); ok {
			keep[b.Step] = true
		}
	}
	var errs []error
	for _, c := range valid {
		if keep[c.Step] {
			continue
		}
		if err := os.RemoveAll(c.Dir); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, c.Step)
	}
	return removed, errors.Join(errs...)
}

func bestCheckpoint(cks []Checkpoint) (Checkpoint, bool) {
	var best Checkpoint
	found := false
	for _, c := range cks {
		if c.Err != nil || c.State.MeanReward == nil {
			continue
		}
		if !found || *c.State.MeanReward > *best.State.MeanReward {
			best, found = c, true
		}
	}
	return best, found
}

// Checkpoints lists the checkpoint folders of the run at runDir sorted by
// step, each verified (Err says why one is unusable). Temporary folders of
// unfinished saves are not listed.
func Checkpoints(runDir string) ([]Checkpoint, error) {
	root := filepath.Join(runDir, CheckpointsDir)
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list checkpoints: %w", err)
	}
	var out []Checkpoint
	for _, e := range entries {
		num, ok := strings.CutPrefix(e.Name(), "step-")
		if !ok || !e.IsDir() {
			continue
		}
		step, err := strconv.Atoi(num)
		if err != nil || step < 0 {
			continue
		}
		c := Checkpoint{Step: step, Dir: filepath.Join(root, e.Name())}
		c.State, c.Err = VerifyCheckpoint(c.Dir)
		if c.Err == nil && c.State.Step != step {
			c.Err = fmt.Errorf("%s: says step %d but the folder is named for step %d", filepath.Join(c.Dir, CheckpointStateFile), c.State.Step, step)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Checkpoint) int { return a.Step - b.Step })
	return out, nil
}

// VerifyCheckpoint reads a checkpoint's state.json and checks its manifest:
// every file present with its recorded size, and every .safetensors file
// with a valid header and layout.
func VerifyCheckpoint(dir string) (CheckpointState, error) {
	var st CheckpointState
	path := filepath.Join(dir, CheckpointStateFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return st, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("checkpoint %s: %s: %w", dir, CheckpointStateFile, err)
	}
	if st.Files == nil {
		return st, fmt.Errorf("checkpoint %s: %s has no file manifest", dir, CheckpointStateFile)
	}
	names := make([]string, 0, len(st.Files))
	for n := range st.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		fi, err := os.Stat(p)
		if err != nil {
			return st, fmt.Errorf("checkpoint %s: %w", dir, err)
		}
		if fi.Size() != st.Files[n] {
			return st, fmt.Errorf("checkpoint %s: %s is %d bytes, the manifest says %d", dir, n, fi.Size(), st.Files[n])
		}
		if strings.HasSuffix(n, ".safetensors") {
			f, err := hf.Open(p)
			if err != nil {
				return st, fmt.Errorf("checkpoint %s: %w", dir, err)
			}
			f.Close()
		}
	}
	return st, nil
}

// LatestCheckpoint returns the newest usable checkpoint of the run at
// runDir. Newer checkpoints that are unusable (state.json missing or
// unreadable, weights missing, truncated or malformed) are passed over,
// each with a message saying why; ErrNoCheckpoint if none is usable.
func LatestCheckpoint(runDir string) (Checkpoint, []string, error) {
	cks, err := Checkpoints(runDir)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	var msgs []string
	for i := len(cks) - 1; i >= 0; i-- {
		c := cks[i]
		if c.Err == nil {
			return c, msgs, nil
		}
		msgs = append(msgs, fmt.Sprintf("skipped checkpoint of step %d: %v", c.Step, c.Err))
	}
	return Checkpoint{}, msgs, fmt.Errorf("%s: %w", filepath.Join(runDir, CheckpointsDir), ErrNoCheckpoint)
}

// LatestCheckpoint is the package function for this run; the messages
// about checkpoints passed over are also added to the store's issues.
func (r *Run) LatestCheckpoint() (Checkpoint, []string, error) {
	r.ckMu.Lock()
	defer r.ckMu.Unlock()
	c, msgs, err := LatestCheckpoint(r.dir)
	for _, m := range msgs {
		r.store.addIssue(Issue{File: filepath.Join(r.dir, CheckpointsDir), Msg: m}, false)
	}
	return c, msgs, err
}

// removeTempCheckpoints deletes folders of saves that never finished. A
// checkpoint moved aside to be replaced (.old-step-N-*) whose replacement
// never took its place is put back.
func (r *Run) removeTempCheckpoints() {
	root := filepath.Join(r.dir, CheckpointsDir)
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		if rest, ok := strings.CutPrefix(e.Name(), ".old-"); ok {
			if i := strings.LastIndexByte(rest, '-'); i > 0 && strings.HasPrefix(rest, "step-") {
				final := filepath.Join(root, rest[:i])
				if _, err := os.Lstat(final); errors.Is(err, fs.ErrNotExist) {
					if err := os.Rename(p, final); err == nil {
						syncDir(root)
						r.repairs = append(r.repairs, final+": put back the checkpoint whose replacement did not finish")
						continue
					}
				}
			}
		}
		if strings.HasPrefix(e.Name(), ".tmp-") || strings.HasPrefix(e.Name(), ".old-") {
			if err := os.RemoveAll(p); err == nil {
				r.repairs = append(r.repairs, p+": removed an unfinished checkpoint folder")
			}
		}
	}
}

// WriteTensors writes float32 tensors to a safetensors file (F32,
// atomically), e.g. the optimiser's moments of a checkpoint.
func WriteTensors(path string, tensors []hf.NamedTensor, metadata map[string]string) error {
	return hf.WriteSafetensors(path, tensors, hf.F32, metadata)
}

// ReadTensors reads every tensor of a safetensors file as float32, sorted
// by name, with the file's metadata.
func ReadTensors(path string) ([]hf.NamedTensor, map[string]string, error) {
	f, err := hf.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
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
