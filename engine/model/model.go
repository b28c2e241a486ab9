// Package model is the Qwen2-style decoder the workbench trains and samples:
// RMSNorm, rotary positions, grouped-query attention with q/k/v biases, a
// SwiGLU MLP, tied or untied embeddings. Parameters carry their Hugging Face
// names, so checkpoints load by name with no mapping table. It computes on
// any compute.Backend, through a compute.Tape.
package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// Config is the shape of a model (the subset of a Hugging Face Qwen2
// config.json that changes the computation).
type Config struct {
	Vocab        int     // vocab_size: rows of the embedding
	Hidden       int     // hidden_size
	Intermediate int     // intermediate_size
	Layers       int     // num_hidden_layers
	Heads        int     // num_attention_heads
	KVHeads      int     // num_key_value_heads
	RMSEps       float64 // rms_norm_eps
	RopeTheta    float64 // rope_theta
	MaxPos       int     // max_position_embeddings
	Tied         bool    // tie_word_embeddings
	QKVBias      bool    // q/k/v projections have biases (true for Qwen2)
}

// HeadDim is the width of one attention head.
func (c Config) HeadDim() int { return c.Hidden / c.Heads }

// Validate says what is wrong with a shape.
func (c Config) Validate() error {
	switch {
	case c.Vocab <= 0, c.Hidden <= 0, c.Intermediate <= 0, c.Layers <= 0, c.Heads <= 0, c.KVHeads <= 0, c.MaxPos <= 0:
		return fmt.Errorf("model config: sizes must be positive (vocab %d, hidden %d, intermediate %d, layers %d, heads %d, kv heads %d, max positions %d)",
			c.Vocab, c.Hidden, c.Intermediate, c.Layers, c.Heads, c.KVHeads, c.MaxPos)
	case c.Hidden%c.Heads != 0:
		return fmt.Errorf("model config: hidden size %d is not a multiple of %d heads", c.Hidden, c.Heads)
	case c.Heads%c.KVHeads != 0:
		return fmt.Errorf("model config: %d attention heads cannot be shared by %d kv heads", c.Heads, c.KVHeads)
	case c.HeadDim()%2 != 0:
		return fmt.Errorf("model config: head size %d must be even for rotary positions", c.HeadDim())
	case !(c.RMSEps > 0) || !(c.RopeTheta > 0):
		return fmt.Errorf("model config: rms_norm_eps (%g) and rope_theta (%g) must be positive", c.RMSEps, c.RopeTheta)
	}
	return nil
}

// Layer holds one decoder block's parameters.
type Layer struct {
	InputNorm, PostAttnNorm *compute.Tensor
	Q, K, V, O              *compute.Tensor
	QBias, KBias, VBias     *compute.Tensor // nil without QKVBias
	Gate, Up, Down          *compute.Tensor
}

// Model is a decoder's parameters on a backend.
type Model struct {
	Cfg     Config
	Embed   *compute.Tensor
	Layers  []Layer
	Norm    *compute.Tensor
	LMHead  *compute.Tensor // the same tensor as Embed when tied
	be      compute.Backend
	rope    *compute.RoPETable
	params  []Param
	stored  compute.DType // the checkpoint's type for the matrices (F32 when not loaded)
	source  hf.Config     // the config.json it was loaded from; zero when made in memory
	dir     string        // the folder it was loaded from; "" when made in memory
	tensors []*compute.Tensor
	linear  []*compute.Tensor // matrices() once built

	pos        []int32 // default positions for the last (posB, posT)
	posB, posT int
	dpos, last []int32 // decode scratch

	// CheckpointLayers makes a recording forward keep only each layer's
	// input and recompute the layer during backward (Tape.Checkpoint): the
	// activations of one layer instead of all of them, for one more
	// forward of the layers. Gradients are bit-identical either way.
	CheckpointLayers bool
	segs             []layerSeg
	segKey           uint64
}

// Param is a parameter with its Hugging Face name.
type Param struct {
	Name   string
	Tensor *compute.Tensor
}

// New allocates a model with zeroed float32 parameters.
func New(be compute.Backend, cfg Config) (*Model, error) { return newModel(be, cfg, nil) }

// NewAs allocates a model with zeroed parameters whose matrices are held in
// dt: F32, or BF16/F16 for a frozen model (a reference that only follows
// the policy through CopyFrom and Mix, rounded to dt).
func NewAs(be compute.Backend, cfg Config, dt compute.DType) (*Model, error) {
	m, err := newModel(be, cfg, func(string) compute.DType { return dt })
	if m != nil {
		m.stored = dt
	}
	return m, err
}

