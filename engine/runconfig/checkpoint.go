package runconfig

import "fmt"

// CheckpointMode says when a training forward checkpoints its layers
// (recomputes them during backward instead of keeping their activations):
// "on", "off", or "auto", on where it pays, i.e. when the layers'
// activations for the batch would exceed CheckpointAutoBytes. The zero
// value is "auto". GRPO's checkpoint_layers is one, and SFT and
// distillation follow the same rule.
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

// On reports whether a training forward whose layers would keep
// activationBytes for backward (engine/model's Config.ActivationBytes of
// its tokens) checkpoints its layers.
func (c CheckpointMode) On(activationBytes int64) bool {
	switch c {
	case CheckpointOn:
		return true
	case CheckpointOff:
		return false
	}
	return activationBytes > CheckpointAutoBytes
}
