package sample

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/allocstest"
	"github.com/rlt-workbench/rlt/compute/parallel"
	"github.com/rlt-workbench/rlt/engine/model"
)

var tinyConfig = model.Config{
	Vocab: 64, Hidden: 32, Intermediate: 48, Layers: 2, Heads: 4, KVHeads: 2,
	RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 64, Tied: true, QKVBias: true,
}

// tinyModel has weights large enough that its distributions are peaked,
// so greedy decoding has no near-ties.
func tinyModel(t testing.TB) *model.Model {
	m, err := model.New(compute.NewCPU(), tinyConfig)
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(11, 0.25)
	return m
}

func randPrompts(seed uint64, lens ...int) [][]int32 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([][]int32, len(lens))
	for i, n := range lens {
		out[i] = make([]int32, n)
		for j := range out[i] {
			out[i][j] = int32(r.IntN(tinyConfig.Vocab))
		}
	}
	return out
}

// recorder keeps a copy of every step's logits per sequence.
type recorder struct{ logits map[int][][]float32 }

func (r *recorder) onStep(step int, toks []StepToken) error {
	if r.logits == nil {
		r.logits = map[int][][]float32{}
	}
	for _, tk := range toks {
		r.logits[tk.Seq] = append(r.logits[tk.Seq], slices.Clone(tk.Logits))
	}
	return nil
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

func maxAbs(a []float32) float64 {
	d := 0.0
	for _, x := range a {
		d = math.Max(d, math.Abs(float64(x)))
	}
	return d
}

// fullForward returns the logits of the last position of seq, computed over
// the whole sequence without a cache.
func fullForward(t *testing.T, m *model.Model, seq []int32) []float32 {
	tp := compute.NewTape(m.Backend())
	tp.SetRecording(false)
	lg := m.Logits(tp, &model.Batch{B: 1, T: len(seq), Tokens: seq})
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	all := make([]float32, lg.Len())
	m.Backend().Read(all, lg)
	V := m.Cfg.Vocab
	return all[(len(seq)-1)*V:]
}

// TestDecodeMatchesFullForward checks, at every step of a sampled batch of
// left-padded prompts, that the cached decode's logits equal a full forward
// over the prefix, and that the returned log-probs are the model's
// TokenLogProbs at the sampling temperature.
func TestDecodeMatchesFullForward(t *testing.T) {
	m := tinyModel(t)
	prompts := randPrompts(1, 5, 1, 9, 3)
	var rec recorder
	opts := Options{Temperature: 0.7, MaxNewTokens: 20, Seed: 3, OnStep: rec.onStep}
	res, err := Generate(compute.NewTape(m.Backend()), m, prompts, opts)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for s, r := range res {
		if len(r.IDs) != 20 || r.Reason != MaxTokens {
			t.Fatalf("sequence %d: %d ids, reason %v", s, len(r.IDs), r.Reason)
		}
		seq := slices.Clone(prompts[s])
		for step, id := range r.IDs {
			want := fullForward(t, m, seq)
			e := maxAbsDiff(rec.logits[s][step], want) / maxAbs(want)
			worst = math.Max(worst, e)
			if e > 1e-4 {
				t.Fatalf("sequence %d step %d: cached logits differ from a full forward by %.3g (relative)", s, step, e)
			}
			seq = append(seq, id)
		}
		// log-probs against the model's own TokenLogProbs over the whole sequence
		tp := compute.NewTape(m.Backend())
		tp.SetRecording(false)
		T := len(seq) - 1
		targets := make([]int32, T)
		for i := range targets {
			targets[i] = -1
		}
		copy(targets[len(prompts[s])-1:], r.IDs)
		lp := m.TokenLogProbs(tp, &model.Batch{B: 1, T: T, Tokens: seq[:T]}, targets, 1/opts.Temperature)
		if err := tp.Err(); err != nil {
			t.Fatal(err)
		}
		all := make([]float32, T)
		m.Backend().Read(all, lp)
		if d := maxAbsDiff(r.LogProbs, all[len(prompts[s])-1:]); d > 1e-4 {
			t.Errorf("sequence %d: log-probs differ from TokenLogProbs by %.3g", s, d)
		}
	}
	t.Logf("worst relative difference of cached logits: %.3g", worst)
}

// TestLeftPaddingEquivalence: a prompt decoded alone and the same prompt in a
// batch beside longer ones (so it is left-padded) give the same greedy ids
// and logits.
func TestLeftPaddingEquivalence(t *testing.T) {
	m := tinyModel(t)
	ps := randPrompts(2, 4, 11, 7)
	var alone, batch recorder
	a, err := Generate(compute.NewTape(m.Backend()), m, ps[:1], Options{MaxNewTokens: 25, OnStep: alone.onStep})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(compute.NewTape(m.Backend()), m, [][]int32{ps[1], ps[0], ps[2]}, Options{MaxNewTokens: 25, OnStep: batch.onStep})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a[0].IDs, b[1].IDs) {
		t.Fatalf("greedy ids alone %v, in a batch %v", a[0].IDs, b[1].IDs)
	}
	worst := 0.0
	for step := range a[0].IDs {
		worst = math.Max(worst, maxAbsDiff(alone.logits[0][step], batch.logits[1][step]))
	}
	t.Logf("largest logit difference alone vs padded: %.3g", worst)
	if worst > 1e-5 {
		t.Errorf("logits alone vs left-padded differ by %.3g", worst)
	}
	if d := maxAbsDiff(a[0].LogProbs, b[1].LogProbs); d > 1e-5 {
		t.Errorf("log-probs differ by %.3g", d)
	}
}

