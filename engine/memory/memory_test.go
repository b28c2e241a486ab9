package memory

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/vulkan"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/sample"
	"github.com/rlt-workbench/rlt/engine/size"
)

var (
	tiny = model.Config{Vocab: 272, Hidden: 128, Intermediate: 384, Layers: 4, Heads: 4, KVHeads: 2,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 256, Tied: true, QKVBias: true}
	qwen05B = model.Config{Vocab: 151936, Hidden: 896, Intermediate: 4864, Layers: 24, Heads: 14, KVHeads: 2,
		RMSEps: 1e-6, RopeTheta: 1e6, MaxPos: 32768, Tied: true, QKVBias: true}
)

func TestEstimates(t *testing.T) {
	def := GRPO{Teacher: tiny, Student: tiny, StudentHeld: compute.F32, RefHeld: compute.F32,
		Questions: 8, Samples: 8, MaxNewTokens: 96, MicroBatch: 32}
	q := GRPO{Teacher: qwen05B, Student: qwen05B, StudentHeld: compute.F32, RefHeld: compute.F32,
		Questions: 2, Samples: 4, MaxNewTokens: 64, MicroBatch: 8}
	q16 := q
	q16.StudentHeld, q16.RefHeld = compute.BF16, compute.BF16
	params := int64(qwen05B.NumParams())
	if params != 494032768 {
		t.Fatalf("Qwen2.5-0.5B shape: %d parameters, want 494032768", params)
	}
	for _, c := range []struct {
		name     string
		e        Estimate
		min, max int64
	}{
		// The embedded default measured 0.7–1.6 GB peak RSS.
		{"embedded default", def.Estimate(), 200e6, 3e9},
		// Weights, gradients, moments, reference and student alone are 20 bytes a parameter.
		{"Qwen2.5-0.5B GRPO, float32", q.Estimate(), 20 * params, 40e9},
		{"Qwen2.5-0.5B scoring, 16-bit", Score{Teacher: qwen05B, Student: qwen05B, TeacherHeld: compute.BF16, StudentHeld: compute.BF16, Batch: 8, Tokens: 450}.Estimate(), 4 * params, 12e9},
	} {
		t.Logf("%s: %v", c.name, c.e)
		if tot := c.e.Total(); tot < c.min || tot > c.max {
			t.Errorf("%s: %s, want between %s and %s", c.name, size.Bytes(tot), size.Bytes(c.min), size.Bytes(c.max))
		}
	}
	// A model scored through a server holds nothing here: its weights and
	// forward leave the estimate, and the checkpoint advice is about the
	// local one only.
	local := Score{Teacher: qwen05B, Student: qwen05B, TeacherHeld: compute.BF16, StudentHeld: compute.BF16, Batch: 8, Tokens: 450}
	for _, c := range []struct {
		name              string
		teacher, student  bool
		weights, forwards int
	}{{"both local", false, false, 2, 1}, {"teacher served", true, false, 1, 1}, {"student served", false, true, 1, 1}, {"both served", true, true, 0, 0}} {
		s := local
		s.TeacherServed, s.StudentServed = c.teacher, c.student
		w, f := 0, 0
		for _, p := range s.Estimate().Parts {
			switch {
			case strings.HasPrefix(p.What, "teacher") || strings.HasPrefix(p.What, "student"):
				w++
			case strings.HasPrefix(p.What, "forward"):
				f++
			}
		}
		if w != c.weights || f != c.forwards {
			t.Errorf("%s: %d weights and %d forwards in %v, want %d and %d", c.name, w, f, s.Estimate(), c.weights, c.forwards)
		}
		s.TeacherHeld, s.StudentHeld = compute.F32, compute.F32
		if advice := strings.Join(s.Fixes(), "; "); strings.Contains(advice, "BF16") == (c.teacher && c.student) {
			t.Errorf("%s with float32 models: fixes %q", c.name, advice)
		}
	}
	// max_new_tokens past the model's positions changes nothing: sampling
	// stops at them (and a huge value overflows no product).
	far := def
	far.MaxNewTokens = math.MaxInt / 4
	capped := def
	capped.MaxNewTokens = tiny.MaxPos
	if got, want := far.Estimate().Total(), capped.Estimate().Total(); got != want {
		t.Errorf("max_new_tokens %d: %s, want %s as at the model's %d positions", far.MaxNewTokens, size.Bytes(got), size.Bytes(want), tiny.MaxPos)
	}
	if saved := q.Estimate().Total() - q16.Estimate().Total(); saved != 4*params {
		t.Errorf("a 16-bit student and reference save %s, want %s (2 bytes a parameter each)", size.Bytes(saved), size.Bytes(4*params))
	}
}

// A command over the limit is refused with the estimate, the limit, where
// the limit comes from and what to change; one under it passes.
func TestCheckRefusesWhatCannotFit(t *testing.T) {
	g := GRPO{Teacher: tiny, Student: tiny, StudentHeld: compute.F32, RefHeld: compute.F32,
		Questions: 8, Samples: 8, MaxNewTokens: 96, MicroBatch: 32}
	e := g.Estimate()
	t.Setenv(EnvLimit, "50MB")
	err := Check("this run", e, g.Fixes())
	var tb *TooBigError
	if !errors.As(err, &tb) || tb.Have != 50e6 || tb.Need != e.Total() {
		t.Fatalf("50 MB limit: %v, want a TooBigError with need %d and have 50e6", err, e.Total())
	}
	for _, want := range []string{size.Bytes(e.Total()), "47.7 MiB available", EnvLimit, "micro_batch", "max_new_tokens", "BF16", "questions × grpo.samples"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}
	t.Setenv(EnvLimit, "1TiB") // the machine's own figure is then the limit
	if err := Check("this run", e, g.Fixes()); err != nil {
		t.Fatalf("a tiny run on this machine: %v", err)
	}
	t.Setenv(EnvLimit, "lots")
	if err := Check("this run", e, nil); err == nil || !strings.Contains(err.Error(), EnvLimit) {
		t.Fatalf("a bad %s: %v", EnvLimit, err)
	}
}

// TestBytes: sizes are said in binary units with binary labels (KiB, MiB,
// GiB), as rlt model info and the GPU's own messages say them, so that the
// same size reads the same in a refusal and in the messages beside it.

// TestProcess reads this process's resident memory: more than a slice it
// has just touched, and a peak no smaller than now.
func TestProcess(t *testing.T) {
	rss, peak, ok := Process()
	if runtime.GOOS != "linux" {
		if ok {
			t.Fatalf("Process() = %d, %d, true without /proc", rss, peak)
		}
		t.Skip("no /proc/self/status")
	}
	held := make([]byte, 64<<20)
	for i := range held {
		held[i] = byte(i)
	}
	rss2, peak2, ok := Process()
	if !ok || rss <= 0 || peak < rss || rss2 < 64<<20 || peak2 < rss2 || peak2 < peak {
		t.Fatalf("Process() = %d, %d then, after touching 64 MiB, %d, %d (ok %v)", rss, peak, rss2, peak2, ok)
	}
	runtime.KeepAlive(held)
	if _, err := procBytes("/proc/self/status", "NoSuchKey"); err == nil || !strings.Contains(err.Error(), "no NoSuchKey line") {
		t.Errorf("a missing key: %v", err)
	}
}

