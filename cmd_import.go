package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/sessions"
)

const importUsage = `
Usage: rlt import SRC [--format rlt|trl|verl|nemo-rl] [--out DIR | --runs DIR] [--progress]

Reads a trainer's run folder or a JSON Lines traces file ({"question",
"solution", "explanation" or "completion", optional "reward"} rows, or
Bespoke-Stratos "conversations" rows) and writes a run folder of ours:
config.toml records the source, metrics.jsonl the trainer's metrics (names
that mean what ours mean are mapped to ours, the rest keep their own), the
traces keep the source's file:line and reward, and events.jsonl notes the
import and every row left out with its file and line. SRC is only read.
A line of rlt distill --samples-out marked "cut": true (its completion only
the part of the teacher's that fit the models that scored it) is left out,
and so are those marked "kept": false, the samples its ranking did not keep,
and a question's kept sample after its first (a file of two rankings
joined), each said once in a note with their count and how to import
every sample.
Rows that all record the reward they were ranked with (rlt distill
--samples-out's "reward_config") keep it in config.toml ([import.reward],
said as "reward: …"): rlt score --run scores with it, a flag given
winning, so that its rewards compare with theirs. Rows that record
different rewards (or some none), or one scoring refuses, keep none, and a
note names a line of each. A trainer's folder records no reward rlt import
reads: a note says so (and, for the official trainer's, that its
.hydra/config.yaml holds it, and which rlt score flags take its values).

The trainer is detected from the folder, or named with --format:
  rlt      the official RLT trainer: trainer_state.json, stored_completions/<step>.csv
  trl      TRL's GRPOTrainer: checkpoint-N/trainer_state.json,
           completions/completions_<step>.parquet (log_completions)
  verl     verl: the file logger's <experiment>.jsonl ({"step","data"} lines)
           and rollout_data_dir's <step>.jsonl, in SRC or a folder below it
  nemo-rl  NeMo-RL's log_dir: train_data_step<N>.jsonl, tensorboard/ event files
rlt open follows such a folder live.

The imported traces are then reviewed in the workbench, exported with rlt
export and re-scored with rlt score --run like a run's own. The summary
(rows imported, rows left out and why) goes to stdout. Where stderr is a
terminal, or with --progress, how far it is goes to stderr, a line every 2 s
at most: the lines of a traces file read (of its size), the run folder's
writing, and a last line with the time it took (--progress=false: none).

A signal (Ctrl-C) stops it with no run folder made, and says so (exit 1),
once its source is read; a second signal stops it at once.

Examples:
  rlt import ../official/outputs/rlt_teacher --out runs/official
  rlt import traces.jsonl                      # into runs/<time>-traces
`

