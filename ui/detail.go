package ui

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/heatmap"
	"github.com/rlt-workbench/rlt/ui/keys"
	"github.com/rlt-workbench/rlt/ui/style"
)

// explanation palettes cycled by the switch-view key.
const (
	viewD = iota
	viewTeacher
	viewStudent
	numViews
)

var viewNames = [numViews]string{"d_k", "ℓT (teacher log p)", "ℓS (student log p)"}

type detailScreen struct {
	sh   *shared
	keys keys.Detail

	// own is the trace as recorded; rec is what is shown: own, or own
	// with the scores and per-token arrays of its rescore (useRS).
	own sessions.TraceRecord
	rec sessions.TraceRecord
	has bool
	// unread: own could not be read back from its trace file (removed or
	// rewritten since the run was opened): it is the store's listing of
	// it, its scores and the previews of its question and explanation
	// without its texts and arrays.
	unread  bool
	rs      sessions.RescoreRecord // the trace's latest rescore (rescores.jsonl)
	hasRS   bool
	rsErr   error // why rs came without its per-token arrays (nil: it has them)
	useRS   bool
	expl    *heatmap.Heatmap
	sol     *heatmap.Heatmap
	refToks []string
	recToks []string
	ops     []heatmap.DiffOp
	view    int

	// settings are the run's (task, reward coefficients); verifier is
	// its task's step checker, nil when the task has none.
	settings sessions.Settings
	verifier task.Task
	verdict  string // the open trace's verdict ("" without a verifier)
	// verdictBy names the task whose verifier said verdict: the run's,
	// or, where the run's task has none (a data file's run, task
	// "jsonl"), the one whose question the trace's is (task.Detect), as
	// the engine keeps that task's verifier for such a row.
	verdictBy string
	// perTrace scales each trace's colours by its own values (z); off:
	// the run's d_k scale and the absolute log-prob scale.
	perTrace bool
	// noRunScale: the run has no d_k of its own (an import shown by its
	// rescores), so the d_k colours are on the trace's scale.
	noRunScale bool

	input   lineInput
	editing bool

	w, h  int
	dirty bool   // the frame needs drawing again (settle)
	cache string // the frame settle drew: what View shows
}

func newDetailScreen(sh *shared) *detailScreen {
	d := &detailScreen{sh: sh, keys: keys.NewDetail(), dirty: true,
		expl: heatmap.New(sh.theme), sol: heatmap.New(sh.theme)}
	d.sol.SetMode(heatmap.Sequential)
	d.sol.SetLabel("log p")
	d.input = lineInput{limit: 200}
	if sh.run != nil {
		d.settings = sh.settings
		if t, ok := task.Lookup(d.settings.Task); ok {
			d.verifier = t
		}
	}
	return d
}

func (d *detailScreen) loaded() bool { return d.has }

