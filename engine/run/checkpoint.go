package run

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/model"
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
// a resume needs.
func (e *Engine) Snapshot() (Snapshot, error) {
	tr := e.Trainer
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
	state, err := json.Marshal(TrainerState{Step: tr.StepIndex(), AdamSteps: adamSteps, Seed: e.Cfg.GRPO.Seed, Data: e.Data.Digest()})
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{Teacher: tr.Teacher, Reference: tr.Ref, Tokenizer: tok, Optimizer: ts,
		OptimizerMeta: map[string]string{"adam_steps": fmt.Sprint(adamSteps)}, State: state}, nil
}

// Saved is a checkpoint read back: the model folders of the teacher and
// the reference, the optimiser's moments and the TrainerState JSON.
type Saved struct {
	TeacherDir, ReferenceDir string
	Optimizer                []hf.NamedTensor
	State                    json.RawMessage
}

// Restore loads what a Snapshot saved: the teacher, the reference, the
// AdamW moments and step, and the trainer's step count, so the next Step
// is the one an uninterrupted run would have taken.
func (e *Engine) Restore(s Saved) error {
	tr := e.Trainer
	st, err := ParseTrainerState(s.State)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if st.Seed != e.Cfg.GRPO.Seed {
		return fmt.Errorf("resume: the checkpoint was made with seed %d but the configuration says %d", st.Seed, e.Cfg.GRPO.Seed)
	}
	if now := e.Data.Digest(); st.Data != now {
		switch {
		case st.Data == "":
			return fmt.Errorf("resume: the checkpoint was made on a synthetic task, but the configuration has data = %q", e.Cfg.Data)
		case now == "":
			return fmt.Errorf("resume: the checkpoint was made on a data file, but the configuration has none (task %q)", e.Cfg.Task)
		}
		return fmt.Errorf("resume: data %s (or eval_data) changed since the checkpoint (sha256 %s then, %s now): the resumed run would draw other questions", e.Cfg.Data, short(st.Data), short(now))
	}
	for _, m := range []struct {
		name, dir string
		m         *model.Model
	}{{"teacher", s.TeacherDir, tr.Teacher}, {"reference", s.ReferenceDir, tr.Ref}} {
		src, err := hf.OpenFolder(m.dir)
		if err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		err = m.m.LoadWeights(src)
		src.Close()
		if err != nil {
			return fmt.Errorf("resume: %s: %w", m.name, err)
		}
	}
	byName := make(map[string]hf.NamedTensor, len(s.Optimizer))
	for _, t := range s.Optimizer {
		byName[t.Name] = t
	}
	m, v, _ := tr.Optimizer().State()
	be := tr.Teacher.Backend()
	for i, p := range tr.Teacher.Params() {
		for _, mom := range []struct {
			name string
			dst  *compute.Tensor
		}{{p.Name + ".exp_avg", m[i]}, {p.Name + ".exp_avg_sq", v[i]}} {
			t, ok := byName[mom.name]
			if !ok || len(t.Data) != mom.dst.Len() {
				return fmt.Errorf("resume: optimizer: tensor %q missing or of the wrong size", mom.name)
			}
			be.Write(mom.dst, t.Data)
		}
	}
	tr.Optimizer().SetStep(st.AdamSteps)
	tr.SetStepIndex(st.Step)
	return nil
}

// short abbreviates a digest for messages.
func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12] + "…"
	}
	return digest
}
