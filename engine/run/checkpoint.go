package run

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rlt-workbench/rlt/engine/hf"
)

// TrainerState is what a checkpoint records besides the weights.
type TrainerState struct {
	Step      int    `json:"step"` // steps done
	AdamSteps int    `json:"adam_steps"`
	Seed      uint64 `json:"seed"`
}

// WriteCheckpoint writes the teacher, the reference model and the AdamW
// moments into dir (teacher/ and reference/ as Hugging Face folders with the
// tokenizer, optimizer.safetensors) and returns the trainer state for
// state.json. The data order and sampling seeds are functions of the step,
// so these files are all a resume needs.
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
	return json.Marshal(TrainerState{Step: tr.StepIndex(), AdamSteps: adamSteps, Seed: e.Cfg.GRPO.Seed})
}