// setTrace shows trace id; false if the store has no such trace. A trace
// without scores of its own (an imported one) shows its rescore, if any.
// A trace that cannot be read back from its file is shown as the store
// lists it (its scores, the starts of its question and explanation), and
// the status line says why.
func (d *detailScreen) setTrace(id string) bool {
	rec, err := d.sh.store.Trace(id)
	if errors.Is(err, sessions.ErrNoTrace) {
		d.sh.say("no trace %s", id)
		return false
	}
	var rsErr error
	d.own, d.has, d.unread = rec, true, err != nil
	d.rs, d.hasRS, rsErr = d.readRescore(id)
	d.rsErr = rsErr
	if err := errors.Join(err, rsErr); err != nil {
		d.sh.say("%s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	d.useRS = d.hasRS && !ownScores(&rec)
	d.load(0)
	return true
}

// ownScores reports whether a trace carries scores or per-token arrays of
// its own (imported traces have neither).
func ownScores(r *sessions.TraceRecord) bool {
	return r.HasScore || r.Lengths.ExplanationTokens > 0 || r.Lengths.SolutionTokens > 0
}

// withRescore is trace t with the scores and per-token arrays of its
// rescore rs in place of its own (the text, advantage and source stay).
func withRescore(t sessions.TraceRecord, rs *sessions.RescoreRecord) sessions.TraceRecord {
	t.HasScore, t.Ended, t.Terms = true, rs.Ended, rs.Terms
	t.ExplanationIDs, t.ExplanationTokens = rs.ExplanationIDs, rs.ExplanationTokens
	t.TeacherLP, t.StudentLP, t.D = rs.TeacherLP, rs.StudentLP, rs.D
	t.SolutionIDs, t.SolutionTokens, t.SolutionLP = rs.SolutionIDs, rs.SolutionTokens, rs.SolutionLP
	t.Lengths = rs.Lengths
	return t
}

// load shows d.own, or its rescore when useRS, with the token cursor at
// cursor (clamped).
func (d *detailScreen) load(cursor int) {
	rec := d.own
	if d.useRS && d.hasRS {
		rec = withRescore(d.own, &d.rs)
	} else {
		d.useRS = false
	}
	d.rec = rec
	d.expl.SetTokens(rec.ExplanationTokens, nil)
	d.setView(d.view)
	d.expl.SetMarks()
	if rec.HasScore && rec.Terms.KLMaxPos >= 0 {
		d.expl.SetMarks(rec.Terms.KLMaxPos)
	}
	d.expl.SetCursor(min(max(cursor, 0), max(len(rec.ExplanationTokens)-1, 0)))
	if cursor == 0 {
		d.expl.SetScrollTop(0)
	}
	d.sol.SetTokens(rec.SolutionTokens, f64s(rec.SolutionLP))
	d.sol.SetMarks()
	if rec.HasScore && rec.Terms.SolutionMinPos >= 0 {
		d.sol.SetMarks(rec.Terms.SolutionMinPos)
	}
	d.verdict, d.verdictBy = "", ""
	if vt := d.verifierOf(rec.Question); vt != nil {
		d.verdict, d.verdictBy = verdictText(vt.VerifyExplanation(rec.Question, rec.Explanation)), vt.Name()
	}
	d.applyScales()
	d.refToks, d.recToks, d.ops = nil, nil, nil
	if rec.Reconstruction != "" {
		d.refToks, d.recToks = heatmap.DiffWords(rec.Solution), heatmap.DiffWords(rec.Reconstruction)
		d.ops = heatmap.Diff(d.refToks, d.recToks)
	}
	d.dirty = true
}

// toggleRescore switches between the trace's own scores and its rescore.
func (d *detailScreen) toggleRescore() {
	switch {
	case !d.hasRS:
		d.sh.say("%s has no rescore: %s", d.own.ID, d.rescoreHint())
		return
	case !ownScores(&d.own):
		d.sh.say("%s has no scores of its own (imported): only its rescore to show", d.own.ID)
		return
	}
	d.useRS = !d.useRS
	d.load(d.expl.Cursor())
	switch {
	case d.useRS && d.rsErr != nil:
		// Its arrays were not read back: say why again, not just that it
		// is shown.
		d.sh.say("%s: showing its rescore without per-token arrays: %v", d.own.ID, d.rsErr)
	case d.useRS:
		d.sh.say("%s: showing its rescore (%s)", d.own.ID, sessions.RescoresFile)
	default:
		d.sh.say("%s: showing its own scores", d.own.ID)
	}
}

// rescoreHint says how to store a rescore of the run's traces: the rlt
// score command with the run's folder, to paste (quoted where the shell
// needs it; the models to give where the run records none), and what it
// needs first. A workbench holding the run (open to review or train it
// here) makes rlt score --write refuse it, as one writer at a time may
// hold it, so it is quit first; one viewing it read-only holds nothing,
// and shows the re-scores as they are written.
func (d *detailScreen) rescoreHint() string {
	dir := d.sh.run.Dir()
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	cmd := sessions.Program() + " score --run " + sessions.ShellQuote(dir)
	models := ""
	if d.settings.Teacher == "" || d.settings.Student == "" {
		cmd += " --teacher TEACHER --student STUDENT"
		models = "; TEACHER and STUDENT are the models to score with (folders, or servers' URLs): the run records none"
	}
	cmd += " --write"
	if d.sh.readOnly {
		return fmt.Sprintf("in another terminal run %s; it writes the re-scores to %s, shown here as they are written (refused while another process holds the run)%s",
			cmd, sessions.RescoresFile, models)
	}
	quit := "quit the workbench first (q)"
	if d.sh.control != nil && !d.sh.engineEnded {
		quit = "quit the workbench first (q, which stops the training here)"
	}
	return fmt.Sprintf("%s, as it holds the run and "+sessions.Program()+" score --write is refused while it does, then run %s; it writes the re-scores to %s, which "+sessions.Program()+" open %s shows%s",
		quit, cmd, sessions.RescoresFile, sessions.ShellQuote(dir), models)
}

// storeChanged picks up a rescore of the open trace that arrived (or
// changed, or vanished with a rewritten rescores.jsonl) since it was
// opened; the token cursor stays where it was.
func (d *detailScreen) storeChanged() {
	d.dirty = true
	if !d.has {
		return
	}
	rs, ok := d.sh.store.Rescore(d.own.ID)
	if ok == d.hasRS && (!ok || sameRescore(&rs, &d.rs)) {
		return
	}
	d.rsErr = nil
	if ok { // with its arrays
		if rs, _, d.rsErr = d.readRescore(d.own.ID); d.rsErr != nil {
			d.sh.say("%v", d.rsErr)
		}
	}
	d.rs, d.hasRS = rs, ok
	switch {
	case !ok:
		if !d.useRS {
			return
		}
		d.useRS = false
	case !ownScores(&d.own):
		d.useRS = true
	case !d.useRS:
		return // the trace's own scores stay shown; s shows the new rescore
	}
	d.load(d.expl.Cursor())
}

// sameRescore reports whether a and b are the same record (a later record
// of a trace has another time; the scorer or the arrays differ otherwise).
func sameRescore(a, b *sessions.RescoreRecord) bool {
	return a.Time.Equal(b.Time) && a.Teacher == b.Teacher && a.Student == b.Student && a.Reward == b.Reward &&
		a.Lengths == b.Lengths
}

// readRescore returns trace id's rescore, if it has one, with its
// per-token arrays; one whose arrays cannot be read back comes without
// them, with the error saying why.
func (d *detailScreen) readRescore(id string) (sessions.RescoreRecord, bool, error) {
	rs, err := d.sh.store.ReadRescore(id)
	if errors.Is(err, sessions.ErrNoRescore) {
		return sessions.RescoreRecord{}, false, nil
	}
	return rs, true, err
}

func (d *detailScreen) setView(v int) {
	d.view = v
	switch v {
	case viewTeacher:
		d.expl.SetValues(f64s(d.rec.TeacherLP))
		d.expl.SetMode(heatmap.Sequential)
		d.expl.SetLabel("ℓT")
	case viewStudent:
		d.expl.SetValues(f64s(d.rec.StudentLP))
		d.expl.SetMode(heatmap.Sequential)
		d.expl.SetLabel("ℓS")
	default:
		d.expl.SetValues(f64s(d.rec.D))
		d.expl.SetMode(heatmap.Diverging)
		d.expl.SetLabel("d_k")
	}
	d.applyScales()
	d.dirty = true
}

// applyScales sets the heatmaps' colour scales: per trace (z), or the
// run's d_k scale and the absolute log-prob scale.
func (d *detailScreen) applyScales() {
	if d.perTrace {
		d.expl.SetLimit(0)
		d.sol.SetLimit(0)
		return
	}
	d.sol.SetLimit(logpLimit)
	if d.view != viewD {
		d.expl.SetLimit(logpLimit)
		return
	}
	lim, ok := runDLimit(d.sh.store)
	d.noRunScale = !ok
	if !ok {
		// No trace of the run has d_k of its own (an import shown by
		// its rescores): the shown trace's, at least the minimum span.
		d.expl.SetLimit(0)
		lim = math.Max(d.expl.Limit(), minDSpan)
	}
	d.expl.SetLimit(lim)
}

// verifierOf is the verifier of a trace's question: the run's task's, or
// where the run's task has none (a data file's run), the task whose
// question grammar the question is written in (task.Detect: "347+285=?"),
// whose verifier the engine keeps for such a row (task.ReadFile); nil for
// no question, or one of no task's.
func (d *detailScreen) verifierOf(question string) task.Task {
	switch {
	case question == "":
		return nil
	case d.verifier != nil:
		return d.verifier
	}
	t, _ := task.Detect(question)
	return t
}

// verdictText is a verifier's verdict in the detail's words.
func verdictText(v task.Verdict) string {
	if !v.Valid {
		return "question not in the task's format: no verdict"
	}
	head := "incomplete"
	switch {
	case v.Clean():
		head = "correct and clean"
	case v.Complete():
		head = "correct"
	case v.Wrong > 0:
		head = "wrong"
	}
	return head + ": " + v.String()
}

// legend says what the explanation's colours mean, with the reward's
// coefficients in force and the scale in use, in lines of at most w
// cells: the longest of its wordings that fits one line (the key z
// names, the penalty's formula, "r_KL penalises it" giving way in turn),
// else the shortest wrapped at its " · ", so that what red, blue or the
// darkest colour means is never cut off the line's end. Under NO_COLOR
// it names the heatmap's monochrome bands (bold, faint, underlined) and
// their bounds, not colours the view does not show.
func (d *detailScreen) legend(w int) []string {
	tiers, noted := d.legendTiers()
	if d.view == viewD && noted {
		// Coefficients with a note (at their defaults, the rows') say
		// what the file does not: on one line, else on two broken at a
		// part's end, before the words that leave them off.
		if s, ok := longestFitting(w, tiers[:2]...); ok {
			return []string{s}
		}
		if lines := wrapPieces(tiers[1], w); len(lines) <= 2 {
			return lines
		}
	}
	if s, ok := longestFitting(w, tiers...); ok {
		return []string{s}
	}
	return wrapParts(tiers[len(tiers)-1], " · ", w)
}

// wrapPieces breaks s into lines of at most w cells after its pieces'
// ends (", " and " · ", the comma or dot kept on the line before), so
// that no coefficient or note is split across lines; nil where a piece
// is wider than w.
func wrapPieces(s string, w int) []string {
	var pieces []string
	for _, part := range strings.SplitAfter(s, ", ") {
		for _, p := range strings.SplitAfter(part, " · ") {
			if p = strings.TrimSuffix(p, " "); p != "" {
				pieces = append(pieces, p)
			}
		}
	}
	var out []string
	line := ""
	for _, p := range pieces {
		switch {
		case width(p) > w:
			return nil
		case line == "":
			line = p
		case width(line+" "+p) <= w:
			line += " " + p
		default:
			out = append(out, line)
			line = p
		}
	}
	return append(out, line)
}

// legendTiers are the legend's wordings, longest first, and whether the
// coefficients in the d_k view's first two carry a note (at their
// defaults, the rows') that its shorter ones leave off.
func (d *detailScreen) legendTiers() ([]string, bool) {
	// Where config.toml does not decode, or records an import without
	// its rows' reward, the settings' coefficients are the defaults
	// standing in: not the run's to claim. An import's rows' reward is
	// said as theirs (ShownReward).
	c, rows, known := d.settings.ShownReward()
	filled := d.settings.ShownDefaults() // said beside λ and α: the file holds no value for them
	if d.useRS && d.rs.Reward != (record.RewardConfig{}) {
		c, rows, known, filled = d.rs.Reward, false, true, nil
	}
	whose := "" // the rows' coefficients are said as theirs, not the run's
	if rows {
		whose = "the rows' "
	}
	lim := heatmap.LimitWords(d.expl.Limit())
	mono := d.expl.Monochrome()
	bands := d.expl.Bands()
	// The thresholds as the heatmap's own legend prints them (its value
	// is rounded to those digits: heatmap.BandsFor).
	_, lo, hi := bands.Text()
	if d.view != viewD && mono {
		// Bands of attributes in place of the ramp: what each is, in
		// the thresholds the heatmap's own legend line shows.
		scale, wide := "absolute scale (z)", "absolute scale (z: per trace)"
		if d.perTrace {
			scale, wide = "this trace's scale (z)", "this trace's scale (z: absolute)"
		}
		p := pct(math.Exp(-bands.Hi))
		return []string{
			wide + " · plain: log p near 0, certain · bold: ≤ −" + lo + " nats · underlined: ≤ −" + hi + ", p ≤ " + p,
			scale + " · plain: log p near 0, certain · bold: ≤ −" + lo + " · underlined: ≤ −" + hi + ", p ≤ " + p,
			scale + " · plain: near certain · bold: ≤ −" + lo + " · underlined: ≤ −" + hi,
		}, false
	}
	if d.view != viewD {
		if d.perTrace {
			return []string{
				"this trace's scale (z: absolute) · white: log p 0, certain → dark: −" + lim + ", its lowest",
				"this trace's scale (z) · white: log p 0, certain → dark: −" + lim + ", its lowest",
				"this trace's scale (z) · white: certain → dark: −" + lim + ", its lowest",
			}, false
		}
		p := pct(math.Exp(-d.expl.Limit()))
		return []string{
			"absolute scale (z: per trace) · white: log p 0, certain → dark: ≤ −" + lim + " nats, p ≤ " + p,
			"absolute scale (z) · white: log p 0, certain → dark: ≤ −" + lim + " nats, p ≤ " + p,
			"absolute scale (z) · white: certain → dark: ≤ −" + lim + ", p ≤ " + p,
		}, false
	}
	scale := "run scale (z)"
	if d.noRunScale && !d.perTrace {
		scale = "this trace's scale (no run d_k)"
	} else if d.perTrace {
		scale = "this trace's scale (z)"
	}
	wideScale := scale
	if !d.noRunScale {
		wideScale = strings.Replace(scale, "(z)", "(z: per trace)", 1)
		if d.perTrace {
			wideScale = strings.Replace(wideScale, "per trace", "run", 1)
		}
	}
	// The penalty's words, longest first: its formula and coefficients,
	// what it does and its coefficients, what it does alone. The
	// coefficients give way first: what red means (the KL reward
	// penalises it) is what the line is for, λ and α are the run's
	// settings (80 columns read "red: d_k=ℓT−ℓS>0, λ=3 α=0.01" without
	// saying what the penalty was).
	var pen [3]string
	switch {
	case !known && d.settings.Imported != "":
		pen = [3]string{"r_KL's λ, α: the trainer's, not recorded", "λ: the trainer's", "λ: the trainer's"}
	case !known:
		pen = [3]string{"r_KL's λ, α unknown: config.toml does not decode (!)", "λ unknown: config.toml (!)", "λ unknown (!)"}
	case c.KLMean != 0:
		coef := whose + fmt.Sprintf("λ=%s α=%s", gnum(c.KLMean), gnum(c.KLMax/c.KLMean)) + atDefaults(filled, "kl_mean", "kl_max")
		pen = [3]string{"penalised by r_KL=λ(mean+α·max), " + coef, "r_KL penalises it, " + coef, whose + "r_KL penalises it"}
	case c.KLMax != 0:
		note := atDefaults(filled, "kl_max")
		p := whose + "r_KL=" + gnum(c.KLMax) + "·max penalises it" + note
		pen = [3]string{p, p, whose + "r_KL penalises it"}
	default:
		p := whose + "λ=0, no KL penalty"
		pen = [3]string{p, p, "no KL penalty"}
	}
	noted := known && (whose != "" || len(filled) > 0) && (c.KLMean != 0 || c.KLMax != 0)
	if mono {
		say := func(scale, dk, pen string) string {
			return scale + " · bold: " + dk + " ≥ +" + lo + ", " + pen + " · faint: ≤ −" + lo + " · underlined: beyond ±" + hi
		}
		return []string{say(wideScale, "d_k=ℓT−ℓS", pen[0]), say(scale, "d_k=ℓT−ℓS", pen[1]),
			say(scale, "d_k=ℓT−ℓS", pen[2]), say(scale, "d_k", pen[2])}, noted
	}
	say := func(scale, dk, pen string) string { return scale + " · red: " + dk + ">0, " + pen + " · blue: <0" }
	return []string{say(wideScale, "d_k=ℓT−ℓS", pen[0]), say(scale, "d_k=ℓT−ℓS", pen[1]),
		say(scale, "d_k=ℓT−ℓS", pen[2]), say(scale, "d_k", pen[2])}, noted
}

// partsNeed is how many rows the explanation and the solution (its
// log-probs, reconstruction and diff) take shown whole below the legend:
// side by side at 120 columns and more, one above the other below.
func (d *detailScreen) partsNeed() int {
	if d.w >= 120 {
		lw := d.w * 3 / 5
		rw := d.w - lw - 3
		return max(d.explanationNeed(lw), d.solutionNeed(rw, d.diffLines(rw)))
	}
	return d.explanationNeed(d.w) + d.solutionNeed(d.w, d.diffLines(d.w))
}

// rssLegend says how r_SS, the reward's term for the student's solution,
// is made of the solution's log-probs (RLT.md: r_SS = c1·mean ℓS +
// c2·min ℓS over the solution's tokens), with the weights in force (the
// run's config.toml, an import's rows', or the rescore's, as the r_KL
// legend says them), in the longest wording that fits w cells; "" where
// none does, or where the trace has no score.
func (d *detailScreen) rssLegend(w int) string {
	if !d.rec.HasScore && !d.useRS {
		return ""
	}
	c, rows, known := d.settings.ShownReward()
	filled := d.settings.ShownDefaults()
	if d.useRS && d.rs.Reward != (record.RewardConfig{}) {
		c, rows, known, filled = d.rs.Reward, false, true, nil
	}
	whose := ""
	if rows {
		whose = "the rows' "
	}
	var tiers []string
	switch {
	case !known && d.settings.Imported != "":
		tiers = []string{"solution: r_SS=c1·mean+c2·min of its log p (ℓS); c1, c2: the trainer's, not recorded",
			"r_SS=c1·mean+c2·min of ℓS; c1, c2: the trainer's"}
	case !known:
		tiers = []string{"solution: r_SS=c1·mean+c2·min of its log p (ℓS); c1, c2 unknown: config.toml does not decode (!)",
			"r_SS=c1·mean+c2·min of ℓS; c1, c2 unknown (!)"}
	default:
		coef := whose + fmt.Sprintf("c1=%s c2=%s", gnum(c.SolutionMean), gnum(c.SolutionMin))
		weighted := whose + "r_SS=" + gnum(c.SolutionMean) + "·mean+" + gnum(c.SolutionMin) + "·min ℓS"
		note := atDefaults(filled, "solution_mean", "solution_min")
		tiers = []string{
			"solution: r_SS=c1·mean+c2·min of its log p (ℓS), " + coef + note,
			"solution: r_SS=c1·mean+c2·min of its log p (ℓS), " + coef,
			"r_SS=c1·mean+c2·min of ℓS, " + coef,
			weighted,
		}
	}
	s, ok := longestFitting(w, tiers...)
	if !ok {
		return ""
	}
	return s
}

// wrapParts breaks s into lines of at most w cells between its parts
// (split at sep, left out where a line breaks), a part wider than w
// wrapped at its spaces.
func wrapParts(s, sep string, w int) []string {
	w = max(w, 1)
	var out []string
	line := ""
	for i, part := range strings.Split(s, sep) {
		if i > 0 {
			if width(line+sep+part) <= w {
				line += sep + part
				continue
			}
			out = append(out, line)
		}
		if width(part) > w {
			wrapped := splitLines(ansi.Wrap(part, w, " "))
			out = append(out, wrapped[:len(wrapped)-1]...)
			part = wrapped[len(wrapped)-1]
		}
		line = part
	}
	return append(out, line)
}

// pct prints a probability as a short percentage.
func pct(p float64) string { return strconv.FormatFloat(100*p, 'g', 2, 64) + "%" }

func (d *detailScreen) SetSize(w, h int) {
	if w != d.w || h != d.h {
		d.w, d.h = w, h
		d.dirty = true
	}
}

func (d *detailScreen) Capturing() bool { return d.editing }

func (d *detailScreen) ShortHelp() []key.Binding {
	if d.editing {
		return []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "flag with note")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		}
	}
	return d.keys.ShortHelp()
}