// The largest tensor a run or a scoring holds, as held, and the refusal
// of one past a GPU's buffer: named, with the CPU as the way on; the CPU
// and a device without the limit refuse nothing.
func TestLargestAndCheckBuffer(t *testing.T) {
	qwen := model.Config{Vocab: 151936, Hidden: 896, Intermediate: 4864, Layers: 2, Heads: 14, KVHeads: 2, RMSEps: 1e-6, RopeTheta: 1e6, MaxPos: 4096, Tied: true, QKVBias: true}
	wide := qwen
	wide.Vocab, wide.Intermediate = 1000, 8192 // the MLP's matrices outgrow the embedding
	for _, c := range []struct {
		name string
		got  Tensor
		want Tensor
	}{
		{"GRPO: the teacher in float32", GRPO{Teacher: qwen, Student: qwen, StudentHeld: compute.BF16, RefHeld: compute.BF16}.Largest(),
			Tensor{"the teacher's model.embed_tokens.weight (F32)", 151936 * 896 * 4}},
		{"GRPO: a student bigger than the teacher", GRPO{Teacher: wide, Student: qwen, StudentHeld: compute.F32, RefHeld: compute.F32}.Largest(),
			Tensor{"the student's model.embed_tokens.weight (F32)", 151936 * 896 * 4}},
		{"GRPO: the MLP", GRPO{Teacher: wide, Student: wide, StudentHeld: compute.BF16, RefHeld: compute.BF16}.Largest(),
			Tensor{"the teacher's model.layers.0.mlp.gate_proj.weight (F32)", 8192 * 896 * 4}},
		{"Score: a served teacher holds nothing", Score{Teacher: qwen, Student: wide, TeacherHeld: compute.F32, StudentHeld: compute.BF16, TeacherServed: true}.Largest(),
			Tensor{"the student's model.layers.0.mlp.gate_proj.weight (BF16)", 8192 * 896 * 2}},
	} {
		if c.got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, c.got, c.want)
		}
	}
	big := Tensor{"the teacher's model.embed_tokens.weight (F32)", 544 << 20}
	for _, c := range []struct {
		gpu       string
		maxBuffer int64
		refused   bool
	}{{"", 128 << 20, false}, {"llvmpipe", 0, false}, {"llvmpipe", 128 << 20, true}, {"H200", 4 << 30, false}} {
		err := CheckBuffer("this run", c.gpu, c.maxBuffer, big)
		if (err != nil) != c.refused {
			t.Errorf("%q binding %d: %v, want refused %v", c.gpu, c.maxBuffer, err, c.refused)
		}
		var tb *TooBigError
		if err != nil && (!errors.As(err, &tb) || !strings.Contains(err.Error(), "this run on llvmpipe: the teacher's model.embed_tokens.weight (F32) is 544.0 MiB") ||
			!strings.Contains(err.Error(), "allocates at most 128.0 MiB") || !strings.Contains(err.Error(), "--device cpu")) {
			t.Errorf("refusal %q: want a TooBigError naming the tensor, both sizes and --device cpu", err)
		}
	}
}

// Scoring and the policy's micro-batches hold at most micro_batch_tokens
// positions a forward, and the prefill a stretch of positions: at the
// official run's 16 × 64 completions of 1,024 tokens the estimate is what
// one micro-batch holds, not the whole batch at once.
func TestEstimateFollowsMicroBatchTokens(t *testing.T) {
	official := GRPO{Teacher: qwen05B, Student: qwen05B, StudentHeld: compute.BF16, RefHeld: compute.BF16,
		Questions: 16, Samples: 64, MaxNewTokens: 1024, MicroBatch: 1}
	part := func(e Estimate, prefix string) int64 {
		for _, p := range e.Parts {
			if strings.HasPrefix(p.What, prefix) {
				return p.Bytes
			}
		}
		t.Fatalf("no %q in %v", prefix, e)
		return 0
	}
	unlimited := official.Estimate()
	official.MicroBatchTokens = 8192
	limited := official.Estimate()
	t.Logf("official setting, no limit: %v", unlimited)
	t.Logf("official setting, micro_batch_tokens 8192: %v", limited)
	official.MicroBatchTokens = 2048
	smaller := official.Estimate()
	if s, u := part(limited, "scoring"), part(unlimited, "scoring"); s*100 > u {
		t.Errorf("scoring at micro_batch_tokens 8192: %s, want under a hundredth of the whole batch's %s", size.Bytes(s), size.Bytes(u))
	}
	if a, b := part(smaller, "scoring"), part(limited, "scoring"); a >= b {
		t.Errorf("scoring at 2048 positions %s, not less than at 8192's %s", size.Bytes(a), size.Bytes(b))
	}
	// 1,024 sequences' keys and values (24 KiB a token), and those of
	// the smaller caches the running ones move to as the batch finishes
	// (512 + 256 + … + 1, within the full cache's memory or an arena of
	// 512 sequences, taking turns: 512 sequences more), and two copies of their
	// logits (the decode step's, and the host's it draws from); the
	// prefill's activations are the policy tape's.
	kv, logits := int64((1024+512)*1152)*24<<10, int64(2*4*1024*151936)
	if s := part(limited, "sampling"); s != kv+logits {
		t.Errorf("sampling %s, want its KV caches and logits %s", size.Bytes(s), size.Bytes(kv+logits))
	}
	// 56.84 GiB: 2.35 GiB of it the cache growing in a step that runs
	// longer than any before, the cache of 640 new tokens and the whole
	// one at once (TestGRPOCountsALaterStepsCacheGrowth).
	if tot := limited.Total(); tot > 62e9 {
		t.Errorf("the official setting at 0.5B in 16 bits: %v, want it under an H100's 80 GB less the GPU's head and scratch", limited)
	}
	advice := strings.Join(GRPO{Teacher: tiny, Student: tiny, Questions: 2, Samples: 2, MaxNewTokens: 8}.Fixes(), "; ")
	if !strings.Contains(advice, "grpo.micro_batch_tokens (now no limit") {
		t.Errorf("fixes without a limit: %q", advice)
	}
	s := Score{Teacher: qwen05B, Student: qwen05B, TeacherHeld: compute.BF16, StudentHeld: compute.BF16, Batch: 4096, Tokens: 512}
	all := s.Estimate().Total()
	s.MicroBatchTokens = 512
	if few := s.Estimate().Total(); few*10 > all {
		t.Errorf("scoring 4096 items at 512 positions a forward: %s, want under a tenth of %s", size.Bytes(few), size.Bytes(all))
	}
}