// Stored is the type the model's matrices had where it was loaded from
// (F32, BF16 or F16), whatever it holds them in now: a trainable model
// loaded from a BF16 checkpoint holds float32 but was stored BF16.
func (m *Model) Stored() compute.DType { return m.stored }

// Dir is the folder the model was loaded from ("" when made in memory):
// how its own refusals name it (Name).
func (m *Model) Dir() string { return m.dir }

// newModel allocates a model whose matrix named name is stored as
// matrixType(name) (float32 when matrixType is nil); vectors (norms and
// biases, a tiny part of a model) are always float32.
func newModel(be compute.Backend, cfg Config, matrixType func(name string) compute.DType) (*Model, error) {
	specs, err := cfg.params()
	if err != nil {
		return nil, err
	}
	m := &Model{Cfg: cfg, be: be}
	byName := make(map[string]*compute.Tensor, len(specs))
	for _, sp := range specs {
		var t *compute.Tensor
		if len(sp.dims) == 2 && matrixType != nil {
			if dt := matrixType(sp.name); dt.Is16() {
				t = be.New16(sp.name, dt, sp.dims...)
			}
		}
		if t == nil {
			t = be.New(sp.name, sp.dims...)
		}
		m.params = append(m.params, Param{Name: sp.name, Tensor: t})
		byName[sp.name] = t
	}
	m.Embed = byName["model.embed_tokens.weight"]
	for i := 0; i < cfg.Layers; i++ {
		p := fmt.Sprintf("model.layers.%d.", i)
		m.Layers = append(m.Layers, Layer{
			InputNorm:    byName[p+"input_layernorm.weight"],
			Q:            byName[p+"self_attn.q_proj.weight"],
			K:            byName[p+"self_attn.k_proj.weight"],
			V:            byName[p+"self_attn.v_proj.weight"],
			QBias:        byName[p+"self_attn.q_proj.bias"], // nil without QKVBias
			KBias:        byName[p+"self_attn.k_proj.bias"],
			VBias:        byName[p+"self_attn.v_proj.bias"],
			O:            byName[p+"self_attn.o_proj.weight"],
			PostAttnNorm: byName[p+"post_attention_layernorm.weight"],
			Gate:         byName[p+"mlp.gate_proj.weight"],
			Up:           byName[p+"mlp.up_proj.weight"],
			Down:         byName[p+"mlp.down_proj.weight"],
		})
	}
	m.Norm = byName["model.norm.weight"]
	if cfg.Tied {
		m.LMHead = m.Embed
	} else {
		m.LMHead = byName["lm_head.weight"]
	}
	m.rope = be.NewRoPETable(cfg.MaxPos, cfg.HeadDim(), cfg.RopeTheta)
	return m, nil
}

// paramSpec is one parameter's name and shape.
type paramSpec struct {
	name string
	dims []int
}

func (p paramSpec) numel() int {
	n := 1
	for _, d := range p.dims {
		n *= d
	}
	return n
}

// params lists the parameters of this shape in Params order (a tied model
// has no lm_head).
func (c Config) params() ([]paramSpec, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	d, f, hd := c.Hidden, c.Intermediate, c.HeadDim()
	var ps []paramSpec
	add := func(name string, dims ...int) { ps = append(ps, paramSpec{name, dims}) }
	add("model.embed_tokens.weight", c.Vocab, d)
	for i := 0; i < c.Layers; i++ {
		p := fmt.Sprintf("model.layers.%d.", i)
		add(p+"input_layernorm.weight", d)
		add(p+"self_attn.q_proj.weight", c.Heads*hd, d)
		add(p+"self_attn.k_proj.weight", c.KVHeads*hd, d)
		add(p+"self_attn.v_proj.weight", c.KVHeads*hd, d)
		if c.QKVBias {
			add(p+"self_attn.q_proj.bias", c.Heads*hd)
			add(p+"self_attn.k_proj.bias", c.KVHeads*hd)
			add(p+"self_attn.v_proj.bias", c.KVHeads*hd)
		}
		add(p+"self_attn.o_proj.weight", d, c.Heads*hd)
		add(p+"post_attention_layernorm.weight", d)
		add(p+"mlp.gate_proj.weight", f, d)
		add(p+"mlp.up_proj.weight", f, d)
		add(p+"mlp.down_proj.weight", d, f)
	}
	add("model.norm.weight", d)
	if !c.Tied {
		add("lm_head.weight", c.Vocab, d)
	}
	return ps, nil
}