func (d *detailScreen) FullHelp() [][]key.Binding { return d.keys.FullHelp() }

// refuseReadOnly says, for a run open read-only, that nothing will be
// written; true means the action must not happen.
func (d *detailScreen) refuseReadOnly(what string) bool {
	if !d.sh.readOnly {
		return false
	}
	d.sh.say("read-only: %s is off, this run is open for viewing only (when no other process holds it, enter on it in the Runs screen, 4, opens it to review)", what)
	return true
}

func (d *detailScreen) review(l sessions.Label, note string) {
	if d.refuseReadOnly(string(l)) {
		return
	}
	id := d.rec.ID
	// The label in force pressed again (r then r, a flag of the same
	// note) changes nothing: written, it was a second record that one u
	// took back to the same label, a second u needed to undo the press.
	if st := d.sh.store.Label(id); st.Label == l && st.Note == note {
		d.sh.say("%s: already %s (nothing written; u undoes it)", id, l.Verdict())
		return
	}
	if err := d.sh.run.Review(id, l, note); err != nil {
		d.sh.say("%v", err)
		return
	}
	d.sh.say("%s: %s", id, d.sh.store.Label(id).Label.Verdict())
	d.dirty = true
}

func (d *detailScreen) Update(k tea.KeyMsg) tea.Cmd {
	if d.editing {
		switch k.Type {
		case tea.KeyEnter:
			d.editing = false
			d.review(sessions.LabelFlag, strings.TrimSpace(d.input.Value()))
			return nil
		case tea.KeyEsc:
			d.editing = false
			d.dirty = true
			return nil
		}
		d.input.Update(k)
		d.dirty = true
		return nil
	}
	if !d.has {
		return nil
	}
	km := d.keys
	mv := func(m heatmap.Motion) { d.expl.MoveCursor(m); d.dirty = true }
	switch {
	case key.Matches(k, km.Left):
		mv(heatmap.Left)
	case key.Matches(k, km.Right):
		mv(heatmap.Right)
	case key.Matches(k, km.WordLeft):
		mv(heatmap.WordLeft)
	case key.Matches(k, km.WordRight):
		mv(heatmap.WordRight)
	case key.Matches(k, km.LineUp):
		mv(heatmap.Up)
	case key.Matches(k, km.LineDown):
		mv(heatmap.Down)
	case key.Matches(k, km.LineStart):
		mv(heatmap.LineStart)
	case key.Matches(k, km.LineEnd):
		mv(heatmap.LineEnd)
	case key.Matches(k, km.MaxToken):
		if d.rec.HasScore && d.rec.Terms.KLMaxPos >= 0 {
			d.expl.SetCursor(d.rec.Terms.KLMaxPos)
			d.dirty = true
		}
	case key.Matches(k, km.SwitchView):
		d.setView((d.view + 1) % numViews)
	case key.Matches(k, km.Scale):
		d.perTrace = !d.perTrace
		d.applyScales()
		d.dirty = true
		if d.perTrace {
			d.sh.say("colours scaled by this trace's own values: not comparable across traces (z: the run's scale)")
		} else {
			d.sh.say("colours on the run's scale: the same value, the same colour in every trace (z: per trace)")
		}
	case key.Matches(k, km.Rescore):
		d.toggleRescore()
	case key.Matches(k, km.Accept):
		d.review(sessions.LabelAccept, "")
	case key.Matches(k, km.Reject):
		d.review(sessions.LabelReject, "")
	case key.Matches(k, km.Flag):
		if d.refuseReadOnly("flag") {
			return nil
		}
		d.editing = true
		d.input.SetValue(d.sh.store.Label(d.rec.ID).Note)
		d.dirty = true
		return nil
	case key.Matches(k, km.Undo):
		if d.refuseReadOnly("undo") {
			return nil
		}
		if err := d.sh.run.Undo(d.rec.ID); err != nil {
			d.sh.say("%v", err)
		} else {
			d.sh.say("%s: undone (now %s)", d.rec.ID, d.sh.store.Label(d.rec.ID).Label.Verdict())
		}
		d.dirty = true
	case key.Matches(k, km.NextUnreviewed):
		// The next in the Traces list as sorted and filtered there, so
		// that reviewing e.g. the bottom quartile stays in it.
		next := d.sh.nextUnreviewed
		if next == nil {
			next = d.sh.store.NextUnreviewed
		}
		id, ok := next(d.rec.ID)
		if !ok {
			d.sh.say("no unreviewed trace left in the Traces list (its sort and filters; esc there clears them)")
			return nil
		}
		return func() tea.Msg { return openMsg{id} }
	case key.Matches(k, km.Export):
		d.export()
	case key.Matches(k, km.Back):
		return func() tea.Msg { return backMsg{} }
	}
	return nil
}

