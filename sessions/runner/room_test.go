package runner

import (
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// A new run is sized before it has a checkpoint from its teacher's
// folder: the estimate is within 1% of the checkpoint a step of the
// embedded default writes, so that the room asked for is the room taken.
func TestCheckpointSizeOfTheTeacher(t *testing.T) {
	_, dir := oneStepRun(t)
	cks, err := sessions.Checkpoints(dir)
	if err != nil || len(cks) == 0 || cks[len(cks)-1].Err != nil {
		t.Fatalf("checkpoints of %s: %v %v", dir, cks, err)
	}
	var written int64
	for _, n := range cks[len(cks)-1].State.Files {
		written += n
	}
	est, ok := checkpointSize(smallConfig(t, 1).Teacher)
	if !ok || est < written*99/100 || est > written*101/100 {
		t.Errorf("estimated %d bytes (%v), the checkpoint written takes %d", est, ok, written)
	}
	// A teacher folder that cannot be read sizes nothing and refuses
	// nothing: the configuration's check says what is wrong with it.
	if _, ok := checkpointSize(filepath.Join(t.TempDir(), "missing")); ok {
		t.Error("a missing teacher folder was sized")
	}
	cfg := smallConfig(t, 1)
	cfg.Teacher = filepath.Join(t.TempDir(), "missing")
	if err := CheckRoom(t.TempDir(), cfg); err != nil {
		t.Errorf("CheckRoom with no teacher folder: %v", err)
	}
}
