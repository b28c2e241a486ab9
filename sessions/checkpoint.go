package sessions

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/size"
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
	// SHA256 is each file's SHA-256 (hex), filled by SaveCheckpoint and
	// checked on resume. Checkpoints written before it existed have none
	// and are verified by size and content (finite tensors, valid JSON).
	// SHA-256 rather than a faster non-cryptographic hash: it is in the
	// standard library, uses the CPU's SHA instructions (about 1.5 GB/s
	// here, ~10 ms for the embedded default's 13 MB checkpoint) and is
	// what `sha256sum` prints, so a user can check a file by hand.
	SHA256 map[string]string `json:"sha256,omitempty"`
}

// Checkpoint is one checkpoint folder of a run.
type Checkpoint struct {
	Step  int
	Dir   string
	State CheckpointState // valid when Err is nil
	Err   error           // why the checkpoint is unusable, or nil
}

func checkpointName(step int) string { return fmt.Sprintf("step-%06d", step) }

// checkpointStep is the step a checkpoint folder's name (checkpointName)
// says, and whether it is one: any other entry of checkpoints/ (an
// unfinished save's temporary folder) is not.
func checkpointStep(name string) (int, bool) {
	num, ok := strings.CutPrefix(name, "step-")
	if !ok {
		return 0, false
	}
	step, err := strconv.Atoi(num)
	return step, err == nil && step >= 0
}

// CheckpointDir is the folder of runDir's checkpoint of step, as
// SaveCheckpoint names it (whether or not it is there).
func CheckpointDir(runDir string, step int) string {
	return filepath.Join(runDir, CheckpointsDir, checkpointName(step))
}