type backMsg struct{}

// export writes the accepted traces to the run folder's
// sessions.ExportFile.
func (d *detailScreen) export() {
	if d.refuseReadOnly("export") {
		return
	}
	rep, err := d.sh.run.ExportAccepted()
	if nothing := (*sessions.NothingExported)(nil); errors.As(err, &nothing) {
		msg := nothing.Error()
		if nothing.Report.NotReadBack > 0 {
			msg += "; reopen the run to read its files anew, then export again"
		}
		d.sh.say("%s%s", msg, d.notReadSaid(nothing.Report))
		return
	}
	if err != nil {
		d.sh.say("export: %v", err)
		return
	}
	// The counts in rlt export's words (unreadable too: LeftOut counts them).
	msg := fmt.Sprintf("exported %d accepted → %s (left out %d: %s)",
		rep.Written, filepath.Join(d.sh.run.Dir(), sessions.ExportFile), rep.LeftOut(), rep.LeftOutWhy())
	if rep.NotReadBack > 0 {
		// The rows read are written; the rest wait for the run read anew.
		msg += "; " + rep.NotReadBackSummary() + ": reopen the run to read its files anew, then export again"
	}
	msg += d.notReadSaid(rep)
	if rep.Note != "" { // as rlt export warns it
		msg += "; warning: " + rep.Note
	}
	// e writes Bespoke-Stratos rows only, which verl does not read and TRL
	// reads without their system prompt: nothing here said where the rows
	// for them come from.
	msg += fmt.Sprintf("; for TRL or verl: "+sessions.Program()+" export --run %s --format %s (TRL) or %s (verl) --out FILE",
		d.sh.run.Dir(), sessions.ExportMessages, sessions.ExportParquet)
	d.sh.say("%s", msg)
}