// TestSeedReproducibleWhateverTheOthers: sequence 0's sampled continuation
// depends only on the seed, its prompt and its index, not on the other rows'
// prompts, lengths or early stops, nor on whether the batch shrinks.
func TestSeedReproducibleWhateverTheOthers(t *testing.T) {
	m := tinyModel(t)
	g := NewGenerator(m)
	tp := compute.NewTape(m.Backend())
	ps := randPrompts(3, 6, 3, 8, 2, 5)
	others := randPrompts(4, 6, 12, 1, 9, 4)
	others[0] = ps[0]
	opts := Options{Temperature: 1, TopP: 0.95, TopK: 40, MaxNewTokens: 30, Seed: 42}
	ref, err := g.Generate(tp, ps, opts)
	if err != nil {
		t.Fatal(err)
	}
	again, err := g.Generate(tp, ps, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ref {
		if !slices.Equal(ref[i].IDs, again[i].IDs) || !slices.Equal(ref[i].LogProbs, again[i].LogProbs) {
			t.Fatalf("sequence %d differs between two runs with one seed", i)
		}
	}
	// other prompts, and the others stop early on frequent ids (the batch shrinks)
	stopping := opts
	stopping.StopIDs = nil
	for _, id := range ref[0].IDs {
		stopping.StopIDs = append(stopping.StopIDs, id+1)
	}
	stopping.StopIDs = slices.DeleteFunc(stopping.StopIDs, func(id int32) bool { return slices.Contains(ref[0].IDs, id) })
	for _, keep := range []bool{false, true} {
		stopping.KeepBatch = keep
		got, err := g.Generate(tp, others, stopping)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ref[0].IDs, got[0].IDs) {
			t.Fatalf("keep batch %v: sequence 0 changed with the other rows:\n%v\n%v", keep, ref[0].IDs, got[0].IDs)
		}
		if d := maxAbsDiff(ref[0].LogProbs, got[0].LogProbs); d > 1e-5 {
			t.Fatalf("keep batch %v: log-probs of sequence 0 differ by %.3g", keep, d)
		}
		early := 0
		for _, r := range got[1:] {
			if r.Reason == StopID {
				early++
			}
		}
		t.Logf("keep batch %v: %d of %d other sequences stopped early", keep, early, len(got)-1)
	}
	other, err := g.Generate(tp, ps, Options{Temperature: 1, TopP: 0.95, TopK: 40, MaxNewTokens: 30, Seed: 43})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(ref[0].IDs, other[0].IDs) {
		t.Error("another seed gave the same 30 tokens")
	}
}

