package sessions

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/record"
)

// Review records a verdict on a trace: accept, reject or flag, with an
// optional note. It appends to reviews.jsonl (fsynced at once) and never
// touches the trace itself.
func (r *Run) Review(traceID string, label Label, note string) error {
	switch label {
	case LabelAccept, LabelReject, LabelFlag:
	default:
		return fmt.Errorf("review %s: label %q: want %q, %q or %q", traceID, label, LabelAccept, LabelReject, LabelFlag)
	}
	return r.appendReview(traceID, label, note)
}

// Undo cancels the latest verdict on a trace still in force, by appending
// an undo record; the earlier verdict (if any) is in force again.
func (r *Run) Undo(traceID string) error {
	if err := r.writable("undo " + traceID); err != nil {
		return err
	}
	if st := r.store.Label(traceID); st.Label == LabelNone {
		return fmt.Errorf("undo %s: the trace has no label to undo", traceID)
	}
	return r.appendReview(traceID, LabelUndo, "")
}

// writable says why what (a message prefix) cannot write to this run, if
// it cannot.
func (r *Run) writable(what string) error {
	if r.readOnly {
		return fmt.Errorf("%s: run %s is open read-only", what, r.dir)
	}
	if r.closed.Load() {
		return fmt.Errorf("%s: run %s is closed", what, r.dir)
	}
	if err := r.Begin(); err != nil { // a deferred open's first write begins the session
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (r *Run) appendReview(traceID string, label Label, note string) error {
	if err := r.writable("review " + traceID); err != nil {
		return err
	}
	if !r.store.hasTrace(traceID) {
		return fmt.Errorf("review %s: no such trace in %s", traceID, r.dir)
	}
	rec := ReviewRecord{Time: time.Now().UTC(), Trace: traceID, Label: label, Note: note}
	if err := r.reviews.Append(rec); err != nil {
		return fmt.Errorf("review %s: %w", traceID, err)
	}
	r.store.addReview(rec)
	return nil
}

// NextUnreviewed is Store.NextUnreviewed.
func (r *Run) NextUnreviewed(after string) (string, bool) { return r.store.NextUnreviewed(after) }

// Export formats.
const (
	ExportStratos = "stratos" // Bespoke-Stratos conversations JSON Lines (RLT.md §5)
	ExportCSV     = "csv"     // step, group, sample, question, solution, explanation, reward, r_ss, r_kl
	// ExportMessages: the same rows as chat messages, the system prompt
	// the first turn (record.NewMessagesWriter): what TRL's SFTTrainer
	// reads whole, where it drops a Stratos row's system prompt.
	ExportMessages = "messages"
	// ExportParquet: ExportMessages' rows in one Parquet file, a messages
	// column of {role, content}: what verl's SFT dataset reads (Parquet
	// only).
	ExportParquet = "parquet"
)

// ExportSkip is one trace an export left out, with why.
type ExportSkip struct {
	Trace  string // trace ID, or file:line for an unreadable record
	Reason string
}

// ExportReport says what an export wrote and what it left out.
type ExportReport struct {
	Written     int
	NotReviewed int // no label: LabelNone, said "unreviewed"
	Rejected    int // labelled reject
	Flagged     int // labelled flag
	// Unreadable counts the broken records in the trace files (never
	// loaded); Run.UnreadableSaid names their lines, from the store's
	// issues, and says what to do.
	Unreadable int
	Refused    int          // accepted but not writable in the format (e.g. a reserved tag in the text)
	Refusals   []ExportSkip // why each refused trace was refused (the first 100)
	// NotReadBack counts the accepted traces whose texts could not be read
	// back from their trace files (removed, rewritten or cut short since
	// the run was opened); Unread says where each was (file:line) and why
	// (the first 100).
	NotReadBack int
	Unread      []ExportSkip
	// Lost are the trace files' partial last lines that cut short a trace
	// the run had written whole (Run.TornTraces less a killed writer's
	// last line, which is no trace the run recorded): each lost a trace,
	// reviewed or not, that the export cannot write or count by its
	// review. rlt score --run says them in the same words.
	Lost []TornTrace
	// LostReviews are the reviews of traces the export could not read
	// (Run.LostReviews: lost or unreadable after they were reviewed),
	// among those counted Unreadable or Lost: an accepted one is missing
	// from the rows, which its count alone did not say.
	LostReviews []LostReview
	// Note is what the export says beside its rows about the prompt they
	// were written with (Run.ExportPrompt: an [import] format this rlt
	// does not know); "" where there is nothing to say.
	Note string
	// Stopped says that ExportOptions.Stop ended the export after the
	// Written rows, each written whole; the counts are of the traces
	// looked at by then.
	Stopped bool
}

// ExportOptions are what ExportWith is told to do beside writing.
type ExportOptions struct {
	// Progress, where not nil, is told after each accepted trace how
	// many of the accepted traces were looked at (written, refused or
	// not read back), of how many.
	Progress func(done, accepted int)
	// Stop, where not nil, is asked before each row: true ends the
	// export there, the rows before it written whole (flushed), never a
	// part of one (a JSON Lines reader of stdout sees no half line).
	Stop func() bool
}

// LeftOut is the number of traces not written.
func (e ExportReport) LeftOut() int {
	return e.NotReviewed + e.Rejected + e.Flagged + e.Unreadable + e.Refused + e.NotReadBack + len(e.Lost)
}

func (e ExportReport) String() string {
	return fmt.Sprintf("%d written; left out: %s", e.Written, e.LeftOutWhy())
}

// LeftOutWhy says the traces an export left out by why: "2 unreviewed,
// 1 rejected, 0 flagged, 0 unreadable, 0 refused", ", 1 not read back"
// where there were such, and ", 1 lost (the 20-byte partial last line of
// FILE:4: a trace the run had written whole)" where a trace file's
// partial last line cut one short (an export said nothing of it but its
// line among the problems read, its trace unwritten and uncounted), then
// the reviews of such traces (LostReviewsSaid: an accepted trace lost was
// counted as lost or unreadable alone, its review dropped unsaid). rlt
// export and the workbench's export (e) say it alike.
func (e ExportReport) LeftOutWhy() string {
	s := fmt.Sprintf("%s, %d unreadable, %d refused", e.reviewCounts(), e.Unreadable, e.Refused)
	if e.NotReadBack > 0 {
		s += fmt.Sprintf(", %d not read back", e.NotReadBack)
	}
	if n := len(e.Lost); n > 0 {
		places := make([]string, 0, unreadShown)
		for _, t := range e.Lost[:min(n, unreadShown)] {
			places = append(places, t.String())
		}
		where := placesShown(places, n)
		what := "a trace the run had written whole"
		if n > 1 {
			what = "traces the run had written whole"
		}
		s += fmt.Sprintf(", %d lost (%s: %s)", n, where, what)
	}
	if said := LostReviewsSaid(e.LostReviews); said != "" {
		s += "; " + said
	}
	return s
}

// reviewCounts says the traces left out by their review in the words the
// workbench says a trace's review in (Label.Verdict: "unreviewed", not
// "not reviewed" here and "unreviewed" there).
func (e ExportReport) reviewCounts() string {
	return fmt.Sprintf("%d %s, %d %s, %d %s", e.NotReviewed, LabelNone.Verdict(), e.Rejected, LabelReject.Verdict(), e.Flagged, LabelFlag.Verdict())
}

// unreadShown is how many places NotReadBackSummary and LeftOutWhy's
// lost traces name.
const unreadShown = 3

// placesShown says the places named (the first unreadShown) of total:
// "A, B, C and 4 more". One wording, NotReadBackSummary's and
// LeftOutWhy's.
func placesShown(places []string, total int) string {
	where := strings.Join(places, ", ")
	if more := total - len(places); more > 0 {
		where += fmt.Sprintf(" and %d more", more)
	}
	return where
}

// NotReadBackSummary says, of an export that left out accepted traces
// whose texts could not be read back (NotReadBack), how many, where the
// first few were and why; "" when it left out none. What to do differs
// with who exported (rlt export, the workbench): the caller says it.
func (e ExportReport) NotReadBackSummary() string {
	if e.NotReadBack == 0 {
		return ""
	}
	places := make([]string, 0, unreadShown)
	for _, u := range e.Unread[:min(len(e.Unread), unreadShown)] {
		places = append(places, u.Trace)
	}
	where := placesShown(places, e.NotReadBack)
	what := "1 accepted trace"
	if e.NotReadBack > 1 {
		what = fmt.Sprintf("%d accepted traces", e.NotReadBack)
	}
	return fmt.Sprintf("%s could not be read back from the trace files (%s): the file was removed, rewritten or cut short since the run was opened, so the export leaves them out", what, where)
}

// StudentPrompt is the system prompt of the run's exported Bespoke-Stratos
// rows, the one rlt score --run scores them with: the student prompt its
// config.toml records (RowsPrompts: [prompts] student_system, the one the
// run's student was scored with; for an import, the system prompt its
// Bespoke-Stratos rows all carried, [import] student_system, else
// record.DefaultStudentSystem). A run of ours whose [prompts] records none
// (a hand edit: every run writes the prompts it resolved) takes the
// models' own (record.ModelsPrompts of its teacher's and student's
// folders: their prompts.json, else the defaults), as rlt train reads a
// configuration without one (record.PromptsFor) and rlt score --run
// scores its rows. rlt run reads no model folder's prompts.json: a
// configuration of its without [prompts] takes the embedded models' short
// prompts (run.DefaultConfig, whatever models it names; the embedded
// models' prompts.json record the same), written in its config.toml.
// The export wrote record.DefaultStudentSystem, rows
// under another prompt than their rewards were scored with, where the
// models record their own. A config.toml that is not TOML is an error
// (ConfigSyntax), not the default, and so is a model's prompts.json that
// cannot be read, or a model folder that is not there now
// (ModelFolderGone): the default in its place would be a guess.
//
// An import whose [import] format is text this rlt does not know (a newer
// rlt's, or a hand edit's) is exported with the student_system its
// [prompts] or [import] records, which every rlt import writes alike:
// the format decides only how the run's steps are numbered and named, no
// word of a row. See ExportPrompt for the note said with it; one that
// records no student_system is refused, as the default in its place is
// what this rlt's formats mean, not one it does not know.
func (r *Run) StudentPrompt() (string, error) {
	p, _, err := r.ExportPrompt()
	return p, err
}

// ExportPrompt is StudentPrompt, and the note an export says beside its
// rows where the run's config.toml has an [import] format this rlt does
// not know, whose rows it exports with the student_system recorded (""
// elsewhere): the format at its line, that the rows took the recorded
// prompt, and the way on (a newer rlt reads the rest; or fix a typo). It
// was refused as a format of the wrong type is, though the rows' prompt
// stood in the file, so the rows of a run imported by a newer rlt could
// not be exported by this one at all.
func (r *Run) ExportPrompt() (prompt, note string, err error) {
	if err := r.ConfigSyntax(); err != nil {
		return "", "", err
	}
	cfg := filepath.Join(r.dir, ConfigFile)
	// The reads below are lenient: a value of the wrong type in [prompts]
	// leaves its prompt unread, and one in [import] (a format = 3 above
	// all) the rows' student_system, so the export wrote another prompt,
	// unsaid. Refused at its line, as rlt score --run refuses it
	// (ConfigTypes); one in another table has no part in the prompt. An
	// unknown format's text is read: it is unknownFormatRule's, rlt
	// score --run's rule too (RowsConfigTypes). Both are said at once,
	// the format first (unknownFormat.first).
	format, rest := r.mistypedPastFormat()
	for _, ce := range rest {
		if table, _, _ := strings.Cut(ce.Key, "."); table == "prompts" || table == "import" {
			return "", "", format.first(fmt.Errorf("%w: the rows' system prompt is read from its table, so nothing is exported until it is fixed", ce))
		}
	}
	if format != nil {
		return r.unknownFormatRule(format, "exported", "export")
	}
	p, _ := rowsPromptsOf(r.config)
	if p.StudentSystem != "" {
		return p.StudentSystem, "", nil
	}
	p, file, err := r.ModelsPrompts()
	var gone *ModelFolderGone
	if errors.As(err, &gone) {
		// The default in its place would be a guess written into every
		// row of a data set distilled from, unsaid: refused, with the
		// ways to say which prompt the run's student had.
		return "", "", fmt.Errorf("%s's [prompts] records no student prompt, so its rows take the models' own: %w; the default in its place may not be the prompt the run's student was trained on, so nothing is exported: put the folder back at %s, set %s in %s to where it is now, or write the run's student prompt as student_system in %s's [prompts]", cfg, err, gone.Dir, gone.Key, cfg, cfg)
	}
	if err != nil {
		// Two files are in play: the way on names each, not "there" and
		// "the file".
		return "", "", fmt.Errorf("%s's [prompts] records no student prompt, so its rows take the models' own, which cannot be read: %w; mend or remove %s, or write the student's prompt as student_system in %s's [prompts]", cfg, err, file, cfg)
	}
	return p.StudentSystem, "", nil
}

// RowsConfigTypes is ConfigTypes for a command that reads an import's
// rows with the prompt they carried (rlt score --run): an [import] format
// this rlt does not know is unknownFormatRule's, as rlt export reads it
// (ExportPrompt), not a value that stops the settings' read: note says it
// where the rows' student_system is recorded, and where none is it is
// refused. done and do are what the command does with the rows
// ("scored", "score"). rlt score --run refused every unknown format,
// where rlt export wrote the same rows with the recorded prompt. An
// unknown format beside other mistyped values is said with them, first
// (unknownFormat.first): it was said only once they were fixed.
func (r *Run) RowsConfigTypes(done, do string) (note string, err error) {
	format, rest := r.mistypedPastFormat()
	if err := mistypedError(rest); err != nil {
		return "", format.first(err)
	}
	if format == nil {
		return "", nil
	}
	_, note, err = r.unknownFormatRule(format, done, do)
	return note, err
}

// unknownFormat is an [import] format that is text this rlt does not
// know (a newer rlt's, or a typo: unknownImportFormat): its name, as the
// [import] table gives it, and its problem at its line.
type unknownFormat struct {
	name string
	*ConfigError
}

// mistypedPastFormat are config.toml's mistyped values (mistypedValues),
// the problem of an [import] format that is text this rlt does not know
// apart as format (nil where there is none), for unknownFormatRule. The
// [import] table is read here once, its format's name kept for the rule
// (which read the table a second time).
func (r *Run) mistypedPastFormat() (format *unknownFormat, rest []*ConfigError) {
	im, imported := readImport(r.config)
	unknown := imported && im.src.Format != "" && im.src.Format != importFormatUnread && !slices.Contains(importFormatsWritten, im.src.Format)
	for _, ce := range mistypedValues(filepath.Join(r.dir, ConfigFile), r.config) {
		if unknown && ce.Key == "import.format" {
			format = &unknownFormat{name: im.src.Format, ConfigError: ce}
			continue
		}
		rest = append(rest, ce)
	}
	return format, rest
}

// first is err, config.toml's other mistyped values, after the format's
// problem where f is one (nil: err alone). Said at once and the format
// first, because the rest may follow from it: a newer rlt's format may
// write a key in a type this rlt does not read, so fixing those values
// by this rlt's types first could break the run for the rlt that wrote
// it. The format was said only once the rest were fixed (and then, where
// a student_system is recorded, only as a note).
func (f *unknownFormat) first(err error) error {
	if f == nil {
		return err
	}
	return fmt.Errorf("%s: a newer rlt imported it? its values may be that rlt's, so read the run with it; or correct a typo of the format; and %w",
		f.notWritten(), err)
}

// notWritten is how every word on f begins (first's, unknownFormatRule's):
// `CONFIG:LINE:COL: [import] format "X" is not one this rlt writes
// (official, ...)`.
func (f *unknownFormat) notWritten() string {
	return fmt.Sprintf("%s:%d:%d: [import] format %q is not one this rlt writes (%s)",
		f.File, f.Line, f.Column, f.name, strings.Join(importFormatsWritten, ", "))
}

// unknownFormatRule is the one rule of every command that reads an
// import's rows with the prompt they carried (rlt export, rlt score
// --run) for an [import] format that is text this rlt does not know
// (format, its problem at its line): the rows are read with the
// student_system its [prompts] or [import] records, which every rlt
// import writes alike and which the format does not change (it numbers
// and names the run's steps, ImportNumbering, no word of a row), and note
// says so with the way on; one that records none is refused, as the
// default in its place is what this rlt's formats mean, a guess for one
// it does not know. An empty format and one of the wrong type are not
// this rule's (no rlt writes them). done and do say what the command
// does with the rows ("exported", "export").
func (r *Run) unknownFormatRule(format *unknownFormat, done, do string) (prompt, note string, err error) {
	cfg := filepath.Join(r.dir, ConfigFile)
	p, from := rowsPromptsOf(r.config)
	if from == promptOfDefault {
		return "", "", fmt.Errorf("%s, and the [import] records no student_system: the default system prompt this rlt's formats mean may not be what the rows carried, so nothing is %s: %s it with the newer rlt that imported it, or write the rows' system prompt as student_system in %s's [prompts] (or correct a typo of the format)",
			format.notWritten(), done, do, cfg)
	}
	table := "[import]"
	if from == promptOfRun {
		table = "[prompts]"
	}
	return p.StudentSystem, fmt.Sprintf("%s: its rows are %s with the student_system its %s records, which does not depend on the format; a newer rlt imported it? use that rlt to read the rest of the run (its steps), or correct a typo of the format",
		format.notWritten(), done, table), nil
}

// ModelsPrompts are the models' own prompts of the run's config.toml
// teacher and student (record.ModelsPrompts of their folders: the
// teacher's prompts.json, else the student's, else the defaults), the
// prompts rlt run took where its [prompts] records none, and so those
// its rows were made with; file is as record.ModelsPrompts gives it. A
// folder the file names that is not there now (moved or removed since the
// run), where its prompts.json would decide, is a *ModelFolderGone, not
// the defaults: record.ModelsPrompts reads a folder that is not there as
// one without prompts.json, so the export and rlt score --run took the
// defaults, unsaid, where the run may have had the models' own.
func (r *Run) ModelsPrompts() (p record.Prompts, file string, err error) {
	st := r.Settings()
	return record.ModelsPromptsOr(st.Teacher, st.Student, func(key, dir string) error {
		return &ModelFolderGone{Config: filepath.Join(r.dir, ConfigFile), Key: key, Dir: dir}
	})
}

// ModelFolderGone is Run.ModelsPrompts' error where a model folder the
// run's config.toml (Config) names as Key (teacher or student) is not
// there now (Dir), so the prompts.json that decided the run's prompts,
// if it had one, cannot be read. Each caller says its own way on: the
// export's and rlt score --run's differ (a flag gives the prompt there).
type ModelFolderGone struct {
	Config, Key, Dir string
}

func (e *ModelFolderGone) Error() string {
	return fmt.Sprintf("the %s it names, %s, is not there now (moved or removed since the run), so its %s cannot be read", e.Key, e.Dir, record.PromptsFile)
}

// ExportFile is where the workbench writes a run's accepted traces, in
// the run folder.
const ExportFile = "export-accepted.jsonl"

// NothingExported is ExportAccepted's error when no row would be written:
// the run holds no trace, none is accepted, or every accepted one was
// refused or not read back. Nothing is written then, so an earlier export
// is not replaced by an empty file; Kept says whether there is one.
type NothingExported struct {
	Report ExportReport
	Dir    string
	Kept   bool
}

func (e *NothingExported) Error() string {
	written := "nothing written"
	if e.Kept {
		written += " (the earlier " + ExportFile + " is kept as it was)"
	}
	return e.Report.NothingWritten(e.Dir, "a on a trace") + "; " + written
}

// NothingWritten says why an export wrote no row from the run in dir,
// "nothing to export from DIR: …", naming the filter that left nothing:
// no trace yet, accepted traces all refused by the format or not read
// back, accepted traces all lost or unreadable after their review
// (LostReviews: accepting others is no way on for them), or none accepted
// in review, then how to accept one (acceptHow: the caller's way to label,
// "a on a trace" in the workbench). rlt export and the workbench say it
// alike; the caller adds what it wrote.
func (e ExportReport) NothingWritten(dir, acceptHow string) string {
	switch {
	case e.NotReadBack > 0:
		return fmt.Sprintf("nothing to export from %s: %s", dir, e.NotReadBackSummary())
	case e.Refused == 1:
		return fmt.Sprintf("nothing to export from %s: its accepted trace was refused (%s)", dir, e.refusedHow())
	case e.Refused > 1:
		return fmt.Sprintf("nothing to export from %s: its %d accepted traces were all refused (%s)", dir, e.Refused, e.refusedHow())
	case e.LeftOut() == 0:
		return fmt.Sprintf("nothing to export from %s: it holds no trace yet", dir)
	}
	traces := "1 trace"
	if e.LeftOut() != 1 {
		traces = fmt.Sprintf("%d traces", e.LeftOut())
	}
	lost := "" // the count adds up to the traces said
	if len(e.Lost) > 0 {
		lost = fmt.Sprintf(", %d lost", len(e.Lost))
	}
	if n := LostAccepted(e.LostReviews); n > 0 {
		// The traces accepted were lost or unreadable after their
		// review: accepting others is no way on for them.
		accepted := "its accepted trace was"
		if n > 1 {
			accepted = fmt.Sprintf("its %d accepted traces were", n)
		}
		return fmt.Sprintf("nothing to export from %s: %s not read (of %s: %s, %d unreadable%s; %s)",
			dir, accepted, traces, e.reviewCounts(), e.Unreadable, lost, LostReviewsSaid(e.LostReviews))
	}
	// The traces not read were not accepted either, or LostReviews would
	// hold their labels: said, as "no trace is accepted" alone left open
	// whether the unreadable ones had been.
	notRead := ""
	if n := e.Unreadable + len(e.Lost); n > 0 {
		notRead = fmt.Sprintf(": %s accepts none of the %d not read either", ReviewsFile, n)
		if n == 1 {
			notRead = fmt.Sprintf(": %s does not accept the one not read either", ReviewsFile)
		}
	}
	return fmt.Sprintf("nothing to export from %s: no trace is accepted in review (of %s: %s, %d unreadable%s%s); accept traces first (%s)",
		dir, traces, e.reviewCounts(), e.Unreadable, lost, notRead, acceptHow)
}

// refusedHow is the first refusal's reason, to say why the format refused
// what was accepted.
func (e ExportReport) refusedHow() string {
	if len(e.Refusals) == 0 {
		return "by the export's format"
	}
	return e.Refusals[0].Trace + ": " + e.Refusals[0].Reason
}

// errNoRows stops ExportAccepted's write of no row before its file is put
// in place.
var errNoRows = errors.New("no rows")

// ExportAccepted writes the accepted traces as Bespoke-Stratos rows to
// ExportFile in the run folder, replacing an earlier export atomically: a
// disk found full is said as one (FullDiskError), the earlier export kept.
// An export of no row writes nothing (*NothingExported, with the report).
func (r *Run) ExportAccepted() (ExportReport, error) {
	var rep ExportReport
	if err := r.writable("export"); err != nil {
		return rep, err
	}
	path := filepath.Join(r.dir, ExportFile)
	err := durable.Write(path, 0o644, func(w io.Writer) error {
		var err error
		rep, err = r.Export(w, ExportStratos)
		if err == nil && rep.Written == 0 {
			return errNoRows
		}
		return err
	})
	if errors.Is(err, errNoRows) {
		_, serr := os.Stat(path)
		return rep, &NothingExported{Report: rep, Dir: r.dir, Kept: serr == nil}
	}
	if err != nil {
		full := FullDiskError{What: ExportFile, Dir: r.dir, Again: "export again"}
		if _, serr := os.Stat(path); serr == nil {
			full.Left = "the earlier " + ExportFile + " is kept as it was"
		}
		err = full.IfFull(err)
	}
	return rep, err
}

// Export writes the accepted traces to w in format ExportStratos (rows
// with StudentPrompt as the system prompt, via record.StratosWriter) or
// ExportCSV (with a header row), in store order, and reports what it left
// out and why. Their texts are read back from the trace files, each file
// once, without their per-token arrays, which no format writes (a
// TextReader: the arrays are checked, not made); a trace that cannot be
// (its file removed or rewritten since the run was opened, or its line
// damaged) is left out, counted and placed (NotReadBack, Unread), and the
// others are written: an export is not lost as a whole for one file that
// changed. Its errors are w's as w says them, or the run's: the caller
// says they are an export's.
func (r *Run) Export(w io.Writer, format string) (ExportReport, error) {
	return r.ExportWith(w, format, ExportOptions{})
}

// ExportWith is Export telling o.Progress how far it is and stopped
// between two rows by o.Stop.
func (r *Run) ExportWith(w io.Writer, format string, o ExportOptions) (ExportReport, error) {
	rd := r.store.TextReader()
	defer rd.Close()
	return r.exportWith(w, format, rd, o)
}

// export is Export, reading the traces back with rd.
func (r *Run) export(w io.Writer, format string, rd *TraceReader) (ExportReport, error) {
	return r.exportWith(w, format, rd, ExportOptions{})
}

// exportWith is ExportWith, reading the traces back with rd.
func (r *Run) exportWith(w io.Writer, format string, rd *TraceReader, o ExportOptions) (ExportReport, error) {
	var rep ExportReport
	ew := &errWriter{w: w}
	bw := bufio.NewWriter(ew)
	var write func(t *TraceRecord) error
	var finish func() error // writes what the format keeps to its end (Parquet's footer)
	switch format {
	case ExportStratos, ExportMessages, ExportParquet:
		// The system prompt is the same on every row: a refusal of it is
		// the export's failure, not a row's.
		prompt, note, err := r.ExportPrompt()
		if err != nil {
			return rep, err
		}
		rep.Note = note
		sw := record.NewStratosWriter(bw, prompt)
		if format == ExportMessages {
			sw = record.NewMessagesWriter(bw, prompt)
		}
		if err := sw.Check("q", "e", "s"); err != nil {
			return rep, fmt.Errorf("the run's student prompt cannot be written in a row: %w", err)
		}
		write = func(t *TraceRecord) error { return sw.Write(t.Question, t.Explanation, t.Solution) }
		if format == ExportParquet {
			pm := newParquetMessages(bw, prompt)
			write = func(t *TraceRecord) error { return pm.Write(t.Question, t.Explanation, t.Solution) }
			finish = pm.Close
		}
	case ExportCSV:
		cw := csv.NewWriter(bw)
		if err := cw.Write([]string{"step", "group", "sample", "question", "solution", "explanation", "reward", "r_ss", "r_kl"}); err != nil {
			return rep, err
		}
		num := func(v float64, ok bool) string {
			if !ok {
				return ""
			}
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		write = func(t *TraceRecord) error {
			cw.Write([]string{strconv.Itoa(t.Step), strconv.Itoa(t.Group), strconv.Itoa(t.Sample), t.Question, t.Solution,
				t.Explanation, num(t.Terms.Reward, t.HasScore), num(t.Terms.RSS, t.HasScore), num(t.Terms.RKL, t.HasScore)})
			cw.Flush()
			return cw.Error()
		}
	default:
		return rep, fmt.Errorf("format %q: want %q, %q, %q or %q", format, ExportStratos, ExportMessages, ExportParquet, ExportCSV)
	}
	s := r.store
	s.mu.RLock()
	traces := make([]*TraceRecord, len(s.traces))
	for i, t := range s.traces {
		traces[i] = t.rec
	}
	labels := make([]Label, len(traces))
	for i, t := range traces {
		labels[i] = s.labelLocked(t.ID).Label
	}
	s.mu.RUnlock()
	rep.Unreadable = r.brokenTraces()
	for _, tt := range r.TornTraces() {
		if !tt.Killed {
			rep.Lost = append(rep.Lost, tt)
		}
	}
	rep.LostReviews = r.LostReviews()
	accepted, done := 0, 0
	for _, l := range labels {
		if l != LabelNone && l != LabelReject && l != LabelFlag {
			accepted++
		}
	}
	for i, t := range traces {
		if o.Stop != nil && o.Stop() {
			rep.Stopped = true
			break
		}
		switch labels[i] {
		case LabelNone:
			rep.NotReviewed++
			continue
		case LabelReject:
			rep.Rejected++
			continue
		case LabelFlag:
			rep.Flagged++
			continue
		}
		if o.Progress != nil && done > 0 {
			o.Progress(done, accepted) // the one before, looked at whatever became of it
		}
		done++
		whole, err := rd.Trace(t.ID)
		if err != nil {
			rep.NotReadBack++
			if len(rep.Unread) < maxIssues {
				rep.Unread = append(rep.Unread, ExportSkip{Trace: fmt.Sprintf("%s:%d", t.File, t.Line), Reason: err.Error()})
			}
			continue
		}
		if err := write(&whole); err != nil {
			if ew.err != nil {
				return rep, ew.err
			}
			rep.Refused++
			if len(rep.Refusals) < maxIssues {
				rep.Refusals = append(rep.Refusals, ExportSkip{Trace: t.ID, Reason: err.Error()})
			}
			continue
		}
		rep.Written++
	}
	if o.Progress != nil && done > 0 {
		o.Progress(done, accepted)
	}
	// An export of no row writes nothing (NothingExported): Parquet's
	// footer alone wrote an empty file's 183 bytes to stdout.
	if finish != nil && rep.Written > 0 {
		if err := finish(); err != nil {
			return rep, err
		}
	}
	if err := bw.Flush(); err != nil {
		return rep, err
	}
	return rep, nil
}

// brokenTraces counts the broken records in trace files.
func (r *Run) brokenTraces() int {
	r.store.mu.RLock()
	defer r.store.mu.RUnlock()
	return r.store.brokenTraces
}

// errWriter remembers the first write error, to tell a failing writer from
// a row the format refuses.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
