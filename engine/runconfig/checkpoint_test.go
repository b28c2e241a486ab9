package runconfig

import "testing"

// A mode is one of the three names or empty (auto); another is refused in
// words that list them.
func TestCheckpointModeValidate(t *testing.T) {
	for _, c := range []struct {
		mode CheckpointMode
		want string // "" for valid
	}{
		{"", ""},
		{CheckpointAuto, ""},
		{CheckpointOn, ""},
		{CheckpointOff, ""},
		{"sometimes", `checkpoint_layers "sometimes": want "auto", "on" or "off"`},
		{"On", `checkpoint_layers "On": want "auto", "on" or "off"`},
	} {
		got := ""
		if err := c.mode.Validate(); err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%q: %q, want %q (\"\" is valid)", c.mode, got, c.want)
		}
	}
}

// Auto (and empty) checkpoints only above CheckpointAutoBytes; on and off
// whatever the size.
func TestCheckpointModeOn(t *testing.T) {
	for _, c := range []struct {
		mode  CheckpointMode
		bytes int64
		want  bool
	}{
		{CheckpointAuto, CheckpointAutoBytes + 1, true},
		{CheckpointAuto, CheckpointAutoBytes, false},
		{"", CheckpointAutoBytes + 1, true},
		{CheckpointOn, 1, true},
		{CheckpointOff, 1 << 40, false},
	} {
		if got := c.mode.On(c.bytes); got != c.want {
			t.Errorf("%q at %d bytes: %v, want %v", c.mode, c.bytes, got, c.want)
		}
	}
}
