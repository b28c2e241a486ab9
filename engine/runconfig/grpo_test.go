package runconfig

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/configkey"
)

// Validate reports every problem of a configuration, each with the key
// below [grpo] it is about as data (configkey), so that the editor and
// `rlt run --config` place it without reading its words.
func TestGRPOValidateKeysEachProblem(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*GRPO)
		keys []string // each problem's key, in Validate's order
	}{
		{"valid", func(*GRPO) {}, nil},
		{"negative numbers", func(c *GRPO) { c.LR, c.WeightDecay, c.AdamEps = -1, math.NaN(), math.Inf(1) },
			[]string{"grpo.lr", "grpo.adam_eps", "grpo.weight_decay"}},
		{"adam betas", func(c *GRPO) { c.AdamBeta1, c.AdamBeta2 = -0.1, 1 }, []string{"grpo.adam_beta1", "grpo.adam_beta2"}},
		{"one sample per question", func(c *GRPO) { c.Samples = 1 }, []string{"grpo.samples"}},
		{"counts", func(c *GRPO) { c.Questions, c.Samples, c.MaxNewTokens, c.Epochs = 0, -1, 0, 0 },
			[]string{"grpo.questions", "grpo.samples", "grpo.max_new_tokens", "grpo.epochs"}},
		{"sampling", func(c *GRPO) { c.Temperature, c.TopP = 0, 1.5 }, []string{"grpo.temperature", "grpo.top_p"}},
		{"a temperature whose reciprocal float32 has not", func(c *GRPO) { c.Temperature = 1e-45 }, []string{"grpo.temperature"}},
		// Past the sampler's ceiling: taken, then refused by the sampler
		// at the first step, once the models had loaded.
		{"a temperature past sampling's ceiling", func(c *GRPO) { c.Temperature = 2e6 }, []string{"grpo.temperature"}},
		{"a temperature past float32", func(c *GRPO) { c.Temperature = 1e39 }, []string{"grpo.temperature"}},
		{"top_p 0 keeps no mass", func(c *GRPO) { c.TopP = 0 }, []string{"grpo.top_p"}},
		{"epochs without clipping", func(c *GRPO) { c.Epochs, c.ClipEps = 2, 0 }, []string{"grpo.epochs"}},
		{"reference sync", func(c *GRPO) { c.RefSyncAlpha, c.RefSyncEvery = 2, -1 }, []string{"grpo.ref_sync_alpha", "grpo.ref_sync_every"}},
		{"micro-batches", func(c *GRPO) { c.MicroBatch, c.MicroBatchTokens = -1, -1 }, []string{"grpo.micro_batch", "grpo.micro_batch_tokens"}},
		{"a token budget below max_new_tokens", func(c *GRPO) { c.MicroBatchTokens, c.MaxNewTokens = 10, 96 }, []string{"grpo.micro_batch_tokens"}},
		{"named choices", func(c *GRPO) { c.FrozenWeights, c.CheckpointLayers = "bf16", "sometimes" },
			[]string{"grpo.frozen_weights", "grpo.checkpoint_layers"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultGRPO()
			c.edit(&cfg)
			err := cfg.Validate()
			var keys []string
			for _, p := range configkey.Problems(err) {
				key, ok := configkey.Of(p)
				if !ok {
					t.Errorf("%q has no key", p)
				}
				if !strings.HasPrefix(p.Error(), key+" ") {
					t.Errorf("%q does not begin with its key's path", p)
				}
				keys = append(keys, key)
			}
			if fmt.Sprint(keys) != fmt.Sprint(c.keys) {
				t.Errorf("keys %q, want %q: %v", keys, c.keys, err)
			}
		})
	}
}