// TestEstimateOfABudgetPastThePositions: sampling cuts a sequence at its
// model's positions, so a max_new_tokens past them is estimated as the
// positions are, up to int's largest: the prompt and that budget wrapped
// negative, and the estimate counted sequences of no tokens (a total below
// the one at the positions). rlt generate's estimate alike
// (checkGenerateMemory).
func TestEstimateOfABudgetPastThePositions(t *testing.T) {
	for _, micro := range []int{0, 8192} {
		g := GRPO{Teacher: qwen05B, Student: qwen05B, StudentHeld: compute.BF16, RefHeld: compute.BF16,
			Questions: 16, Samples: 64, MaxNewTokens: qwen05B.MaxPos, MicroBatch: 1, MicroBatchTokens: micro, Reconstruct: true, EvalSeqs: 8}
		at := g.Estimate()
		for _, maxNew := range []int{qwen05B.MaxPos + 1, math.MaxInt - 1, math.MaxInt} {
			g.MaxNewTokens = maxNew
			if got := g.Estimate(); got.Total() != at.Total() {
				t.Errorf("micro_batch_tokens %d, max_new_tokens %d: %v, want the estimate at the %d positions, %v", micro, maxNew, got, qwen05B.MaxPos, at)
			}
		}
	}
	if got, want := upTo(100, math.MaxInt, 256), 256; got != want {
		t.Errorf("upTo(100, MaxInt, 256) = %d, want %d", got, want)
	}
	if got, want := upTo(100, 10, 256), 110; got != want {
		t.Errorf("upTo(100, 10, 256) = %d, want %d", got, want)
	}
}

// On a GPU the estimate adds the bound of what its ops hold beside the
// tensors (vulkan.ScratchBytes, asked with the run's shapes: one for each
// model and kind of pass, the forwards' widest and the training's
// micro-batch, its sequences, each model's own heads), and everywhere the
// models' rotary tables: a GRPO run of 0.5B models on an 80 GB GPU was
// estimated without the hundreds of MiB of attention buffers and split
// products. rlt score asks for forwards only.
func TestGPUEstimateCountsScratch(t *testing.T) {
	in := vulkan.Info{Name: "an 80 GB GPU", Type: "discrete", DeviceLocalBytes: 80 << 30,
		MaxStorageBufferRange: 4 << 30, MinStorageAlignment: 64}
	part := func(e Estimate, prefix string) (int64, bool) {
		for _, p := range e.Parts {
			if strings.HasPrefix(p.What, prefix) {
				return p.Bytes, true
			}
		}
		return 0, false
	}
	student := qwen05B
	student.KVHeads, student.Heads = 7, 14 // fewer heads to a group than the teacher's
	g := GRPO{Teacher: qwen05B, Student: student, StudentHeld: compute.BF16, RefHeld: compute.BF16,
		Questions: 2, Samples: 4, MaxNewTokens: 1024, MicroBatch: 2}
	host := g.Estimate()
	var asked []vulkan.Shapes
	g.DeviceScratch = func(first vulkan.Shapes, more ...vulkan.Shapes) int64 {
		asked = append([]vulkan.Shapes{first}, more...)
		return vulkan.ScratchBytes(in, first, more...)
	}
	gpu := g.Estimate()
	got, ok := part(gpu, "the GPU's scratch")
	// At least 128 MiB here (159: about 271 with the row kernels'
	// attention buffers counted beside the tiles' the device runs).
	if !ok || got != vulkan.ScratchBytes(in, asked[0], asked[1:]...) || got < 128<<20 || gpu.Total()-host.Total() != got {
		t.Fatalf("GPU estimate %v: scratch %d (%v), want vulkan.ScratchBytes of %+v, the difference from the host's %v", gpu, got, ok, asked, host)
	}
	t.Logf("the GPU's scratch bound: %s of %s (%+v)", size.Bytes(got), size.Bytes(gpu.Total()), asked)
	tok := PromptTokens + g.MaxNewTokens
	seqs := g.Questions * g.Samples
	shapes := func(rows int, c model.Config) vulkan.Shapes {
		return vulkan.Shapes{Rows: rows, T: tok, Heads: c.Heads, KVHeads: c.KVHeads, HeadDim: 64,
			Hidden: c.Hidden, Intermediate: c.Intermediate, Vocab: c.Vocab}
	}
	// Scoring's forward is the widest: every sequence at once; the
	// teacher trains on micro-batches of 2 sequences.
	sampling, train := shapes(seqs*tok, qwen05B), shapes(g.MicroBatch*tok, qwen05B)
	sampling.Draws, sampling.Candidates = seqs, sample.ShortlistCapacity
	train.Params, train.Tensors, train.Backward = qwen05B.NumParams(), qwen05B.NumTensors(), true
	want := []vulkan.Shapes{sampling, train, shapes(seqs*tok, student)}
	if !slices.Equal(asked, want) {
		t.Errorf("scratch asked for %+v, want %+v", asked, want)
	}
	// The bound takes each slot's largest over the models and passes: no
	// more than the shapes merged into one, their maxima backward at the
	// widest forward's rows, were bounded at.
	merged := sampling
	merged.Params, merged.Tensors, merged.Backward, merged.KVHeads = train.Params, train.Tensors, true, 2
	if m := vulkan.ScratchBytes(in, merged); got >= m {
		t.Errorf("scratch bound %s, want it under the merged shapes' %s", size.Bytes(got), size.Bytes(m))
	}
	if _, ok := part(host, "the GPU's scratch"); ok {
		t.Errorf("the host's estimate counts the GPU's scratch: %v", host)
	}
	g.DeviceScratch = func(vulkan.Shapes, ...vulkan.Shapes) int64 { return 0 } // device.Memory's on the CPU
	if _, ok := part(g.Estimate(), "the GPU's scratch"); ok {
		t.Errorf("a scratch of 0 is a part: %v", g.Estimate())
	}
	if rope, _ := part(host, "rotary tables"); rope != 2*qwen05B.RoPEBytes()+student.RoPEBytes() || rope != 3*32768*64*4 {
		t.Errorf("rotary tables %d bytes in %v, want the three models' %d", rope, host, 3*qwen05B.RoPEBytes())
	}

	for _, c := range []struct {
		name             string
		teacher, student bool
		models           int // the models scratch is asked for
	}{{"both local", false, false, 2}, {"teacher served", true, false, 1}, {"both served", true, true, 0}} {
		s := Score{Teacher: qwen05B, Student: qwen05B, TeacherHeld: compute.BF16, StudentHeld: compute.BF16, Batch: 8, Tokens: 450,
			TeacherServed: c.teacher, StudentServed: c.student}
		asked = nil
		s.DeviceScratch = func(first vulkan.Shapes, more ...vulkan.Shapes) int64 {
			asked = append([]vulkan.Shapes{first}, more...)
			return vulkan.ScratchBytes(in, first, more...)
		}
		got, ok := part(s.Estimate(), "the GPU's scratch")
		if ok != (c.models > 0) || len(asked) != c.models || (ok && got != vulkan.ScratchBytes(in, asked[0], asked[1:]...)) {
			t.Errorf("%s: scratch %d (%v) for %+v in %v, want it for %d models", c.name, got, ok, asked, s.Estimate(), c.models)
		}
		for _, a := range asked {
			if a.Rows != 8*450 || a.T != 450 || a.Backward || a.Params != 0 {
				t.Errorf("%s: scratch asked for %+v, want forwards of 8×450 positions", c.name, a)
			}
		}
		if ok {
			back := asked[0]
			back.Backward = true
			if b := vulkan.ScratchBytes(in, back); got >= b {
				t.Errorf("%s: forward-only scratch %s, want it under a training's %s", c.name, size.Bytes(got), size.Bytes(b))
			}
			t.Logf("%s: scratch %s (with backward passes %s)", c.name, size.Bytes(got), size.Bytes(vulkan.ScratchBytes(in, back)))
		}
	}
}

