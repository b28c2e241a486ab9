package run

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// TrainerState is what a checkpoint records besides the weights (the
// trainer.json of a checkpoint folder).
type TrainerState struct {
	Step      int    `json:"step"` // steps done
	AdamSteps int    `json:"adam_steps"`
	Seed      uint64 `json:"seed"`
	// Data is the data files' digest (Data.Digest) of a data run: the
	// questions of a step are a function of the rows, so a resume on
	// changed data is refused.
	Data string `json:"data_sha256,omitempty"`
	// EachQuestionOnce is set on a data run's checkpoint by an rlt that
	// leaves out a row asking an earlier row's question with its solution
	// (Data.Repeated): one made without it trained on such rows too, so on
	// a file that has them its run drew its questions from other rows than
	// this rlt would, though the file is the same.
	EachQuestionOnce bool `json:"each_question_once,omitempty"`
}

// ParseTrainerState reads a checkpoint's trainer.json: a JSON object
// whose counts are not negative.
func ParseTrainerState(raw []byte) (TrainerState, error) {
	var st TrainerState
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, fmt.Errorf("trainer.json: %s", jsonerr.At(raw, err))
	}
	if st.Step < 0 || st.AdamSteps < 0 {
		return st, fmt.Errorf("trainer.json: step %d and adam_steps %d must not be negative", st.Step, st.AdamSteps)
	}
	return st, nil
}

// Snapshot is what a checkpoint of the engine holds. The engine only
// hands the parts over: sessions decides the files and writes them
// (sessions.Run.SaveTrainerCheckpoint).
type Snapshot struct {
	Teacher, Reference *model.Model
	Tokenizer          []byte // the teacher's tokenizer.json
	Optimizer          []hf.NamedTensor
	OptimizerMeta      map[string]string
	State              json.RawMessage // TrainerState
}

// Snapshot copies the teacher's AdamW moments to the host and describes
// the state a resume needs. The data order and sampling seeds are
// functions of the step (and, for a data run, of the data files, whose
// digest it records), so the models, the moments and TrainerState are all
// a resume needs. It refuses the state of a step that failed after its
// optimiser update (rlt.Trainer.Torn, a *rlt.TornError): saved, it was
// the previous step's checkpoint in name only (the run's close saved it
// so, and the end of an engine whose context had ended), and a resume
// from it took part of that step twice.
func (e *Engine) Snapshot() (Snapshot, error) {
	tr := e.Trainer
	if err := tr.Torn(); err != nil {
		return Snapshot{}, fmt.Errorf("checkpoint: %w", err)
	}
	tok, err := os.ReadFile(filepath.Join(e.Cfg.Teacher, hf.TokenizerFile))
	if err != nil {
		return Snapshot{}, fmt.Errorf("checkpoint: %w", err)
	}
	m, v, adamSteps := tr.Optimizer().State()
	be := tr.Teacher.Backend()
	if err := be.Err(); err != nil { // a failed device holds nothing worth saving
		return Snapshot{}, fmt.Errorf("checkpoint: %w", err)
	}
	var ts []hf.NamedTensor
	for i, p := range tr.Teacher.Params() {
		mm := make([]float32, m[i].Len())
		be.Read(mm, m[i])
		vv := make([]float32, v[i].Len())
		be.Read(vv, v[i])
		shape := append([]int(nil), p.Tensor.Shape()...)
		ts = append(ts, hf.NamedTensor{Name: p.Name + ".exp_avg", Shape: shape, Data: mm},
			hf.NamedTensor{Name: p.Name + ".exp_avg_sq", Shape: shape, Data: vv})
	}
	if err := be.Err(); err != nil {
		return Snapshot{}, fmt.Errorf("checkpoint: %w", err)
	}
	state, err := json.Marshal(TrainerState{Step: tr.StepIndex(), AdamSteps: adamSteps, Seed: e.Cfg.GRPO.Seed, Data: e.Data.Digest(), EachQuestionOnce: e.Data != nil})
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{Teacher: tr.Teacher, Reference: tr.Ref, Tokenizer: tok, Optimizer: ts,
		OptimizerMeta: map[string]string{"adam_steps": fmt.Sprint(adamSteps)}, State: state}, nil
}

