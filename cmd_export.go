package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/sessions"
)

const exportUsage = `
Usage: rlt export --run DIR [--format stratos|messages|parquet|csv] [--out FILE] [--progress]

Writes the traces accepted in review (in the workbench: a on a trace) as
Bespoke-Stratos JSON Lines, ready for distillation (docs/engine.md,
Distillation), as chat messages (--format messages or parquet, below), or
as CSV (step, group, sample, question, solution, explanation, reward, r_ss,
r_kl; the last three empty for a trace without scores), and
says on stderr how many were left out and why (unreviewed, rejected,
flagged, unreadable, refused). The rows' system prompt (not in CSV) is the
student prompt of the run's config.toml, as in the workbench's export (e),
where it records none
the models' own (prompts.json), the one rlt score --run scores the rows with
(a model folder it names that is not there now is refused: the default in its
place would be a guess);
for a run imported from Bespoke-Stratos rows that all carried one system
prompt, not empty, that prompt, so those rows export as they were read
(other imports get the default student prompt). The run may be running: it
is read, not locked.
--format messages writes the same rows as chat messages, {"messages":
[system, user, assistant]} of role and content, the system prompt the first
turn: what TRL's SFTTrainer reads as it is (it passes over a Stratos row's
system prompt); --format parquet writes them in one Parquet file, a
messages column of {role, content}: what verl's SFT dataset reads (Parquet
only), and TRL too; binary, it is not written to a terminal (give --out).
--out must not exist: an earlier export is never replaced; without --out,
or with --out -, the rows go to stdout. An export of no
row (nothing accepted, or every accepted trace refused) writes no file, says
why and exits 1. An accepted trace whose texts cannot be read back (its trace
file changed since the run was opened) is left out of the rows written, named
by file:line, and the command exits 1. So does a trace record that cannot be
read, or a trace lost in a trace file's partial last line after the run wrote
it whole: the rows read are written, and the lines are named with what to do
(the line a killed writer was writing is no trace of the run: exit 0).
A signal (Ctrl-C) stops an export to --out with nothing written and its
temporary file removed, and one to stdout after the row being written
(each row on stdout whole), and says so (exit 1); a second stops it at once.
Where stderr is a terminal, or with --progress, how far it is goes to
stderr, a line every 2 s at most: the traces read of the run's trace
files (of their size), the accepted traces done of how many, and a last
line with the time it took (--progress=false: none).

Example:
  rlt export --run runs/20261125-034115 --out accepted.jsonl
  rlt export --run runs/20261125-034115 --format messages --out sft.jsonl
  rlt export --run runs/20261125-034115 --format parquet --out sft.parquet
`

