package sessions

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestStopAdviceSaysHowWhereTheHolderRuns: how to stop a training sooner
// is said by what kind of process trains it and where: its workbench's S;
// a headless rlt run's kill N on a POSIX system, Ctrl-C in its console on
// Windows (no kill there sends the signal that stops it after its step),
// by the holder's system as run.lock says it (LockInfo.OS), on another
// host that host named. A run.lock of before, which does not say it, is
// read as this host's system of a holder here, and of one on another
// host gives both ways. It said "kill N" of every headless holder, one on
// another host (a run folder on a shared filesystem) or on Windows too,
// then both ways of every holder on another host, what its system is
// being in no run.lock.
func TestStopAdviceSaysHowWhereTheHolderRuns(t *testing.T) {
	linux := hostView{name: "desk", goos: "linux"}
	windows := hostView{name: "DESK", goos: "windows"}
	const after = "which stops it after the step in progress"
	for _, c := range []struct {
		name string
		h    Holder
		here hostView
		want string
	}{
		{"headless here", Holder{PID: 42, Doing: HolderTraining, Process: ProcessHeadless, Host: "desk"}, linux,
			"stop it sooner with kill 42, " + after + " as Ctrl-C in its terminal does"},
		{"headless here, host named in another case", Holder{PID: 42, Doing: HolderTraining, Process: ProcessHeadless, Host: "desk"}, hostView{name: "Desk", goos: "linux"},
			"stop it sooner with kill 42, " + after + " as Ctrl-C in its terminal does"},
		{"headless, run.lock names no host", Holder{PID: 42, Doing: HolderResuming, Process: ProcessHeadless}, linux,
			"stop it sooner with kill 42, " + after + " as Ctrl-C in its terminal does"},
		{"headless here on Windows", Holder{PID: 42, Doing: HolderTraining, Process: ProcessHeadless, Host: "desk"}, windows,
			"stop it sooner with Ctrl-C in its console window, " + after + " (taskkill /PID 42 cannot stop it, and taskkill /F ends it mid-step, as a crash would)"},
		{"headless on another host", Holder{PID: 42, Doing: HolderTraining, Process: ProcessHeadless, Host: "gpu7"}, linux,
			"stop it sooner on host gpu7 with kill 42 there, " + after + " as Ctrl-C in its terminal does (on Windows only Ctrl-C does)"},
		{"headless on another host, from Windows", Holder{PID: 42, Doing: HolderTraining, Process: ProcessHeadless, Host: "gpu7"}, windows,
			"stop it sooner on host gpu7 with kill 42 there, " + after + " as Ctrl-C in its terminal does (on Windows only Ctrl-C does)"},
		{"headless on another Linux host", Holder{PID: 42, Doing: HolderTraining, Process: ProcessHeadless, Host: "gpu7", OS: "linux"}, windows,
			"stop it sooner on host gpu7 with kill 42 there, " + after + " as Ctrl-C in its terminal does"},
		{"headless on another Windows host", Holder{PID: 42, Doing: HolderTraining, Process: ProcessHeadless, Host: "gpu7", OS: "windows"}, linux,
			"stop it sooner on host gpu7 with Ctrl-C in its console window there, " + after + " (taskkill /PID 42 cannot stop it, and taskkill /F ends it mid-step, as a crash would)"},
		{"headless here, run.lock says its system", Holder{PID: 42, Doing: HolderTraining, Process: ProcessHeadless, Host: "desk", OS: "windows"}, windows,
			"stop it sooner with Ctrl-C in its console window, " + after + " (taskkill /PID 42 cannot stop it, and taskkill /F ends it mid-step, as a crash would)"},
		{"headless, no pid yet", Holder{Doing: HolderTraining, Process: ProcessHeadless, Host: "desk"}, linux,
			"stop it sooner with Ctrl-C in its terminal, " + after},
		{"workbench here", Holder{PID: 42, Doing: HolderTraining, Process: ProcessWorkbench, Host: "desk"}, linux,
			"stop it sooner in that workbench (S on its Dashboard), " + after},
		{"workbench paused on another host", Holder{PID: 42, Doing: HolderPaused, Process: ProcessWorkbench, Host: "gpu7"}, windows,
			"stop it sooner on host gpu7 in that workbench (S on its Dashboard), " + after},
		{"not said here", Holder{PID: 42, Doing: HolderTraining, Host: "desk"}, linux,
			"stop it sooner in the workbench that trains it (S on its Dashboard) if one does, or with kill 42, " + after + " as Ctrl-C in its terminal does"},
		{"not said on another host", Holder{PID: 42, Doing: HolderTraining, Host: "gpu7"}, linux,
			"stop it sooner on host gpu7 in the workbench that trains it (S on its Dashboard) if one does, or with kill 42 there, " + after + " as Ctrl-C in its terminal does (on Windows only Ctrl-C does)"},
		{"not said on another macOS host", Holder{PID: 42, Doing: HolderTraining, Host: "gpu7", OS: "darwin"}, linux,
			"stop it sooner on host gpu7 in the workbench that trains it (S on its Dashboard) if one does, or with kill 42 there, " + after + " as Ctrl-C in its terminal does"},
		{"reviewing: no training to stop", Holder{PID: 42, Doing: HolderReviewing, Host: "desk"}, linux, ""},
		{"not held", Holder{}, linux, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.h.stopAdvice(c.here); got != c.want {
				t.Errorf("stopAdvice:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestRefusedOpenSaysHowToStopTheTraining: a run another process trains
// refuses a second writer with how to stop that training sooner
// (Holder.StopAdvice), on the host and by the system run.lock names, and
// what then lets the open through; it said "wait until it ends, or stop
// it", and not how. The holder's pid and host are said once, by the
// lock's refusal, and the Runs screen's words (Holder.String) name a host
// other than this one.
func TestRefusedOpenSaysHowToStopTheTraining(t *testing.T) {
	root := t.TempDir()
	pid := strconv.Itoa(os.Getpid())
	here, err := os.Hostname()
	if err != nil || here == "" || strings.EqualFold(here, "gpu-node-7") {
		t.Skipf("this host's name (%q, %v) cannot tell another host's", here, err)
	}
	for _, c := range []struct {
		name    string
		process string
		holder  func(*LockInfo) // run.lock rewritten as a holder elsewhere writes it; nil: as this process wrote it
		says    string          // Holder.String
		want    string          // what the refusal says after "…: "
	}{
		{"headless here", ProcessHeadless, nil, "pid " + pid + ", training it headless (no workbench)",
			"training it headless (no workbench); a run is written by one process at a time: wait until it ends, " +
				"or stop it sooner with kill " + pid + ", which stops it after the step in progress as Ctrl-C in its terminal does; then try again"},
		{"headless on another Linux host", ProcessHeadless, onHost("gpu-node-7", "linux"), "pid " + pid + " on host gpu-node-7, training it headless (no workbench)",
			"training it headless (no workbench); a run is written by one process at a time: wait until it ends, " +
				"or stop it sooner on host gpu-node-7 with kill " + pid + " there, which stops it after the step in progress as Ctrl-C in its terminal does; then try again"},
		{"headless on another Windows host", ProcessHeadless, onHost("gpu-node-7", "windows"), "pid " + pid + " on host gpu-node-7, training it headless (no workbench)",
			"training it headless (no workbench); a run is written by one process at a time: wait until it ends, " +
				"or stop it sooner on host gpu-node-7 with Ctrl-C in its console window there, which stops it after the step in progress " +
				"(taskkill /PID " + pid + " cannot stop it, and taskkill /F ends it mid-step, as a crash would); then try again"},
		{"headless on another host, run.lock of before", ProcessHeadless, onHost("gpu-node-7", ""), "pid " + pid + " on host gpu-node-7, training it headless (no workbench)",
			"training it headless (no workbench); a run is written by one process at a time: wait until it ends, " +
				"or stop it sooner on host gpu-node-7 with kill " + pid + " there, which stops it after the step in progress as Ctrl-C in its terminal does (on Windows only Ctrl-C does); then try again"},
		{"in a workbench", ProcessWorkbench, nil, "pid " + pid + ", training it in a workbench",
			"training it in a workbench; a run is written by one process at a time: wait until it ends, " +
				"or stop it sooner in that workbench (S on its Dashboard), which stops it after the step in progress; then quit that workbench (q) and try again"},
		{"not said", "", nil, "pid " + pid + ", training it",
			"training it; a run is written by one process at a time: wait until it ends, " +
				"or stop it sooner in the workbench that trains it (S on its Dashboard) if one does, or with kill " + pid + ", which stops it after the step in progress as Ctrl-C in its terminal does; " +
				"then quit the workbench that trained it (q), if one did, and try again"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(root, filepath.Base(t.Name()))
			r, err := createWith(dir, Options{Process: c.process})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if c.holder != nil {
				rewriteLock(t, dir, c.holder)
			}
			runs, err := List(root)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range runs {
				if s.Dir == dir && s.Holder.String() != c.says {
					t.Errorf("Holder.String %q, want %q", s.Holder.String(), c.says)
				}
			}
			_, err = OpenWith(dir, nil, Options{Intent: IntentRescore})
			if !errors.Is(err, ErrLocked) || !strings.HasSuffix(err.Error(), "): "+c.want) {
				t.Errorf("a second writer:\n got %v\nwant ErrLocked ending in %q", err, "): "+c.want)
			}
		})
	}
}

// onHost is a run.lock's holder on host, whose system is goos ("": a
// run.lock written before it said), as a process there writes it into a
// run folder on a shared filesystem.
func onHost(host, goos string) func(*LockInfo) {
	return func(info *LockInfo) { info.Host, info.OS = host, goos }
}

// rewriteLock rewrites the run.lock this process holds in dir as edit
// makes it: the lock itself stays this process's.
func rewriteLock(t *testing.T, dir string, edit func(*LockInfo)) {
	t.Helper()
	path := filepath.Join(dir, LockFileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var info LockInfo
	if err := json.Unmarshal(data, &info); err != nil {
		t.Fatalf("%s: %q: %v", path, data, err)
	}
	edit(&info)
	data, _ = json.Marshal(info)
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRefusedOpenSaysHowToStopRescoring: a run that rlt score --write
// holds refuses a second writer saying how to stop it, as a training's
// refusal does (Holder.StopAdvice): Ctrl-C in its terminal or kill N on
// this host, by the system and on the host run.lock names, and that what
// it wrote stays. It said "wait until it ends, or stop it", and not how.
func TestRefusedOpenSaysHowToStopRescoring(t *testing.T) {
	linux := hostView{name: "desk", goos: "linux"}
	const kept = " (the re-scores it has written stay, and rlt score --write run again scores only the traces it had not)"
	for _, c := range []struct {
		name string
		h    Holder
		want string
	}{
		{"here", Holder{PID: 42, Doing: HolderRescoring, Host: "desk", OS: "linux"}, "stop it with Ctrl-C in its terminal or kill 42" + kept},
		{"run.lock names no host nor system", Holder{PID: 42, Doing: HolderRescoring}, "stop it with Ctrl-C in its terminal or kill 42" + kept},
		{"on Windows", Holder{PID: 42, Doing: HolderRescoring, Host: "desk", OS: "windows"}, "stop it with Ctrl-C in its console window, or taskkill /F /PID 42" + kept},
		{"on another Linux host", Holder{PID: 42, Doing: HolderRescoring, Host: "gpu7", OS: "linux"}, "stop it on host gpu7 with Ctrl-C in its terminal or kill 42 there" + kept},
		{"on another host, system not said", Holder{PID: 42, Doing: HolderRescoring, Host: "gpu7"}, "stop it on host gpu7 with Ctrl-C in its terminal or kill 42 there (on Windows, taskkill /F /PID 42)" + kept},
		{"no pid yet", Holder{Doing: HolderRescoring, Host: "desk"}, "stop it with Ctrl-C in its terminal" + kept},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.h.stopAdvice(linux); got != c.want {
				t.Errorf("stopAdvice:\n got %q\nwant %q", got, c.want)
			}
		})
	}

	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 1, 1, 1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenWith(dir, nil, Options{Intent: IntentRescore})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pid := strconv.Itoa(os.Getpid())
	want := "writing re-scores into it; a run is written by one process at a time: wait until it ends, or stop it with Ctrl-C in its terminal or kill " +
		pid + kept + "; then try again"
	_, err = OpenWith(dir, nil, Options{Intent: IntentReview})
	if !errors.Is(err, ErrLocked) || !strings.HasSuffix(err.Error(), "): "+want) {
		t.Errorf("a second writer:\n got %v\nwant ErrLocked ending in %q", err, "): "+want)
	}
}
