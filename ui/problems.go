package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/internal/nouns"
	"github.com/rlt-workbench/rlt/ui/keys"
	"github.com/rlt-workbench/rlt/ui/style"
)

// severity orders the problems view: errors first.
type severity int

const (
	sevNote    severity = iota // repaired or noticed; nothing is lost
	sevWarning                 // left out or late, the rest is whole
	sevError                   // a record, checkpoint or write lost; the engine failed
)

func (s severity) mark() string {
	switch s {
	case sevError:
		return "✗"
	case sevWarning:
		return "!"
	}
	return "·"
}

// problem is one entry of the problems view.
type problem struct {
	sev     severity
	where   string // file[:line] relative to the run folder, or what reported it
	msg     string
	affects string // what it means for what the workbench shows
	trace   string // the trace it is about (enter opens it)
}

// traceGap is a trace whose per-token arrays do not match its tokens;
// where it lies is the store's (Store.TraceLine: read from a file, or
// sampled in this session and written since).
type traceGap struct {
	id   string
	step int
	what string
}

// problemsView is the ! overlay: everything wrong with the open run in
// one list — what opening found (Session.Problems), the store's issues
// (broken records skipped with file and line, repairs, checkpoints passed
// over, failed writes), the engine's errors and warnings, rows an import
// left out, traces dropped, and traces whose per-token arrays are
// incomplete.
type problemsView struct {
	open     bool
	keys     keys.Problems
	sel, top int

	list  []problem
	stale bool

	events []sessions.EventRecord // errors, skipped rows, dropped traces
	gaps   []traceGap
	fatal  string // the latest fatal engine error ("" if none)
}

// maxGaps bounds the incomplete traces listed (the count stays in the
// title).
const maxGaps = 200

func newProblemsView() problemsView {
	return problemsView{keys: keys.NewProblems(), stale: true}
}

// note takes the events of one pull that are problems.
func (p *problemsView) note(e sessions.EventRecord) {
	switch e.Kind {
	case sessions.KindError, sessions.KindSkipped, sessions.KindDropped:
		p.events = append(p.events, e)
		p.stale = true
		if e.Kind == sessions.KindError && e.Fatal {
			p.fatal = e.Error
		}
	}
}

// noteTrace checks one trace's per-token arrays.
func (p *problemsView) noteTrace(r *sessions.TraceRecord) {
	what := traceGaps(r)
	if what == "" {
		return
	}
	p.gaps = append(p.gaps, traceGap{id: r.ID, step: r.Step, what: what})
	p.stale = true
}

// traceGaps says which per-token arrays of r do not have one value per
// token ("" if all do, or the trace has no tokens: an imported trace).
func traceGaps(r *sessions.TraceRecord) string {
	var parts []string
	check := func(name string, n, have int32) {
		if n > 0 && have != n {
			parts = append(parts, fmt.Sprintf("%s has %d values for %d tokens", name, have, n))
		}
	}
	l := r.Lengths
	n := l.ExplanationTokens
	check("teacher_lp (ℓT)", n, l.TeacherLP)
	check("student_lp (ℓS)", n, l.StudentLP)
	check("d (d_k)", n, l.D)
	if l.ExplanationIDs > 0 {
		check("expl_ids", n, l.ExplanationIDs)
	}
	check("sol_lp (solution log p)", l.SolutionTokens, l.SolutionLP)
	if r.HasScore && n > 0 && r.Terms.KLMaxPos >= int(n) {
		parts = append(parts, fmt.Sprintf("the max d_k position %d is past the %d tokens", r.Terms.KLMaxPos+1, n))
	}
	return strings.Join(parts, "; ")
}

func (m *Model) resetProblems() {
	m.probs = newProblemsView()
}

// problemList is the list shown, rebuilt when something new arrived
// (listProblems). The Model rebuilds it after each message (settle).
func (m *Model) problemList() []problem {
	p := &m.probs
	if !p.stale || !m.hasRun() {
		return p.list
	}
	p.stale = false
	p.list = m.listProblems()
	p.sel = min(p.sel, max(len(p.list)-1, 0))
	return p.list
}

