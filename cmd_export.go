package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rlt-workbench/rlt/sessions"
)

const exportUsage = `
Usage: rlt export --run DIR [--format stratos|csv] [--out FILE]

Writes the traces accepted in review (in the workbench: a on a trace) as
Bespoke-Stratos JSON Lines, ready for distillation (RLT.md §5), or as CSV
(step, group, sample, question, solution, explanation, reward, r_ss, r_kl),
and says on stderr how many were left out and why (not reviewed, rejected,
flagged, unreadable, refused). The rows' system prompt is the student prompt of
the run's config.toml, as in the workbench's export (e); for a run imported
from Bespoke-Stratos rows, the system prompt they all carried, so those rows
export as they were read. The run may be running: it is read, not locked.
--out must not exist: an earlier export is never replaced.

Example:
  rlt export --run runs/20261125-034115 --out accepted.jsonl
`

func runExport(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt export", exportUsage, stderr)
	dir := fs.String("run", "", "run folder (required)")
	format := fs.String("format", sessions.ExportStratos, "stratos or csv")
	out := fs.String("out", "", "output file, which must not exist (default: stdout)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "run"); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	if *format != sessions.ExportStratos && *format != sessions.ExportCSV {
		return misuse(fs, "--format %q: want %s or %s", *format, sessions.ExportStratos, sessions.ExportCSV)
	}
	// An existing --out is refused before the run is read: it may be an
	// earlier export, or anything else, and is never replaced.
	if _, err := os.Lstat(*out); *out != "" && err == nil {
		return outExists(*out)
	}
	run, err := sessions.OpenReadOnly(*dir)
	if err != nil {
		return err
	}
	defer run.Close()
	w := stdout
	var f *os.File
	if *out != "" {
		// O_EXCL: a file made there since the check above is not replaced either.
		if f, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
			if errors.Is(err, os.ErrExist) {
				return outExists(*out)
			}
			return fmt.Errorf("--out: %w", err)
		}
		w = f
	}
	rep, err := run.Export(w, *format)
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(*out) // this export's own partial file, made above
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s\n", rep)
	for _, s := range rep.Refusals {
		fmt.Fprintf(stderr, "  refused %v\n", s)
	}
	reportSkipped(stderr, run.Store().Issues())
	return nil
}

// outExists refuses an --out that is already there.
func outExists(path string) error {
	return fmt.Errorf("--out %s already exists; rlt export does not replace a file: remove it or choose another path", path)
}
