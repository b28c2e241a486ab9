package ui

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/heatmap"
	"github.com/rlt-workbench/rlt/ui/keys"
	"github.com/rlt-workbench/rlt/ui/style"
)

// ExportFile is where e writes the accepted traces, in the run folder.
const ExportFile = "export-accepted.jsonl"

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

	rec     sessions.TraceRecord
	has     bool
	expl    *heatmap.Heatmap
	sol     *heatmap.Heatmap
	refToks []string
	recToks []string
	ops     []heatmap.DiffOp
	view    int

	input   lineInput
	editing bool

	w, h  int
	dirty bool
	cache string
}

func newDetailScreen(sh *shared) *detailScreen {
	d := &detailScreen{sh: sh, keys: keys.NewDetail(), dirty: true,
		expl: heatmap.New(sh.theme), sol: heatmap.New(sh.theme)}
	// The brief asks for r as reject; x stays bound as in keys.Detail.
	d.keys.Reject = key.NewBinding(key.WithKeys("r", "x"), key.WithHelp("r/x", "reject"))
	d.keys.SwitchView = key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "colour by d_k / ℓT / ℓS"))
	d.sol.SetMode(heatmap.Sequential)
	d.sol.SetLabel("log p")
	d.input = lineInput{limit: 200}
	return d
}

func (d *detailScreen) loaded() bool { return d.has }
func (d *detailScreen) touch()       { d.dirty = true }

// setTrace shows trace id; false if the store has no such trace.
func (d *detailScreen) setTrace(id string) bool {
	rec, ok := d.sh.store.Trace(id)
	if !ok {
		d.sh.say("no trace %s", id)
		return false
	}
	d.rec, d.has = rec, true
	d.expl.SetTokens(rec.ExplanationTokens, nil)
	d.setView(d.view)
	d.expl.SetMarks()
	if rec.HasScore && rec.Terms.KLMaxPos >= 0 {
		d.expl.SetMarks(rec.Terms.KLMaxPos)
	}
	d.expl.SetCursor(0)
	d.expl.SetScrollTop(0)
	d.sol.SetTokens(rec.SolutionTokens, f64s(rec.SolutionLP))
	d.sol.SetMarks()
	if rec.HasScore && rec.Terms.SolutionMinPos >= 0 {
		d.sol.SetMarks(rec.Terms.SolutionMinPos)
	}
	d.refToks, d.recToks, d.ops = nil, nil, nil
	if rec.Reconstruction != "" {
		d.refToks, d.recToks = splitWords(rec.Solution), splitWords(rec.Reconstruction)
		d.ops = heatmap.Diff(d.refToks, d.recToks)
	}
	d.dirty = true
	return true
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
	d.dirty = true
}

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
	d.sh.say("read-only: %s is off, this run is open for viewing only (resume it from the Runs screen, 4, to review)", what)
	return true
}

func (d *detailScreen) review(l sessions.Label, note string) {
	if d.refuseReadOnly(string(l)) {
		return
	}
	id := d.rec.ID
	if err := d.sh.run.Review(id, l, note); err != nil {
		d.sh.say("%v", err)
		return
	}
	d.sh.say("%s: %s", id, l)
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
			d.sh.say("%s: undone (now %s)", d.rec.ID, labelText(d.sh.store.Label(d.rec.ID)))
		}
		d.dirty = true
	case key.Matches(k, km.NextUnreviewed):
		id, ok := d.sh.store.NextUnreviewed(d.rec.ID)
		if !ok {
			d.sh.say("every trace is reviewed")
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

// export writes the accepted traces to <run dir>/export-accepted.jsonl.
func (d *detailScreen) export() {
	if d.refuseReadOnly("export") {
		return
	}
	path := filepath.Join(d.sh.run.Dir(), ExportFile)
	f, err := os.Create(path)
	if err != nil {
		d.sh.say("export: %v", err)
		return
	}
	rep, err := d.sh.run.Export(f, sessions.ExportStratos)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		d.sh.say("export: %v", err)
		return
	}
	d.sh.say("exported %d accepted → %s (left out %d: %d unreviewed, %d rejected, %d flagged, %d refused)",
		rep.Written, ExportFile, rep.LeftOut(), rep.NotReviewed, rep.Rejected, rep.Flagged, rep.Refused)
}

func (d *detailScreen) View() string {
	if !d.dirty && d.cache != "" {
		return d.cache
	}
	d.dirty = false
	d.cache = d.render()
	return d.cache
}

