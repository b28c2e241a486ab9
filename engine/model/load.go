package model

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/half"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/size"
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
func (c Config) HF() hf.Config { return c.HFFrom(hf.Config{}) }

// HFFrom returns the config.json base would be with this shape: every key
// of base that is not the shape's (bos and eos token ids, sliding_window,
// initializer_range, transformers_version, rope_scaling, …) is kept, so a
// model saved from a Hugging Face folder keeps what transformers and vLLM
// read from its config. A zero base (no model_type) gives a fresh Qwen2
// config.
func (c Config) HFFrom(base hf.Config) hf.Config {
	if base.ModelType == "" {
		return c.fresh()
	}
	out := base
	if base.Extra != nil {
		out.Extra = make(map[string]json.RawMessage, len(base.Extra))
		for k, v := range base.Extra {
			out.Extra[k] = v
		}
	}
	if out.Architectures == nil {
		out.Architectures = []string{"Qwen2ForCausalLM"}
	}
	out.VocabSize, out.HiddenSize, out.IntermediateSize = c.Vocab, c.Hidden, c.Intermediate
	out.NumHiddenLayers, out.NumAttentionHeads, out.NumKeyValueHeads = c.Layers, c.Heads, c.KVHeads
	out.MaxPositionEmbeddings, out.RMSNormEps, out.RopeTheta = c.MaxPos, c.RMSEps, c.RopeTheta
	out.TieWordEmbeddings, out.QKVBias = c.Tied, c.QKVBias
	if out.HeadDim != 0 {
		out.HeadDim = c.HeadDim()
	}
	return out
}