// A command's models (rlt generate, logprobs, serve, eval, distill) are
// estimated as a GRPO run's are: each model's weights as held, a trained
// one's gradients and moments, each pass's activations, and on a GPU the
// scratch bound asked once for every model's every pass (the per-slot
// maximum), a training's pass alone marked backward, and the fused head's
// logits where a pass runs the head: sampling alone (rlt generate, rlt
// eval) makes none of its buffers, and counted 1.5× its budget.
func TestModelsEstimate(t *testing.T) {
	in := vulkan.Info{Name: "an 80 GB GPU", Type: "discrete", DeviceLocalBytes: 80 << 30,
		MaxStorageBufferRange: 4 << 30, MinStorageAlignment: 64}
	student := qwen05B
	student.Layers = 2
	teacher := Use{Name: "teacher", Cfg: qwen05B, Held: compute.F32, SampleSeqs: 64, SampleT: 1024, ForwardRows: 8192, ForwardT: 1024}
	reward := Use{Name: "reward student", Cfg: qwen05B, Held: compute.BF16, ForwardRows: 8192, ForwardT: 1024}
	trained := Use{Name: "student", Cfg: student, Held: compute.F32, TrainRows: 4096, TrainT: 512}
	for _, c := range []struct {
		name    string
		uses    []Use
		weights int64 // weights, gradients and moments
		runs    int   // the shapes the scratch is asked for
		head    bool  // a pass runs the fused head
	}{
		{"generate", []Use{{Name: "model", Cfg: qwen05B, Held: compute.F32, SampleSeqs: 1, SampleT: 300}}, weights(qwen05B, compute.F32), 1, false},
		{"eval with a teacher", []Use{{Name: "teacher", Cfg: qwen05B, Held: compute.F32, SampleSeqs: 8, SampleT: 640},
			{Name: "student", Cfg: student, Held: compute.F32, SampleSeqs: 8, SampleT: 656}}, weights(qwen05B, compute.F32) + weights(student, compute.F32), 2, false},
		{"logprobs", []Use{{Name: "model", Cfg: qwen05B, Held: compute.BF16, ForwardRows: 32768, ForwardT: 32768}}, weights(qwen05B, compute.BF16), 1, true},
		{"distill --best-of", []Use{teacher, reward, trained},
			weights(qwen05B, compute.F32) + weights(qwen05B, compute.BF16) + 4*weights(student, compute.F32), 4, true},
	} {
		m := Models{Uses: c.uses}
		host := m.Estimate()
		var asked []vulkan.Shapes
		m.DeviceHead = vulkan.HeadBytes(in)
		m.DeviceScratch = func(first vulkan.Shapes, more ...vulkan.Shapes) int64 {
			asked = append([]vulkan.Shapes{first}, more...)
			return vulkan.ScratchBytes(in, first, more...)
		}
		gpu := m.Estimate()
		var w, acts int64
		for _, p := range host.Parts {
			switch {
			case strings.Contains(p.What, "weights") || strings.Contains(p.What, "AdamW"):
				w += p.Bytes
			case strings.Contains(p.What, "sampling") || strings.Contains(p.What, "forward"):
				acts += p.Bytes
			}
		}
		if w != c.weights || acts <= 0 {
			t.Errorf("%s: weights %d, want %d; activations %d (%v)", c.name, w, c.weights, acts, host)
		}
		if len(asked) != c.runs {
			t.Fatalf("%s: scratch asked for %d shapes, want %d: %+v", c.name, len(asked), c.runs, asked)
		}
		for _, s := range asked {
			if s.Backward != (s.Params > 0) {
				t.Errorf("%s: a shape's backward %v with %d parameters' norms: %+v", c.name, s.Backward, s.Params, s)
			}
		}
		var head int64
		if c.head {
			head = vulkan.HeadBytes(in)
		}
		if d := gpu.Total() - host.Total(); d != vulkan.ScratchBytes(in, asked[0], asked[1:]...)+head {
			t.Errorf("%s: the GPU's estimate adds %d to the host's, want the scratch bound and %d of the head's logits", c.name, d, head)
		}
		var most int64 // the embedding, every model's largest, as held
		for _, u := range c.uses {
			most = max(most, int64(qwen05B.Vocab*qwen05B.Hidden*u.Held.Size()))
		}
		if got := m.Largest(); got.Bytes != most || !strings.HasPrefix(got.What, "the ") {
			t.Errorf("%s: largest %+v", c.name, got)
		}
	}
	// The trained student's pass is the backward one; the teacher samples
	// its 64 rows at once and scores 8192 positions.
	m := Models{Uses: []Use{teacher, reward, trained}, DeviceScratch: func(first vulkan.Shapes, more ...vulkan.Shapes) int64 {
		s := append([]vulkan.Shapes{first}, more...)
		want := []int{sample.PrefillTokens, 8192, 8192, 4096}
		for i, sh := range s {
			if sh.Rows != min(want[i], 64*PromptTokens) {
				t.Errorf("shape %d: %d rows, want %d: %+v", i, sh.Rows, want[i], sh)
			}
		}
		if s[0].Draws != 64 || !s[3].Backward || s[3].T != 512 || s[3].Params != student.NumParams() {
			t.Errorf("shapes %+v", s)
		}
		return 0
	}}
	m.Estimate()
}

// A refusal with nothing of the command's own to change (rlt logprobs of a
// float32 checkpoint on the CPU) ends at the numbers: it said "To fit,
// try:" over an empty list.
func TestRefusalWithoutFixes(t *testing.T) {
	e := Estimate{Parts: []Part{{"model weights (F32)", 2 << 20}}}
	for _, c := range []struct {
		fixes []string
		want  string
	}{
		{nil, "scoring log-probs needs about 2.0 MiB (model weights (F32) 2.0 MiB), more than the 1.0 MiB available (RLT_MEMORY_LIMIT)."},
		{[]string{"a fix"}, "scoring log-probs needs about 2.0 MiB (model weights (F32) 2.0 MiB), more than the 1.0 MiB available (RLT_MEMORY_LIMIT).\nTo fit, try:\n  - a fix"},
	} {
		err := CheckAgainst("scoring log-probs", e, Limit{1 << 20, EnvLimit}, c.fixes)
		if err == nil || err.Error() != c.want {
			t.Errorf("fixes %q: got %v\nwant %s", c.fixes, err, c.want)
		}
	}
}

