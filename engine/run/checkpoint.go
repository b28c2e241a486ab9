package run

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/model"
)

// TrainerState is what a checkpoint records besides the weights.
type TrainerState struct {
	Step      int    `json:"step"` // steps done
	AdamSteps int    `json:"adam_steps"`
	Seed      uint64 `json:"seed"`
	// Data is the data files' digest (Data.Digest) of a data run: the
	// questions of a step are a function of the rows, so a resume on
	// changed data is refused.
	Data string `json:"data_sha256,omitempty"`
}

// WriteCheckpoint writes the teacher, the reference model and the AdamW
// moments into dir (teacher/ and reference/ as Hugging Face folders with the
// tokenizer, optimizer.safetensors) and returns the trainer state for
// state.json. The data order and sampling seeds are functions of the step
// (and, for a data run, of the data files, whose digest it records), so
// these files are all a resume needs.
func (e *Engine) WriteCheckpoint(dir string, writeTensors func(path string, ts []hf.NamedTensor, meta map[string]string) error) (json.RawMessage, error) {
	tr := e.Trainer
	tok, err := os.ReadFile(filepath.Join(e.Cfg.Teacher, hf.TokenizerFile))
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	for name, m := range map[string]interface {
		Save(string, hf.DType) error
	}{"teacher": tr.Teacher, "reference": tr.Ref} {
		d := filepath.Join(dir, name)
		if err := m.Save(d, hf.F32); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(d, hf.TokenizerFile), tok, 0o644); err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
	}
	m, v, adamSteps := tr.Optimizer().State()
	be := tr.Teacher.Backend()
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
	if err := writeTensors(filepath.Join(dir, "optimizer.safetensors"), ts, map[string]string{"adam_steps": fmt.Sprint(adamSteps)}); err != nil {
		return nil, err
	}
	return json.Marshal(TrainerState{Step: tr.StepIndex(), AdamSteps: adamSteps, Seed: e.Cfg.GRPO.Seed, Data: e.Data.Digest()})
}

// LoadCheckpoint restores what WriteCheckpoint wrote: the teacher, the
// reference, the AdamW moments and step, and the trainer's step count, so
// the next Step is the one an uninterrupted run would have taken.
func (e *Engine) LoadCheckpoint(dir string, readTensors func(path string) ([]hf.NamedTensor, map[string]string, error)) error {
	tr := e.Trainer
	raw, err := os.ReadFile(filepath.Join(dir, "trainer.json"))
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	var st TrainerState
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("resume: %s: %w", filepath.Join(dir, "trainer.json"), err)
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
	for name, m := range map[string]interface {
		LoadWeights(model.TensorSource) error
	}{"teacher": tr.Teacher, "reference": tr.Ref} {
		src, err := hf.OpenFolder(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		err = m.LoadWeights(src)
		src.Close()
		if err != nil {
			return fmt.Errorf("resume: %s: %w", name, err)
		}
	}
	ts, _, err := readTensors(filepath.Join(dir, "optimizer.safetensors"))
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	byName := make(map[string]hf.NamedTensor, len(ts))
	for _, t := range ts {
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
				return fmt.Errorf("resume: optimizer.safetensors: tensor %q missing or of the wrong size", mom.name)
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