// notReadSaid says the traces of the run an export could not read at all,
// unreadable records and traces lost in a partial last line, each with
// what to do in rlt export's words (sessions.Run.UnreadableSaid,
// sessions.LostTracesSaid), then to reopen the run and export again; ""
// where there were none. The status line gave their counts alone, with no
// way on.
func (d *detailScreen) notReadSaid(rep sessions.ExportReport) string {
	var s string
	if rep.Unreadable > 0 {
		s += "; " + d.sh.run.UnreadableSaid(rep.Unreadable, "left out")
	}
	if len(rep.Lost) > 0 {
		s += "; " + sessions.LostTracesSaid(d.sh.run.Dir(), rep.Lost, "left out")
	}
	if s != "" {
		s += "; then reopen the run and export again"
	}
	return s
}

// settle draws the frame View shows again where anything it shows
// changed (dirty): the heatmaps take their sizes there (render). The
// Model calls it after each message while the detail is drawn
// (Model.Update), so that View only returns the frame.
func (d *detailScreen) settle() {
	if !d.dirty && d.cache != "" {
		return
	}
	d.dirty = false
	d.cache = d.render()
}

// View is the frame settle drew.
func (d *detailScreen) View() string { return d.cache }

// arraysFrom names where the shown record's per-token arrays are read back
// from: the rescore's line of rescores.jsonl, or the trace's file.
func (d *detailScreen) arraysFrom() string {
	if d.useRS && d.hasRS {
		return sessions.RescoresFile
	}
	return "the trace file"
}

