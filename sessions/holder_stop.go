package sessions

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// hostView is the host this process runs on, against which a Holder's
// host and system (run.lock's) are read. A run.lock written before it
// said the holder's system leaves it this one's on this host, and not
// known on another.
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

// who names h's process in the one wording every message about a holder
// uses (Holder.String, a lock's refusal LockedError): "pid 4242", and of
// one on another host, whose pid says nothing here, "pid 4242 on host
// gpu7"; "" where run.lock names neither.
func (h Holder) who(here hostView) string {
	who := ""
	if h.PID != 0 {
		who = fmt.Sprintf("pid %d", h.PID)
	}
	if h.elsewhere(here) {
		who = strings.TrimPrefix(who+" on host "+h.Host, " ")
	}
	return who
}

// system is h's system (runtime.GOOS): run.lock's, or, of a run.lock
// written before it said, this one's for a holder on this host; "" where
// it is not known (such a run.lock of a holder on another host).
func (h Holder) system(here hostView) string {
	if h.OS == "" && !h.elsewhere(here) {
		return here.goos
	}
	return h.OS
}

// StopAdvice says how to stop the training h holds before it ends, after
// its step in progress, by what kind of process it is (Holder.Process)
// and on what system (Holder.OS) and host it runs: in its workbench with
// S; a headless rlt run by a signal that stops it as Ctrl-C in its
// terminal does (stopSignals in cmd_workbench.go: SIGINT, SIGTERM,
// SIGHUP), so kill N on a POSIX system and Ctrl-C in its console on
// Windows, where no kill sends it one (taskkill asks a console program
// nothing, and /F ends it mid-step); on another host there, that host
// named. A run.lock that does not say the system, of a holder on another
// host, gives both signal ways; one that does not say the process kind
// gives the workbench's and the signal's. Of an rlt score --write
// (HolderRescoring), how to stop that (stopRescoring); "" where h neither
// trains the run nor writes re-scores into it. The one wording of it: a
// refused open (heldFor) and the workbench's note on a run another
// process trains (runner.reviewWhere) say it.
func (h Holder) StopAdvice() string { return h.stopAdvice(thisHost()) }

func (h Holder) stopAdvice(here hostView) string {
	switch h.Doing {
	case HolderTraining, HolderPaused, HolderResuming:
	case HolderRescoring:
		return h.stopRescoring(here)
	default:
		return ""
	}
	const after = "which stops it after the step in progress"
	stop, there := "stop it sooner", ""
	if h.elsewhere(here) {
		stop += " on host " + h.Host
		there = " there"
	}
	var signal string
	switch system := h.system(here); {
	case h.PID == 0: // run.lock names no pid yet: kill 0 would signal the caller's own process group
		signal = "with Ctrl-C in its terminal, " + after
	case system == "windows":
		signal = fmt.Sprintf("with Ctrl-C in its console window%s, %s (taskkill /PID %d cannot stop it, and taskkill /F ends it mid-step, as a crash would)", there, after, h.PID)
	case system != "":
		signal = fmt.Sprintf("with kill %d%s, %s as Ctrl-C in its terminal does", h.PID, there, after)
	default: // another host whose system run.lock does not say
		signal = fmt.Sprintf("with kill %d there, %s as Ctrl-C in its terminal does (on Windows only Ctrl-C does)", h.PID, after)
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

// stopRescoring says how to stop the rlt score --write that h is: it has
// no step to finish nor a handler of its own, so Ctrl-C in its terminal
// ends it, as kill N does on a POSIX system (on another host, there); on
// Windows, where no kill sends it the signal, taskkill /F /PID N, which
// ends it as Ctrl-C does. What it stopped in the middle of is repaired:
// the re-scores it wrote stay (a partial last line is removed by the next
// open), and running it again scores only the traces it had not.
func (h Holder) stopRescoring(here hostView) string {
	stop, there := "stop it", ""
	if h.elsewhere(here) {
		stop += " on host " + h.Host
		there = " there"
	}
	kept := " (the re-scores it has written stay, and " + Program() + " score --write run again scores only the traces it had not)"
	switch system := h.system(here); {
	case h.PID == 0: // run.lock names no pid yet
		return stop + " with Ctrl-C in its terminal" + there + kept
	case system == "windows":
		return fmt.Sprintf("%s with Ctrl-C in its console window%s, or taskkill /F /PID %d%s", stop, there, h.PID, kept)
	case system != "":
		return fmt.Sprintf("%s with Ctrl-C in its terminal or kill %d%s", stop, h.PID, there) + kept
	}
	// Another host whose system run.lock does not say.
	return fmt.Sprintf("%s with Ctrl-C in its terminal or kill %d there (on Windows, taskkill /F /PID %d)", stop, h.PID, h.PID) + kept
}
