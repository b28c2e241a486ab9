// Command rlt is the RLT Workbench: a terminal workbench for training and
// inspecting Reinforcement-Learned Teachers. main wires the packages
// (ui → sessions → engine → compute, and sessions/runner, the application
// layer only main imports) to subcommands: each is flags, a call and
// output; cli.go holds what they share.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/rlt-workbench/rlt/engine/shell"
)

// command is one `rlt` subcommand.
type command struct {
	name    string
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "start an RLT run on the embedded default models (what `rlt` alone does)", runWorkbench},
		{"open", "open a run folder in the workbench without training it (review, export)", runOpen},
		{"sessions", "list run folders: state, steps done, best reward, size, device", runSessions},
		{"report", "a self-contained HTML page of runs: every metric overlaid, heatmaps of chosen traces", runReport},
		{"export", "write a run's accepted traces as Bespoke-Stratos JSON Lines, chat messages (JSON Lines or Parquet, for TRL and verl) or CSV", runExport},
		{"import", "a trainer's run folder (official RLT, TRL, verl, NeMo-RL) or a traces file → a run folder to review, export, re-score", runImport},
		{"model", "make and inspect Hugging Face model folders (defaults, init, info)", runModel},
		{"tokenize", "text to token ids with a tokenizer.json (JSON Lines in and out)", runTokenize},
		{"generate", "sample text from a model, streaming tokens (temperature, top-k/p, min-p, stops, seed)", runGenerate},
		{"pretrain", "build the warm-started teacher and student from a seed (SFT on task corpora)", runPretrain},
		{"distill", "teacher explanations → Bespoke-Stratos rows → a fine-tuned fresh student", runDistill},
		{"eval", "a student solves held-out questions: accuracy and verified-thought rate", runEval},
		{"train", "GRPO training of the teacher on the RLT reward, headless (metrics as JSON Lines)", runTrain},
		{"score", "RLT rewards of explanations: teacher and student folders or servers, JSON Lines in and out", runScore},
		{"serve", "a model behind vLLM's /v1/completions and SGLang's /generate, for rlt score on another machine", runServe},
		{"logprobs", "per-token log-probs of given texts or ids under a model (teacher-forced)", runLogprobs},
		{"version", "the build: module version, VCS revision (modified or not), Go version (also rlt --version)", runVersion},
	}
}

func main() {
	tightenGC()
	// The commands said to the user begin as the user started rlt: "go
	// run ." (no rlt on PATH then), ./rlt, rlt (shell.Program). The folder
	// of this file is where go run was pointed at, whose path go run needs
	// from another folder (go run ..).
	_, self, _, _ := runtime.Caller(0)
	shell.SetProgram(os.Args[0], filepath.Dir(self))
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// seeHelp is the line that points a wrong value's user to the usage of
// the command sub (" report") of program (shell.Program): "See 'rlt
// report --help'.", as git says it. A program the shell needs quoted (a
// path with a space: '/opt/my tools/rlt') is said bare of those outer
// quotes and the full stop: around it, the outer quote would close at
// the program's own and the line could not be pasted.
func seeHelp(program, sub string) string {
	line := program + sub + " --help"
	if strings.ContainsAny(program, `'"`) {
		return "See " + line
	}
	return "See '" + line + "'."
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) > 0 && args[0] == "--version" { // as other programs take it: not a flag of rlt run
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) == 0 || (len(args[0]) > 1 && args[0][0] == '-' && args[0] != "-h" && args[0] != "--help") {
		// The main job: a live RLT run on the embedded default.
		args = append([]string{"run"}, args...)
	}
	if args[0] == "help" && len(args) > 1 { // rlt help score: score's own help
		args = append(args[1:len(args):len(args)], "--help")
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout, cmds)
		return 0
	}
	for _, c := range cmds {
		if c.name == args[0] {
			if err := c.run(args[1:], stdin, stdout, stderr); err != nil {
				var misused usageError
				switch {
				case err == errHelp:
					return 0
				case errors.As(err, &misused) && misused.value:
					// A value's mistake, alone (badValue), and where the
					// usage is, in the words the user started rlt with.
					fmt.Fprintf(stderr, "%s: %v\n%s\n", misused.cmd, misused.msg, seeHelp(shell.Program(), strings.TrimPrefix(misused.cmd, "rlt")))
					return 2
				case errors.As(err, &misused):
					fmt.Fprintf(stderr, "\n%s: %v\n", misused.cmd, misused.msg)
					return 2
				case errors.Is(err, errUsage):
					return 2
				}
				var named commandError
				if errors.As(err, &named) {
					fmt.Fprintf(stderr, "%s: %v\n", named.cmd, named.err)
					return 1
				}
				fmt.Fprintf(stderr, "rlt %s: %v\n", c.name, err)
				return 1
			}
			return 0
		}
	}
	// As every wrong call: the usage, then what was wrong, where the eye
	// lands, with the command most likely meant.
	usage(stderr, cmds)
	msg := fmt.Sprintf("unknown command %q", args[0])
	if near := nearestCommand(cmds, args[0]); near != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", near)
	}
	fmt.Fprintf(stderr, "\nrlt: %s\n", msg)
	return 2
}

