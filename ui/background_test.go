package ui

import (
	"errors"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestFinishSaysTheLaunchesNobodySaw: switches that ended after the
// workbench quit (a start or resume whose load the quitting signal
// stopped, one refused) are never shown: finish returns each launch's own
// error, named by its request where it does not name it itself, with
// ending the previous run's, and closes what they opened, the previous
// run opened again after a failed one included. It dropped the launch's
// error (the exit said only the run folder's line) and left the run
// opened again unclosed (one opened to review holds its run.lock).
func TestFinishSaysTheLaunchesNobodySaw(t *testing.T) {
	closed := map[string]int{}
	session := func(name string) *opened {
		return &opened{Session: &sessions.Session{Close: func() error { closed[name]++; return nil }}}
	}
	stopped := errors.New("teacher/model.safetensors: tensor \"w\": stopped before it, 4 of 9 tensors read: context canceled")
	noRoom := &sessions.NoRoomError{Dir: "runs/d", Resume: true, Free: 1 << 20, Need: 1 << 21}
	var b background
	for _, r := range []*launchResult{
		{req: launchReq{kind: launchStart}, err: sessions.Refused("start", "runs/a", stopped), closeErr: errors.New("ending the previous run failed")},
		{req: launchReq{kind: launchResume, dir: "runs/b"}, err: errors.New("not resumed"), reopened: session("b's previous, again")},
		{req: launchReq{kind: launchReview, dir: "runs/c"}, o: session("c")},
		{req: launchReq{kind: launchResume, dir: "runs/d"}, err: noRoom},
	} {
		b.put(r)
	}
	err := b.finish()
	if err == nil {
		t.Fatal("finish: no error; want the launches'")
	}
	for _, want := range []string{"ending the previous run failed", "start runs/a: " + stopped.Error(), "resume b: not resumed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("finish: %v\nwant it to say %q", err, want)
		}
	}
	if !errors.Is(err, stopped) {
		t.Errorf("finish: %v; want it to wrap the stopped launch's error", err)
	}
	if strings.Contains(err.Error(), "start a new run") {
		t.Errorf("finish: %v; the start's refusal names its request itself", err)
	}
	// The Runs screen's rule (launchError): a refusal for room names the
	// request and the folder itself ('not enough room to resume runs/d').
	if !strings.Contains(err.Error(), noRoom.Error()) || strings.Contains(err.Error(), "resume d: ") {
		t.Errorf("finish: %v\nwant it to say %q, not named twice", err, noRoom.Error())
	}
	if closed["c"] != 1 || closed["b's previous, again"] != 1 {
		t.Errorf("closed %v; want the run opened and the previous one opened again each closed once", closed)
	}
}