func (c Config) fresh() hf.Config {
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

// Bits16Source is a TensorSource that can also hand over a 16-bit tensor's
// bits as stored (hf.File and hf.Folder can), for models loaded Frozen16.
type Bits16Source interface {
	TensorSource
	ReadBits16(name string, dst []uint16) error
}

// Precision is how a loaded model holds its weight matrices.
type Precision uint8

const (
	// Float32 widens every weight to float32: the model can be trained.
	Float32 Precision = iota
	// Frozen16 keeps each matrix a checkpoint stores in BF16 or F16 in that
	// type, read straight from the file (half the memory of float32 and no
	// float32 copy at any time), and computes in float32 with the very
	// numbers a Float32 load of it would hold. The model takes no gradients.
	// Matrices stored in float32 load as float32.
	Frozen16
)

// String names the precision as configs spell it.
func (p Precision) String() string {
	if p == Frozen16 {
		return "checkpoint"
	}
	return "float32"
}

// Inspect reads a model folder's shape and the type its checkpoint stores
// the matrices in (from the embedding's header entry), without loading any
// weight: what a memory estimate needs. A config.json whose layer count is
// not the checkpoint's is refused (hf.Folder.CheckLayers), so no estimate
// sizes a model the weights are not.
func Inspect(dir string) (Config, compute.DType, error) {
	in, err := InspectFolder(dir)
	return in.Cfg, in.DType, err
}

// Inspected is what Inspect reads of a model folder, with the whole
// config.json as hf read it (HF): a caller that needs more of the file
// than the shape (rlt serve: its eos_token_id) takes it from here rather
// than reading the file again.
type Inspected struct {
	HF    hf.Config     // config.json, validated
	Cfg   Config        // the shape it gives
	DType compute.DType // the type the checkpoint stores the matrices in
}

// InspectFolder is Inspect with the config.json it read.
func InspectFolder(dir string) (Inspected, error) {
	hc, err := hf.LoadConfig(filepath.Join(dir, hf.ConfigFile))
	if err != nil {
		return Inspected{}, fmt.Errorf("model %s: %w", dir, err)
	}
	cfg, err := ConfigFromHF(hc)
	if err != nil {
		return Inspected{}, fmt.Errorf("model %s: %w", dir, err)
	}
	src, err := hf.OpenFolder(dir)
	if err != nil {
		return Inspected{}, fmt.Errorf("model %s: %w", dir, err)
	}
	defer src.Close()
	if err := src.CheckLayers(hc); err != nil { // before any estimate sizes the model by its config
		return Inspected{}, fmt.Errorf("model %s: %w", dir, err)
	}
	dt := compute.F32
	if info, ok := src.Tensor("model.embed_tokens.weight"); ok {
		switch info.DType {
		case hf.BF16:
			dt = compute.BF16
		case hf.F16:
			dt = compute.F16
		}
	}
	return Inspected{HF: hc, Cfg: cfg, DType: dt}, nil
}

// Load reads a Hugging Face model folder (config.json and model.safetensors
// or a sharded index) onto be, in float32, with no way to stop it
// (LoadAs with context.Background()).
func Load(be compute.Backend, dir string) (*Model, error) {
	return LoadAs(context.Background(), be, dir, Float32)
}

// LoadAs is Load with a choice of precision for the weight matrices and a
// context: a cancelled ctx stops the load before its next tensor (a 7B
// model reads hundreds, up to a gigabyte each), or within a large one
// before its next stopEvery bytes, with a *StoppedError that wraps
// ctx.Err() and names the tensor and file it stopped at. The tensors made
// for the model are then dropped, so the collector gives their memory,
// a device's too, back (as it does for a load that failed).
func LoadAs(ctx context.Context, be compute.Backend, dir string, p Precision) (*Model, error) {
	hc, err := hf.LoadConfig(filepath.Join(dir, hf.ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	return LoadWith(ctx, be, dir, hc, p)
}

// LoadWith is LoadAs with dir's config.json as the caller read it
// (InspectFolder's HF), not read again: rlt serve inspects the folder
// before its checks, and the load read config.json a second time.
func LoadWith(ctx context.Context, be compute.Backend, dir string, hc hf.Config, p Precision) (*Model, error) {
	cfg, err := ConfigFromHF(hc)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	src, err := hf.OpenFolder(dir)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	defer src.Close()
	if err := src.CheckLayers(hc); err != nil { // before the config's layers are made
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	var matrixType func(string) compute.DType
	if p == Frozen16 {
		matrixType = func(name string) compute.DType {
			if info, ok := src.Tensor(name); ok {
				switch info.DType {
				case hf.BF16:
					return compute.BF16
				case hf.F16:
					return compute.F16
				}
			}
			return compute.F32
		}
	}
	m, err := newModel(be, cfg, matrixType)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	m.source, m.dir = hc, dir
	if info, ok := src.Tensor("model.embed_tokens.weight"); ok {
		switch info.DType {
		case hf.BF16:
			m.stored = compute.BF16
		case hf.F16:
			m.stored = compute.F16
		}
	}
	if err := m.LoadWeights(ctx, src); err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	return m, nil
}

// reads reports whether the model loads the tensor name (one of its
// parameters, or a tied checkpoint's stray lm_head.weight).
func (m *Model) reads(name string) bool {
	if name == "lm_head.weight" && m.Cfg.Tied {
		return true
	}
	return slices.ContainsFunc(m.params, func(p Param) bool { return p.Name == name })
}

// PartSource is a TensorSource that can also read part of a tensor
// (hf.File and hf.Folder can): a load reads a large tensor a part at a
// time, stopEvery bytes of the file, and heeds a stop between parts. A
// source without it is read a whole tensor at a time.
type PartSource interface {
	TensorSource
	ReadFloat32At(name string, first int, dst []float32) error
	ReadBits16At(name string, first int, dst []uint16) error
}

// stopEvery is how many bytes of a tensor a load reads between two looks
// at its context: a stop waited for the tensor in progress, a gigabyte
// for a 7B model's embedding. 32 MiB reads in milliseconds from the page
// cache (tens of them from a disk), and one look more for each costs
// nothing beside it. A tensor of at most stopEvery bytes is read whole,
// with the one look before it. Tests make it smaller.
var stopEvery int64 = 32 << 20

// StoppedError is a load's error when its context ended: the tensor it
// stopped at, before it or part-way through it, and how far the load had
// come. It wraps the context's error (errors.Is(err, context.Canceled)).
type StoppedError struct {
	// File is the checkpoint file holding Tensor ("" where the source
	// lacks it).
	File, Tensor string
	// Read tensors were read whole before Tensor, of Tensors to read.
	Read, Tensors int
	// Done bytes of Tensor's Size were read when the load stopped (0:
	// it stopped before Tensor).
	Done, Size int64
	Err        error
}

func (e *StoppedError) Error() string { return fmt.Sprintf("%s: %v", e.Where(), e.Err) }

func (e *StoppedError) Unwrap() error { return e.Err }

// Where says where the load stopped, for a message of its own: the
// tensor, how far into it, and how many tensors were read before it
// (`FILE: tensor "NAME": stopped before it, 4 of 291 tensors read`, or
// `…: stopped 32.0 MiB into its 1.01 GiB, …`).
func (e *StoppedError) Where() string {
	at := fmt.Sprintf("tensor %q", e.Tensor)
	if e.File != "" {
		at = e.File + ": " + at
	}
	how := "stopped before it"
	if e.Done > 0 {
		how = fmt.Sprintf("stopped %s into its %s", size.Bytes(e.Done), size.Bytes(e.Size))
	}
	return fmt.Sprintf("%s: %s, %d of %d tensors read", at, how, e.Read, e.Tensors)
}

// LoadWeights fills every parameter from src by its Hugging Face name,
// checking shapes against the config. Tensors the model does not use are
// ignored (a tied checkpoint may still carry lm_head.weight). A cancelled
// ctx stops it before the next tensor, or, from a PartSource, within a
// large tensor before its next stopEvery bytes, with a *StoppedError
// wrapping ctx.Err() that names that tensor and its file; the parameters
// are then partly filled (LoadAs drops such a model).
func (m *Model) LoadWeights(ctx context.Context, src TensorSource) error {
	var buf []float32
	for i, p := range m.params {
		info, ok := src.Tensor(p.Name)
		stopped := func(done int64, err error) error {
			return &StoppedError{File: info.File, Tensor: p.Name, Read: i, Tensors: len(m.params), Done: done, Size: info.Bytes(), Err: err}
		}
		if err := ctx.Err(); err != nil {
			return stopped(0, err)
		}
		if !ok {
			msg := fmt.Sprintf("tensor %q is missing (the config says %d layers, tie_word_embeddings=%v)", p.Name, m.Cfg.Layers, m.Cfg.Tied)
			if f, ok := src.(interface{ Path() string }); ok { // the file (a folder's, or its index) that lists no such tensor
				msg = f.Path() + ": " + msg
			}
			if note := hf.MissingNote(m.source, p.Name); note != "" {
				msg += "; " + note
			}
			if all, ok := src.(interface{ Tensors() []hf.TensorInfo }); ok {
				if note := hf.UnreadNote(all.Tensors(), m.reads); note != "" {
					msg += "; " + note
				}
			}
			return errors.New(msg + ": the weights and the config disagree: copy or download the checkpoint whole again, or fix its config.json to the weights it holds")
		}
		want := p.Tensor.Shape()
		if !slices.Equal(info.Shape, want) {
			msg := fmt.Sprintf("%s: tensor %q: shape %v but the config wants %v", info.File, p.Name, info.Shape, want)
			if fo, ok := src.(interface{ Dir() string }); ok { // a folder: its config.json is the other half
				msg += "; " + hf.ShapeNote(fo.Dir())
			}
			return errors.New(msg)
		}
		r := PartReader{Ctx: ctx, Src: src, Info: info, Every: stopEvery, Stopped: stopped}
		if p.Tensor.DType().Is16() {
			if err := m.load16(r, p.Tensor); err != nil {
				return err
			}
			continue
		}
		if dst, ok := compute.HostData(p.Tensor); ok {
			// Read straight into the parameter: no staging copy, so loading
			// needs no more memory than the float32 weights themselves.
			if err := r.Float32s(dst); err != nil {
				return err
			}
			if err := checkFinite32(info, dst); err != nil {
				return err
			}
			continue
		}
		if cap(buf) < p.Tensor.Len() {
			buf = make([]float32, p.Tensor.Len())
		}
		b := buf[:p.Tensor.Len()]
		if err := r.Float32s(b); err != nil {
			return err
		}
		if err := checkFinite32(info, b); err != nil {
			return err
		}
		m.be.Write(p.Tensor, b)
	}
	return nil
}

// PartReader reads one tensor (Info) of Src, a part of Every bytes of
// the file at a time where Src is a PartSource, looking at Ctx between
// two parts: once it has ended, the read stops with Stopped's error,
// given the bytes read. A model's load reads its tensors so (stopEvery
// bytes a part), as does a resume's read of the optimiser's moments
// (run.Engine.Restore), so that both stop within a large tensor in the
// same words. The caller looks at Ctx before the tensor.
type PartReader struct {
	Ctx  context.Context
	Src  TensorSource
	Info hf.TensorInfo
	// Every is how many bytes of the file a part holds (at least one
	// element).
	Every int64
	// Stopped makes the error of a read stopped after done bytes
	// (a *StoppedError wrapping err).
	Stopped func(done int64, err error) error
}

// Float32s reads the tensor into dst as float32 (TensorSource.ReadFloat32).
func (r PartReader) Float32s(dst []float32) error {
	ps, ok := r.Src.(PartSource)
	if !ok {
		return r.Src.ReadFloat32(r.Info.Name, dst)
	}
	return r.parts(len(dst), func(first, n int) error { return ps.ReadFloat32At(r.Info.Name, first, dst[first:first+n]) })
}

// bits16 reads a 16-bit tensor's bits into dst (Bits16Source.ReadBits16).
func (r PartReader) bits16(s16 Bits16Source, dst []uint16) error {
	ps, ok := r.Src.(PartSource)
	if !ok {
		return s16.ReadBits16(r.Info.Name, dst)
	}
	return r.parts(len(dst), func(first, n int) error { return ps.ReadBits16At(r.Info.Name, first, dst[first:first+n]) })
}

// parts reads the tensor's n elements by read, Every bytes of the file
// at a time, looking at Ctx before each part but the first (the caller
// looked before the tensor).
func (r PartReader) parts(n int, read func(first, n int) error) error {
	elem := int64(max(1, r.Info.DType.Size()))
	per := int(max(1, r.Every/elem))
	for first := 0; first < n; first += per {
		if first > 0 {
			if err := r.Ctx.Err(); err != nil {
				return r.Stopped(int64(first)*elem, err)
			}
		}
		if err := read(first, min(per, n-first)); err != nil {
			return err
		}
	}
	return nil
}

// load16 fills a 16-bit parameter with the bits the checkpoint stores,
// read by r.
func (m *Model) load16(r PartReader, t *compute.Tensor) error {
	info := r.Info
	want := hf.BF16
	if t.DType() == compute.F16 {
		want = hf.F16
	}
	s16, ok := r.Src.(Bits16Source)
	if !ok || info.DType != want {
		// Another type (a 16-bit reference saved in float32 with a
		// checkpoint): read it as float32, one tensor at a time, and round.
		if !info.DType.IsFloat() {
			return fmt.Errorf("%s: tensor %q: stored as %s, cannot fill a %v weight", info.File, t.Name, info.DType, t.DType())
		}
		buf := make([]float32, t.Len())
		if err := r.Float32s(buf); err != nil {
			return err
		}
		if err := checkFinite32(info, buf); err != nil {
			return err
		}
		bits := make([]uint16, t.Len())
		k := half.BF16
		if t.DType() == compute.F16 {
			k = half.F16
		}
		half.Narrow(k, bits, buf)
		m.be.Write16(t, bits)
		return nil
	}
	buf, onHost := compute.HostData16(t)
	if !onHost {
		buf = make([]uint16, t.Len())
	}
	if err := r.bits16(s16, buf); err != nil {
		return err
	}
	k := half.BF16
	if want == hf.F16 {
		k = half.F16
	}
	if err := checkFinite16(info, k, buf); err != nil {
		return err
	}
	if !onHost {
		m.be.Write16(t, buf)
	}
	return nil
}

// Save writes the model as a Hugging Face folder: config.json and
// model.safetensors in dtype (hf.F32 or hf.BF16), each replaced atomically.
// Tensors are streamed a chunk at a time from where they are held, so
// saving needs no copy of the weights. A model loaded from a folder keeps
// that folder's config.json keys (Config.HFFrom), torch_dtype then saying
// dtype; the files beside config.json (tokenizer, generation config) are
// the caller's to copy (hf.CopyFiles).
func (m *Model) Save(dir string, dtype hf.DType) error {
	ps := append([]Param(nil), m.params...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	ts := make([]hf.StreamTensor, len(ps))
	for i, p := range ps {
		ts[i] = hf.StreamTensor{Name: p.Name, Shape: p.Tensor.Shape(), Fill: m.reader(p.Tensor)}
	}
	return writeFolder(dir, m.Cfg.HFFrom(m.source), ts, dtype)
}

// reader hands t's values over in order, a chunk at a time.
func (m *Model) reader(t *compute.Tensor) func(dst []float32) error {
	off := 0
	var all []float32 // a device tensor is read whole, once
	return func(dst []float32) error {
		if data, ok := compute.HostData(t); ok {
			copy(dst, data[off:])
		} else if bits, ok := compute.HostData16(t); ok {
			widen(t.DType(), dst, bits[off:off+len(dst)])
		} else {
			if all == nil {
				all = make([]float32, t.Len())
				m.be.Read(all, t)
				if err := m.be.Err(); err != nil { // a failed device: write nothing
					return fmt.Errorf("read %v: %w", t, err)
				}
			}
			copy(dst, all[off:])
		}
		off += len(dst)
		return nil
	}
}

// widen converts 16-bit bits of type dt into float32.
func widen(dt compute.DType, dst []float32, bits []uint16) {
	k := half.BF16
	if dt == compute.F16 {
		k = half.F16
	}
	half.Widen(k, dst, bits)
}

// WriteRandom writes a model of the shape hc gives (ConfigFromHF) holding
// the very numbers NewRandom(be, cfg, seed) draws, straight to a Hugging
// Face folder, a chunk at a time: it needs a few megabytes whatever the
// model's size, where NewRandom and Save need the whole model in float32.
// Its config.json keeps hc's other keys (Config.HFFrom); a Config's own
// shape is written with WriteRandom(ctx, dir, cfg.HF(), …). It returns
// the number of parameters written. A cancelled ctx stops it within a
// chunk, with ctx's error (the weights file is then not left behind).
func WriteRandom(ctx context.Context, dir string, hc hf.Config, seed uint64, dtype hf.DType) (int, error) {
	cfg, err := ConfigFromHF(hc)
	if err != nil {
		return 0, err
	}
	hc = cfg.HFFrom(hc)
	specs, err := cfg.params()
	if err != nil {
		return 0, err
	}
	g := newInitStream(seed, InitStd)
	ts := make([]hf.StreamTensor, len(specs))
	n := 0
	for i, sp := range specs {
		sp := sp
		ts[i] = hf.StreamTensor{Name: sp.name, Shape: sp.dims, Fill: func(dst []float32) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			g.fill(sp.name, len(sp.dims), dst)
			return nil
		}}
		n += sp.numel()
	}
	// The stream draws in Params order, so the data is written in that order.
	return n, writeFolder(dir, hc, ts, dtype)
}

func writeFolder(dir string, hc hf.Config, ts []hf.StreamTensor, dtype hf.DType) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := hf.WriteSafetensorsStream(filepath.Join(dir, hf.WeightsFile), ts, dtype, nil); err != nil {
		return fmt.Errorf("save model %s: %w", dir, err)
	}
	hc.TorchDType = "float32" // what the file holds, whatever the source held
	if dtype == hf.BF16 {
		hc.TorchDType = "bfloat16"
	}
	if err := hf.WriteConfig(filepath.Join(dir, hf.ConfigFile), hc); err != nil {
		return fmt.Errorf("save model %s: %w", dir, err)
	}
	return nil
}
