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

	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/report"
)

const reportUsage = `
Usage: rlt report RUN [RUN…] --out DIR [--traces accepted|top:K|bottom:K]

Writes DIR/report.html, one self-contained page (inline SVG and CSS, no
script, nothing fetched): a table of the runs with each one's r_KL weight
(λ, reward.kl_mean, also in the legends, the page's and each chart's,
where the runs' differ: a sweep of λ), a chart of every recorded metric
with the runs overlaid, one colour per run, and the d_k heatmaps of
chosen traces of each run on the run's colour scale (the workbench's
Detail screen's), each with
the student's reconstruction beside the reference as that screen shows it
(its summary; changed, missing and extra words marked). --traces
chooses them: accepted (the traces accepted in review), top:K, bottom:K (by
reward), or several joined by commas; default top:3,bottom:3. The runs are
read, not locked: they may be running. The page is written to a temporary
file and renamed, so a failed report leaves no partial page, nor a folder it
made; a disk without room for it is said as full. A report.html
that rlt report wrote earlier is replaced (run it again to update the
page); any other file of that name is refused and left as it was.

Example:
  rlt report runs/20261125-034115 runs/official --out report --traces accepted,top:2
`

func runReport(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt report", reportUsage, stdout, stderr)
	out := fs.String("out", "", "output folder (required; created if missing)")
	traces := fs.String("traces", "top:3,bottom:3", "accepted, top:K, bottom:K, or several joined by commas")
	if err := parseFlags(fs, args); err != nil { // flags before or after the runs
		return err
	}
	dirs := fs.Args()
	if len(dirs) == 0 {
		return misuse(fs, "no run folder given")
	}
	if *out == "" { // not required's hint: the runs are arguments here
		said := make([]string, len(dirs))
		for i, d := range dirs {
			said[i] = sessions.ShellQuote(d)
		}
		return misuse(fs, "--out is required: the folder to write report.html in ("+sessions.Program()+" report %s --out DIR)", strings.Join(said, " "))
	}
	sel, err := report.ParseSelection(*traces)
	if err != nil { // a value no report could take: a wrong call, as --format's for rlt export
		return badValue(fs, "--%v", err)
	}
	replacing, err := checkReportOut(*out)
	if err != nil {
		return err
	}
	// A signal (Ctrl-C, SIGTERM, a closed terminal's SIGHUP: stopSignals)
	// killed rlt report without a word, and one that came as the page was
	// written left its hidden temporary file in --out. It is held from
	// here to the end: the runs' reading and the page's making are not cut
	// (neither writes), a stop that came while the runs were read writes
	// nothing, and one that came after is said once the page is in place,
	// whole.
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	runs, err := report.Load(dirs)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("stopped by a signal while the runs were read: nothing was written to %s; run the same command again to write the report", *out)
	}
	path, err := report.Write(*out, runs, sel)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("stopped by a signal while the report was made: %s was written whole before it stopped (%s)", path, plural(len(runs), "run"))
	}
	for _, r := range runs {
		reportSkipped(stderr, r.Dir, r.Skipped, r.Problems)
	}
	again := ""
	if replacing {
		again = ", replacing the earlier report"
	}
	fmt.Fprintf(stdout, "wrote %s (%s, %s%s)\n", path, plural(len(runs), "run"), plural(len(report.MetricNames(runs)), "metric"), again)
	return nil
}

// checkReportOut says, before any run is read, whether writing the report
// into dir replaces a page: one rlt report wrote earlier is replaced
// (regenerating a report is the usual thing to do), and replacing is
// true; any other file there is refused, named, and left as it was, and
// a link to nothing there or on the way to dir (refuseLinkToNothing).
func checkReportOut(dir string) (replacing bool, err error) {
	if err := refuseLinkToNothing("out", dir, filepath.Join(dir, report.FileName)); err != nil {
		return false, err
	}
	// A file at --out or on its way: the look below said "lstat
	// FILE/sub/report.html: not a directory", naming neither.
	switch at := sessions.FileOnPath(dir); at {
	case "":
	case filepath.Clean(dir):
		return false, fmt.Errorf("--out %s: a file, not a folder: give the folder to write %s in", dir, report.FileName)
	default:
		return false, fmt.Errorf("--out %s: %s is a file, not a folder, and it is in the way on its path: give --out a folder to write %s in", dir, at, report.FileName)
	}
	path := filepath.Join(dir, report.FileName)
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("--out %s: %w", dir, err)
	}
	if st.Mode().IsRegular() && report.IsPage(path) {
		return true, nil
	}
	return false, fmt.Errorf("--out %s: %s exists and was not written by a report; it is left as it was: move it away, or choose another --out folder", dir, path)
}