// SaveCheckpoint writes a checkpoint of step atomically: save is called
// with a fresh temporary folder inside checkpoints/ and writes the model
// and optimiser there (SaveTrainerCheckpoint is the one that writes a
// trainer's files); SaveCheckpoint then fsyncs every file,
// writes state.json with the manifest, and renames the folder to
// checkpoints/step-NNNNNN (replacing an older checkpoint of the same step).
// A crash at any point leaves either no checkpoint of that step or a
// complete one. Rotation then keeps the newest KeepLast checkpoints and the
// best by mean reward; a checkpoint event is recorded.
func (r *Run) SaveCheckpoint(step int, save func(dir string) error, state CheckpointState) (ck Checkpoint, err error) {
	defer func() {
		if errors.Is(err, syscall.ENOSPC) {
			err = r.diskFull(err)
		}
	}()
	if err := r.writable(fmt.Sprintf("save checkpoint of step %d", step)); err != nil {
		return Checkpoint{}, err
	}
	r.ckMu.Lock()
	defer r.ckMu.Unlock()
	r.saving.Store(int64(step) + 1) // where a Leave meanwhile leaves the run
	defer r.saving.Store(0)
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
	tmp, err := durable.MkdirTemp(root, ".tmp-"+name+"-") // 0755: os.MkdirTemp's 0700 would stay the checkpoint's
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
	files, sums, err := syncTree(tmp)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	// A checkpoint holds only finite tensors: one with a NaN or an Inf
	// would be resumed from and fail every later step.
	if err := checkFinite(tmp, files); err != nil {
		var nf *NonFiniteError
		if errors.As(err, &nf) {
			nf.Saving, nf.Step, nf.Last = true, step, r.lastGood(step)
			return Checkpoint{}, nf
		}
		return Checkpoint{}, fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	state.Step, state.Seg, state.Files, state.SHA256 = step, r.seg, files, sums
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
	if err := durable.WriteFile(filepath.Join(tmp, CheckpointStateFile), append(data, '\n'), 0o644); err != nil {
		return Checkpoint{}, fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	// Into place, and its event queued, unless the run was left
	// meanwhile (Leave): then it stays a temporary folder, as a kill
	// would leave it, never a checkpoint the close did not name.
	if err := func() error {
		r.pubMu.Lock()
		defer r.pubMu.Unlock()
		if r.closed.Load() {
			return fmt.Errorf("save checkpoint %s: the run was closed while it was written, so it was not put in place", final)
		}
		var old string
		if _, err := os.Lstat(final); err == nil {
			old = filepath.Join(root, fmt.Sprintf(".old-%s-%d", name, time.Now().UnixNano()))
			if err := durable.Rename(final, old); err != nil {
				return fmt.Errorf("save checkpoint %s: move the previous one aside: %w", final, err)
			}
		}
		if err := durable.Rename(tmp, final); err != nil {
			return fmt.Errorf("save checkpoint %s: %w", final, err)
		}
		ok = true
		if err := durable.SyncDir(root); err != nil {
			return fmt.Errorf("save checkpoint %s: sync %s: %w", final, root, err)
		}
		if old != "" {
			os.RemoveAll(old)
		}
		r.enqueueEvent(EventRecord{Time: time.Now().UTC(), Kind: KindCheckpoint, Step: step, Dir: filepath.Join(CheckpointsDir, name)})
		r.saving.Store(0) // in place: a Leave from now on continues from it
		return nil
	}(); err != nil {
		return Checkpoint{}, err
	}
	if removed, err := r.rotate(); err != nil {
		r.store.addIssue(Issue{File: root, Msg: fmt.Sprintf("rotation (removed %v): %v", removed, err)})
	}
	return Checkpoint{Step: step, Dir: final, State: state}, nil
}

// diskFull is a "no space left" error of a checkpoint said as a
// DiskFullError: the newest checkpoint's size (or the estimate of the
// trainer's) is the room one takes.
func (r *Run) diskFull(err error) error {
	need := r.ckEstimate
	cks, _ := Checkpoints(r.dir)
	if len(cks) > 0 {
		var sum int64
		for _, n := range cks[len(cks)-1].State.Files {
			sum += n
		}
		need = max(need, sum)
	}
	return &DiskFullError{Dir: r.dir, Need: need, KeepLast: r.opts.KeepLast, KeepBest: !r.opts.NoKeepBest, Resumable: anyUsable(cks), Err: err}
}

// HasCheckpoint reports whether the run in runDir has a checkpoint to
// resume from, by its manifest (Checkpoints), not its content: a resume
// hashes the content, which at a command's exit would read gigabytes.
func HasCheckpoint(runDir string) bool {
	_, ok := newestUsable(runDir)
	return ok
}

func anyUsable(cks []Checkpoint) bool {
	return slices.ContainsFunc(cks, func(c Checkpoint) bool { return c.Err == nil })
}

// DiskFullError is a checkpoint that found the disk holding its run full:
// what to free, first, then the write that failed. The steps between
// (which model, which tensor) say nothing a full disk needs.
type DiskFullError struct {
	Dir string
	// Need is the room one checkpoint takes (0: not known yet).
	Need     int64
	KeepLast int
	// KeepBest: rotation keeps the best checkpoint by mean reward beside
	// the newest KeepLast (Options.NoKeepBest unset), and it takes room
	// too once newer ones pass it.
	KeepBest bool
	// Resumable: the run has a checkpoint to resume from; without one it
	// is started again from its configuration.
	Resumable bool
	Err       error // the failed write, in its chain
}

func (e *DiskFullError) Error() string {
	write := e.Err.Error()
	if pe := (*fs.PathError)(nil); errors.As(e.Err, &pe) {
		write = pe.Error() // the innermost place: the file being written
	}
	then := "resume"
	if !e.Resumable {
		then = "start the run again from its " + ConfigFile + " (it has no checkpoint to resume from)"
	}
	if e.Need == 0 {
		return fmt.Sprintf("the disk holding %s is full (%s); free some space and %s", e.Dir, write, then)
	}
	return fmt.Sprintf("the disk holding %s is full (%s): a checkpoint needs about %s free, and the run about %s with %s; free that much and %s",
		e.Dir, write, size.Bytes(e.Need), size.Bytes(e.Need*int64(checkpointsHeld(e.KeepLast, e.KeepBest))), rotationWords(e.KeepLast, e.KeepBest), then)
}

// checkpointsHeld is how many checkpoints a run's folder holds at most:
// rotation's newest keepLast, the best beside them when it is kept
// (keepBest; it may be one of the newest, but need not be), and the one
// being written, which rotation makes room for only once it is complete.
func checkpointsHeld(keepLast int, keepBest bool) int {
	n := keepLast + 1
	if keepBest {
		n++
	}
	return n
}

// rotationWords says what checkpointsHeld counts.
func rotationWords(keepLast int, keepBest bool) string {
	if keepBest {
		return fmt.Sprintf("rotation keeping %d and the best, plus the one being written", keepLast)
	}
	return fmt.Sprintf("rotation keeping %d plus the one being written", keepLast)
}

func (e *DiskFullError) Unwrap() error { return e.Err }

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
	// The weights of the teacher and the reference are as large as the
	// optimiser's two moments together.
	var n int64
	for _, t := range ck.Optimizer {
		n += int64(len(t.Data)) * 4
	}
	r.ckEstimate = 2*n + 2*int64(len(ck.Tokenizer)) + int64(len(ck.State))
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

// ModelFolderSize is about the room a model folder that rlt writes
// takes (a checkpoint's teacher and reference, rlt train --save's
// teacher, rlt distill's student): params parameters in float32, the files
// copied beside the weights (files bytes: tokenizer.json, and outside a
// checkpoint the tokenizer's side files and the generation config), and
// the folder's JSON and the weights' header (modelFolderJSON). It sizes
// an output before its work, so that a disk without room for it is said
// then (FullDiskError.Check), not after.
func ModelFolderSize(params, files int64) int64 {
	return 4*params + files + modelFolderJSON
}

// modelFolderJSON is about the room a model folder's config.json,
// prompts.json and the weights' safetensors header take (5.7 KiB for the
// embedded default's 4 layers; the header grows with the tensors).
const modelFolderJSON = 16 << 10

// TrainerCheckpointSize is about the room a checkpoint that
// SaveTrainerCheckpoint writes takes, for a teacher of params parameters
// whose tokenizer.json is tokenizer bytes: the teacher and the reference
// as model folders (ModelFolderSize), the optimiser's two moments in
// float32, and the optimiser's header, state.json and trainer.json
// (checkpointJSON). It sizes a run before its first checkpoint
// (CheckRoomForNew).
func TrainerCheckpointSize(params, tokenizer int64) int64 {
	return 2*ModelFolderSize(params, tokenizer) + 2*4*params + checkpointJSON
}

// checkpointJSON is about the room a trainer checkpoint's files beside its
// model folders take, less the moments themselves: the optimiser's
// safetensors header (two names a tensor: 11 KiB for the embedded
// default), state.json's manifest and trainer.json.
const checkpointJSON = 16 << 10

// TrainerFiles is a saved trainer checkpoint to read back: the model
// folders to load, the optimiser's tensors' file (OptimizerFile) and the
// trainer's state.
type TrainerFiles struct {
	TeacherDir, ReferenceDir string
	OptimizerFile            string
	State                    json.RawMessage
}

// ReadTrainerCheckpoint reads the trainer's state SaveTrainerCheckpoint
// wrote into ck and names its other files (folders written before this
// function existed have the same layout). It reads no tensor: the
// optimiser's moments are twice the teacher's size in float32, so the
// engine's restore reads them, as it loads the models, a tensor at a time
// into the optimiser, where a stop can end the read (run.Engine.Restore).
func (r *Run) ReadTrainerCheckpoint(ck Checkpoint) (TrainerFiles, error) {
	f := TrainerFiles{TeacherDir: filepath.Join(ck.Dir, TeacherDir), ReferenceDir: filepath.Join(ck.Dir, ReferenceDir),
		OptimizerFile: filepath.Join(ck.Dir, OptimizerFile)}
	var err error
	if f.State, err = os.ReadFile(filepath.Join(ck.Dir, TrainerStateFile)); err != nil {
		return f, fmt.Errorf("resume: %w", err)
	}
	// A checkpoint without its moments is said now, before the models load.
	if _, err := os.Stat(f.OptimizerFile); err != nil {
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

// syncTree fsyncs every file and folder under dir and returns the manifest:
// each file's size and SHA-256.
func syncTree(dir string) (map[string]int64, map[string]string, error) {
	files, sums := map[string]int64{}, map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if err := durable.SyncDir(path); err != nil {
				return fmt.Errorf("sync %s: %w", path, err)
			}
			return nil
		}
		f, err := durable.OpenForSync(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", path, err)
		}
		if d.Type().IsRegular() {
			h := sha256.New()
			n, err := io.Copy(h, f)
			if err != nil {
				return fmt.Errorf("read back %s: %w", path, err)
			}
			rel, _ := filepath.Rel(dir, path)
			files[filepath.ToSlash(rel)] = n
			sums[filepath.ToSlash(rel)] = hex.EncodeToString(h.Sum(nil))
		}
		return nil
	})
	return files, sums, err
}

// fileSHA256 is the hex SHA-256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// NonFiniteError is a tensor holding a NaN or an Inf, found in a
// checkpoint being written (Step set: it is not written) or read.
type NonFiniteError struct {
	Saving bool   // found while saving the checkpoint of Step (it is not written)
	Step   int    // when saving: the step whose checkpoint was refused
	Last   int    // when saving: the newest good checkpoint's step, -1 if none
	File   string // relative to the checkpoint folder
	Tensor string
	Index  int
	Value  float32
}

func (e *NonFiniteError) Error() string {
	where := fmt.Sprintf("tensor %q of %s holds %v (element %d)", e.Tensor, e.File, e.Value, e.Index)
	if !e.Saving {
		return where
	}
	last := "there is no earlier checkpoint"
	if e.Last >= 0 {
		last = fmt.Sprintf("the last good checkpoint (%s) stays", checkpointName(e.Last))
	}
	return fmt.Sprintf("step %d: %s, so its checkpoint is not written and the run stops; %s. "+
		"Training diverged: resume with a lower learning_rate (or a larger kl_coef) in config.toml", e.Step, where, last)
}

// checkFinite scans every .safetensors file of a checkpoint folder (the
// manifest's names) for NaN and Inf.
func checkFinite(dir string, files map[string]int64) error {
	for _, n := range manifestNames(files) {
		if !strings.HasSuffix(n, ".safetensors") {
			continue
		}
		if err := finiteFile(filepath.Join(dir, filepath.FromSlash(n)), n); err != nil {
			return err
		}
	}
	return nil
}

func finiteFile(path, rel string) error {
	f, err := hf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var buf []float32
	for _, t := range f.Tensors() {
		if !t.DType.IsFloat() {
			continue
		}
		buf = slices.Grow(buf[:0], t.NumElements())[:t.NumElements()]
		if err := f.ReadFloat32(t.Name, buf); err != nil {
			return err
		}
		for i, v := range buf {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return &NonFiniteError{File: rel, Tensor: t.Name, Index: i, Value: v}
			}
		}
	}
	return nil
}

func manifestNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// lastGood is the step of the newest checkpoint before step that
// verifies, or -1.
func (r *Run) lastGood(step int) int {
	cks, _ := Checkpoints(r.dir)
	for i := len(cks) - 1; i >= 0; i-- {
		if c := cks[i]; c.Err == nil && c.Step < step && VerifyContent(c.Dir, c.State) == nil {
			return c.Step
		}
	}
	return -1
}

// rotate removes usable checkpoints other than the newest KeepLast, the
// best by mean reward and the newest one whose content verifies
// (checksums, finite tensors): a damaged checkpoint never pushes the last
// good one out. Unusable ones are left for inspection.
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
	// From the newest down, checkpoints whose content does not verify are
	// set aside (neither counted nor removed) until one verifies.
	keep := map[int]bool{}
	for i := len(valid) - 1; i >= 0; i-- {
		if VerifyContent(valid[i].Dir, valid[i].State) == nil {
			keep[valid[i].Step] = true
			break
		}
		valid = slices.Delete(valid, i, i+1)
	}
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
		if r.closed.Load() { // left (Leave): the process is leaving; the next rotation removes the rest
			break
		}
		// Out of sight first (a .tmp- folder, which the next open removes):
		// a process that leaves or is killed within the removal leaves no
		// half-removed checkpoint under its name.
		gone := filepath.Join(filepath.Dir(c.Dir), fmt.Sprintf(".tmp-rotated-%s-%d", filepath.Base(c.Dir), time.Now().UnixNano()))
		if err := os.Rename(c.Dir, gone); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.RemoveAll(gone); err != nil {
			errs = append(errs, err)
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
	folders, err := checkpointFolderList(runDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list checkpoints: %w", err)
	}
	var out []Checkpoint
	for _, f := range folders {
		c := Checkpoint{Step: f.step, Dir: f.dir}
		c.State, c.Err = verifyCheckpointOf(c.Dir, c.Step, nil)
		out = append(out, c)
	}
	return out, nil
}