// TestShrinkingIsInvisible: with sequences stopping at different times,
// moving the running ones to smaller caches changes no output.
func TestShrinkingIsInvisible(t *testing.T) {
	m := tinyModel(t)
	g := NewGenerator(m)
	tp := compute.NewTape(m.Backend())
	ps := randPrompts(5, 3, 7, 2, 9, 4, 6, 5, 1)
	opts := Options{Temperature: 1.2, MaxNewTokens: 40, Seed: 9, StopIDs: []int32{1, 2, 3, 5, 8, 13}}
	var shr, keep recorder
	opts.OnStep = shr.onStep
	a, err := g.Generate(tp, ps, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.caches) < 3 {
		t.Fatalf("the batch never shrank twice (%d caches)", len(g.caches))
	}
	opts.KeepBatch, opts.OnStep = true, keep.onStep
	b, err := g.Generate(tp, ps, opts)
	if err != nil {
		t.Fatal(err)
	}
	lens := []int{}
	for i := range a {
		if !slices.Equal(a[i].IDs, b[i].IDs) || a[i].Reason != b[i].Reason || a[i].Stop != b[i].Stop {
			t.Fatalf("sequence %d: shrinking %v %v, keeping %v %v", i, a[i].IDs, a[i].Reason, b[i].IDs, b[i].Reason)
		}
		if d := maxAbsDiff(a[i].LogProbs, b[i].LogProbs); d > 1e-5 {
			t.Fatalf("sequence %d: log-probs differ by %.3g", i, d)
		}
		for s := range shr.logits[i] {
			if d := maxAbsDiff(shr.logits[i][s], keep.logits[i][s]); d > 1e-5 {
				t.Fatalf("sequence %d step %d: logits differ by %.3g", i, s, d)
			}
		}
		if a[i].Reason == StopID && a[i].IDs[len(a[i].IDs)-1] != opts.StopIDs[a[i].Stop] {
			t.Fatalf("sequence %d: stop index %d does not name its last id", i, a[i].Stop)
		}
		lens = append(lens, len(a[i].IDs))
	}
	t.Logf("lengths %v", lens)
	slices.Sort(lens)
	if lens[len(lens)/2] >= opts.MaxNewTokens {
		t.Fatalf("too few sequences stopped early for the test to mean anything: %v", lens)
	}
}

func TestGreedyAndStopIDs(t *testing.T) {
	m := tinyModel(t)
	tp := compute.NewTape(m.Backend())
	ps := randPrompts(6, 5)
	var rec recorder
	ref, err := Generate(tp, m, ps, Options{MaxNewTokens: 12, OnStep: rec.onStep})
	if err != nil {
		t.Fatal(err)
	}
	for s, id := range ref[0].IDs {
		if want := int32(slices.Index(rec.logits[0][s], slices.Max(rec.logits[0][s]))); id != want {
			t.Fatalf("step %d: greedy id %d, argmax %d", s, id, want)
		}
	}
	k := 6
	stop := ref[0].IDs[k]
	first := slices.Index(ref[0].IDs, stop)
	got, err := Generate(tp, m, ps, Options{MaxNewTokens: 12, StopIDs: []int32{999, stop}})
	if err != nil {
		t.Fatal(err)
	}
	r := got[0]
	if !r.Stopped() || r.Reason != StopID || r.Stop != 1 || !slices.Equal(r.IDs, ref[0].IDs[:first+1]) {
		t.Fatalf("stop id %d: got %v (%v, stop %d), want %v", stop, r.IDs, r.Reason, r.Stop, ref[0].IDs[:first+1])
	}
}

// TestTinyTemperatureIsGreedy: a temperature whose reciprocal float32
// cannot hold (a subnormal, below ~2.9e-39) samples its limit, the
// greedy tokens; every draw failed "logits are not finite" (invT +Inf
// made the largest logit's (z − max)·invT NaN).
func TestTinyTemperatureIsGreedy(t *testing.T) {
	m := tinyModel(t)
	tp := compute.NewTape(m.Backend())
	ps := randPrompts(6, 5)
	greedy, err := Generate(tp, m, ps, Options{MaxNewTokens: 8})
	if err != nil {
		t.Fatal(err)
	}
	for _, temp := range []float32{1e-30, 1e-39, 1e-45} {
		got, err := Generate(tp, m, ps, Options{MaxNewTokens: 8, Temperature: temp, Seed: 3})
		if err != nil {
			t.Errorf("temperature %g: %v; want the greedy tokens", temp, err)
			continue
		}
		if !slices.Equal(got[0].IDs, greedy[0].IDs) {
			t.Errorf("temperature %g: ids %v; want the greedy %v", temp, got[0].IDs, greedy[0].IDs)
		}
	}
}