// TestDefaultGRPOIsTheOfficialRun: the defaults are RLT.md §4's method,
// each a number one edit away from another run: sampling at temperature
// 0.7 with top-p 1, one on-policy optimiser step per batch without ratio
// clipping, β = 0.04, a reference synced every 32 steps as
// ref ← 0.9·θ + 0.1·ref, AdamW (0.9, 0.999), eps 1e−8, no weight decay,
// gradients clipped to norm 1. The scale (questions, samples, lengths,
// learning rate) is the CPU's, not pinned here.
func TestDefaultGRPOIsTheOfficialRun(t *testing.T) {
	c := DefaultGRPO()
	for _, v := range []struct {
		key       string
		got, want float64
	}{
		{"temperature", c.Temperature, 0.7},
		{"top_p", c.TopP, 1},
		{"epochs", float64(c.Epochs), 1},
		{"clip_eps", c.ClipEps, 0},
		{"beta", c.Beta, 0.04},
		{"ref_sync_every", float64(c.RefSyncEvery), 32},
		{"ref_sync_alpha", c.RefSyncAlpha, 0.9},
		{"adam_beta1", c.AdamBeta1, 0.9},
		{"adam_beta2", c.AdamBeta2, 0.999},
		{"adam_eps", c.AdamEps, 1e-8},
		{"weight_decay", c.WeightDecay, 0},
		{"max_grad_norm", c.MaxGradNorm, 1},
	} {
		if v.got != v.want {
			t.Errorf("grpo.%s defaults to %v, RLT.md §4's is %v", v.key, v.got, v.want)
		}
	}
	if c.Samples < 2 {
		t.Errorf("grpo.samples defaults to %d: a group needs at least 2", c.Samples)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
}

// TestGRPOSequencesPastSenseAreRefused: questions × samples past
// MaxSequences is refused on the larger key; at 2^63-1 each it passed
// (the memory estimate's product wrapped to 1) and the run panicked at its
// first batch (makeslice: len out of range).
func TestGRPOSequencesPastSenseAreRefused(t *testing.T) {
	for _, c := range []struct {
		questions, samples int
		want               string // the key refused, "" for none
	}{
		{math.MaxInt, math.MaxInt, "grpo.samples"}, // int's largest: 2^63-1, or 2^31-1 on 386 and arm
		{math.MaxInt, 8, "grpo.questions"},
		{8, math.MaxInt, "grpo.samples"},
		{1 << 11, 1 << 10, "grpo.questions"},
		{1 << 10, 1 << 10, ""},
		{1, MaxSequences, ""},
	} {
		g := DefaultGRPO()
		g.Questions, g.Samples = c.questions, c.samples
		err := g.Validate()
		var keys []string
		for _, e := range configkey.Problems(err) {
			key, _ := configkey.Of(e)
			keys = append(keys, key)
		}
		if got := strings.Join(keys, ","); got != c.want || c.want != "" && !strings.Contains(err.Error(), "lower grpo.questions or grpo.samples") {
			t.Errorf("questions %d, samples %d: %v (keys %q), want the key %q refused with what to lower", c.questions, c.samples, err, got, c.want)
		}
	}
}

// TestGRPOEpochsPastSenseAreRefused: grpo.epochs past MaxEpochs is
// refused on its key, with clip_eps set (which more than one pass needs).
// At 2^63-1 it was taken and step 0 looped over its batch without end,
// deaf to a stop signal, which waits for the step.
func TestGRPOEpochsPastSenseAreRefused(t *testing.T) {
	for _, c := range []struct {
		epochs int
		want   string // the problem's words, "" for none
	}{
		{math.MaxInt, fmt.Sprintf("grpo.epochs %d is more than the 100 passes over one step's batch taken: each pass is a whole backward and optimiser update, so a step takes epochs times as long (and a stop waits for the step), on samples that grow staler each pass; give at most 100 (the default, on-policy, is 1; PPO's published runs take 3 to 15)", math.MaxInt)},
		{MaxEpochs + 1, "grpo.epochs 101 is more than the 100 passes"},
		{MaxEpochs, ""},
		{4, ""},
		{1, ""},
	} {
		g := DefaultGRPO()
		g.Epochs, g.ClipEps = c.epochs, 0.2
		var got []string
		for _, e := range configkey.Problems(g.Validate()) {
			if key, _ := configkey.Of(e); key != "grpo.epochs" {
				t.Errorf("epochs %d: a problem on %s: %v", c.epochs, key, e)
			}
			got = append(got, e.Error())
		}
		switch {
		case c.want == "" && len(got) > 0:
			t.Errorf("epochs %d refused: %q", c.epochs, got)
		case c.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], c.want)):
			t.Errorf("epochs %d: got %q, want one problem starting %q", c.epochs, got, c.want)
		}
	}
}