func runImport(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt import", importUsage, stdout, stderr)
	out := fs.String("out", "", "run folder to write (must not already hold a run)")
	runs := fs.String("runs", "runs", "folder for the new run folder when --out is not given")
	format := fs.String("format", "", "the trainer that wrote SRC: rlt, trl, verl or nemo-rl (default: detected)")
	progress := fs.Bool("progress", false, "say how far the import is on stderr (default: where stderr is a terminal)")
	if err := parseFlags(fs, args); err != nil { // SRC before or after the flags
		return err
	}
	if err := checkArgs(fs, 1, "SRC"); err != nil {
		return err
	}
	if err := sessions.CheckImportFormat(*format); err != nil {
		return badValue(fs, "--format: %v", err)
	}
	if *out != "" && flagsGiven(fs)["runs"] {
		return misuse(fs, "--out and --runs both given: --out is the run folder to write, --runs the folder to make a new one in; give one")
	}
	src := fs.Arg(0)
	dst := *out
	if dst != "" {
		if err := importTarget(dst); err != nil {
			return err
		}
	}
	if dst == "" {
		if err := refuseLinkToNothing("runs", *runs, *runs); err != nil {
			return err
		}
		if err := runsFolderProblem(*runs); err != nil {
			return err
		}
		name := strings.TrimSuffix(filepath.Base(filepath.Clean(src)), filepath.Ext(src))
		stamp := time.Now().Format("20060102-150405")
		dst = filepath.Join(*runs, stamp+"-"+name)
		for i := 2; ; i++ { // two imports in one second get distinct folders
			_, err := os.Stat(dst)
			if errors.Is(err, os.ErrNotExist) {
				break
			}
			if err != nil { // no look tells whether the name is free: not a name taken, tried again for ever
				return fmt.Errorf("--runs %s: %w: give the folder that holds the run folders, one this process can read", *runs, err)
			}
			dst = filepath.Join(*runs, fmt.Sprintf("%s-%s-%d", stamp, name, i))
		}
	}
	// A signal (Ctrl-C, SIGTERM, a closed terminal's SIGHUP: stopSignals)
	// killed rlt import without a word, its hidden staging folder left
	// beside the run folder. It is held from here: the source is read
	// whole (it is only read), and one that comes by the time the run
	// folder would be put in place makes none, its staging folder
	// removed; either is said with what to do, exit 1.
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	// A second signal leaves at once: the read, which takes no context,
	// held the process until it ended, the second signal swallowed.
	// A staging folder begun is removed (leaveImport).
	endSecond := leaveSaying(stderr, func() string { return leaveImport(dst) })
	defer endSecond()
	// The read of a big source takes tens of seconds and is not cut
	// short: the signal is said when it comes, not once the read ends.
	w := watchStop(ctx, stderr, fmt.Sprintf("rlt import: stopping once %s is read (its read is not cut short: a big source takes a while; a second signal stops at once)", src))
	m := newMeter(stderr, progressOn(*progress, flagsGiven(fs)["progress"], stderr), nil)
	rep, err := sessions.ImportProgressContext(ctx, dst, src, *format, func(p sessions.ImportProgress) {
		switch {
		case p.Writing:
			m.said(fmt.Sprintf("rlt import: writing the run folder %s: %s, %s", dst, plural(p.Traces, "trace"), plural(p.Metrics, "metric record")))
		case p.Bytes == 0:
			m.said("rlt import: reading " + src)
		case p.Size > 0:
			m.tick(func() string {
				return fmt.Sprintf("rlt import: read %s, %s of %s%s", plural(p.Lines, "line"), byteSize(p.Bytes), byteSize(p.Size), percent(p.Bytes, p.Size))
			})
		default:
			m.tick(func() string {
				return fmt.Sprintf("rlt import: read %s, %s", plural(p.Lines, "line"), byteSize(p.Bytes))
			})
		}
	})
	w.end()
	endSecond() // the folder is in place, or none will be: nothing to leave at once
	if stopped := (*sessions.ImportStopped)(nil); errors.As(err, &stopped) {
		if stopped.Written {
			return fmt.Errorf("stopped by a signal while the run folder %s was written: no run folder was made (its staging folder was removed); run the same command again to import", dst)
		}
		return fmt.Errorf("stopped by a signal while %s was read: no run folder was made (%s); run the same command again to import", src, dst)
	}
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		// Too late to stop: the folder is in place, whole.
		return fmt.Errorf("stopped by a signal as the run folder was put in place: %s was written whole before it stopped (%s, %s)", dst, plural(rep.Traces, "trace"), plural(rep.Metrics, "metric record"))
	}
	m.done(fmt.Sprintf("rlt import: %s, %s imported", plural(rep.Traces, "trace"), plural(rep.Metrics, "metric record")))
	what := sessions.FormatName(rep.Format) + " folder"
	if rep.Format == sessions.ImportTraces {
		what = "traces file"
	}
	fmt.Fprintf(stdout, "run folder %s\n", rep.Dir)
	fmt.Fprintf(stdout, "imported from %s (%s): %s, %s", rep.Source, what, plural(rep.Traces, "trace"), plural(rep.Metrics, "metric record"))
	switch rep.Format {
	case sessions.ImportOfficial, sessions.ImportTRL:
		fmt.Fprintf(stdout, " (%s)", sessions.Counted(rep.Entries, "log_history entry", "log_history entries"))
	case sessions.ImportVerl:
		fmt.Fprintf(stdout, " (%s)", plural(rep.Entries, "metric line"))
	case sessions.ImportNemoRL:
		fmt.Fprintf(stdout, " (%s)", plural(rep.Entries, "TensorBoard scalar event"))
	}
	fmt.Fprintln(stdout)
	// The count the workbench and rlt sessions show for the run (their
	// STEPS cell): a trainer that planned its steps and logged none yet
	// reads "steps 0/200", as the listing does; only a run with neither a
	// step nor a plan (a traces file) says none.
	if rep.LastStep >= 0 || rep.PlannedSteps > 0 {
		fmt.Fprintf(stdout, "steps %s", sessions.StepsCell(sessions.ImportNumbering(rep.Format), rep.LastStep, rep.PlannedSteps))
		if rep.PlannedSteps == 0 {
			fmt.Fprint(stdout, " (its files state no planned total)")
		}
		fmt.Fprintln(stdout)
	}
	if rep.Reward != nil {
		// The rows' own reward, which rlt score --run starts from: said,
		// as the scores it gives are comparable with their rewards only so.
		fmt.Fprintf(stdout, "reward: %s (the rows' reward_config; "+sessions.Program()+" score of this run starts from it)\n", rep.Reward.Summary())
	}
	fmt.Fprintf(stdout, "left out: %s\n", plural(len(rep.Skip), "row"))
	for _, s := range rep.Skip {
		fmt.Fprintf(stdout, "  %s\n", s)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	return nil
}

// leaveImport removes what rlt import had begun for the run folder dst
// (durable.RemoveOwn: its staging folder) as a second signal leaves at
// once, and says what that leaves: no run folder, or, where the signal
// came as the folder was put in place (after the rename, before the watch
// ended), the folder, whole. It said "no run folder was made" of a folder
// in place. RemoveOwn and the rename are one after the other
// (durable.CommitDir), so dst's config.toml, which no folder given as
// --out holds before (importTarget), tells which came first.
func leaveImport(dst string) string {
	durable.RemoveOwn(dst)
	if _, err := os.Lstat(filepath.Join(dst, sessions.ConfigFile)); err == nil {
		return fmt.Sprintf("rlt import: stopped by a second signal as the run folder was put in place: %s was written whole before it stopped", dst)
	}
	return fmt.Sprintf("rlt import: stopped at once by a second signal: no run folder was made (%s); run the same command again to import", dst)
}

// importTarget refuses, before SRC is read, an --out that already holds a
// run, saying what can be done with that run instead: one imported
// cannot be resumed (it has no training configuration or checkpoint). A
// link to nothing on its way and a mount point, where the run folder
// staged beside it cannot be renamed at the end, are refused too.
func importTarget(dst string) error {
	if err := refuseLinkToNothing("out", dst, dst); err != nil {
		return err
	}
	if err := refuseMountPoint("out", dst, dst, "give a folder inside it, such as "+filepath.Join(dst, "run")); err != nil {
		return err
	}
	cfg := filepath.Join(dst, sessions.ConfigFile)
	if _, err := os.Lstat(cfg); err != nil {
		return nil // ImportAs says any other problem of dst
	}
	what, use := sessions.ExistingRun(dst)
	return fmt.Errorf("--out %s already holds %s and is left as it was; choose another --out (or none: a new folder under --runs), or %s", dst, what, use)
}