// problemsShown is the list as a frame shows it (the header's count, the
// overlay), reading only: the list rebuilt when the Model last settled,
// or, where something new arrived with no message since (a pull of a
// test's), listed again here without keeping it.
func (m *Model) problemsShown() []problem {
	if m.probs.stale && m.hasRun() {
		return m.listProblems()
	}
	return m.probs.list
}

// listProblems lists the open run's problems, the most severe first.
func (m *Model) listProblems() []problem {
	p := &m.probs
	dir := m.sh.run.Dir()
	rel := relativizer(dir)
	var out []problem
	if m.cur != nil {
		for _, e := range m.cur.Problems {
			for _, e := range flatten(e) {
				out = append(out, openProblem(e, rel))
			}
		}
	}
	for _, is := range m.sh.store.Issues() {
		out = append(out, issueProblem(is, dir, rel))
	}
	dropped := 0
	said := map[string]bool{} // each engine start says its data's warnings again: listed once
	for _, e := range p.events {
		if e.Kind == sessions.KindDropped { // one entry for them all
			dropped += e.Count
			continue
		}
		pr := eventProblem(e, rel)
		if key := pr.where + "\x00" + pr.msg; !said[key] {
			said[key] = true
			out = append(out, pr)
		}
	}
	if dropped > 0 {
		out = append(out, eventProblem(sessions.EventRecord{Kind: sessions.KindDropped, Count: dropped}, rel))
	}
	for _, g := range p.gaps[:min(len(p.gaps), maxGaps)] {
		where := rel(filepath.Join(dir, sessions.TracesDir, fmt.Sprintf("%06d.jsonl", g.step)))
		if file, line := m.sh.store.TraceLine(g.id); line > 0 {
			where = rel(file) + ":" + strconv.Itoa(line)
		}
		out = append(out, problem{sev: sevError, where: where, trace: g.id,
			msg:     "trace " + g.id + ": " + g.what,
			affects: "the trace is listed; its detail colours only the tokens that have a value (the others show —)"})
	}
	slices.SortStableFunc(out, func(a, b problem) int { return int(b.sev) - int(a.sev) })
	return out
}

// counts are the problems by severity.
func problemCounts(list []problem) (errs, warns, notes int) {
	for _, p := range list {
		switch p.sev {
		case sevError:
			errs++
		case sevWarning:
			warns++
		default:
			notes++
		}
	}
	return
}

// relativizer shows paths inside the run folder relative to it.
func relativizer(dir string) func(string) string {
	clean, abs := filepath.Clean(dir), absPath(dir)
	prefixes := []string{clean + string(filepath.Separator)}
	if abs != clean {
		prefixes = append(prefixes, abs+string(filepath.Separator))
	}
	return func(s string) string {
		if s == clean || s == abs || filepath.Clean(s) == clean {
			return ""
		}
		for _, p := range prefixes {
			s = strings.ReplaceAll(s, p, "")
		}
		return s
	}
}

// openProblem is one of Session.Problems.
func openProblem(err error, rel func(string) string) problem {
	var ce *sessions.ConfigError
	if errors.As(err, &ce) {
		where := rel(ce.File)
		if where == "" {
			where = sessions.ConfigFile
		}
		if ce.Line > 0 {
			where += ":" + strconv.Itoa(ce.Line)
		}
		return problem{sev: sevError, where: where, msg: ce.Msg,
			affects: "the run is shown without its settings (planned steps unknown); resuming it is refused until " + sessions.ConfigFile + " is fixed"}
	}
	return problem{sev: sevError, where: "open", msg: rel(err.Error())}
}

// configFileProblems puts on one line, for the Runs screen's message, the
// problems of a run's config.toml that err holds (each
// *sessions.ConfigError it joins or wraps: a file that does not decode, or
// values that cannot run, as a refused resume returns them), each in the
// words rlt run --resume prints but with the file's own name:
// "config.toml:4:1: steps -3 must not be negative", or
// "config.toml: grpo.samples (not set in this file, so 0): …"; false
// when err holds none.
func configFileProblems(err error) (string, bool) {
	var parts []string
	for _, ce := range configErrors(err) {
		named := *ce
		named.File = filepath.Base(ce.File)
		parts = append(parts, named.Error())
	}
	switch len(parts) {
	case 0:
		return "", false
	case 1:
		return parts[0], true
	}
	return fmt.Sprintf("%d problems: %s", len(parts), strings.Join(parts, " · ")), true
}