// The training part counts every layer's activations and the gradients
// of one layer's, not as much again as all of them (the tape gives a
// gradient back once its op has run backward: compute.Tape.replay);
// checkpointed, each layer's output, the residual stream's gradients and
// one layer's activations and gradients. It counted 2× every layer's
// before: rlt pretrain's estimate was twice its peak.
func TestBackwardParts(t *testing.T) {
	for _, c := range []struct {
		name       string
		cfg        model.Config
		n          int
		checkpoint bool
	}{
		{"embedded shape, a pretrain batch", tiny, 32 * 256, false},
		{"embedded shape, checkpointed", tiny, 32 * 256, true},
		{"0.5B, a micro-batch", qwen05B, 1152, false},
		{"0.5B, checkpointed", qwen05B, 1152, true},
	} {
		acts := c.cfg.ActivationBytes(c.n)
		layer := acts / int64(c.cfg.Layers)
		residual := 4 * int64(c.n) * int64(c.cfg.Hidden)
		want := acts + layer
		if c.checkpoint {
			want = residual*int64(c.cfg.Layers) + 2*residual + 2*layer
		}
		want += 2 * head(c.cfg, c.n)
		if got := Backward(c.cfg, 1, c.n, c.checkpoint); got != want {
			t.Errorf("%s: Backward %s, want %s", c.name, size.Bytes(got), size.Bytes(want))
		}
		if got := Backward(c.cfg, 1, c.n, c.checkpoint); !c.checkpoint && got >= 2*acts {
			t.Errorf("%s: Backward %s counts gradients of every layer (2× %s)", c.name, size.Bytes(got), size.Bytes(acts))
		}
	}
}

// A batch's sequences move to a cache of half the batch (rounded up) as
// they finish, then of half of that, each within the full cache's memory
// or an arena of half the batch (kept for the next call), taking turns:
// half the batch again (sample's TestShrinkingHoldsHalfTheBatchAgain
// measures it).
func TestShrinkCaches(t *testing.T) {
	for _, c := range []struct{ seqs, more int }{{0, 0}, {1, 0}, {2, 1}, {3, 2}, {5, 3}, {8, 4}, {64, 32}, {1024, 512}} {
		if got := shrinkCaches(c.seqs); got != c.more {
			t.Errorf("shrinkCaches(%d) = %d, want %d", c.seqs, got, c.more)
		}
	}
	if got, want := SamplingAfter(tiny, 8, 100, 130)-prefillBytes(tiny, 8, 100), KVCache(tiny, 12, 130)+2*4*8*int64(tiny.Vocab); got != want {
		t.Errorf("sampling 8 sequences: KV caches and logits %s, want %s", size.Bytes(got), size.Bytes(want))
	}
}

// A GRPO run's estimate follows the prompts measured before it loads (and
// says so), assumes memory.PromptTokens where none are known, counts the
// student's reconstructions where grpo.reconstruct asks for them, and the
// driver --device auto loaded where it found no GPU; the no-grad tape the
// scorer, the reconstructions and the reference share is counted once,
// at the largest of their passes.
func TestGRPOEstimateParts(t *testing.T) {
	base := GRPO{Teacher: tiny, Student: tiny, StudentHeld: compute.F32, RefHeld: compute.F32,
		Questions: 8, Samples: 8, MaxNewTokens: 96, MicroBatch: 8, MicroBatchTokens: 8192}
	partOf := func(e Estimate, prefix string) (Part, bool) {
		for _, p := range e.Parts {
			if strings.HasPrefix(p.What, prefix) {
				return p, true
			}
		}
		return Part{}, false
	}
	measured := base
	measured.TeacherPrompt, measured.StudentPrompt, measured.Prompts = 86, 92, "the task's widest question"
	long := measured
	long.TeacherPrompt, long.StudentPrompt = 200, 210
	withAll := measured
	withAll.Reconstruct, withAll.Probed = true, true
	for _, c := range []struct {
		name          string
		g             GRPO
		sampling      string // the sampling part's words
		t, st         int    // the teacher's and the student's sequences
		recon, probed bool
	}{
		{"nothing known", base, "sampling 64 sequences of 224 tokens (a prompt of 128 tokens assumed;", 224, 224, false, false},
		{"the task's widest", measured, "sampling 64 sequences of 182 tokens (prompts of up to 86 tokens, the task's widest question;", 182, 188, false, false},
		{"long prompts, cut at the positions", long, "sampling 64 sequences of 256 tokens (prompts of up to 200 tokens,", 256, 256, false, false},
		{"reconstructions and the driver", withAll, "sampling 64 sequences of 182 tokens (prompts of up to 86", 182, 188, true, true},
	} {
		e := c.g.Estimate()
		s, _ := partOf(e, "sampling")
		if !strings.HasPrefix(s.What, c.sampling) {
			t.Errorf("%s: %q, want it to begin %q", c.name, s.What, c.sampling)
		}
		tp, sp := c.g.TeacherPrompt, c.g.StudentPrompt
		if tp == 0 {
			tp, sp = PromptTokens, PromptTokens
		}
		// The caches kept: a step's growth is a line of its own where it
		// passes them (TestGRPOCountsALaterStepsCacheGrowth).
		if want := KVCache(tiny, 64+32, c.t) + 2*4*64*int64(tiny.Vocab); s.Bytes != want {
			t.Errorf("%s: sampling %s, want %s", c.name, size.Bytes(s.Bytes), size.Bytes(want))
		}
		r, ok := partOf(e, "the student's reconstructions")
		if ok != c.recon {
			t.Errorf("%s: reconstructions counted %v, want %v: %v", c.name, ok, c.recon, e)
		} else if ok && r.Bytes != SamplingAfter(tiny, 64, c.st, min(c.st+8, tiny.MaxPos))-prefillBytes(tiny, 64, c.st) {
			t.Errorf("%s: reconstructions %s", c.name, size.Bytes(r.Bytes))
		}
		if _, ok := partOf(e, "the Vulkan driver"); ok != c.probed {
			t.Errorf("%s: the driver counted %v, want %v", c.name, ok, c.probed)
		}
		score := Positions(64, max(c.t, c.st), 0, 8192)
		policy := Positions(64, c.t, 8, 8192)
		rows := min(score, 64*96)
		noGrad := max(Forward(tiny, 1, score, rows), Forward(tiny, 1, policy, policy))
		if c.recon {
			noGrad = max(noGrad, prefillBytes(tiny, 64, sp))
		}
		if p, _ := partOf(e, "scoring"); p.Bytes != int64(float64(noGrad)*slack) {
			t.Errorf("%s: the no-grad tape %s, want the largest of its passes %s", c.name, size.Bytes(p.Bytes), size.Bytes(int64(float64(noGrad)*slack)))
		}
		want := int64(float64(Backward(tiny, 1, policy, false)+prefillBytes(tiny, 64, tp)) * slack)
		if p, _ := partOf(e, "policy"); p.Bytes != want {
			t.Errorf("%s: the policy's tape %s, want %s", c.name, size.Bytes(p.Bytes), size.Bytes(want))
		}
	}
}