// cursorLine tells the cursor token's exact values in w cells. Where all
// it says does not fit, whole parts give way, not cut mid-word ("· max
// d_k at…"): where the largest d_k is first (m goes there), then ℓT and
// ℓS, which d_k is the difference of; the token and its d_k stay, cut
// last.
func (d *detailScreen) cursorLine(w int) string {
	r := &d.rec
	i := d.expl.Cursor()
	if i < 0 || i >= len(r.ExplanationTokens) {
		if n := r.Lengths.ExplanationTokens; n > 0 {
			return fmt.Sprintf("the %d explanation tokens could not be read back from %s", n, d.arraysFrom())
		}
		return "no explanation tokens"
	}
	at := func(a []float32) float64 {
		if i < len(a) {
			return float64(a[i])
		}
		return math.NaN()
	}
	tok := fmt.Sprintf("tok %d/%d %q", i+1, len(r.ExplanationTokens), heatmap.Visible(r.ExplanationTokens[i]))
	dk := " d_k " + snum(at(r.D), 4)
	values := tok + " ℓT " + num(at(r.TeacherLP), 4) + " ℓS " + num(at(r.StudentLP), 4) + dk
	whole := values
	if p := r.Terms.KLMaxPos; r.HasScore && p >= 0 {
		if p == i {
			whole += " · max d_k here"
		} else {
			whole += fmt.Sprintf(" · max d_k at %d (m)", p+1)
		}
	}
	if s, ok := longestFitting(w, whole, values, tok+dk); ok {
		return s
	}
	return fit(tok+dk, w)
}

func (d *detailScreen) breakdown() []string {
	r := &d.rec
	if !r.HasScore {
		if r.HasSourceReward || r.Source != "" {
			// An imported trace: the source's reward is not one of our scores.
			src := "imported"
			if r.Source != "" {
				src = "imported from " + r.Source
			}
			rw := "no reward recorded"
			if r.HasSourceReward {
				rw = "source reward " + num(r.SourceReward, 3) + " (not an RLT score)"
			}
			// The command, with the run's folder, is s's to say whole: on
			// this line a long folder would be cut, not pasteable.
			return []string{"no per-token scores: " + src, rw + " · re-score it: s says how"}
		}
		return []string{"no score on this trace", fmt.Sprintf("advantage %s", snum(r.Advantage, 3))}
	}
	t := r.Terms
	ended := "ended"
	if !r.Ended {
		ended = "no end tag"
	}
	var out []string
	if d.useRS {
		out = append(out, d.rescoreLabel()...)
	}
	out = append(out, fmt.Sprintf("r_SS %s (mean %s, min %s) │ r_KL %s (mean %s, max %s)",
		num(t.RSS, 3), num(t.SolutionMean, 3), num(t.SolutionMin, 3), num(t.RKL, 3), num(t.KLMean, 3), num(t.KLMax, 3)))
	last := fmt.Sprintf("penalty %s (%s) │ reward %s", num(t.Penalty, 2), ended, num(t.Reward, 3))
	if d.useRS {
		// The advantage is relative to the group's sampled rewards: it is
		// not the rescore's.
		last += " (rescore)"
	} else {
		last += " │ advantage " + snum(r.Advantage, 3)
	}
	out = append(out, last)
	if src := sourceText(r); src != "" {
		out = append(out, src)
	}
	return out
}

// sourceText tells where an imported trace came from and the reward its
// source recorded ("" for a trace of our own).
func sourceText(r *sessions.TraceRecord) string {
	var parts []string
	if r.Source != "" {
		parts = append(parts, "imported from "+r.Source)
	}
	if r.HasSourceReward {
		parts = append(parts, "the source's reward "+num(r.SourceReward, 3))
	}
	return strings.Join(parts, " · ")
}