// stepFolder is the folder (dir) that holds a run's checkpoint of step.
type stepFolder struct {
	step int
	dir  string
}

// checkpointFolderList is the checkpoint folders of the run at runDir,
// by step ascending: checkpoints/step-NNNNNN, or where there is no entry
// of that name, a checkpoint moved aside to be replaced (.old-step-N-T,
// the newest: movedAsideLater) whose replacement never took its place (a
// save of the same step killed between its two renames). The next open that
// takes the lock puts that one back (restoreReplacedCheckpoints) and
// resumes from it: the one rule of the loader, the listing, ResumeCommand
// and the Runs screen, which passed over it, so that a run whose only
// checkpoint it was was said to have none (start it again), and one whose
// last step it holds was said the plain resume, refused as having nothing
// to run.
func checkpointFolderList(runDir string) ([]stepFolder, error) {
	root := filepath.Join(runDir, CheckpointsDir)
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	named := map[int]bool{} // an entry step-N, of whatever kind: nothing is put back over it
	for _, e := range entries {
		if step, ok := checkpointStep(e.Name()); ok {
			named[step] = true
		}
	}
	var out []stepFolder
	movedAside := map[int]int{} // step: its index in out
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if step, ok := checkpointStep(e.Name()); ok {
			out = append(out, stepFolder{step, filepath.Join(root, e.Name())})
			continue
		}
		final, ok := replacedOf(root, e.Name())
		if !ok {
			continue
		}
		step, ok := checkpointStep(filepath.Base(final))
		if !ok || named[step] {
			continue
		}
		f := stepFolder{step, filepath.Join(root, e.Name())}
		if i, seen := movedAside[step]; !seen {
			movedAside[step] = len(out)
			out = append(out, f)
		} else if movedAsideLater(e.Name(), filepath.Base(out[i].dir)) {
			out[i] = f
		}
	}
	slices.SortFunc(out, func(a, b stepFolder) int { return a.step - b.step })
	return out, nil
}