// Every estimate counts the Vulkan driver --device auto's probe left
// loaded where its Probed says so (device.Memory.Probed), once, in the
// same line: a GRPO run's did alone, rlt score's and memory.Models'
// (generate, logprobs, serve, eval, distill) left it out.
func TestEveryEstimateCountsTheProbedDriver(t *testing.T) {
	for _, c := range []struct {
		name     string
		estimate func(probed bool) Estimate
	}{
		{"GRPO", func(p bool) Estimate {
			return GRPO{Teacher: tiny, Student: tiny, StudentHeld: compute.F32, RefHeld: compute.F32,
				Questions: 2, Samples: 4, MaxNewTokens: 64, Probed: p}.Estimate()
		}},
		{"Score", func(p bool) Estimate {
			return Score{Teacher: tiny, Student: tiny, TeacherHeld: compute.F32, StudentHeld: compute.F32, Batch: 8, Tokens: 256, Probed: p}.Estimate()
		}},
		{"Models", func(p bool) Estimate {
			return Models{Uses: []Use{{Name: "model", Cfg: tiny, Held: compute.F32, SampleSeqs: 1, SampleT: 64}}, Probed: p}.Estimate()
		}},
	} {
		with, without := c.estimate(true), c.estimate(false)
		if d := with.Total() - without.Total(); d != ProbeDriver || !strings.Contains(with.String(), "the Vulkan driver --device auto loaded to look for a GPU 64.0 MiB") {
			t.Errorf("%s: probed adds %s, want %s in its line: %v", c.name, size.Bytes(d), size.Bytes(ProbeDriver), with)
		}
	}
}

// An estimate is never under a peak measured for its settings. bench/fit.sh's
// GRPO step of two Qwen2.5-0.5B-shaped BF16 models (bench/qwen.sh's
// grpo_config: 2 questions × 4 samples × 64 new tokens, the Qwen
// tokenizer's widest addition prompts, 120 tokens for the teacher and 103
// for the student; the student's reconstructions; --device auto on
// lavapipe, the CPU computing) peaked at 11.92 GiB of RSS in bench/fit.sh
// and 12,390,536 kB (11.82 GiB) in a second run (2026-12-07, /usr/bin/time
// -v rlt train --config grpo.toml); the bound is 11.925 GiB. Its
// estimate was 10.44 GiB: the teacher's float32 matrices the sampler packs
// once for its decode steps (1.84 GiB, kept; compute.CPU.FreezeWeights)
// went uncounted.
func TestEstimateCoversMeasuredPeaks(t *testing.T) {
	for _, c := range []struct {
		name string
		g    GRPO
		peak int64 // bytes of peak RSS, the most measured
	}{
		{"0.5B + 0.5B BF16, 2 × 4 × 64 (bench/fit.sh)", GRPO{Teacher: qwen05B, Student: qwen05B, StudentHeld: compute.BF16, RefHeld: compute.BF16,
			Questions: 2, Samples: 4, MaxNewTokens: 64, MicroBatch: 8, MicroBatchTokens: 8192, CheckpointLayers: runconfig.CheckpointAuto,
			Reconstruct: true, TeacherPrompt: 120, StudentPrompt: 103, Prompts: "the task's widest question", Probed: true}, 11925 << 30 / 1000},
	} {
		e := c.g.Estimate()
		t.Logf("%s: %v", c.name, e) // docs/engine.md's margin, part by part
		if e.Total() < c.peak {
			t.Errorf("%s: estimate %s, under the measured peak %s: %v", c.name, size.Bytes(e.Total()), size.Bytes(c.peak), e)
		}
	}
}

// A GRPO run's KV cache grows in any step whose sequences run past the
// length every step before reached (sample.Generator starts a call at
// it), and a later step's growth sits beside the no-grad tape's arena and
// the policy tape's, which the trainer keeps from step to step: what the
// growth holds past the caches kept is counted whole. It was counted past
// the no-grad arena alone, as if only a first step grew: at the bench's
// 0.5B step (8 sequences, prompts of 120, 64 new tokens: 152 positions
// grown to 183) not at all, the growth's 12.4 MiB under that arena's
// 241.8.
func TestGRPOCountsALaterStepsCacheGrowth(t *testing.T) {
	g := GRPO{Teacher: qwen05B, Student: qwen05B, StudentHeld: compute.BF16, RefHeld: compute.BF16,
		Questions: 2, Samples: 4, MaxNewTokens: 64, MicroBatch: 8, MicroBatchTokens: 8192, CheckpointLayers: runconfig.CheckpointAuto,
		Reconstruct: true, TeacherPrompt: 120, StudentPrompt: 103, Prompts: "the task's widest question"}
	e := g.Estimate()
	kept, growing := samplingKV(qwen05B, 8, 120, 184, 64)
	perToken := KVCache(qwen05B, 1, 1)
	if want := 8 * (152 + 183) * perToken * int64(2*qwen05B.Layers+1) / int64(2*qwen05B.Layers); growing != want {
		t.Fatalf("8 sequences grown from 152 positions to 183: %s, want the old cache, the new and their staging %s", size.Bytes(growing), size.Bytes(want))
	}
	var got, noGrad int64
	for _, p := range e.Parts {
		if strings.Contains(p.What, "cache growing") {
			got = p.Bytes
		}
		if strings.HasPrefix(p.What, "scoring") {
			noGrad = p.Bytes
		}
	}
	if growing-kept >= noGrad {
		t.Fatalf("the growth past the caches kept, %s, is not under the no-grad arena, %s: the case this test is for", size.Bytes(growing-kept), size.Bytes(noGrad))
	}
	if got != growing-kept {
		t.Errorf("the cache growing: %s counted, want %s (%s grown, %s kept), beside the no-grad arena: %v", size.Bytes(got), size.Bytes(growing-kept), size.Bytes(growing), size.Bytes(kept), e)
	}
}