// cursorLine tells the cursor token's exact values.
func (d *detailScreen) cursorLine() string {
	r := &d.rec
	i := d.expl.Cursor()
	if i < 0 || i >= len(r.ExplanationTokens) {
		return "no explanation tokens"
	}
	at := func(a []float32) float64 {
		if i < len(a) {
			return float64(a[i])
		}
		return math.NaN()
	}
	s := fmt.Sprintf("tok %d/%d %q ℓT %s ℓS %s d_k %s", i+1, len(r.ExplanationTokens),
		heatmap.Visible(r.ExplanationTokens[i]), num(at(r.TeacherLP), 4), num(at(r.StudentLP), 4), snum(at(r.D), 4))
	if p := r.Terms.KLMaxPos; r.HasScore && p >= 0 {
		if p == i {
			s += " · max d_k here"
		} else {
			s += fmt.Sprintf(" · max d_k at %d (m)", p+1)
		}
	}
	return s
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
				rw = "the source's reward " + num(r.SourceReward, 3) + " (not an RLT score here)"
			}
			return []string{"no per-token scores: " + src + " (rlt score --run re-scores it)", rw}
		}
		return []string{"no score on this trace", fmt.Sprintf("advantage %s", snum(r.Advantage, 3))}
	}
	t := r.Terms
	ended := "ended"
	if !r.Ended {
		ended = "no end tag"
	}
	return []string{
		fmt.Sprintf("r_SS %s (mean %s, min %s) │ r_KL %s (mean %s, max %s)",
			num(t.RSS, 3), num(t.SolutionMean, 3), num(t.SolutionMin, 3), num(t.RKL, 3), num(t.KLMean, 3), num(t.KLMax, 3)),
		fmt.Sprintf("penalty %s (%s) │ reward %s │ advantage %s", num(t.Penalty, 2), ended, num(t.Reward, 3), snum(r.Advantage, 3)),
	}
}

// solutionPart renders the solution log-probs and the diff in w×h.
func (d *detailScreen) solutionPart(w, h int) []string {
	th := d.sh.theme
	var out []string
	hd := th.Paint(style.Spec{Attr: style.Bold}, "solution")
	if m := d.rec.Terms.SolutionMinPos; d.rec.HasScore && m >= 0 && m < len(d.rec.SolutionTokens) {
		hd += fmt.Sprintf(" · min log p at %d %q %s", m+1, heatmap.Visible(d.rec.SolutionTokens[m]), num(d.rec.Terms.SolutionMin, 3))
	}
	out = append(out, hd)
	var diff []string
	if len(d.ops) > 0 {
		diff = heatmap.RenderDiff(th, d.refToks, d.recToks, d.ops, w, 0)
	} else {
		diff = []string{"no reconstruction"}
	}
	rest := h - 1
	diffH := min(len(diff)+1, max(rest/2, 2))
	solH := rest - diffH
	if len(d.rec.SolutionTokens) > 0 {
		d.sol.SetSize(w, 1<<20)
		solH = min(solH, d.sol.LineCount()+1)
		d.sol.SetSize(w, max(solH, 1))
		out = append(out, splitLines(d.sol.View())...)
	} else {
		out = append(out, "no solution tokens")
	}
	out = append(out, th.Paint(style.Spec{Attr: style.Bold}, "reference vs reconstruction"))
	out = append(out, diff...)
	return block(out, w, h)
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
		fmt.Sprintf(" · step %d group %d sample %d · %s", r.Step, r.Group, r.Sample, reviewText(lab))
	if d.sh.readOnly {
		head += " · read-only"
	}
	if lab.Note != "" {
		head += " “" + lab.Note + "”"
	}
	out := []string{head}
	if g := traceGaps(r); g != "" {
		// A record the writer or another tool left incomplete: say what
		// is missing rather than colouring tokens with no value.
		out = append(out, th.Paint(style.FG(style.Orange).With(style.Bold), "! incomplete record: "+g+"; tokens without a value are uncoloured (—)"))
	}
	out = append(out, d.breakdown()...)
	cur := d.cursorLine()
	if d.editing {
		cur = "flag note: " + d.input.View()
	}
	rest := d.h - len(out) - 1
	if d.w >= 120 {
		lw := d.w * 3 / 5
		rw := d.w - lw - 3
		d.expl.SetSize(lw, max(rest, 1))
		left := append([]string{}, splitLines(d.expl.View())...)
		right := d.solutionPart(rw, rest)
		out = append(out, cur)
		out = append(out, sideBySide(block(left, lw, rest), right, lw, " │ ")...)
	} else {
		solH := max(min(rest/2, 9), 4)
		explH := max(rest-solH, 2)
		d.expl.SetSize(d.w, explH)
		out = append(out, cur)
		out = append(out, block(splitLines(d.expl.View()), d.w, explH)...)
		out = append(out, d.solutionPart(d.w, rest-explH)...)
	}
	if len(r.ExplanationTokens) == 0 && r.Explanation != "" {
		out = append(out, "(explanation text without per-token scores) "+strings.ReplaceAll(r.Explanation, "\n", " ⏎ "))
	}
	return strings.Join(block(out, d.w, d.h), "\n")
}

func reviewText(l sessions.LabelState) string {
	if l.Label == sessions.LabelNone {
		return "unreviewed"
	}
	return labelText(l)
}
