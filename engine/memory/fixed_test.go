package memory

import (
	"errors"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/size"
)

// TestRefusalOfModelsTooLargeSaysWhatFits: a GRPO run whose fixed parts
// alone (the teacher's float32 weights, gradients and moments, the
// reference, the student, the packed copies) pass the memory is told that,
// with what would fit (smaller models, 16-bit ones, the memory it needs),
// not the step's settings: a 1.5B pair on a 24 GiB host was offered
// grpo.micro_batch, micro_batch_tokens, questions × samples and
// max_new_tokens, none of which closes a gap of over 12 GiB. A run whose
// fixed parts fit is offered the step's settings as before.
func TestRefusalOfModelsTooLargeSaysWhatFits(t *testing.T) {
	qwen15B := model.Config{Vocab: 151936, Hidden: 1536, Intermediate: 8960, Layers: 28, Heads: 12, KVHeads: 2,
		RMSEps: 1e-6, RopeTheta: 1e6, MaxPos: 32768, Tied: true, QKVBias: true}
	step := GRPO{StudentHeld: compute.F32, RefHeld: compute.F32, Questions: 2, Samples: 4, MaxNewTokens: 64, MicroBatch: 8}
	big, small := step, step
	big.Teacher, big.Student = qwen15B, qwen15B
	small.Teacher, small.Student = qwen05B, qwen05B
	small.OnGPU = true
	knobs := []string{"a smaller grpo.micro_batch (now", "a smaller grpo.micro_batch_tokens", "fewer grpo.questions × grpo.samples", "a shorter grpo.max_new_tokens"}
	for _, c := range []struct {
		name, gpu string
		limit     int64
		g         GRPO
		models    bool // the fixed parts pass the limit
	}{
		{"1.5B pair on a 24 GiB host", "", 24 << 30, big, true},
		{"1.5B pair on a 24 GiB GPU", "a test GPU", 24 << 30, func() GRPO { g := big; g.OnGPU = true; return g }(), true},
		// 0.5B on a GPU: fixed parts ~9.2 GiB, the whole ~10.5 GiB.
		{"0.5B pair on a GPU between its fixed parts and its estimate", "a test GPU", (small.Fixed().Total() + small.Estimate().Total()) / 2, small, false},
	} {
		t.Setenv(EnvLimit, size.Bytes(c.limit))
		err := CheckGRPO("this run", c.gpu, c.limit, c.g)
		var tb *TooBigError
		if !errors.As(err, &tb) {
			t.Fatalf("%s: %v, want a TooBigError", c.name, err)
		}
		msg := err.Error()
		_, fixes, _ := strings.Cut(msg, "To fit, try:")
		for _, k := range knobs {
			if strings.Contains(fixes, k) == c.models {
				t.Errorf("%s: offers %q: %v; want it offered only where the models fit", c.name, k, c.models)
			}
		}
		for _, w := range []string{"a smaller teacher or student: the models alone need about " + size.Bytes(c.g.Fixed().Total()), "no setting of the step",
			"a larger machine or GPU: this pair needs about " + size.Bytes(c.g.Estimate().Total()) + " in all", "BF16 checkpoints of the teacher and student"} {
			if want := c.models || strings.HasPrefix(w, "BF16"); strings.Contains(fixes, w) != want {
				t.Errorf("%s: says %q: %v, want %v:\n%s", c.name, w, !want, want, msg)
			}
		}
		if strings.Contains(fixes, "--device cpu") != (c.gpu != "") {
			t.Errorf("%s: --device cpu offered where the run is not on a GPU, or not offered on one:\n%s", c.name, msg)
		}
	}
}
