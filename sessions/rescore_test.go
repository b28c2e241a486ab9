package sessions

import (
	"testing"
	"time"
)

// TestCheckpointTeacherID: the ID follows the teacher's weights: their
// SHA-256s when the manifest has them (a new time alone, or another file
// of the checkpoint, changes nothing), else the checkpoint's time and the
// files' sizes (an older rlt's checkpoint).
func TestCheckpointTeacherID(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	state := func(at time.Time, sums map[string]string, sizes ...int64) CheckpointState {
		files := map[string]int64{"teacher/model.safetensors": sizes[0], "teacher/config.json": 10, "optimizer.safetensors": sizes[1]}
		return CheckpointState{Time: at, Files: files, SHA256: sums}
	}
	sums := func(teacher, optimizer string) map[string]string {
		return map[string]string{"teacher/model.safetensors": teacher, "teacher/config.json": "c0", "optimizer.safetensors": optimizer}
	}
	base := state(t0, sums("aa", "bb"), 100, 200)
	for _, c := range []struct {
		name string
		st   CheckpointState
		same bool
	}{
		{"the same manifest", state(t0, sums("aa", "bb"), 100, 200), true},
		{"saved again later, the same weights", state(t0.Add(time.Hour), sums("aa", "bb"), 100, 200), true},
		{"another optimiser", state(t0, sums("aa", "b2"), 100, 300), true},
		{"other teacher weights", state(t0, sums("a2", "bb"), 100, 200), false},
		{"no SHA-256s (an older rlt)", state(t0, nil, 100, 200), false},
	} {
		if got := CheckpointTeacherID(c.st) == CheckpointTeacherID(base); got != c.same {
			t.Errorf("%s: the same ID as the base: %v, want %v", c.name, got, c.same)
		}
	}
	old := state(t0, nil, 100, 200)
	for _, c := range []struct {
		name string
		st   CheckpointState
		same bool
	}{
		{"the same", state(t0, nil, 100, 200), true},
		{"saved again later", state(t0.Add(time.Second), nil, 100, 200), false},
		{"another teacher size", state(t0, nil, 101, 200), false},
		{"another optimiser size", state(t0, nil, 100, 201), true},
	} {
		if got := CheckpointTeacherID(c.st) == CheckpointTeacherID(old); got != c.same {
			t.Errorf("older rlt's checkpoint, %s: the same ID: %v, want %v", c.name, got, c.same)
		}
	}
	if id := CheckpointTeacherID(base); len(id) != 16 {
		t.Errorf("ID %q: want 16 hex digits", id)
	}
}