// rescoreLabel says where the scores shown come from: when the rescore
// ran, the scorer's models and its coefficients.
func (d *detailScreen) rescoreLabel() []string {
	rs := &d.rs
	th := d.sh.theme
	what := "re-scored"
	if !rs.Time.IsZero() {
		what += " " + rs.Time.UTC().Format("2006-01-02 15:04 UTC")
	}
	what += " (" + sessions.RescoresFile + ")"
	if ownScores(&d.own) {
		what += " · s: its own scores"
	} else {
		what += " · no scores of its own"
	}
	models := fmt.Sprintf("teacher %s · student %s", shortPath(rs.Teacher), shortPath(rs.Student))
	c := rs.Reward
	coef := "coefficients not recorded"
	if c != (record.RewardConfig{}) {
		coef = c.Summary() // as rlt distill --best-of says its reward
		// Log-probs at another temperature than the run's (an inference
		// server's prompt log-probs are of the raw logits: τ 1) say so.
		// An imported run's is its rows' τ where it records their reward
		// (ShownReward), else the default, which rlt score --run then
		// scores with; a config.toml that does not decode gives none.
		run, rows, known := d.settings.ShownReward()
		whose := "the run's"
		switch {
		case rows:
			whose = "the rows'"
		case d.settings.Imported != "":
			whose, known = "the default", true
		}
		if run := run.Temperature; known && run > 0 && c.Temperature != run {
			coef += fmt.Sprintf(" · log-probs at τ %s, not %s %s", gnum(c.Temperature), whose, gnum(run))
		}
	}
	return []string{th.Paint(style.FG(style.SkyBlue).With(style.Bold), what), "  " + models, "  " + coef}
}

// atDefaults says which of keys, reward keys whose values a viewer
// shows, the run's config.toml leaves to their defaults (filled:
// sessions.Settings.ShownDefaults): " (kl_max at its default)", " (kl_mean
// and kl_max at their defaults)"; "" where it sets them all. The values
// are the ones the run resumes and is scored with (sessions.RunReward),
// but not the file's: a hand edit took them out.
func atDefaults(filled []string, keys ...string) string {
	var at []string
	for _, k := range keys {
		if slices.Contains(filled, k) {
			at = append(at, k)
		}
	}
	switch len(at) {
	case 0:
		return ""
	case 1:
		return " (" + at[0] + " at " + sessions.Defaults(1) + ")"
	}
	return " (" + strings.Join(at[:len(at)-1], ", ") + " and " + at[len(at)-1] + " at " + sessions.Defaults(len(at)) + ")"
}

// gnum prints a coefficient as short as it is exact.
func gnum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// shortPath keeps the last two elements of a long path ("…/models/teacher"),
// or the host of a server's URL.
func shortPath(p string) string {
	if p == "" {
		return "?"
	}
	if len(p) <= 24 {
		return p
	}
	// A server the scores came from (rlt score --teacher URL): its host.
	if _, rest, ok := strings.Cut(p, "://"); ok {
		host, _, _ := strings.Cut(rest, "/")
		return host
	}
	dir, base := filepath.Split(filepath.Clean(p))
	return "…" + string(filepath.Separator) + filepath.Join(filepath.Base(dir), base)
}

// diffLines is the reference vs reconstruction diff at width w, its
// summary first.
func (d *detailScreen) diffLines(w int) []string {
	if len(d.ops) == 0 {
		return []string{"no reconstruction"}
	}
	return heatmap.RenderDiff(d.sh.theme, d.refToks, d.recToks, d.ops, w, 0)
}

// solutionLines is how many lines the solution's log-probs take at width
// w shown whole: its heatmap's legend and lines, or the line that says
// there are none.
func (d *detailScreen) solutionLines(w int) int {
	if len(d.rec.SolutionTokens) == 0 {
		return 1
	}
	return d.sol.LineCountAt(w) + 1
}

// solutionNeed is how many lines solutionPart takes at width w to show
// all it has: its header, the log-probs, the reconstruction's title and
// the diff (diffLines at w).
func (d *detailScreen) solutionNeed(w int, diff []string) int {
	return 1 + d.solutionLines(w) + 1 + len(diff)
}

// explanationNeed is how many lines the explanation takes at width w
// shown whole (explanationPart; the heatmap's legend included).
func (d *detailScreen) explanationNeed(w int) int {
	if r := &d.rec; len(r.ExplanationTokens) == 0 && (r.Explanation != "" || d.unread) {
		return len(d.explanationPart(w))
	}
	return d.expl.LineCountAt(w) + 1
}

// solutionPart renders the solution log-probs and the diff in w×h. The
// diff (its summary and the ref, rec and marker rows) is read whole
// where h has room for it and one line of the log-probs: the log-probs'
// heatmap gives way first (its header still names the least likely
// token).
func (d *detailScreen) solutionPart(w, h int, diff []string) []string {
	th := d.sh.theme
	var out []string
	hd := th.Paint(style.Spec{Attr: style.Bold}, "solution")
	if m := d.rec.Terms.SolutionMinPos; d.rec.HasScore && m >= 0 && m < len(d.rec.SolutionTokens) {
		hd += fmt.Sprintf(" · min log p at %d %q %s", m+1, heatmap.Visible(d.rec.SolutionTokens[m]), num(d.rec.Terms.SolutionMin, 3))
	}
	out = append(out, hd)
	rest := h - 1
	diffH := len(diff) + 1 // the reconstruction's title and the diff
	if len(d.rec.SolutionTokens) > 0 {
		solH := min(d.solutionLines(w), max(rest-diffH, 1))
		d.sol.SetSize(w, solH)
		out = append(out, splitLines(d.sol.View())...)
	} else if n := d.rec.Lengths.SolutionTokens; n > 0 {
		out = append(out, fmt.Sprintf("the %d solution tokens could not be read back", n))
	} else {
		out = append(out, "no solution tokens")
	}
	out = append(out, th.Paint(style.Spec{Attr: style.Bold}, "reconstruction")+
		th.Paint(style.Spec{Attr: style.Faint}, reconstructionTitle(w-len("reconstruction"))))
	out = append(out, diff...)
	return block(out, w, h)
}

// reconstructionTitle says what the reconstruction is after its name, in
// the longest of its wordings that fits w cells: cut at the panel's edge
// it read "… given the question and this explana…" at 80 columns.
func reconstructionTitle(w int) string {
	s, _ := longestFitting(w,
		": the student's greedy answer given the question and this explanation, vs the reference",
		": the student's greedy answer from this explanation, vs the reference",
		": the student's greedy answer vs the reference",
		": the student's greedy answer",
		" vs the reference",
	)
	return s
}