// Params lists the parameters by Hugging Face name (a tied model has no
// lm_head entry), in a fixed order.
func (m *Model) Params() []Param { return m.params }

// Tensors lists the parameter tensors in Params order. The slice is shared:
// do not modify it.
func (m *Model) Tensors() []*compute.Tensor {
	if len(m.tensors) != len(m.params) {
		m.tensors = make([]*compute.Tensor, len(m.params))
		for i, p := range m.params {
			m.tensors[i] = p.Tensor
		}
	}
	return m.tensors
}

// Freeze holds the model's matrices constant until Thaw
// (Backend.FreezeWeights): the backend may then lay them out once for the
// many small products of decoding. Nothing may change the parameters in
// between (an optimiser step, Mix, a load); the CPU backend panics if it does.
func (m *Model) Freeze() { m.be.FreezeWeights(m.matrices()) }

// FrozenBytes is the host memory Freeze keeps on the CPU for this shape's
// matrices held in float32 (compute.FrozenBytes of each of matrices: every
// layer's projections and the LM head, the embedding where tied), for the
// rest of the process: a second copy of nearly every weight. A sampled
// float32 model holds it (1.84 GiB for Qwen2.5-0.5B).
func (c Config) FrozenBytes() int64 {
	d, f, hd := c.Hidden, c.Intermediate, c.HeadDim()
	layer := compute.FrozenBytes(c.Heads*hd, d) + 2*compute.FrozenBytes(c.KVHeads*hd, d) + compute.FrozenBytes(d, c.Heads*hd) +
		2*compute.FrozenBytes(f, d) + compute.FrozenBytes(d, f)
	return int64(c.Layers)*layer + compute.FrozenBytes(c.Vocab, d)
}

// Thaw ends Freeze.
func (m *Model) Thaw() { m.be.ThawWeights(m.matrices()) }

// matrices lists the weights the forward pass uses as Linear's w.
func (m *Model) matrices() []*compute.Tensor {
	if m.linear == nil {
		for i := range m.Layers {
			l := &m.Layers[i]
			m.linear = append(m.linear, l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down)
		}
		m.linear = append(m.linear, m.LMHead)
	}
	return m.linear
}

// Backend returns the backend the parameters live on.
func (m *Model) Backend() compute.Backend { return m.be }

// RequireGrad makes every parameter trainable. A model loaded frozen in 16
// bits cannot be: the error says so and what to do.
func (m *Model) RequireGrad() error {
	if m.Frozen16() {
		return fmt.Errorf("model: its weights are held frozen in %v (loaded as Frozen16) and take no gradients: load it in float32 to train it", m.WeightType())
	}
	for _, p := range m.params {
		compute.RequireGrad(m.be, p.Tensor)
	}
	return nil
}

// WeightType is the type the model's largest tensor (the embedding) is
// held in: F32, or BF16/F16 for a model loaded frozen in 16 bits.
func (m *Model) WeightType() compute.DType { return m.Embed.DType() }

// Frozen16 reports whether any weight is held in 16 bits: the model then
// computes in float32 but cannot be trained.
func (m *Model) Frozen16() bool {
	for _, p := range m.params {
		if p.Tensor.DType() != compute.F32 {
			return true
		}
	}
	return false
}

// NumParams counts parameters (tied embeddings once).
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Tensor.Len()
	}
	return n
}

// InitRandom fills weights from N(0, std²), biases with zeros and norms with
// ones, as Qwen2's initialiser does, from a seeded stream.
func (m *Model) InitRandom(seed uint64, std float64) {
	g := newInitStream(seed, std)
	for _, p := range m.params {
		buf := make([]float32, p.Tensor.Len())
		g.fill(p.Name, p.Tensor.Rank(), buf)
		m.be.Write(p.Tensor, buf)
	}
}

// initStream draws InitRandom's numbers in order: parameter after parameter
// in Params order, any number of values at a time.
type initStream struct {
	r   *rand.Rand
	std float64
}

func newInitStream(seed uint64, std float64) *initStream {
	return &initStream{r: rand.New(rand.NewPCG(seed, 0x5eed)), std: std}
}

// fill writes the next len(dst) values of parameter name.
func (g *initStream) fill(name string, rank int, dst []float32) {
	switch {
	case rank == 1 && isNorm(name):
		for i := range dst {
			dst[i] = 1
		}
	case rank == 1:
		clear(dst) // biases stay zero
	default:
		for i := range dst {
			dst[i] = float32(g.r.NormFloat64() * g.std)
		}
	}
}