func runExport(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt export", exportUsage, stdout, stderr)
	dir := fs.String("run", "", "run folder (required)")
	format := fs.String("format", sessions.ExportStratos, "stratos, messages (TRL), parquet (verl, TRL) or csv")
	out := fs.String("out", "", "output file, which must not exist (default, or -: stdout)")
	progress := fs.Bool("progress", false, "say how far the export is on stderr (default: where stderr is a terminal)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "run"); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	switch *format {
	case sessions.ExportStratos, sessions.ExportMessages, sessions.ExportParquet, sessions.ExportCSV:
	default:
		return badValue(fs, "--format %q: want %s, %s, %s or %s", *format, sessions.ExportStratos, sessions.ExportMessages, sessions.ExportParquet, sessions.ExportCSV)
	}
	// "-" is stdout, as leaving --out out is: a file of that name would
	// only be made by mistake (./- makes one).
	if *out == "-" {
		*out = ""
	}
	// Parquet is binary: written to a terminal it filled the screen with
	// bytes and nothing usable came of it (gzip and tar refuse the same).
	if *format == sessions.ExportParquet && *out == "" && isTerminal(stdout) {
		return badValue(fs, "--format parquet writes a binary file, not written to a terminal: give --out FILE (sft.parquet) or send stdout to a file (> sft.parquet)")
	}
	// An existing --out is refused before the run is read: it may be an
	// earlier export, or anything else, and is never replaced. A link to
	// nothing there, or on the way to it, is said as one.
	if *out != "" {
		if err := refuseLinkToNothing("out", *out, *out); err != nil {
			return err
		}
		if _, err := os.Lstat(*out); err == nil {
			return outExists(*out)
		}
	}
	// A signal (Ctrl-C, SIGTERM, a closed terminal's SIGHUP: stopSignals)
	// killed an export to --out without a word, its hidden temporary
	// file left beside --out, and one to stdout in the middle of a row,
	// a half line that a JSON Lines reader fails on. It is held from
	// here and said as it comes (the run's read is not cut short): one
	// that comes while the run is read writes nothing, one that comes
	// while the rows are written stops the writing to --out at the next
	// buffer of rows, the temporary file removed (writeExport), and the
	// rows to stdout after the row being written, whole (exportRun);
	// either is said with what to do. A second signal leaves at once.
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	where, left := "stdout", "the rows on stdout may end in a cut line"
	if *out != "" {
		where, left = *out, "nothing was written to "+*out+" (its temporary file was removed)"
	}
	endSecond := leaveOnSecondSignal(stderr, "rlt export: stopped at once by a second signal: "+left+"; run the same command again to export", func() {
		if *out != "" {
			durable.RemoveOwn(*out)
		}
	})
	defer endSecond()
	w := watchStop(ctx, stderr, "rlt export: stopping (a second signal stops at once)")
	defer w.end()
	m := newMeter(stderr, progressOn(*progress, flagsGiven(fs)["progress"], stderr), nil)
	m.said("rlt export: reading the run " + *dir)
	var opts sessions.Options
	if m != nil { // its trace files are most of the read: said as they are read
		opts.LoadProgress = func(traces int, read, size int64) {
			m.tick(func() string {
				return fmt.Sprintf("rlt export: read %s, %s of %s%s", plural(traces, "trace"), byteSize(read), byteSize(size), percent(read, size))
			})
		}
	}
	run, err := sessions.OpenReadOnlyWith(*dir, opts)
	if err != nil {
		return err
	}
	defer run.Close()
	if ctx.Err() != nil {
		return fmt.Errorf("stopped by a signal while the run was read: nothing was written to %s; run the same command again to export", where)
	}
	return exportRun(ctx, run, *dir, *format, *out, m, stdout, stderr)
}

