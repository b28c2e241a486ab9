package sessions

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// hostView is the host this process runs on, against which a Holder's
// host (run.lock's) is read. run.lock does not say the holder's system:
// it is this one's on this host, and not known on another.
type hostView struct {
	name string // os.Hostname; "": not known
	goos string // runtime.GOOS
}

// thisHost is the host this process runs on.
func thisHost() hostView {
	name, _ := os.Hostname()
	return hostView{name: name, goos: runtime.GOOS}
}

// elsewhere reports whether h runs on a host other than here: run.lock
// names one (a run folder on a shared filesystem) that is not here's.
// A run.lock that names no host, or a host whose own name is not known,
// reads as this host, as run.lock's pid was read before it named hosts.
// Host names are compared as DNS compares them, without case.
func (h Holder) elsewhere(here hostView) bool {
	return h.Host != "" && here.name != "" && !strings.EqualFold(h.Host, here.name)
}

// Elsewhere reports whether h runs on another host than this process,
// where its pid says nothing here (no kill from here reaches it).
func (h Holder) Elsewhere() bool { return h.elsewhere(thisHost()) }

// StopAdvice says how to stop the training h holds before it ends, after
// its step in progress, by what kind of process it is (Holder.Process)
// and where it runs: in its workbench with S; a headless rlt run by a
// signal that stops it as Ctrl-C in its terminal does (stopSignals in
// cmd_workbench.go: SIGINT, SIGTERM, SIGHUP), so kill N on a POSIX host
// and Ctrl-C in its console on Windows, where no kill sends it one
// (taskkill asks a console program nothing, and /F ends it mid-step);
// on another host, what works there, that host's system not being known
// here. A run.lock that does not say the process kind gives both ways.
// "" where h does not train the run. The one wording of it: a refused
// open (heldFor) and the workbench's note on a run another process
// trains (runner.reviewWhere) say it.
func (h Holder) StopAdvice() string { return h.stopAdvice(thisHost()) }

func (h Holder) stopAdvice(here hostView) string {
	switch h.Doing {
	case HolderTraining, HolderPaused, HolderResuming:
	default:
		return ""
	}
	const after = "which stops it after the step in progress"
	stop := "stop it sooner"
	if h.elsewhere(here) {
		stop += " on host " + h.Host
	}
	var signal string
	switch {
	case h.PID == 0: // run.lock names no pid yet: kill 0 would signal the caller's own process group
		signal = "with Ctrl-C in its terminal, " + after
	case h.elsewhere(here):
		signal = fmt.Sprintf("with kill %d there, %s as Ctrl-C in its terminal does (on Windows only Ctrl-C does)", h.PID, after)
	case here.goos == "windows":
		signal = fmt.Sprintf("with Ctrl-C in its console window, %s (taskkill /PID %d cannot stop it, and taskkill /F ends it mid-step, as a crash would)", after, h.PID)
	default:
		signal = fmt.Sprintf("with kill %d, %s as Ctrl-C in its terminal does", h.PID, after)
	}
	const workbench = "(S on its Dashboard)"
	switch h.Process {
	case ProcessWorkbench:
		return stop + " in that workbench " + workbench + ", " + after
	case ProcessHeadless:
		return stop + " " + signal
	}
	return stop + " in the workbench that trains it " + workbench + " if one does, or " + signal
}