// nearestCommand is the command whose name is at most 2 edits from name
// (fewer for a short one), the nearest; "" if none is.
func nearestCommand(cmds []command, name string) string {
	best, bestD := "", min(2, len(name)/3)+1
	for _, c := range cmds {
		if d := editDistance(name, c.name); d < bestD {
			best, bestD = c.name, d
		}
	}
	return best
}

func usage(w io.Writer, cmds []command) {
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	var b strings.Builder
	b.WriteString("rlt: the RLT Workbench\n\nUsage: rlt <command> [arguments]\n\nCommands:\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'rlt <command> --help' for a command's flags and examples.\n")
	io.WriteString(w, b.String())
}

const versionUsage = `
Usage: rlt version

Prints what this rlt was built from, read from the binary's build
information: the module version (a stamped build's is its commit's tag
or pseudo-version, +dirty when modified; otherwise (devel)), the VCS
revision and commit time, "modified" when the checkout had uncommitted
changes, and the Go version. rlt --version prints the same. A binary
built without VCS stamping (go run, -buildvcs=false, which GOFLAGS or go
env may set, a git worktree, or outside a git clone) says its revision
is unknown: build it with go build -buildvcs=true in a git clone to have
it.

Example:
  rlt version
`

func runVersion(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt version", versionUsage, stdout, stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return errors.New("this binary carries no build information (built without module support): rebuild it with go build in the repository")
	}
	fmt.Fprintln(stdout, versionLine(bi))
	return nil
}

// versionLine says the build bi in one line: "rlt
// v0.0.0-20261206142905-1495f9f…+dirty revision 1495f9f…
// (2026-12-06T14:29:05Z, modified), go1.26.8" (a stamped build's version
// is its commit's pseudo-version since Go 1.24), or "rlt (devel) revision
// unknown (…)" without stamping.
func versionLine(bi *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	revision := "revision unknown (built without VCS stamping: go run, -buildvcs=false, a git worktree, or outside a git clone; go build -buildvcs=true in a git clone stamps it)"
	if r := settings["vcs.revision"]; r != "" {
		var about []string
		if t := settings["vcs.time"]; t != "" {
			about = append(about, t)
		}
		if settings["vcs.modified"] == "true" {
			about = append(about, "modified")
		}
		revision = "revision " + r
		if len(about) > 0 {
			revision += " (" + strings.Join(about, ", ") + ")"
		}
	}
	return fmt.Sprintf("rlt %s %s, %s", version, revision, bi.GoVersion)
}

// gcPercent is the heap growth the garbage collector allows over what is
// live, unless GOGC says otherwise. Go's default (100) lets a heap of
// 2 GB of weights reach 4 GB before it collects; our heap is almost all
// tensors, which hold no pointers and cost the collector nothing to mark,
// so collecting at 20% over costs little time (the embedded default: the
// same user time) for far less memory (its peak RSS 1.40 → 1.15 GB).
const gcPercent = 20

// tightenGC sets the collector's growth to gcPercent unless the user set
// GOGC.
func tightenGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