// Saved is a checkpoint to read back: the model folders of the teacher
// and the reference, the safetensors file of the optimiser's moments (as
// Snapshot names them, in float32) and the TrainerState JSON. Restore
// reads the files, so that a stop heeds them all.
type Saved struct {
	TeacherDir, ReferenceDir string
	OptimizerFile            string
	State                    json.RawMessage
}

// Restore loads what a Snapshot saved: the teacher, the reference, the
// AdamW moments and step, and the trainer's step count, so the next Step
// is the one an uninterrupted run would have taken. A cancelled ctx stops
// the models' load as it stops LoadAs (before the next tensor, or within
// a large one), and the moments' read after it likewise, with an error
// wrapping the *model.StoppedError (itself wrapping ctx.Err()) that names
// the tensor and its file; the engine is then partly restored, to be
// dropped. Restore writes nothing: the checkpoint stays as it was, for a
// later resume.
func (e *Engine) Restore(ctx context.Context, s Saved) error {
	tr := e.Trainer
	st, err := ParseTrainerState(s.State)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if err := st.resumable(e.Cfg, e.Data); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	for _, m := range []struct {
		name, dir string
		m         *model.Model
	}{{"teacher", s.TeacherDir, tr.Teacher}, {"reference", s.ReferenceDir, tr.Ref}} {
		src, err := hf.OpenFolder(m.dir)
		if err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		err = m.m.LoadWeights(ctx, src)
		src.Close()
		if err != nil {
			return fmt.Errorf("resume: %s: %w", m.name, err)
		}
	}
	if err := e.restoreMoments(ctx, s.OptimizerFile); err != nil {
		return fmt.Errorf("resume: optimizer: %w", err)
	}
	tr.Optimizer().SetStep(st.AdamSteps)
	tr.SetStepIndex(st.Step)
	return nil
}

// momentsStopEvery is how many bytes of a moment restoreMoments reads
// between two looks at its context, as a model's load does (32 MiB, see
// model.LoadAs): the moments are twice the teacher's weights in float32,
// so a 7B teacher's embedding has two moments of a gigabyte each. Tests
// make it smaller.
var momentsStopEvery int64 = 32 << 20

// restoreMoments reads the AdamW moments of the teacher's parameters
// (NAME.exp_avg and NAME.exp_avg_sq) from the safetensors file at path
// into the optimiser, a tensor at a time (straight into a moment the host
// holds, through one tensor's buffer into a device's), and a large one
// momentsStopEvery bytes at a time (model.PartReader, as a model's load
// reads). It looks at ctx before each tensor and between the parts of
// one: once ctx has ended, it stops with a *model.StoppedError, in the
// words of a model's load that stopped so.
func (e *Engine) restoreMoments(ctx context.Context, path string) error {
	f, err := hf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := e.Trainer
	m, v, _ := tr.Optimizer().State()
	be := tr.Teacher.Backend()
	params := tr.Teacher.Params()
	var buf []float32
	for i, p := range params {
		for j, mom := range []struct {
			name string
			dst  *compute.Tensor
		}{{p.Name + ".exp_avg", m[i]}, {p.Name + ".exp_avg_sq", v[i]}} {
			info, ok := f.Tensor(mom.name)
			stopped := func(done int64, err error) error {
				return &model.StoppedError{File: path, Tensor: mom.name, Read: 2*i + j, Tensors: 2 * len(params), Done: done, Size: info.Bytes(), Err: err}
			}
			if err := ctx.Err(); err != nil {
				return stopped(0, err)
			}
			if !ok {
				return fmt.Errorf("%s: tensor %q is missing: the file holds no moment of the teacher's %s", path, mom.name, p.Name)
			}
			if info.NumElements() != mom.dst.Len() {
				return fmt.Errorf("%s: tensor %q holds %d values where the teacher's %s has %d: the moments are of another model", path, mom.name, info.NumElements(), p.Name, mom.dst.Len())
			}
			dst, onHost := compute.HostData(mom.dst)
			if !onHost {
				buf = slices.Grow(buf[:0], mom.dst.Len())[:mom.dst.Len()]
				dst = buf
			}
			r := model.PartReader{Ctx: ctx, Src: f, Info: info, Every: momentsStopEvery, Stopped: stopped}
			if err := r.Float32s(dst); err != nil {
				return err
			}
			if !onHost {
				be.Write(mom.dst, dst)
			}
		}
	}
	return nil
}

