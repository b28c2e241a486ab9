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