// movedAsideLater reports whether the checkpoint moved aside as a (a
// name .old-step-N-T, T SaveCheckpoint's time.Now().UnixNano()) was moved
// after b, of the same step. The latest was step-N when a save of it was
// killed between its renames; an earlier one is a leftover whose
// replacement took its place, its removal cut short (part of a
// checkpoint, or the step's older content). T is compared as a number,
// by its length first: by name alone "999" came after "1000", and the
// first by name, the oldest, was put back, the newest then removed as a
// leftover (removeUnfinishedCheckpoints).
func movedAsideLater(a, b string) bool {
	ta, tb := a[strings.LastIndexByte(a, '-')+1:], b[strings.LastIndexByte(b, '-')+1:]
	if len(ta) != len(tb) {
		return len(ta) > len(tb)
	}
	return ta > tb
}

// checkpointFolderOf is the folder that holds the checkpoint of step of
// the run at runDir (checkpointFolderList's rule), or CheckpointDir
// where none does.
func checkpointFolderOf(runDir string, step int) string {
	final := CheckpointDir(runDir, step)
	if _, err := os.Lstat(final); err == nil {
		return final
	}
	folders, _ := checkpointFolderList(runDir)
	for _, f := range folders {
		if f.step == step {
			return f.dir
		}
	}
	return final
}

// newestUsable is the newest checkpoint of the run at runDir whose
// manifest and headers verify (Checkpoints' check, not its checksums),
// and whether it has one: the folders are verified newest first, and
// those older than it are not read, where Checkpoints verifies every one.
func newestUsable(runDir string) (Checkpoint, bool) {
	folders, _ := checkpointFolderList(runDir)
	for i := len(folders) - 1; i >= 0; i-- {
		c := Checkpoint{Step: folders[i].step, Dir: folders[i].dir}
		if c.State, c.Err = verifyCheckpointOf(c.Dir, c.Step, nil); c.Err == nil {
			return c, true
		}
	}
	return Checkpoint{}, false
}

// verifyCheckpointOf is VerifyCheckpoint of the folder dir named for step:
// its state.json must say that step.
func verifyCheckpointOf(dir string, step int, seen func(path string, fi fs.FileInfo)) (CheckpointState, error) {
	st, err := verifyCheckpoint(dir, seen)
	if err == nil && st.Step != step {
		err = fmt.Errorf("%s: says step %d but the folder is named for step %d", filepath.Join(dir, CheckpointStateFile), st.Step, step)
	}
	return st, err
}