// exportRun writes the accepted traces of run (opened from dir) in format
// to out (stdout when ""), and says on stderr what it wrote and left out.
// Accepted traces whose texts could not be read back are left out of rows
// otherwise written whole, and fail the command after them (notReadBack).
// A stop of ctx (a signal) stops the writing to out (writeExport). m
// (nil: nothing said) is told how many accepted traces are done.
func exportRun(ctx context.Context, run *sessions.Run, dir, format, out string, m *meter, stdout, stderr io.Writer) error {
	var rep sessions.ExportReport
	var err error
	opts := sessions.ExportOptions{Progress: func(done, accepted int) {
		m.tick(func() string {
			return fmt.Sprintf("rlt export: %d of %s done%s", done, plural(accepted, "accepted trace"), percent(int64(done), int64(accepted)))
		})
	}}
	if m == nil {
		opts.Progress = nil
	}
	if out == "" {
		// stdout streams the rows as they are read: a failed write leaves
		// those before it there.
		// A stop of ctx ends them after the row being written, whole.
		var file writeErrs
		opts.Stop = func() bool { return ctx.Err() != nil }
		if rep, err = run.ExportWith(file.of(stdout), format, opts); file.err != nil {
			return fmt.Errorf("stdout cannot be written (%v): the rows there are cut short", innermost(file.err))
		} else if err != nil {
			return err
		}
		if rep.Stopped {
			return fmt.Errorf("stopped by a signal while the rows were written: stdout has the %s written before it, each whole; run the same command again to export", plural(rep.Written, "row"))
		}
		if ctx.Err() != nil {
			return fmt.Errorf("stopped by a signal as the export ended: stdout has its %s, all of them", plural(rep.Written, "row"))
		}
	} else if err = writeExport(ctx, out, func(w io.Writer) (sessions.ExportReport, error) { return run.ExportWith(w, format, opts) }, &rep); err != nil {
		return err
	} else if ctx.Err() != nil {
		// Too late to stop the file: it is in place, whole. Said, not the
		// summary, as any stop is, exit 1.
		return fmt.Errorf("stopped by a signal as the export was put in place: %s was written whole before it stopped (%s)", out, plural(rep.Written, "row"))
	}
	m.done(fmt.Sprintf("rlt export: %s written", plural(rep.Written, "row")))
	if rep.Note != "" { // the rows' prompt read past an [import] format this rlt does not know
		fmt.Fprintf(stderr, "warning: %s\n", rep.Note)
	}
	fmt.Fprintf(stderr, "%s\n", rep)
	for _, s := range rep.Refusals {
		fmt.Fprintf(stderr, "  refused %v\n", s)
	}
	reportSkipped(stderr, run.Dir(), run.Store().Issues(), run.Store().IssueCount())
	// Traces of the run that were not read (unreadable records, traces
	// lost in a partial last line) fail the export after the rows read, as
	// rlt score --run fails for them: a script that exports and then
	// distills stops here, not on rows short of them.
	var missing []string
	if rep.Unreadable > 0 {
		missing = append(missing, run.UnreadableSaid(rep.Unreadable, "left out"))
	}
	if len(rep.Lost) > 0 {
		missing = append(missing, sessions.LostTracesSaid(run.Dir(), rep.Lost, "left out"))
	}
	if rep.Written == 0 && rep.NotReadBack == 0 {
		return nothingToExport(dir, out, rep, missing)
	}
	if rep.NotReadBack > 0 || len(missing) > 0 {
		return notReadBack(dir, out, rep, missing)
	}
	return nil
}

// notReadBack is the error of an export that left out accepted traces
// whose texts could not be read back, or traces of the run not read at all
// (missing: unreadable records, traces lost in a partial last line, each
// said with what to do): the rows it could read are written (out is
// whole, as any export's), and the command fails, as rlt score --run does
// for such a trace, so that a script does not go on to distill an export
// short of traces it accepted. Running it again reads the run anew; an
// --out written is in its way and is said to be removed first.
func notReadBack(dir, out string, rep sessions.ExportReport, missing []string) error {
	again := "run the same command again"
	if rep.NotReadBack > 0 {
		again += " to read the run anew"
	}
	switch {
	case rep.Written == 0 && out != "":
		again += "; no file written"
	case rep.Written == 0:
		again += "; no rows written"
	case out != "":
		again = fmt.Sprintf("%s holds the %s read; remove it and %s", out, plural(rep.Written, "row"), again)
	default:
		again = fmt.Sprintf("stdout has the %s read; %s", plural(rep.Written, "row"), again)
	}
	if rep.NotReadBack > 0 {
		missing = append([]string{rep.NotReadBackSummary()}, missing...)
	}
	return fmt.Errorf("export of %s: %s; %s", dir, strings.Join(missing, "; "), again)
}

// nothingToExport is the error of an export that wrote no row, saying
// which filter left nothing (sessions.ExportReport.NothingWritten, in the
// workbench's words too): no trace yet, no trace accepted in review, or
// every accepted one refused by the format (each said above it). An export
// of nothing is an error, not an empty file, so that a script that exports
// and then distills stops here, and the export after a review is not
// refused for the empty file in its way. missing are the traces of the run
// not read (sessions.Run.UnreadableSaid, sessions.LostTracesSaid), said
// after why, in the workbench's words too.
func nothingToExport(dir, out string, rep sessions.ExportReport, missing []string) error {
	written := "no rows written"
	if out != "" {
		written = "no file written"
	}
	said := append([]string{rep.NothingWritten(dir, sessions.Program()+" open "+sessions.ShellQuote(dir)+", then a on a trace")}, missing...)
	return fmt.Errorf("%s; %s", strings.Join(said, "; "), written)
}