// letters decodes id i as a two-letter string, so stop strings can span
// token boundaries.
type letters struct{}

func (letters) Decode(ids []int32) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteByte('a' + byte(id%26))
		b.WriteByte('A' + byte(id/26))
	}
	return b.String()
}

func TestStopStringAcrossTokens(t *testing.T) {
	m := tinyModel(t)
	tp := compute.NewTape(m.Backend())
	ps := randPrompts(7, 4, 6)
	ref, err := Generate(tp, m, ps, Options{Temperature: 1, Seed: 5, MaxNewTokens: 20})
	if err != nil {
		t.Fatal(err)
	}
	ids := ref[0].IDs
	text := letters{}.Decode(ids)
	// the last letter of token 7 and the first two of token 8 and 9... spans three tokens
	stop := text[2*7+1 : 2*9+1]
	wantEnd := 0
	for wantEnd < len(ids) && !strings.Contains(letters{}.Decode(ids[:wantEnd+1]), stop) {
		wantEnd++
	}
	got, err := Generate(tp, m, ps, Options{Temperature: 1, Seed: 5, MaxNewTokens: 20,
		StopStrings: []string{"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", stop}, Decoder: letters{}})
	if err != nil {
		t.Fatal(err)
	}
	r := got[0]
	if r.Reason != StopString || r.Stop != 1 || !slices.Equal(r.IDs, ids[:wantEnd+1]) {
		t.Fatalf("stop string %q: got %d ids (%v, stop %d), want %d", stop, len(r.IDs), r.Reason, r.Stop, wantEnd+1)
	}
	if !slices.Equal(got[1].IDs[:min(len(got[1].IDs), len(ref[1].IDs))], ref[1].IDs[:min(len(got[1].IDs), len(ref[1].IDs))]) {
		t.Fatal("the other sequence changed")
	}
}