// configErrors are the *sessions.ConfigError values in err, through the
// joins (errors.Join) and the wrapping (fmt.Errorf's %w) around them, in
// order.
func configErrors(err error) []*sessions.ConfigError {
	switch e := err.(type) {
	case nil:
		return nil
	case *sessions.ConfigError:
		return []*sessions.ConfigError{e}
	case interface{ Unwrap() []error }:
		var out []*sessions.ConfigError
		for _, inner := range e.Unwrap() {
			out = append(out, configErrors(inner)...)
		}
		return out
	case interface{ Unwrap() error }:
		return configErrors(e.Unwrap())
	}
	return nil
}

// issueProblem classifies one of the store's issues.
func issueProblem(is sessions.Issue, dir string, rel func(string) string) problem {
	where := rel(is.File)
	if where != "" && is.Line > 0 {
		where += ":" + strconv.Itoa(is.Line)
	}
	msg := rel(is.Msg)
	p := problem{sev: sevWarning, where: where, msg: msg, trace: is.Trace}
	switch is.Kind {
	case sessions.IssueBroken:
		p.sev = sevError
		p.msg = "broken record skipped: " + strings.TrimPrefix(msg, "skipped broken record: ")
		p.affects = affectedBy(is.File, dir)
	case sessions.IssueRepaired:
		p.sev = sevNote
		rest := strings.TrimPrefix(msg, "repaired: ")
		if p.where == "" {
			// "metrics.jsonl:4: removed a partial last line": the place first.
			if loc, what, ok := strings.Cut(rest, ": "); ok && !strings.ContainsAny(loc, " ") {
				p.where, rest = loc, what
			}
		}
		p.msg = "repaired: " + rest
		p.affects = "nothing kept was lost: only what a crash left half-written was removed"
	case sessions.IssueCheckpointSkipped:
		p.sev = sevError
		p.affects = "resuming continues from an earlier checkpoint (the steps after it are done again)"
	case sessions.IssueWriteFailed:
		p.sev = sevError
		p.affects = "records wait in memory and are retried every second; checkpoints fail until they are written: free room on the run folder's disk"
	case sessions.IssueWriteRecovered:
		p.sev = sevNote
		p.affects = "nothing: the records are in their files; a checkpoint that failed meanwhile stays failed (resume from the last one)"
	case sessions.IssuePartialLine:
		// Most often a writer in the middle of a line; after a crash, the
		// one record it was writing (which Open removes).
		p.sev = sevNote
		p.affects = "the record is shown once its line is complete (left out if a crash cut it)"
	case sessions.IssueEventRefused:
		p.sev = sevNote
	}
	if p.where == "" {
		p.where = "run folder"
	}
	return p
}

// affectedBy says what a broken record of file means for the views.
func affectedBy(file, dir string) string {
	base := filepath.Base(file)
	switch {
	case base == sessions.MetricsFile:
		return "the curves lack this record (a step's values, or an evaluation's)"
	case filepath.Base(filepath.Dir(file)) == sessions.TracesDir:
		return "this trace is not in the Traces list; the step's other traces are"
	case base == sessions.ReviewsFile:
		return "a review is lost: the trace it labelled may show an older label"
	case base == sessions.EventsFile:
		return "an event is lost (a phase, a checkpoint note or an error)"
	case base == sessions.RescoresFile:
		return "a re-scoring is lost; the trace keeps its own scores"
	}
	return ""
}

