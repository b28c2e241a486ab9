package model

import "fmt"

// CheckpointMode says when a training forward checkpoints its layers
// (Model.CheckpointLayers): "on", "off", or "auto", on where it pays, i.e.
// when the layers' activations for the batch would exceed
// CheckpointAutoBytes. The zero value is "auto".
type CheckpointMode string

// The checkpoint modes.
const (
	CheckpointAuto CheckpointMode = "auto"
	CheckpointOn   CheckpointMode = "on"
	CheckpointOff  CheckpointMode = "off"
)

// CheckpointAutoBytes is the activation size above which "auto"
// checkpoints: below it (a micro-batch of the embedded default, 2,048
// positions, keeps ~82 MB) the extra forward of the layers costs time for
// memory nobody lacks.
const CheckpointAutoBytes = 1 << 30

// Validate says what is wrong with a mode.
func (c CheckpointMode) Validate() error {
	switch c {
	case "", CheckpointAuto, CheckpointOn, CheckpointOff:
		return nil
	}
	return fmt.Errorf("checkpoint_layers %q: want \"auto\", \"on\" or \"off\"", string(c))
}

// On reports whether a training forward of tokens tokens through a model of
// shape cfg checkpoints its layers.
func (c CheckpointMode) On(cfg Config, tokens int) bool {
	switch c {
	case CheckpointOn:
		return true
	case CheckpointOff:
		return false
	}
	return cfg.ActivationBytes(tokens) > CheckpointAutoBytes
}

// ActivationBytes estimates what the layers of a recording forward keep for
// backward over tokens tokens: per layer and token the two norms' outputs,
// q, k, v before and after rotation, attention's output and row
// statistics, the projections, the MLP's gate, up and product, and the two
// residual sums, in float32.
func (c Config) ActivationBytes(tokens int) int64 {
	d, ff, hd := int64(c.Hidden), int64(c.Intermediate), int64(c.HeadDim())
	q, kv := int64(c.Heads)*hd, int64(c.KVHeads)*hd
	perToken := 2*(d+1) + 2*q + 3*kv + q + int64(c.Heads) + 2*d + 3*ff + 2*d
	return 4 * perToken * int64(tokens) * int64(c.Layers)
}
