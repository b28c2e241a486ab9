package model

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// ConfigFromHF takes the shape of a decoder from a Hugging Face config.
func ConfigFromHF(c hf.Config) (Config, error) {
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	if c.HeadDim > 0 && c.HeadDim*c.NumAttentionHeads != c.HiddenSize {
		return Config{}, fmt.Errorf("config: head_dim %d × %d heads ≠ hidden_size %d; decoupled head sizes are not supported",
			c.HeadDim, c.NumAttentionHeads, c.HiddenSize)
	}
	cfg := Config{
		Vocab: c.VocabSize, Hidden: c.HiddenSize, Intermediate: c.IntermediateSize,
		Layers: c.NumHiddenLayers, Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads,
		RMSEps: c.RMSNormEps, RopeTheta: c.RopeTheta, MaxPos: c.MaxPositionEmbeddings,
		Tied: c.TieWordEmbeddings, QKVBias: c.QKVBias,
	}
	return cfg, cfg.Validate()
}

// HF returns the Hugging Face config.json for this shape.
func (c Config) HF() hf.Config {
	return hf.Config{
		ModelType: "qwen2", Architectures: []string{"Qwen2ForCausalLM"},
		VocabSize: c.Vocab, HiddenSize: c.Hidden, IntermediateSize: c.Intermediate,
		NumHiddenLayers: c.Layers, NumAttentionHeads: c.Heads, NumKeyValueHeads: c.KVHeads,
		MaxPositionEmbeddings: c.MaxPos, RMSNormEps: c.RMSEps, RopeTheta: c.RopeTheta,
		TieWordEmbeddings: c.Tied, QKVBias: c.QKVBias, HiddenAct: "silu", TorchDType: "float32",
	}
}

// TensorSource is where weights come from: one safetensors file or a
// (possibly sharded) model folder.
type TensorSource interface {
	Tensor(name string) (hf.TensorInfo, bool)
	ReadFloat32(name string, dst []float32) error
}

// Load reads a Hugging Face model folder (config.json and model.safetensors
// or a sharded index) onto be.
func Load(be compute.Backend, dir string) (*Model, error) {
	hc, err := hf.LoadConfig(filepath.Join(dir, hf.ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	cfg, err := ConfigFromHF(hc)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	src, err := hf.OpenFolder(dir)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	defer src.Close()
	m, err := New(be, cfg)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	if err := m.LoadWeights(src); err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	return m, nil
}

// LoadWeights fills every parameter from src by its Hugging Face name,
// checking shapes against the config. Tensors the model does not use are
// ignored (a tied checkpoint may still carry lm_head.weight).
func (m *Model) LoadWeights(src TensorSource) error {
	var buf []float32
	for _, p := range m.params {
		info, ok := src.Tensor(p.Name)
		if !ok {
			return fmt.Errorf("tensor %q is missing (the config says %d layers, tie_word_embeddings=%v)", p.Name, m.Cfg.Layers, m.Cfg.Tied)
		}
		want := p.Tensor.Shape()
		if !equalInts(info.Shape, want) {
			return fmt.Errorf("%s: tensor %q: shape %v but the config wants %v", info.File, p.Name, info.Shape, want)
		}
		if dst, ok := compute.HostData(p.Tensor); ok {
			// Read straight into the parameter: no staging copy, so loading
			// needs no more memory than the float32 weights themselves.
			if err := src.ReadFloat32(p.Name, dst); err != nil {
				return err
			}
			continue
		}
		if cap(buf) < p.Tensor.Len() {
			buf = make([]float32, p.Tensor.Len())
		}
		b := buf[:p.Tensor.Len()]
		if err := src.ReadFloat32(p.Name, b); err != nil {
			return err
		}
		m.be.Write(p.Tensor, b)
	}
	return nil
}

// Save writes the model as a Hugging Face folder: config.json and
// model.safetensors in dtype (hf.F32 or hf.BF16), each replaced atomically.
func (m *Model) Save(dir string, dtype hf.DType) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	ts := make([]hf.NamedTensor, 0, len(m.params))
	for _, p := range m.params {
		data := make([]float32, p.Tensor.Len())
		m.be.Read(data, p.Tensor)
		ts = append(ts, hf.NamedTensor{Name: p.Name, Shape: append([]int(nil), p.Tensor.Shape()...), Data: data})
	}
	if err := hf.WriteSafetensors(filepath.Join(dir, hf.WeightsFile), ts, dtype, nil); err != nil {
		return fmt.Errorf("save model %s: %w", dir, err)
	}
	hc := m.Cfg.HF()
	if dtype == hf.BF16 {
		hc.TorchDType = "bfloat16"
	}
	if err := hf.WriteConfig(filepath.Join(dir, hf.ConfigFile), hc); err != nil {
		return fmt.Errorf("save model %s: %w", dir, err)
	}
	return nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