// eventProblem is an engine error, a row an import left out, or traces
// dropped.
func eventProblem(e sessions.EventRecord, rel func(string) string) problem {
	switch e.Kind {
	case sessions.KindSkipped:
		where := e.File
		if e.Line > 0 {
			where += ":" + strconv.Itoa(e.Line)
			if e.Column > 0 { // the field's place, as rlt import said it
				where += ":" + strconv.Itoa(e.Column)
			}
		}
		return problem{sev: sevWarning, where: where, msg: "row left out: " + rel(e.Error),
			affects: "this row of the source is not among the traces"}
	case sessions.KindDropped:
		return problem{sev: sevWarning, where: "writer", msg: fmt.Sprintf("%s dropped: the disk fell behind the engine", nouns.Count(e.Count, "trace")),
			affects: "those traces are not in the run folder; metrics and checkpoints are"}
	}
	msg := rel(e.Error)
	if e.Severity == event.SeverityWarning && !e.Fatal {
		return problem{sev: sevWarning, where: "engine", msg: msg,
			affects: fmt.Sprintf("reported at step %d; the run goes on without what it names", e.Step)}
	}
	p := problem{sev: sevError, where: "engine", msg: msg,
		affects: fmt.Sprintf("at step %d; the run went on", e.Step)}
	if e.Fatal {
		p.affects = fmt.Sprintf("the run stopped at step %d", e.Step)
	}
	return p
}

// firstLine is s up to its first line break.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// openProblems shows the overlay.
func (m *Model) openProblems() {
	if !m.hasRun() {
		m.say("no run open: the problems view lists the open run's problems")
		return
	}
	m.probs.open, m.probs.stale = true, true // stale: traces written since have their lines
	m.problemList()
}

// problemsKey handles a key while the overlay is open.
func (m *Model) problemsKey(k tea.KeyMsg) tea.Cmd {
	p := &m.probs
	list := m.problemList()
	km := p.keys
	if d, ok := km.Move(k, p.pageRows(m.bodyHeight()), len(list)); ok {
		p.sel = min(max(p.sel+d, 0), max(len(list)-1, 0))
		return nil
	}
	// The screen keys act from the view as from the screen under it (the
	// tab strip's highlighted one): it closes, and they switch.
	if id, ok := m.screenKey(k); ok {
		p.open = false
		return m.switchTo(id)
	}
	switch {
	case key.Matches(k, m.global.Quit):
		return m.quit()
	case key.Matches(k, km.Close):
		p.open = false
	case key.Matches(k, m.global.Help):
		m.help, m.helpTop = true, 0 // the view's keys; esc comes back here
	case key.Matches(k, km.Open):
		switch {
		case len(list) == 0:
			m.say("no problem to open: nothing wrong with %s", m.openName())
		case p.sel < len(list) && list[p.sel].trace != "":
			id := list[p.sel].trace
			p.open = false
			m.open(id)
		default:
			m.say("this problem is not about one trace")
		}
	}
	return nil
}

func (p *problemsView) detailHeight(h int) int { return min(5, max(h/3, 2)) }

func (p *problemsView) pageRows(h int) int { return max(h-2-p.detailHeight(h), 1) }

// rowsShown is how many of total problems the list's n lines (pageRows)
// show: all n, or, when there are more problems than lines, n-1 above the
// line that says which are shown ("problems 4–15 of 31"). settleProblems
// scrolls by it, so that the selected problem is one of the rows drawn,
// not under that line (as runsScreen.listShown for the Runs list).
func (p *problemsView) rowsShown(n, total int) int {
	if total > n && n > 1 {
		return n - 1
	}
	return n
}

// settleProblems keeps the selected problem in sight on the overlay, h
// high: the rows shown move only as far as they must (scrollTop). The
// Model calls it after each message while the overlay is drawn (settle),
// so that problemsBody only draws.
func (m *Model) settleProblems(h int) {
	p := &m.probs
	if list := m.problemList(); len(list) > 0 {
		p.top = scrollTop(p.top, p.sel, p.rowsShown(p.pageRows(h), len(list)), len(list))
	}
}