func isNorm(name string) bool {
	return len(name) > len("norm.weight") && name[len(name)-len("norm.weight"):] == "norm.weight"
}

// CopyFrom copies every parameter of src (same config) into m.
func (m *Model) CopyFrom(src *Model) error {
	if m.Cfg != src.Cfg {
		return fmt.Errorf("copy model: configs differ (%+v vs %+v)", m.Cfg, src.Cfg)
	}
	for i, p := range m.params {
		m.be.Copy(p.Tensor, src.params[i].Tensor)
	}
	return nil
}

// Batch is B sequences of T tokens, right-padded (or left-padded with
// KStart), laid out row-major: token t of sequence b is at b·T + t.
type Batch struct {
	B, T   int
	Tokens []int32 // [B·T]
	Pos    []int32 // [B·T] rotary positions; nil means 0..T-1 for every sequence
	KStart []int32 // [B] first real token of each sequence (left padding); nil means 0
}

// Hidden runs the decoder and returns the final normed hidden states [B·T, d].
func (m *Model) Hidden(tp *compute.Tape, b *Batch) *compute.Tensor {
	cfg := m.Cfg
	n := b.B * b.T
	if len(b.Tokens) != n || (b.Pos != nil && len(b.Pos) != n) {
		return failf(tp, "model: batch of %d×%d needs %d tokens and positions, got %d and %d", b.B, b.T, n, len(b.Tokens), len(b.Pos))
	}
	if b.T > cfg.MaxPos {
		tp.Fail(&PositionsError{Model: Name("model", m.dir), What: "a sequence of the batch", Tokens: b.T, Positions: cfg.MaxPos,
			Do: fmt.Sprintf("give sequences of at most %d tokens", cfg.MaxPos)})
		return nil
	}
	pos := b.Pos
	if pos == nil {
		pos = m.defaultPos(b.B, b.T)
	}
	ad := compute.AttnDims{B: b.B, T: b.T, H: cfg.Heads, KV: cfg.KVHeads, HeadDim: cfg.HeadDim()}
	mark := tp.Mark()
	x := tp.Embedding(m.Embed, b.Tokens)
	switch {
	case !tp.Recording():
		// Nothing is kept for backward: each layer's activations are
		// given back to the arena as soon as the next layer has its input,
		// so a forward holds one layer's activations and the residual
		// stream, not one output per layer (24 × [B·T, d] at 0.5B).
		for i := range m.Layers {
			x = tp.Keep(mark, m.layer(tp, &m.Layers[i], x, pos, ad, b.KStart))
		}
	case m.CheckpointLayers:
		if len(m.segs) != len(m.Layers) {
			m.segs = make([]layerSeg, len(m.Layers))
		}
		m.segKey++
		for i := range m.Layers {
			s := &m.segs[i]
			*s = layerSeg{m: m, l: &m.Layers[i], pos: pos, kStart: b.KStart, ad: ad, key: m.segKey}
			x = tp.Checkpoint(s, x)
		}
	default:
		for i := range m.Layers {
			x = m.layer(tp, &m.Layers[i], x, pos, ad, b.KStart)
		}
	}
	return tp.RMSNorm(x, m.Norm, float32(cfg.RMSEps))
}

// layer runs one decoder block on x [B·T, d].
func (m *Model) layer(tp *compute.Tape, l *Layer, x *compute.Tensor, pos []int32, ad compute.AttnDims, kStart []int32) *compute.Tensor {
	cfg := m.Cfg
	eps := float32(cfg.RMSEps)
	// Without recording (scoring, a prefill) each half of the block gives
	// its activations back to the tape's arena once its residual sum is
	// made, and SwiGLU overwrites the gate: the arena then holds the larger
	// half, one [N, ff] fewer, not the two halves (at 0.5B, 271 MB instead
	// of 400 MB for 4,248 tokens). When recording, Keep and SwiGLUOver keep
	// everything backward needs and the values are the same.
	mark := tp.Mark()
	h := tp.RMSNorm(x, l.InputNorm, eps)
	q := tp.RoPE(tp.Linear(h, l.Q, l.QBias), pos, m.rope, cfg.Heads)
	k := tp.RoPE(tp.Linear(h, l.K, l.KBias), pos, m.rope, cfg.KVHeads)
	v := tp.Linear(h, l.V, l.VBias)
	a := tp.Attention(q, k, v, ad, kStart)
	x = tp.Keep(mark, tp.AddLinear(x, a, l.O)) // in place without recording
	mark = tp.Mark()
	h = tp.RMSNorm(x, l.PostAttnNorm, eps)
	mlp := tp.SwiGLUOver(tp.Linear(h, l.Gate, nil), tp.Linear(h, l.Up, nil))
	return tp.Keep(mark, tp.AddLinear(x, mlp, l.Down))
}