func TestAllowedVocabNeverSampled(t *testing.T) {
	m := tinyModel(t)
	ps := randPrompts(8, 3, 5, 2, 7)
	res, err := Generate(compute.NewTape(m.Backend()), m, ps, Options{Temperature: 2, MaxNewTokens: 50, AllowedVocab: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		for _, id := range r.IDs {
			if id >= 10 {
				t.Fatalf("sequence %d sampled masked id %d", i, id)
			}
		}
	}
}

// TestStepsAllocateNothing: generations of 10 and 40 tokens allocate the
// same, so a steady-state step allocates nothing.
//
// Each length counts the fewest of several runs (allocstest.Fewest): in CI
// (a Vulkan run, loaded) one measurement of 10 tokens came out 10 where
// 40's was 9, from allocations that were not the step's (the finalizers of
// the device tensors that this package's GPU tests left, the parallel
// pool's parks, a new thread); the Generator's own buffers were not it
// (warm, a generation allocates the same at either length, after a GC
// too). A step that allocated would add at least 30 to every run of 40
// tokens, the fewest included.
func TestStepsAllocateNothing(t *testing.T) {
	m := tinyModel(t)
	g := NewGenerator(m)
	tp := compute.NewTape(m.Backend())
	ps := randPrompts(9, 3, 5, 2, 7)
	for _, o := range []Options{
		{},
		{Temperature: 1, Seed: 1},
		{Temperature: 0.7, TopP: 0.9, TopK: 20, MinP: 0.01, Seed: 2},
		{Temperature: 1, StopIDs: []int32{3, 4, 5}, Seed: 3},
	} {
		allocs := func(n int) float64 {
			o := o
			o.MaxNewTokens = n
			o.OnStep = func(int, []StepToken) error { return nil }
			return allocstest.Fewest(1, func() {
				if _, err := g.Generate(tp, ps, o); err != nil {
					t.Fatal(err)
				}
			})
		}
		if a, b := allocs(10), allocs(40); a != b {
			t.Errorf("%+v: %v allocations for 10 tokens, %v for 40 (the fewest of %d runs each)", o, a, b, allocstest.Tries)
		}
	}
}

// TestSequenceFitsThePositions: a prompt and what Generate adds to it fit
// the model's positions together, the last new token (sampled, never fed)
// counted too, so that a forward over the whole sequence takes it: the
// scorer's, GRPO's policy loss's (rlt.Positions). The last token was let
// one position past them, and a GRPO step stopped at scoring ("257
// tokens do not fit the models' 256 positions"). A prompt that fills the
// positions leaves no room for a token, said as every refusal past a
// model's positions is (model.PositionsError), naming the batch's longest
// prompt; the batch's longest prompt sets the limit of every sequence of
// it.
func TestSequenceFitsThePositions(t *testing.T) {
	m := tinyModel(t) // 64 positions
	tp := compute.NewTape(m.Backend())
	for _, c := range []struct {
		lens   []int
		maxNew int
		want   int    // new ids of each sequence
		reason Reason // of the first sequence
		err    string
	}{
		{lens: []int{60}, maxNew: 10, want: 4, reason: MaxLength},
		{lens: []int{60}, maxNew: 4, want: 4, reason: MaxTokens},
		{lens: []int{60}, maxNew: 3, want: 3, reason: MaxTokens},
		{lens: []int{63}, maxNew: 10, want: 1, reason: MaxLength},
		{lens: []int{20, 60}, maxNew: 10, want: 4, reason: MaxLength},
		// int's largest is cut at the positions as any bound past them
		// is: prompt + bound wrapped negative, and rlt generate
		// --max-new-tokens 9223372036854775807 failed with "kv cache:
		// batch 1 and length -9223372036854775805 must be positive".
		{lens: []int{60}, maxNew: math.MaxInt, want: 4, reason: MaxLength},
		{lens: []int{1}, maxNew: math.MaxInt - 1, want: 63, reason: MaxLength},
		{lens: []int{64}, maxNew: 1, err: "sample: the model: the prompt takes 64 tokens, which leaves no room for a new token in its 64 positions (max_position_embeddings): give prompts of at most 63 tokens"},
		{lens: []int{65}, maxNew: 1, err: "sample: the model: the prompt takes 65 tokens, 2 more than fit in its 64 positions (max_position_embeddings) beside a new token: give prompts of at most 63 tokens"},
		{lens: []int{20, 70, 64}, maxNew: 1, err: "sample: the model: prompt 1 takes 70 tokens, 7 more than fit in its 64 positions (max_position_embeddings) beside a new token: give prompts of at most 63 tokens"},
	} {
		t.Run(fmt.Sprintf("%v tokens, %d new", c.lens, c.maxNew), func(t *testing.T) {
			// No stop id: every sequence runs to its limit.
			res, err := Generate(tp, m, randPrompts(10, c.lens...), Options{MaxNewTokens: c.maxNew})
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if len(r.IDs) != c.want || c.lens[i]+len(r.IDs) > tinyConfig.MaxPos {
					t.Errorf("sequence %d: a %d-token prompt with %d positions: %d new ids (%v), want %d", i, c.lens[i], tinyConfig.MaxPos, len(r.IDs), r.Reason, c.want)
				}
			}
			if res[0].Reason != c.reason {
				t.Errorf("stopped by %v, want %v", res[0].Reason, c.reason)
			}
		})
	}
}