// problemsBody renders the overlay in w×h (problemsShown), from the
// first settleProblems keeps in sight.
func (m *Model) problemsBody(w, h int) []string {
	th := m.sh.theme
	p := &m.probs
	list := m.problemsShown()
	errs, warns, notes := problemCounts(list)
	title := th.Paint(style.Spec{Attr: style.Bold}, "Problems")
	var counts []string
	if errs > 0 {
		counts = append(counts, nouns.Count(errs, "error"))
	}
	if warns > 0 {
		counts = append(counts, nouns.Count(warns, "warning"))
	}
	if notes > 0 {
		counts = append(counts, nouns.Count(notes, "note"))
	}
	if len(counts) == 0 {
		counts = append(counts, "none")
	}
	title += " · " + strings.Join(counts, ", ")
	if n := len(p.gaps); n > maxGaps {
		title += fmt.Sprintf(" (%d incomplete traces, the first %d listed)", n, maxGaps)
	}
	// What is open comes last: a failed engine's error, said there, is
	// what a narrow frame cuts, not the counts.
	title += " · " + m.openDescription()
	out := []string{title}
	if len(list) == 0 {
		out = append(out, "")
		out = append(out, splitLines(ansi.Wrap("nothing wrong: every record of "+m.openName()+" was read whole.", w, " "))...)
		for _, l := range splitLines(ansi.Wrap("This list follows the run: broken records, failed writes and engine errors appear here as they happen.", w, " ")) {
			out = append(out, th.Paint(style.Spec{Attr: style.Faint}, l))
		}
		return block(out, w, h)
	}
	n := p.pageRows(h)
	ww := 0
	for _, pr := range list {
		ww = max(ww, ansi.StringWidth(pr.where))
	}
	ww = min(ww, max(w*2/5, 12), 30)
	shown := p.rowsShown(n, len(list))
	var rows []string
	for i := p.top; i < len(list) && i < p.top+shown; i++ {
		pr := list[i]
		mark := pr.sev.mark()
		switch pr.sev {
		case sevError:
			mark = th.Paint(style.FG(style.Vermillion).With(style.Bold), mark)
		case sevWarning:
			mark = th.Paint(style.FG(style.Orange).With(style.Bold), mark)
		default:
			mark = th.Paint(style.Spec{Attr: style.Faint}, mark)
		}
		line := mark + " " + pad(leftFit(pr.where, ww), ww) + "  " + oneLine(pr.msg)
		if i == p.sel {
			line = th.Paint(style.Spec{Attr: style.Reverse}, "▸"+pad(ansi.Strip(line), max(w-1, 1)))
		} else {
			line = " " + line
		}
		rows = append(rows, line)
	}
	if shown < n {
		rows = append(rows, th.Paint(style.Spec{Attr: style.Faint},
			fmt.Sprintf("  problems %d–%d of %d", p.top+1, min(p.top+shown, len(list)), len(list))))
	}
	out = append(out, rows...)
	// The selected problem in full, under the list, in all the room it
	// leaves: an engine's error ends with what to do (free the room,
	// then resume it: the command), which a cap of 8 lines cut with "…"
	// at 80 columns over empty lines.
	dh := max(h-2-len(rows), p.detailHeight(h))
	var det []string
	if p.sel < len(list) {
		pr := list[p.sel]
		full := pr.msg
		if pr.where != "" {
			full = pr.where + ": " + full
		}
		det = append(det, splitLines(ansi.Wrap(strings.ReplaceAll(full, "\n", " · "), w, " "))...)
		var tail []string
		if pr.affects != "" {
			aff := splitLines(ansi.Wrap("affects: "+pr.affects, w, " "))
			traceLine := 0
			if pr.trace != "" {
				traceLine = 1
			}
			if len(aff) > 2 && len(det)+len(aff)+traceLine > dh { // whole where it fits
				aff = append(aff[:1], fit(aff[1]+" "+strings.Join(aff[2:], " "), w))
			}
			for _, l := range aff {
				tail = append(tail, th.Paint(style.Spec{Attr: style.Faint}, l))
			}
		}
		if pr.trace != "" {
			tail = append(tail, th.Paint(style.Spec{Attr: style.Faint}, fit("enter opens trace "+pr.trace, w)))
		}
		if keep := dh - len(tail); len(det) > keep {
			det = det[:max(keep, 1)]
			det[len(det)-1] = fit(det[len(det)-1]+" …", w)
		}
		det = append(det, tail...)
	}
	out = append(out, "")
	out = append(out, block(det, w, min(len(det), dh))...)
	return block(out, w, h)
}

// oneLine puts a multi-line message on one line.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " · ") }
