package rlt

import (
	"math"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// TestPolicyGradientCheckpointed: the policy gradient with the layers
// checkpointed is the same bits as without, and the model's own setting is
// left as it was.
func TestPolicyGradientCheckpointed(t *testing.T) {
	rolls := []Rollout{
		{Prompt: []int32{1, 2, 3}, Completion: []int32{4, 5, 6, 7}, Advantage: 1.2},
		{Prompt: []int32{9}, Completion: []int32{10, 11}, Advantage: -0.7},
		{Prompt: []int32{1, 2, 3, 8, 8}, Completion: []int32{22}, Advantage: 0.3},
	}
	grads := func(mode runconfig.CheckpointMode) []float32 {
		policy, ref := tinyPolicy(t, 1), tinyPolicy(t, 2)
		policy.RequireGrad()
		be := policy.Backend()
		cfg := PolicyConfig{Beta: 0.04, Temperature: 0.7, MicroBatch: 2, Checkpoint: mode}
		if _, err := PolicyGradient(compute.NewTape(be), noGrad(be), policy, ref, rolls, cfg); err != nil {
			t.Fatal(err)
		}
		if policy.CheckpointLayers {
			t.Errorf("%s: the policy is left checkpointing after the call", mode)
		}
		if n := policy.CheckpointedForwards(); (n > 0) != (mode == runconfig.CheckpointOn) {
			t.Errorf("%s: %d checkpointed forwards", mode, n)
		}
		var all []float32
		for _, p := range policy.Tensors() {
			g := make([]float32, p.Len())
			be.Read(g, p.Grad)
			all = append(all, g...)
		}
		return all
	}
	off, on := grads(runconfig.CheckpointOff), grads(runconfig.CheckpointOn)
	nonzero := false
	for i := range off {
		if math.Float32bits(off[i]) != math.Float32bits(on[i]) {
			t.Fatalf("gradient %d: %v checkpointed, %v not", i, on[i], off[i])
		}
		nonzero = nonzero || off[i] != 0
	}
	if !nonzero {
		t.Fatal("all gradients are zero: the comparison proves nothing")
	}
}