func (d *detailScreen) render() string {
	if d.w <= 0 || d.h <= 0 {
		return ""
	}
	if !d.has {
		return strings.Join(block([]string{"Detail", "", "no trace open: choose one on the Traces screen (2) and press enter"}, d.w, d.h), "\n")
	}
	th := d.sh.theme
	r := &d.rec
	lab := d.sh.store.Label(r.ID)
	head := th.Paint(style.Spec{Attr: style.Bold}, "trace "+r.ID) +
		fmt.Sprintf(" · step %d group %d sample %d · %s", r.Step, r.Group, r.Sample, lab.Label.Verdict())
	if d.sh.readOnly {
		head += " · read-only"
	}
	if lab.Note != "" {
		head += " “" + lab.Note + "”"
	}
	out := []string{head}
	if g := traceGaps(r); g != "" {
		// A record the writer or another tool left incomplete: say what
		// is missing rather than colouring tokens with no value, and how
		// those are drawn (in italics under NO_COLOR, where every token
		// is uncoloured).
		out = append(out, th.Paint(style.FG(style.Orange).With(style.Bold), "! incomplete record: "+g+"; tokens without a value are "+d.expl.NoValueLook()+" (—)"))
	}
	out = append(out, d.context()...)
	for _, l := range d.breakdown() {
		// Read whole, broken between its parts where it does not fit
		// (terms of many digits), not cut mid-number.
		out = append(out, wrapParts(l, " │ ", d.w)...)
	}
	cur := d.cursorLine(d.w)
	if d.editing {
		const label = "flag note: "
		cur = label + d.input.ViewIn(d.w-len(label))
	}
	legend := d.legend(d.w)
	for i, l := range legend {
		legend[i] = th.Paint(style.Spec{Attr: style.Faint}, l)
	}
	rest := d.h - len(out) - 1 - len(legend) // the cursor and legend lines
	// r_SS's formula, with the run's weights, on a line of its own under
	// the colours' legend where the screen has a row to spare for it: the
	// explanation and the solution with its reconstruction shown whole
	// below. It takes no row they need.
	if rss := d.rssLegend(d.w); rss != "" && rest-1 >= d.partsNeed() {
		legend = append(legend, th.Paint(style.Spec{Attr: style.Faint}, rss))
		rest--
	}
	if d.w >= 120 {
		lw := d.w * 3 / 5
		rw := d.w - lw - 3
		d.expl.SetSize(lw, max(rest, 1))
		left := d.explanationPart(lw)
		right := d.solutionPart(rw, rest, d.diffLines(rw))
		out = append(append(out, cur), legend...)
		out = append(out, sideBySide(block(left, lw, rest), right, lw, " │ ")...)
	} else {
		out = append(append(out, cur), legend...)
		solH := max(min(rest/2, 9), 4)
		diff := d.diffLines(d.w)
		if need := d.solutionNeed(d.w, diff); need > solH {
			// The reconstruction is read whole (the diff's ref, rec and
			// marker rows), its lines taken from the explanation down to
			// its legend and three lines, where it has more: the
			// explanation's heatmap scrolls to its cursor.
			solH = max(solH, min(need, rest-min(d.explanationNeed(d.w), 4)))
		}
		explH := max(rest-solH, 2)
		d.expl.SetSize(d.w, explH)
		out = append(out, block(d.explanationPart(d.w), d.w, explH)...)
		out = append(out, d.solutionPart(d.w, rest-explH, diff)...)
	}
	return strings.Join(block(out, d.w, d.h), "\n")
}

// explanationPart is the explanation's heatmap, or, for a trace without
// per-token scores (imported, or its arrays not read back), its text
// wrapped to w in the heatmap's place: the start the store lists where
// the text was not read back either.
func (d *detailScreen) explanationPart(w int) []string {
	r := &d.rec
	if len(r.ExplanationTokens) == 0 && d.unread {
		text := "(the explanation's start: its text and tokens could not be read back) " + r.ExplanationPreview
		return splitLines(ansi.Wrap(text, w, " "))
	}
	if len(r.ExplanationTokens) == 0 && r.Explanation != "" {
		text := "(explanation text without per-token scores) " + strings.ReplaceAll(r.Explanation, "\n", " ⏎ ")
		return splitLines(ansi.Wrap(text, w, " "))
	}
	return splitLines(d.expl.View())
}

// context is what the explanation answers: the question, the reference
// solution and, where the run's task or the question's has a verifier
// (verifierOf), its verdict on the explanation, each read whole: wrapped to the width, and on a short
// screen sharing a line where it has room for them.
func (d *detailScreen) context() []string {
	r := &d.rec
	th := d.sh.theme
	q := "question " + flat(r.Question)
	ref := "reference " + flat(r.Solution)
	switch {
	case d.unread:
		q = "question (its start; not read back) " + r.QuestionPreview
		ref = "reference not read back"
	case r.Question == "":
		q = "no question recorded"
	}
	if r.Solution == "" && !d.unread {
		ref = "no reference solution"
	}
	var v string
	if d.verdict != "" {
		v = "verifier (" + d.verdictBy + "): " + d.verdict
	}
	bold := func(s string) string { return th.Paint(style.Spec{Attr: style.Bold}, s) }
	wrap := func(s string) []string { return splitLines(ansi.Wrap(s, max(d.w, 1), " ")) }
	short := d.h < 30
	if short {
		line := q + " · " + ref
		if v != "" {
			line += " · " + v
		}
		if width(line) <= d.w {
			return []string{strings.Replace(line, q, bold(q), 1)}
		}
	}
	// Each read whole, whatever the width: the question wrapped; on a
	// short screen the reference (and then the verdict) after the
	// question's last line where it fits there whole, else on lines of
	// its own.
	var out []string
	for _, l := range wrap(q) {
		out = append(out, bold(l))
	}
	for _, part := range []string{ref, v} {
		if part == "" {
			continue
		}
		if last := out[len(out)-1]; short && width(last+" · "+part) <= d.w {
			out[len(out)-1] = last + " · " + part
			continue
		}
		out = append(out, wrap(part)...)
	}
	return out
}

// flat shows text on one line (newlines as ⏎).
func flat(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ⏎ ")
}
