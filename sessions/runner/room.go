package runner

import (
	"os"
	"path/filepath"

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/sessions"
)

// CheckRoom refuses a new run of cfg in the folder runs when the disk
// holding it has too little room free for the run's checkpoints
// (sessions.CheckRoomForNew, with the options Create opens runs with):
// on a nearly full disk the run would spend a whole step and fail at its
// first checkpoint. Callers run it before Create, so that a refused run
// makes no folder. A checkpoint's size comes from the teacher's model
// folder (its config.json and tokenizer.json, no weight read); where it
// cannot be read, nothing is refused here (the configuration's check says
// what is wrong with the folder).
func CheckRoom(runs string, cfg runconfig.Config) error {
	need, ok := checkpointSize(cfg.Teacher)
	if !ok {
		return nil
	}
	return sessions.CheckRoomForNew(runs, need, sessions.CheckpointsWritten(0, cfg.Steps, cfg.CheckpointEvery), sessions.Options{})
}

// checkpointSize is about the room a checkpoint of a run training the
// teacher in the model folder dir takes (sessions.TrainerCheckpointSize).
func checkpointSize(dir string) (int64, bool) {
	c, _, err := model.Inspect(dir)
	if err != nil {
		return 0, false
	}
	n := int64(c.NumParams())
	if n <= 0 {
		return 0, false
	}
	var tok int64
	if fi, err := os.Stat(filepath.Join(dir, hf.TokenizerFile)); err == nil {
		tok = fi.Size()
	}
	return sessions.TrainerCheckpointSize(n, tok), true
}