// The student's reconstruction asks for the step's longest solution and
// ReconstructMargin more, after its context before the solution and the
// explanation: with a data file's solutions of GSM8K's or MATH's length
// its cache grows as the teacher's does (sample.Generator: room for the
// prompt and sample.FirstStretch new tokens, doubled as it fills, the old
// cache alive until copied through two staging buffers of one layer's
// keys). At the official 0.5B setting's 1,024 sequences of 1,024 new
// tokens, solutions of 200 tokens after 130 of context: prompts of 1,154
// tokens, 208 new, the cache grown from 1,154 + 32, + 64, + 128 = 1,282
// positions to the whole, 1,361, both at once: 15.35 GiB past the caches
// kept (kept: 1,536 sequences of 1,362). Before, the reconstruction was
// counted as 8 new tokens after the whole student sequence (its solution
// taken as prompt: no growth) and the estimate's largest growth was the
// teacher's, 4.92 GiB past its caches kept: 10.44 GiB under. The two
// growths come at different times of the step, each beside the other's
// caches kept: the larger is counted, once.
func TestGRPOCountsTheReconstructionsCacheGrowth(t *testing.T) {
	g := GRPO{Teacher: qwen05B, Student: qwen05B, StudentHeld: compute.BF16, RefHeld: compute.BF16,
		Questions: 16, Samples: 64, MaxNewTokens: 1024, MicroBatch: 1, MicroBatchTokens: 8192, Reconstruct: true,
		TeacherPrompt: 330, StudentPrompt: 330, Prompts: "a data file's rows", Solution: 200, BeforeSolution: 130}
	perToken := KVCache(qwen05B, 1, 1)
	growing := 1024 * (1282 + 1361) * perToken
	growing += growing / int64(2*qwen05B.Layers)
	want := growing - KVCache(qwen05B, 1024+512, 1362)
	tKept, tGrowing := samplingKV(qwen05B, 1024, 330, 1354, 1024)
	if tGrowing-tKept >= want {
		t.Fatalf("the teacher's growth past its caches kept, %s, is not under the reconstructions', %s: the case this test is for", size.Bytes(tGrowing-tKept), size.Bytes(want))
	}
	e := g.Estimate()
	var got []Part
	for _, p := range e.Parts {
		if strings.Contains(p.What, "cache growing") {
			got = append(got, p)
		}
	}
	if len(got) != 1 || got[0].Bytes != want || !strings.Contains(got[0].What, "(the student's reconstructions)") {
		t.Errorf("the cache growing: %v, want one part, the student's reconstructions', %s: %v", got, size.Bytes(want), e)
	}
	// Not known: a solution within the first stretch, as counted before.
	g.Solution, g.BeforeSolution = 0, 0
	for _, p := range g.Estimate().Parts {
		if strings.Contains(p.What, "(the student's reconstructions)") {
			t.Errorf("solutions not known: %q counted", p.What)
		}
	}
}

// A run refused for memory whose reconstructions take a tenth of its
// estimate or more is told grpo.reconstruct = false, with what it needs
// then: at the official 0.5B setting with a data file's solutions of 200
// tokens the reconstructions' KV caches are the largest part of a step,
// and the advice named only the step's settings. A run of short solutions
// (the bench step's, none known) is not told it.
func TestFixesNameTheReconstructions(t *testing.T) {
	long := GRPO{Teacher: qwen05B, Student: qwen05B, StudentHeld: compute.BF16, RefHeld: compute.BF16,
		Questions: 16, Samples: 64, MaxNewTokens: 1024, MicroBatch: 1, MicroBatchTokens: 8192, Reconstruct: true,
		TeacherPrompt: 330, StudentPrompt: 330, Prompts: "a data file's rows", Solution: 200, BeforeSolution: 130}
	bench := GRPO{Teacher: qwen05B, Student: qwen05B, StudentHeld: compute.BF16, RefHeld: compute.BF16,
		Questions: 2, Samples: 4, MaxNewTokens: 64, MicroBatch: 8, MicroBatchTokens: 8192, CheckpointLayers: runconfig.CheckpointAuto,
		Reconstruct: true, TeacherPrompt: 120, StudentPrompt: 103, Prompts: "the task's widest question", Probed: true}
	for _, c := range []struct {
		name  string
		g     GRPO
		named bool
	}{
		{"official 0.5B, solutions of 200 tokens", long, true},
		{"the bench step, short solutions", bench, false},
	} {
		without := c.g
		without.Reconstruct = false
		need, less := c.g.Estimate().Total(), without.Estimate().Total()
		t.Logf("%s: %s, %s without the reconstructions", c.name, size.Bytes(need), size.Bytes(less))
		fix := "grpo.reconstruct = false: "
		var got string
		for _, f := range c.g.Fixes() {
			if strings.HasPrefix(f, fix) {
				got = f
			}
		}
		if !c.named {
			if got != "" {
				t.Errorf("%s: %q advised, though the reconstructions save %s of %s", c.name, got, size.Bytes(need-less), size.Bytes(need))
			}
			continue
		}
		if want := "this run needs about " + size.Bytes(less); !strings.HasSuffix(got, want) {
			t.Errorf("%s: the fixes %q; want one starting %q and ending %q", c.name, c.g.Fixes(), fix, want)
		}
	}
}

// On the CPU a sampled float32 model's matrices are packed once more for
// the decode steps and kept (model.Config.FrozenBytes): a GRPO run's
// teacher, its student where it reconstructs or evaluates in float32, and each model
// rlt generate, eval and distill sample in float32. A 16-bit model is
// widened at each product instead, and a GPU's weights sit in place.
func TestPackedMatricesCounted(t *testing.T) {
	packed := func(e Estimate) (n int64, whose []string) {
		for _, p := range e.Parts {
			if strings.Contains(p.What, "matrices packed for sampling") {
				n += p.Bytes
				whose = append(whose, strings.Fields(p.What)[1])
			}
		}
		return n, whose
	}
	frozen := tiny.FrozenBytes()
	if w := weights(tiny, compute.F32); frozen < w*9/10 || frozen > w*11/10 {
		t.Errorf("tiny's packed matrices %s, want about its float32 weights, %s", size.Bytes(frozen), size.Bytes(w))
	}
	g := GRPO{Teacher: tiny, Student: tiny, StudentHeld: compute.BF16, RefHeld: compute.BF16, Questions: 2, Samples: 4, MaxNewTokens: 64}
	recon16 := g
	recon16.Reconstruct = true
	recon32 := recon16
	recon32.StudentHeld = compute.F32
	gpu := recon32
	gpu.OnGPU = true
	eval32 := g
	eval32.StudentHeld, eval32.EvalSeqs = compute.F32, 32
	m := Models{Uses: []Use{{Name: "teacher", Cfg: tiny, Held: compute.F32, SampleSeqs: 2, SampleT: 64},
		{Name: "student", Cfg: tiny, Held: compute.BF16, SampleSeqs: 2, SampleT: 64},
		{Name: "reward student", Cfg: tiny, Held: compute.F32, ForwardRows: 64, ForwardT: 64}}}
	mGPU := m
	mGPU.OnGPU = true
	for _, c := range []struct {
		name  string
		e     Estimate
		whose []string
	}{
		{"GRPO", g.Estimate(), []string{"teacher's"}},
		{"GRPO reconstructing in 16 bits", recon16.Estimate(), []string{"teacher's"}},
		{"GRPO reconstructing in float32", recon32.Estimate(), []string{"teacher's", "student's"}},
		{"GRPO on a GPU", gpu.Estimate(), nil},
		{"GRPO evaluating with a float32 student", eval32.Estimate(), []string{"teacher's", "student's"}},
		{"Models: a float32 sampler, a 16-bit one, a float32 scorer", m.Estimate(), []string{"teacher's"}},
		{"Models on a GPU", mGPU.Estimate(), nil},
	} {
		n, whose := packed(c.e)
		if !slices.Equal(whose, c.whose) || n != int64(len(c.whose))*frozen {
			t.Errorf("%s: packed %v, %s; want %v, %s each: %v", c.name, whose, size.Bytes(n), c.whose, size.Bytes(frozen), c.e)
		}
	}
}