// VerifyCheckpoint reads a checkpoint's state.json and checks its manifest:
// every file present with its recorded size, and every .safetensors file
// with a valid header and layout.
func VerifyCheckpoint(dir string) (CheckpointState, error) { return verifyCheckpoint(dir, nil) }

// verifyCheckpoint is VerifyCheckpoint, telling seen (where set) of each
// file it stats (state.json, then the manifest's in turn, up to the first
// that fails), so that a Lister can tell whether the check still holds by
// statting them again (runCache.checkpointUsable).
func verifyCheckpoint(dir string, seen func(path string, fi fs.FileInfo)) (CheckpointState, error) {
	data, err := readFileSeen(filepath.Join(dir, CheckpointStateFile), seen)
	if err != nil {
		return CheckpointState{}, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	st, names, err := parseCheckpointState(dir, data)
	if err != nil {
		return st, err
	}
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		fi, err := os.Stat(p)
		if err != nil {
			return st, fmt.Errorf("checkpoint %s: %w", dir, err)
		}
		if seen != nil {
			seen(p, fi)
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

// readFileSeen is os.ReadFile(path), telling seen (where set) of the
// file's fstat, which os.ReadFile makes too.
func readFileSeen(path string, seen func(path string, fi fs.FileInfo)) ([]byte, error) {
	if seen == nil {
		return os.ReadFile(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	seen(path, fi)
	return io.ReadAll(f)
}

// parseCheckpointState decodes the state.json data of the checkpoint in dir
// and checks its manifest's names: each a file inside the checkpoint. It
// returns them sorted.
func parseCheckpointState(dir string, data []byte) (CheckpointState, []string, error) {
	var st CheckpointState
	if err := json.Unmarshal(data, &st); err != nil {
		return st, nil, fmt.Errorf("checkpoint %s: %s: %s", dir, CheckpointStateFile, jsonerr.At(data, err))
	}
	if st.Files == nil {
		return st, nil, fmt.Errorf("checkpoint %s: %s has no file manifest", dir, CheckpointStateFile)
	}
	names := manifestNames(st.Files)
	for _, n := range names {
		if !filepath.IsLocal(filepath.FromSlash(n)) {
			return st, nil, fmt.Errorf("checkpoint %s: %s names %q, which is not a file inside the checkpoint", dir, CheckpointStateFile, n)
		}
	}
	return st, names, nil
}

// VerifyContent reads every file of a checkpoint that VerifyCheckpoint
// accepted: each must match the manifest's SHA-256 (when it has them: a
// checkpoint of an older rlt has none), every tensor must be finite and
// every .json file valid JSON.
func VerifyContent(dir string, st CheckpointState) error {
	for _, n := range manifestNames(st.Files) {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if want, ok := st.SHA256[n]; ok {
			got, err := fileSHA256(p)
			if err != nil {
				return fmt.Errorf("checkpoint %s: %w", dir, err)
			}
			if got != want {
				return fmt.Errorf("checkpoint %s: %s has SHA-256 %.12s…, the manifest says %.12s… (changed after it was written)", dir, n, got, want)
			}
		} else if st.SHA256 != nil {
			return fmt.Errorf("checkpoint %s: %s has no SHA-256 in the manifest", dir, n)
		}
		switch {
		case strings.HasSuffix(n, ".safetensors"):
			if err := finiteFile(p, n); err != nil {
				return fmt.Errorf("checkpoint %s: %w", dir, err)
			}
		case strings.HasSuffix(n, ".json"):
			data, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("checkpoint %s: %w", dir, err)
			}
			if !json.Valid(data) {
				return fmt.Errorf("checkpoint %s: %s is not valid JSON", dir, n)
			}
		}
	}
	return nil
}

// LatestCheckpoint returns the newest usable checkpoint of the run at
// runDir, its content verified (VerifyContent). Newer checkpoints that
// are unusable (state.json missing or unreadable, a file missing,
// truncated, changed since it was written, a NaN, broken JSON) are passed
// over, each with a message saying why and what to delete;
// ErrNoCheckpoint if none is usable. A checkpoint without checksums (an
// older rlt's) gets a note saying it was verified by size and content only.
func LatestCheckpoint(runDir string) (Checkpoint, []string, error) {
	c, issues, err := latestCheckpoint(runDir)
	msgs := make([]string, len(issues))
	for i, is := range issues {
		msgs[i] = is.Msg
	}
	return c, msgs, err
}

// latestCheckpoint is LatestCheckpoint with its messages as issues about
// the checkpoints folder, of their kind.
func latestCheckpoint(runDir string) (Checkpoint, []Issue, error) {
	cks, err := Checkpoints(runDir)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	var issues []Issue
	add := func(kind IssueKind, format string, a ...any) {
		issues = append(issues, Issue{File: filepath.Join(runDir, CheckpointsDir), Msg: fmt.Sprintf(format, a...), Kind: kind})
	}
	var skipped []Checkpoint // newest first
	// skip says each checkpoint passed over, and what took its place:
	// the checkpoint of step used, or (-1) none.
	skip := func(used int) {
		instead := "; no earlier one is usable"
		if used >= 0 {
			instead = fmt.Sprintf("; using the one of step %d", used)
		}
		for _, c := range skipped {
			add(IssueCheckpointSkipped, "skipped checkpoint of step %d: %v%s (delete %s to discard it)", c.Step, c.Err, instead, c.Dir)
		}
	}
	for i := len(cks) - 1; i >= 0; i-- {
		c := cks[i]
		if c.Err == nil {
			c.Err = VerifyContent(c.Dir, c.State)
		}
		if c.Err == nil {
			skip(c.Step)
			if c.State.SHA256 == nil {
				add(IssueOther, "note: checkpoint of step %d has no checksums (written by an older rlt): verified by size and content only", c.Step)
			}
			return c, issues, nil
		}
		skipped = append(skipped, c)
	}
	skip(-1)
	return Checkpoint{}, issues, fmt.Errorf("%s: %w", filepath.Join(runDir, CheckpointsDir), ErrNoCheckpoint)
}

// LatestCheckpoint is the package function for this run; the messages
// about checkpoints passed over are also added to the store's issues.
func (r *Run) LatestCheckpoint() (Checkpoint, []string, error) {
	r.ckMu.Lock()
	defer r.ckMu.Unlock()
	c, issues, err := latestCheckpoint(r.dir)
	if err == nil && int64(c.Step)+1 > r.ckFound.Load() {
		r.ckFound.Store(int64(c.Step) + 1) // a step done (Steps)
	}
	msgs := make([]string, len(issues))
	for i, is := range issues {
		r.store.addIssue(is)
		msgs[i] = is.Msg
	}
	return c, msgs, err
}

// restoreReplacedCheckpoints puts back a checkpoint moved aside to be
// replaced (.old-step-N-*) whose replacement never took its place.
// Which is put back is checkpointFolderList's rule, by which the listing
// and ResumeCommand count it a checkpoint of its step.
func (r *Run) restoreReplacedCheckpoints() {
	root := filepath.Join(r.dir, CheckpointsDir)
	folders, _ := checkpointFolderList(r.dir)
	for _, f := range folders {
		final := CheckpointDir(r.dir, f.step)
		if f.dir == final {
			continue
		}
		if err := durable.Rename(f.dir, final); err == nil {
			durable.SyncDir(root)
			r.repairs = append(r.repairs, final+": put back the checkpoint whose replacement did not finish")
		}
	}
}

// replacedOf is the checkpoint folder in root that name, a checkpoint
// moved aside to be replaced (.old-step-N-*), was.
func replacedOf(root, name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, ".old-")
	i := strings.LastIndexByte(rest, '-')
	if !ok || i <= 0 || !strings.HasPrefix(rest, "step-") {
		return "", false
	}
	return filepath.Join(root, rest[:i]), true
}

// removeUnfinishedCheckpoints deletes the folders of saves that never
// finished (.tmp-*) and of replaced checkpoints whose replacement did
// (.old-*, left by a crash before their removal); a replaced one whose
// replacement is not there (restoreReplacedCheckpoints could not put it
// back) is kept: it is the only copy of its step.
func (r *Run) removeUnfinishedCheckpoints() {
	root := filepath.Join(r.dir, CheckpointsDir)
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		if final, ok := replacedOf(root, e.Name()); ok {
			if _, err := os.Lstat(final); errors.Is(err, fs.ErrNotExist) {
				continue
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