// TestGRPORatesThatCannotTrainAreRefused: a learning rate the optimiser
// cannot train with is refused on its key, with the default to fall back
// on: past float32's largest (the optimiser's numbers), where it and every
// update are +Inf though it is finite here (lr = 1e300 was taken), or 0
// there (lr = 0, 1e-50: the weights never change; taken before). So are
// an eps or a weight decay past float32's largest. A large rate that
// float32 holds trains (a step whose gradient it makes non-finite says
// so at that step), and is taken.
func TestGRPORatesThatCannotTrainAreRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*GRPO)
		want []string // the problems' words, in Validate's order; none: taken
	}{
		{"lr past float32", func(c *GRPO) { c.LR = 1e300 },
			[]string{"grpo.lr 1e+300 is past 3.4e+38, the largest float32, which the optimiser computes in: every update would be infinite; give a smaller one (the default is 0.0001)"}},
		{"lr 0", func(c *GRPO) { c.LR = 0 },
			[]string{"grpo.lr 0 trains nothing: the optimiser computes in float32, where it is 0, so the teacher's weights never change; give a rate above 0 (the default is 0.0001; the official run's 1e-06 for a 7B teacher)"}},
		{"lr 0 in float32", func(c *GRPO) { c.LR = 1e-50 },
			[]string{"grpo.lr 1e-50 trains nothing: the optimiser computes in float32, where it is 0, so the teacher's weights never change; give a rate above 0 (the default is 0.0001; the official run's 1e-06 for a 7B teacher)"}},
		{"lr negative", func(c *GRPO) { c.LR = -1 }, []string{"grpo.lr -1 must be a finite number, not negative"}},
		{"lr NaN", func(c *GRPO) { c.LR = math.NaN() }, []string{"grpo.lr NaN must be a finite number, not negative"}},
		{"lr +Inf", func(c *GRPO) { c.LR = math.Inf(1) }, []string{"grpo.lr +Inf must be a finite number, not negative"}},
		{"eps and decay past float32", func(c *GRPO) { c.AdamEps, c.WeightDecay = 1e39, 1e300 }, []string{
			"grpo.adam_eps 1e+39 is past 3.4e+38, the largest float32, which the optimiser computes in: every update would be infinite; give a smaller one (the default is 1e-08)",
			"grpo.weight_decay 1e+300 is past 3.4e+38, the largest float32, which the optimiser computes in: every update would be infinite; give a smaller one (the default is 0)"}},
		{"lr 1", func(c *GRPO) { c.LR = 1 }, nil},
		{"lr 1e30", func(c *GRPO) { c.LR = 1e30 }, nil},
		{"lr float32's largest", func(c *GRPO) { c.LR = math.MaxFloat32 }, nil},
		{"lr float32's least", func(c *GRPO) { c.LR = math.SmallestNonzeroFloat32 }, nil},
		// 1e-45 rounds up to float32's least, and was taken while the
		// words said 1.4e-45 was the lowest: refused, as --lr refuses it.
		{"lr below float32's least", func(c *GRPO) { c.LR = 1e-45 },
			[]string{"grpo.lr 1e-45 is below 1.401298464324817e-45, the smallest number above 0 that float32, which the optimiser computes in, holds; give a rate of at least that (the default is 0.0001; the official run's 1e-06 for a 7B teacher)"}},
		{"lr 1.4e-45", func(c *GRPO) { c.LR = 1.4e-45 },
			[]string{"grpo.lr 1.4e-45 is below 1.401298464324817e-45, the smallest number above 0 that float32, which the optimiser computes in, holds; give a rate of at least that (the default is 0.0001; the official run's 1e-06 for a 7B teacher)"}},
		{"official lr", func(c *GRPO) { c.LR = 1e-6 }, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultGRPO()
			c.edit(&cfg)
			var got []string
			for _, p := range configkey.Problems(cfg.Validate()) {
				got = append(got, p.Error())
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestRateWordsAreTheRule: the two numbers RateWanted gives are where
// RateTrains changes its answer, read back from the words themselves. They
// said 1.4e-45 was the lowest while 1e-45 (which rounds to float32's least)
// was taken.
func TestRateWordsAreTheRule(t *testing.T) {
	i := strings.Index(RateWanted, "(")
	var lo, hi float64
	if _, err := fmt.Sscanf(RateWanted[i:], "(%g, its smallest, to %g, its largest)", &lo, &hi); err != nil {
		t.Fatalf("RateWanted %q: %v", RateWanted, err)
	}
	for _, c := range []struct {
		lr   float64
		want bool
	}{
		{lo, true}, {hi, true},
		{math.Nextafter(lo, 0), false}, {math.Nextafter(hi, math.Inf(1)), false},
		{1e-45, false}, {1.4e-45, false}, {1.5e-45, true}, {0, false}, {-lo, false},
		{math.NaN(), false}, {math.Inf(1), false},
	} {
		if got := RateTrains(c.lr); got != c.want {
			t.Errorf("RateTrains(%g) = %v, want %v (words: %s)", c.lr, got, c.want, RateWanted)
		}
		cfg := DefaultGRPO()
		cfg.LR = c.lr
		if taken := configkey.Problems(cfg.Validate()) == nil; taken != c.want {
			t.Errorf("grpo.lr %g taken = %v, want %v, as --lr (RateTrains)", c.lr, taken, c.want)
		}
	}
}