// CheckResume says whether the checkpoint whose trainer.json is state
// can be resumed under the checked configuration: made with the same seed
// and on the same data files (their SHA-256), since a step's questions
// and samples are functions of both. Restore checks the same; a resume
// calls it first, before anything is started or recorded, so that a
// refusal leaves the run as it was.
func (c Checked) CheckResume(state json.RawMessage) error {
	st, err := ParseTrainerState(state)
	if err != nil {
		return err
	}
	return st.resumable(c.cfg, c.data)
}

// resumable is why a run of cfg on data cannot continue from st, or nil.
func (st TrainerState) resumable(cfg runconfig.Config, data *Data) error {
	if st.Seed != cfg.GRPO.Seed {
		return fmt.Errorf("the checkpoint was made with seed %d but the configuration says %d", st.Seed, cfg.GRPO.Seed)
	}
	now := data.Digest()
	if st.Data == now {
		if n := data.repeatsTrained(); n > 0 && !st.EachQuestionOnce {
			return &RepeatsTrainedError{Path: cfg.Data, Repeats: n}
		}
		return nil
	}
	switch {
	case st.Data == "":
		return fmt.Errorf("the checkpoint was made on a synthetic task, but the configuration has data = %q", cfg.Data)
	case now == "":
		return fmt.Errorf("the checkpoint was made on a data file, but the configuration has none (task %q)", cfg.Task)
	}
	thenData, thenEval, _ := strings.Cut(st.Data, "+")
	nowData, nowEval, _ := strings.Cut(now, "+")
	if (thenEval == "") != (nowEval == "") {
		if nowEval == "" {
			return fmt.Errorf("the checkpoint was made with eval_data, but the configuration has none")
		}
		return fmt.Errorf("the checkpoint was made without eval_data, but the configuration has eval_data = %q", cfg.EvalData)
	}
	e := &DataChangedError{}
	if thenData != nowData {
		e.Files = append(e.Files, ChangedFile{Key: "data", Path: cfg.Data, Then: thenData, Now: nowData})
	}
	if thenEval != nowEval {
		e.Files = append(e.Files, ChangedFile{Key: "eval_data", Path: cfg.EvalData, Then: thenEval, Now: nowEval})
	}
	return e
}

// DataChangedError is a checkpoint's data files changed since it was
// made: the resumed run would draw other questions than the run did.
type DataChangedError struct{ Files []ChangedFile }

// ChangedFile is a data file whose content is not the checkpoint's.
type ChangedFile struct {
	Key, Path string // "data" or "eval_data", and the file
	Then, Now string // its SHA-256 when the checkpoint was made, and now
}

func (e *DataChangedError) Error() string {
	parts := make([]string, len(e.Files))
	for i, f := range e.Files {
		parts[i] = fmt.Sprintf("%s %s changed since the checkpoint (sha256 %s then, %s now)", f.Key, f.Path, short(f.Then), short(f.Now))
	}
	return strings.Join(parts, "; ") + ": the resumed run would draw other questions"
}

// RepeatsTrainedError is a checkpoint made by an rlt that trained on every
// row of the data file, resumed by one that leaves out a row asking an
// earlier row's question with its solution (Data.Repeated), of which the
// file has Repeats among its training rows: the file is unchanged, but the
// resumed run would draw its questions from other rows.
type RepeatsTrainedError struct {
	Path    string
	Repeats int
}

func (e *RepeatsTrainedError) Error() string {
	rows := "rows that ask"
	if e.Repeats == 1 {
		rows = "row that asks"
	}
	return fmt.Sprintf("data %s: the run was started by an rlt that trained on every row of it, and %d %s an earlier row's question with its solution again; this rlt leaves such rows out (each question once), so the resumed run would draw other questions", e.Path, e.Repeats, rows)
}

// short abbreviates a digest for messages.
func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12] + "…"
	}
	return digest
}