func TestLimitsAndErrors(t *testing.T) {
	m := tinyModel(t)
	tp := compute.NewTape(m.Backend())
	stopErr := errors.New("enough")
	res, err := Generate(tp, m, randPrompts(11, 3, 4), Options{MaxNewTokens: 10, OnStep: func(step int, _ []StepToken) error {
		if step == 2 {
			return stopErr
		}
		return nil
	}})
	if !errors.Is(err, stopErr) || len(res[0].IDs) != 3 {
		t.Errorf("callback error: %v, %d ids", err, len(res[0].IDs))
	}
	bad := []Options{
		{MaxNewTokens: 0},
		{MaxNewTokens: 1, Temperature: -1},
		{MaxNewTokens: 1, TopP: 1.5},
		{MaxNewTokens: 1, MinP: -0.1},
		{MaxNewTokens: 1, TopK: -1},
		{MaxNewTokens: 1, AllowedVocab: 65},
		{MaxNewTokens: 1, StopStrings: []string{"x"}},
	}
	for _, o := range bad {
		if _, err := Generate(tp, m, randPrompts(12, 2), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	for _, ps := range [][][]int32{{{}}, {{1, 64}}, {make([]int32, 64)}} {
		if _, err := Generate(tp, m, ps, Options{MaxNewTokens: 1}); err == nil {
			t.Errorf("prompts %v: no error", fmt.Sprint(ps)[:min(20, len(fmt.Sprint(ps)))])
		}
	}
	if tp.Recording() != true {
		t.Error("Generate left the tape in no-grad mode")
	}
}

// Generate freezes the weights for its decode steps (so the backend packs
// them once) and thaws them when it returns, also when a callback stops it,
// so training can change them again.
func TestGenerateThawsWeights(t *testing.T) {
	m := tinyModel(t)
	stop := errors.New("stop here")
	for _, onStep := range []func(int, []StepToken) error{
		nil,
		func(step int, _ []StepToken) error {
			if !m.Layers[0].Q.Frozen() || !m.LMHead.Frozen() {
				t.Errorf("step %d: weights are not frozen while decoding", step)
			}
			if step == 2 {
				return stop
			}
			return nil
		},
	} {
		opts := Options{Temperature: 1, MaxNewTokens: 6, Seed: 1, OnStep: onStep}
		if _, err := Generate(compute.NewTape(m.Backend()), m, randPrompts(2, 3, 1, 5, 4), opts); err != nil && !errors.Is(err, stop) {
			t.Fatal(err)
		}
		for _, w := range m.Tensors() {
			if w.Frozen() {
				t.Fatalf("%v is still frozen after Generate", w)
			}
		}
	}
}

// The KV cache starts small and grows with what the batch generates: a
// long generation gives the numbers of one in a generator whose cache was
// already long enough, and a batch that stops early never gets the cache
// MaxNewTokens would need.
func TestCacheGrowsWithTheBatch(t *testing.T) {
	cfg := tinyConfig
	cfg.MaxPos = 256
	m, err := model.New(compute.NewCPU(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(11, 0.25)
	ps := randPrompts(4, 3, 6, 2)
	tp := compute.NewTape(m.Backend())
	long := Options{Temperature: 1, Seed: 9, MaxNewTokens: 3*FirstStretch + 5}
	if long.MaxNewTokens+6 > m.Cfg.MaxPos {
		t.Fatalf("test needs %d positions, the model has %d", long.MaxNewTokens+6, m.Cfg.MaxPos)
	}
	fresh := NewGenerator(m)
	want, err := fresh.Generate(tp, ps, long)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.reached == 0 {
		t.Fatal("a generation of more than FirstStretch tokens never grew its cache")
	}
	again, err := fresh.Generate(tp, ps, long) // starts with the grown length
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if len(want[i].IDs) != len(again[i].IDs) {
			t.Fatalf("sequence %d: %d tokens with a growing cache, %d with a long one", i, len(want[i].IDs), len(again[i].IDs))
		}
		for j := range want[i].IDs {
			if want[i].IDs[j] != again[i].IDs[j] || math.Float32bits(want[i].LogProbs[j]) != math.Float32bits(again[i].LogProbs[j]) {
				t.Fatalf("sequence %d token %d: %d (%v) with a growing cache, %d (%v) with a long one",
					i, j, want[i].IDs[j], want[i].LogProbs[j], again[i].IDs[j], again[i].LogProbs[j])
			}
		}
	}
	short := NewGenerator(m)
	opts := long
	for id := int32(0); id < int32(cfg.Vocab); id++ {
		opts.StopIDs = append(opts.StopIDs, id) // every sequence stops at once
	}
	if _, err := short.Generate(tp, ps, opts); err != nil {
		t.Fatal(err)
	}
	if got, bound := short.caches[0].MaxLen, 6+long.MaxNewTokens-1; got >= bound {
		t.Fatalf("a 1-token batch has a cache of %d positions (a %d-token bound would need %d)", got, long.MaxNewTokens, bound)
	}
}

// TestPrefillInStretches: a batch of prompts with more tokens than
// PrefillTokens is prefilled a stretch of positions at a time (left padding
// spanning stretches included), with each sequence's first logits those of
// a full forward over its prompt.
func TestPrefillInStretches(t *testing.T) {
	m := tinyModel(t)
	lens := make([]int, 70)
	for i := range lens {
		lens[i] = 1 + (i*37)%60
	}
	if 70*60 <= PrefillTokens {
		t.Fatalf("the batch (%d tokens) would be prefilled in one forward", 70*60)
	}
	prompts := randPrompts(5, lens...)
	var rec recorder
	if _, err := Generate(compute.NewTape(m.Backend()), m, prompts, Options{Temperature: 0, MaxNewTokens: 2, OnStep: rec.onStep}); err != nil {
		t.Fatal(err)
	}
	for s, p := range prompts {
		want := fullForward(t, m, p)
		if e := maxAbsDiff(rec.logits[s][0], want) / maxAbs(want); e > 1e-4 {
			t.Fatalf("sequence %d (%d tokens): first logits differ from a full forward by %.3g (relative)", s, len(p), e)
		}
	}
}

// The step's draws run on the parallel pool, a picker per chunk of rows;
// the tokens and log-probs do not depend on how many workers there are.
func TestDrawsWhateverTheWorkers(t *testing.T) {
	m := tinyModel(t)
	g := NewGenerator(m)
	tp := compute.NewTape(m.Backend())
	ps := randPrompts(5, 6, 3, 8, 2, 5, 7, 1, 4)
	opts := Options{Temperature: 0.9, TopP: 0.9, MaxNewTokens: 12, Seed: 7}
	defer parallel.SetWorkers(parallel.Workers())
	var ref []Result
	for _, w := range []int{1, 3, 8} {
		parallel.SetWorkers(w)
		got, err := g.Generate(tp, ps, opts)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = got
			continue
		}
		for i := range ref {
			if !slices.Equal(ref[i].IDs, got[i].IDs) || !slices.Equal(ref[i].LogProbs, got[i].LogProbs) {
				t.Fatalf("%d workers: sequence %d drew %v, with 1 worker %v", w, i, got[i].IDs, ref[i].IDs)
			}
		}
	}
}

// TestShrinkingHoldsHalfTheBatchAgain: the smaller caches a shrinking batch
// moves to take half the full cache's memory again together, not as much
// again (half, a quarter, ... each of its own): they take turns within two
// arenas. What the Generator holds after a call is measured on the heap
// (the CPU's caches are Go memory), the caches of every level made. Before,
// a batch of 128 that shrank to a few sequences held about twice its full
// cache (memory.SamplingAfter counted that); now 1.5 times.
func TestShrinkingHoldsHalfTheBatchAgain(t *testing.T) {
	m := tinyModel(t)
	tp := compute.NewTape(m.Backend())
	lens := make([]int, 128)
	for i := range lens {
		lens[i] = 1 + i%8
	}
	ps := randPrompts(7, lens...)
	// 12 of 64 ids stop a sequence: the batch halves every few steps, to
	// a few sequences well before 28 new tokens, which the first cache
	// holds without growing.
	opts := Options{Temperature: 1, MaxNewTokens: 28, Seed: 5, StopIDs: []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
	heap := func() uint64 {
		var s runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&s)
		return s.HeapAlloc
	}
	g := NewGenerator(m)
	// A call that keeps its batch makes the full cache, the buffers and the
	// tape's arena; what the next call adds is its smaller caches.
	keep := opts
	keep.KeepBatch = true
	if _, err := g.Generate(tp, ps, keep); err != nil {
		t.Fatal(err)
	}
	before := heap()
	res, err := g.Generate(tp, ps, opts)
	if err != nil {
		t.Fatal(err)
	}
	held := float64(heap()) - float64(before)
	running := 0
	for _, r := range res {
		if r.Reason == MaxTokens {
			running++
		}
	}
	if len(g.caches) < 5 || g.caches[0].MaxLen != 8+opts.MaxNewTokens-1 {
		t.Fatalf("the batch shrank to %d levels, its cache %d long: want 5 or more levels and no growth", len(g.caches), g.caches[0].MaxLen)
	}
	c := tinyConfig
	full := float64(len(ps) * g.caches[0].MaxLen * c.Layers * 2 * c.KVHeads * c.HeadDim() * 4)
	// The results are small beside the caches: a quarter of the full cache
	// covers them.
	if held > 0.75*full {
		t.Errorf("after a call that shrank to %d levels (%d sequences ran to the end), the Generator holds %.0f bytes more than its full cache: %.2f times it (%.0f); want at most half of it, and a quarter for the results", len(g.caches), running, held, held/full, full)
	}
	t.Logf("the smaller caches hold %.2f times the full cache over %d levels", held/full, len(g.caches))
	runtime.KeepAlive(g)
	runtime.KeepAlive(res)
}