// plural is "1 what" or "N whats".
func plural(n int, what string) string { return sessions.Counted(n, what, what+"s") }

// errNoRows stops an --out export of no row before its file is put in
// place: an empty file would only stand in the way of the export that
// follows a review.
var errNoRows = errors.New("no rows")

// writeExport writes the export to out whole or not at all
// (durable.WriteNew): the rows go to a hidden temporary file in out's
// folder, synced and then linked into place, so a killed export leaves no
// truncated out that looks complete and refuses the retry, and a file made
// at out meanwhile is not replaced. An export of no row writes no file
// (*rep still says why). A failure is said once, by what failed: the file
// (a full disk as one, sessions.FullDiskError; the folder, with what to
// give --out instead), or the export itself as it says it. A stop of ctx
// (a signal) fails the next write of the rows (errStopped), so the
// temporary file is removed and nothing is written to out, as said.
func writeExport(ctx context.Context, out string, export func(w io.Writer) (sessions.ExportReport, error), rep *sessions.ExportReport) error {
	var file writeErrs
	var exportErr error // the export's own, not its file's
	err := durable.WriteNew(out, 0o644, func(w io.Writer) error {
		r, err := export(file.of(stoppable(ctx, w)))
		*rep = r
		if err == nil && r.Written == 0 {
			return errNoRows
		}
		if file.err == nil {
			exportErr = err
		}
		return err
	})
	switch {
	case err == nil, errors.Is(err, errNoRows):
		return nil
	case errors.Is(err, os.ErrExist):
		return outExists(out)
	case errors.Is(err, errStopped):
		return fmt.Errorf("stopped by a signal while the rows were written: nothing was written to %s (its temporary file was removed); run the same command again to export", out)
	}
	// Whole or not at all: nothing is left at out to clean up.
	full := sessions.FullDiskError{What: "the export", Dir: filepath.Dir(out), Flag: "--out", Names: "file"}.IfFull(err)
	switch {
	case full != err:
		return full
	case exportErr != nil:
		// Said in its own words, not as the file's.
		return fmt.Errorf("%w: nothing was written to %s", exportErr, out)
	}
	return fmt.Errorf("--out %s: cannot be written (%v): nothing was written; give --out a file in a folder this process can write (leave --out out to print the rows)", out, innermost(err))
}

// errStopped fails a write of the rows once a signal stopped the export.
var errStopped = errors.New("stopped by a signal")

// stoppable is w, whose writes fail with errStopped once ctx is done.
func stoppable(ctx context.Context, w io.Writer) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		if ctx.Err() != nil {
			return 0, errStopped
		}
		return w.Write(p)
	})
}

// writeErrs remembers the first error of the writers it wraps: a failed
// write of the rows, told from the export's own errors.
type writeErrs struct{ err error }

func (e *writeErrs) of(w io.Writer) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		n, err := w.Write(p)
		if err != nil && e.err == nil {
			e.err = err
		}
		return n, err
	})
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// innermost is the system's words for err, where a file's operation
// failed ("permission denied"), without the paths around it (the
// temporary file's among them): the caller names the path it was given.
func innermost(err error) error {
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		return pe.Err
	}
	if le := (*os.LinkError)(nil); errors.As(err, &le) {
		return le.Err
	}
	return err
}

// outExists refuses an --out that is already there; a folder is said as
// one, with a file in it to give instead (--out names the file written).
func outExists(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("--out %s already exists and is a folder; --out is the file to write: give a new file's path, such as %s", path, filepath.Join(path, "accepted.jsonl"))
	}
	return fmt.Errorf("--out %s already exists, and export does not replace a file: remove it or choose another path", path)
}