// layerSeg is one layer of one forward pass as a checkpointed segment.
type layerSeg struct {
	m           *Model
	l           *Layer
	pos, kStart []int32
	ad          compute.AttnDims
	key         uint64
}

// Forward implements compute.Segment.
func (s *layerSeg) Forward(tp *compute.Tape, x *compute.Tensor) *compute.Tensor {
	return s.m.layer(tp, s.l, x, s.pos, s.ad, s.kStart)
}

// Key implements compute.Segment: the model's count of checkpointed forwards.
func (s *layerSeg) Key() uint64 { return s.key }

// CheckpointedForwards counts the recording forwards that ran with
// checkpointed layers, for callers that decide it per batch.
func (m *Model) CheckpointedForwards() uint64 { return m.segKey }

// Logits runs the model over a batch: logits [B·T, V]. At a real
// vocabulary these are large (a 1k-token batch is 600 MB at 151,936 rows):
// TokenLogProbs never makes them.
func (m *Model) Logits(tp *compute.Tape, b *Batch) *compute.Tensor {
	return tp.Linear(m.Hidden(tp, b), m.LMHead, nil)
}

// TokenLogProbs returns the log-probability of targets[n] (the token that
// follows position n; < 0 to ignore) under logits·invTemp: [B·T]. The LM
// head is fused with the log-softmax (Tape.HeadLogProbs): no [B·T, V]
// logits or logit gradients exist, and ignored rows cost nothing.
func (m *Model) TokenLogProbs(tp *compute.Tape, b *Batch, targets []int32, invTemp float32) *compute.Tensor {
	return tp.HeadLogProbs(m.Hidden(tp, b), m.LMHead, targets, invTemp)
}

func failf(tp *compute.Tape, format string, args ...any) *compute.Tensor {
	tp.Fail(fmt.Errorf(format, args...))
	return nil
}

// defaultPos is 0..T-1 for each sequence, kept across calls of one shape.
func (m *Model) defaultPos(B, T int) []int32 {
	if m.posB == B && m.posT == T {
		return m.pos
	}
	p := make([]int32, B*T)
	for i := range p {
		p[i] = int32(i % T)
	}
	m.pos, m.posB, m.posT = p, B, T
	return p
}

// InitStd is the initialiser's standard deviation Qwen2 configs use.
const InitStd = 0.02

// NewRandom is New followed by InitRandom.
func NewRandom(be compute.Backend, cfg Config, seed uint64) (*Model, error) {
	m, err := New(be, cfg)
	if err != nil {
		return nil, err
	}
	m.InitRandom(seed, InitStd)
	return m, nil
}

// MemoryBytes is the size of the parameters as held (4 bytes a float32
// weight, 2 a 16-bit one).
func (m *Model) MemoryBytes() int64 {
	var n int64
	for _, p := range m.params {
		n += p.Tensor.Bytes()
	}
	return n
}

// LargestParam names this shape's largest parameter (the first of equals,
// in Params order) and its element count: what one device buffer must
// hold (a GPU binds at most so much per buffer). "" for an invalid shape.
func (c Config) LargestParam() (name string, elems int) {
	ps, _ := c.params()
	for _, p := range ps {
		if n := p.numel(); n > elems {
			name, elems = p.name, n
		}
	}
	return name, elems
}

// NumTensors counts the tensors that hold this shape's parameters (tied
// embeddings once): what a pass over each (the gradient's norm) walks.
func (c Config) NumTensors() int {
	ps, _ := c.params()
	return len(ps)
}

// RoPEBytes is the memory of the rotary tables New makes for this shape
// (Backend.NewRoPETable(MaxPos, HeadDim(), …)): cos and sin, each
// [MaxPos, HeadDim/2] in float32, beside the parameters.
func (c Config) RoPEBytes() int64 {
	return 2 * 4 * int64(c.MaxPos) * int64(c.HeadDim()/2)
}

// NumParams counts the parameters of this shape (tied embeddings once).
func (c Config) NumParams() int {
	ps, err := c.params()
	if err != nil {
		return 0
	}
	n := 0
	for _, p := range ps {
		n += p.numel()
	}
	return n
}