// memory.Models prefills the prompts a command has (Use.SamplePrompt):
// its sampling part is SamplingAfter of them, and the GPU's scratch is
// asked for their prefill's rows; PromptTokens where none is given.
func TestModelsSamplingFollowsItsPrompts(t *testing.T) {
	for _, c := range []struct{ prompt, want int }{{0, PromptTokens}, {20, 20}, {200, 200}} {
		var rows int
		m := Models{Uses: []Use{{Name: "model", Cfg: tiny, Held: compute.BF16, SampleSeqs: 4, SampleT: 250, SamplePrompt: c.prompt}},
			DeviceScratch: func(first vulkan.Shapes, more ...vulkan.Shapes) int64 { rows = first.Rows; return 0 }}
		e := m.Estimate()
		var got int64
		for _, p := range e.Parts {
			if strings.HasPrefix(p.What, "model sampling") {
				got = p.Bytes
			}
		}
		if want := SamplingAfter(tiny, 4, c.want, 250); got != want || rows != min(4*c.want, max(4, sample.PrefillTokens)) {
			t.Errorf("prompts of %d: sampling %d bytes, want %d; the scratch's prefill rows %d, want %d", c.prompt, got, want, rows, 4*c.want)
		}
	}
}

// Samplers that take turns on one tape (Models.OneTape: rlt eval's and
// rlt pretrain's teacher check, the teacher explaining, then the student
// answering) count its arena once, at the larger prefill; side by side
// each counts its own, as before.
func TestOneTapeCountsThePrefillOnce(t *testing.T) {
	// Within the first stretch: no cache grows (TestSamplingCountsACacheGrowing).
	teacher := Use{Name: "teacher", Cfg: tiny, Held: compute.F32, SampleSeqs: 8, SampleT: 86 + 30, SamplePrompt: 86}
	student := Use{Name: "student", Cfg: tiny, Held: compute.F32, SampleSeqs: 8, SampleT: 256, SamplePrompt: 240}
	apart := Models{Uses: []Use{teacher, student}}.Estimate()
	one := Models{Uses: []Use{teacher, student}, OneTape: true}.Estimate()
	tp, sp := prefillBytes(tiny, 8, 86), prefillBytes(tiny, 8, 240)
	if tp >= sp {
		t.Fatalf("the teacher's prefill %d, the student's %d: want the student's the larger", tp, sp)
	}
	if got, want := one.Total(), apart.Total()-tp; got != want {
		t.Errorf("one tape: %s, want %s (side by side %s less the smaller prefill)", size.Bytes(got), size.Bytes(want), size.Bytes(apart.Total()))
	}
	if !strings.Contains(one.String(), "the prefill on the tape the samplers share (the student's, the larger) "+size.Bytes(sp)) {
		t.Errorf("one tape: %s; want its prefill line", one)
	}
}

// A sampler's cache grows as its sequences fill it (sample.FirstStretch,
// doubled each time), made anew at the longer length with the old one
// alive until copied through two staging buffers: sequences that all run
// to the budget never make the smaller caches, and their last growth
// holds more than the batch's cache and half of it again. rlt eval of a
// student of 2 steps (its own thought and solution, 200 questions of the
// addition task, longest prompt 73 tokens, 160 new tokens) was estimated at
// 226.8 MiB and peaked at 262,344 and 266,148 kB RSS (/usr/bin/time -v,
// --device cpu, load ~17). Within the first stretch no cache grows. Where
// samplers take turns on one tape (rlt eval's and pretrain's teacher
// check), the teacher's growth comes before the student holds anything
// in a single batch, and beside what the student kept after a first.
func TestSamplingCountsACacheGrowing(t *testing.T) {
	student := Use{Name: "student", Cfg: tiny, Held: compute.F32, SampleSeqs: 200, SampleT: 73 + 160, SamplePrompt: 73}
	if e, peak := (Models{Uses: []Use{student}}).Estimate(), int64(266148<<10); e.Total() <= peak {
		t.Errorf("rlt eval of a 2-step student: estimate %s, under its measured peak %s: %v", size.Bytes(e.Total()), size.Bytes(peak), e)
	}
	perToken := KVCache(tiny, 1, 1)
	// 73 + 32, 73 + 64, 73 + 128 = 201, then the whole: 73 + 160 - 1.
	growing := 200 * (201 + 232) * perToken
	growing += growing / int64(2*tiny.Layers)
	if got := cacheGrowth(tiny, 200, 73, 160); got != growing {
		t.Errorf("cacheGrowth of 200 sequences of 160 new tokens after 73: %s, want %s", size.Bytes(got), size.Bytes(growing))
	}
	if got := cacheGrowth(tiny, 200, 73, sample.FirstStretch+1); got != 0 {
		t.Errorf("cacheGrowth within the first stretch: %s, want none", size.Bytes(got))
	}
	teacher := Use{Name: "teacher", Cfg: tiny, Held: compute.F32, SampleSeqs: 200, SampleT: 86 + 160, SamplePrompt: 86}
	answers := Use{Name: "student", Cfg: tiny, Held: compute.F32, SampleSeqs: 200, SampleT: 256, SamplePrompt: 240}
	part := func(e Estimate) (int64, bool) {
		for _, p := range e.Parts {
			if strings.Contains(p.What, "cache growing") {
				return p.Bytes, true
			}
		}
		return 0, false
	}
	one := Models{Uses: []Use{teacher, answers}, OneTape: true, Batches: 1}.Estimate()
	if b, ok := part(one); ok {
		t.Errorf("one batch: the teacher's growth counted beside the student's caches (%s), which it comes before: %v", size.Bytes(b), one)
	}
	two := Models{Uses: []Use{teacher, answers}, OneTape: true, Batches: 2}.Estimate()
	tkept, tgrowing := samplingKV(tiny, 200, 86, 246, 160)
	if b, _ := part(two); b != tgrowing-tkept {
		t.Errorf("two batches: the teacher's growth beyond what it keeps %s, want %s: %v", size.Bytes(b), size.Bytes(tgrowing-tkept), two)
	}
}
