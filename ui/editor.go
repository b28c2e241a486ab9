package ui

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/style"
)

// lineNote is a message attached to a line of the editor (0-based), shown
// under it; edits above it move it with its line. A numbered note names
// its line ("line 6: …") by where the line is now, so that a line joined
// or added above it does not leave it naming the line it was on.
type lineNote struct {
	line     int
	msg      string
	numbered bool
}

// text is the note as shown: "line N: msg" for a numbered note, N its
// line's number now.
func (n lineNote) text() string {
	if n.numbered {
		return fmt.Sprintf("line %d: %s", n.line+1, n.msg)
	}
	return n.msg
}

// problemNote is how the editor shows a configuration problem (from
// Launcher.Check or Start) under a line of the text: one the text of its
// line is at fault for as "line N: problem"; one whose key the text does
// not set under its table's header (sessions.ConfigError.Line), where
// adding the key is the fix, in the words rlt run --config prints for it
// ("config.toml: reward.temperature (default 0.7, not set in this file):
// …", its Error()), so that it is neither taken for that line's problem
// nor worded twice. ok is false for a problem with no line to go under
// (about no key, or not a ConfigError): the editor shows it below the
// text, as its Error() reads.
func problemNote(err error) (note lineNote, ok bool) {
	var ce *sessions.ConfigError
	switch {
	case !errors.As(err, &ce) || ce.Line < 1:
		return lineNote{}, false
	case ce.AtItsLine():
		return lineNote{line: ce.Line - 1, msg: ce.Msg, numbered: true}, true
	}
	return lineNote{line: ce.Line - 1, msg: ce.Error()}, true
}

// textEditor is a small multi-line editor for a configuration file: typing,
// newlines, deletion, cursor motion, scrolling, and notes (validation
// errors) shown under their lines. (bubbles/textarea needs
// github.com/atotto/clipboard, which go.mod does not list.)
type textEditor struct {
	lines [][]rune
	row   int
	col   int
	goal  int // column wanted by vertical motion
	top   int // first visual row shown (lines and their notes), as settle scrolled it
	left  int // first column shown, as settle scrolled it
	notes []lineNote
}

// SetText replaces the text and moves the cursor to the start.
func (e *textEditor) SetText(s string) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	e.lines = e.lines[:0]
	for _, l := range strings.Split(s, "\n") {
		e.lines = append(e.lines, []rune(l))
	}
	e.row, e.col, e.goal, e.top, e.left = 0, 0, 0, 0, 0
	e.notes = nil
}

// Text is the content, ending with a newline.
func (e *textEditor) Text() string {
	var b strings.Builder
	for _, l := range e.lines {
		b.WriteString(string(l))
		b.WriteByte('\n')
	}
	return b.String()
}

// Cursor is the cursor's line and column, 1-based.
func (e *textEditor) Cursor() (line, col int) { return e.row + 1, e.col + 1 }

// LineCount is the number of lines.
func (e *textEditor) LineCount() int { return len(e.lines) }

// SetNotes replaces the notes; lines outside the text go to the last line.
func (e *textEditor) SetNotes(notes []lineNote) {
	e.notes = e.notes[:0]
	for _, n := range notes {
		n.line = min(max(n.line, 0), max(len(e.lines)-1, 0))
		e.notes = append(e.notes, n)
	}
	sort.SliceStable(e.notes, func(i, j int) bool { return e.notes[i].line < e.notes[j].line })
}

// GotoLine puts the cursor on line (0-based): at its start, unless it is
// there already.
func (e *textEditor) GotoLine(line int) {
	line = min(max(line, 0), max(len(e.lines)-1, 0))
	if line != e.row {
		e.row, e.col, e.goal = line, 0, 0
	}
}

// shiftNotes moves the notes below line by d lines (an inserted or removed
// line), so each stays under the line it is about.
func (e *textEditor) shiftNotes(after, d int) {
	for i := range e.notes {
		if e.notes[i].line > after {
			e.notes[i].line = max(e.notes[i].line+d, after)
		}
	}
}

func (e *textEditor) insert(rs ...rune) {
	l := e.lines[e.row]
	nl := make([]rune, 0, len(l)+len(rs))
	nl = append(append(append(nl, l[:e.col]...), rs...), l[e.col:]...)
	e.lines[e.row] = nl
	e.col += len(rs)
	e.goal = e.col
}

// Update applies an editing or motion key; it reports whether the text
// changed.
func (e *textEditor) Update(k tea.KeyMsg) bool {
	if len(e.lines) == 0 {
		e.lines = [][]rune{{}}
	}
	line := e.lines[e.row]
	switch k.Type {
	case tea.KeyRunes:
		// Typed text, or pasted text, which may hold newlines.
		changed := false
		var rs []rune
		flush := func() {
			if len(rs) > 0 {
				e.insert(rs...)
				rs, changed = rs[:0], true
			}
		}
		for _, r := range k.Runes {
			switch {
			case r == '\n':
				flush()
				e.Update(tea.KeyMsg{Type: tea.KeyEnter})
				changed = true
			case r == '\t':
				rs = append(rs, ' ', ' ')
			case unicode.IsPrint(r):
				rs = append(rs, r)
			}
		}
		flush()
		return changed
	case tea.KeySpace:
		e.insert(' ')
		return true
	case tea.KeyTab:
		e.insert(' ', ' ')
		return true
	case tea.KeyEnter:
		rest := append([]rune{}, line[e.col:]...)
		e.lines[e.row] = line[:e.col]
		e.lines = append(e.lines, nil)
		copy(e.lines[e.row+2:], e.lines[e.row+1:])
		e.lines[e.row+1] = rest
		e.shiftNotes(e.row, 1)
		e.row++
		e.col, e.goal = 0, 0
		return true
	case tea.KeyBackspace:
		if e.col > 0 {
			e.lines[e.row] = append(line[:e.col-1], line[e.col:]...)
			e.col--
			e.goal = e.col
			return true
		}
		if e.row == 0 {
			return false
		}
		prev := e.lines[e.row-1]
		e.col, e.goal = len(prev), len(prev)
		e.lines[e.row-1] = append(prev, line...)
		e.lines = append(e.lines[:e.row], e.lines[e.row+1:]...)
		e.shiftNotes(e.row-1, -1)
		e.row--
		return true
	case tea.KeyDelete:
		if e.col < len(line) {
			e.lines[e.row] = append(line[:e.col], line[e.col+1:]...)
			return true
		}
		if e.row+1 >= len(e.lines) {
			return false
		}
		e.lines[e.row] = append(line, e.lines[e.row+1]...)
		e.lines = append(e.lines[:e.row+1], e.lines[e.row+2:]...)
		e.shiftNotes(e.row, -1)
		return true
	case tea.KeyCtrlK:
		if e.col == len(line) {
			return false
		}
		e.lines[e.row] = line[:e.col]
		return true
	case tea.KeyCtrlU:
		if e.col == 0 {
			return false
		}
		e.lines[e.row] = append([]rune{}, line[e.col:]...)
		e.col, e.goal = 0, 0
		return true
	case tea.KeyLeft:
		if e.col > 0 {
			e.col--
		} else if e.row > 0 {
			e.row--
			e.col = len(e.lines[e.row])
		}
		e.goal = e.col
	case tea.KeyRight:
		if e.col < len(line) {
			e.col++
		} else if e.row+1 < len(e.lines) {
			e.row++
			e.col = 0
		}
		e.goal = e.col
	case tea.KeyUp:
		e.moveRows(-1)
	case tea.KeyDown:
		e.moveRows(1)
	case tea.KeyPgUp:
		e.moveRows(-10)
	case tea.KeyPgDown:
		e.moveRows(10)
	case tea.KeyHome, tea.KeyCtrlA:
		e.col, e.goal = 0, 0
	case tea.KeyEnd, tea.KeyCtrlE:
		e.col = len(line)
		e.goal = e.col
	case tea.KeyCtrlHome:
		e.row, e.col, e.goal = 0, 0, 0
	case tea.KeyCtrlEnd:
		e.row = len(e.lines) - 1
		e.col = len(e.lines[e.row])
		e.goal = e.col
	}
	return false
}

// moveRows moves the cursor d lines, keeping the wanted column.
func (e *textEditor) moveRows(d int) {
	e.row = min(max(e.row+d, 0), len(e.lines)-1)
	e.col = min(e.goal, len(e.lines[e.row]))
}

// noteLines is how many lines a note under a line other than the
// cursor's takes at most; the cursor's line shows its notes whole.
const noteLines = 8

// visRow is one row on screen: a line (note < 0) or a line of a note.
type visRow struct {
	line int
	note int // index into notes, -1 for the line itself
	text string
}

// widths is the gutter's width for the line numbers and the text's
// width, in w cells.
func (e *textEditor) widths(w int) (nw, tw int) {
	nw = len(fmt.Sprint(max(len(e.lines), 1))) + 1
	gutter := nw + 4 // "✗" + " " + number + " │ "
	return nw, max(w-gutter, 4)
}

// visRows is the rows of the text tw cells wide, each line followed by
// its notes wrapped, and the cursor line's row.
func (e *textEditor) visRows(tw int) (rows []visRow, cur int) {
	ni := 0
	for i := range e.lines {
		if i == e.row {
			cur = len(rows)
		}
		rows = append(rows, visRow{line: i, note: -1})
		for ; ni < len(e.notes) && e.notes[ni].line <= i; ni++ {
			parts := wrap(e.notes[ni].text(), max(tw-2, 8), math.MaxInt)
			if i != e.row && len(parts) > noteLines {
				// The cursor's line shows its notes whole; another's
				// stop at noteLines, saying how to read the rest.
				more := len(parts) - (noteLines - 1)
				parts = append(parts[:noteLines-1], fmt.Sprintf("… %d more lines: the cursor on line %d shows it whole", more, i+1))
			}
			for _, part := range parts {
				rows = append(rows, visRow{line: i, note: ni, text: part})
			}
		}
	}
	return rows, cur
}

// scrolled is the first row and the first column to show of rows (the
// text tw cells wide, h rows high; visRows), moved from e.top and e.left
// no further than they must: the cursor (one cell past the text at
// most) inside the text column, the cursor's line and, where they fit,
// the notes under it in view.
func (e *textEditor) scrolled(tw, h int, rows []visRow, cur int) (top, left int) {
	left = e.left
	if e.col < left {
		left = e.col
	}
	if e.col-left > tw-2 {
		left = e.col - (tw - 2)
	}
	end := cur
	for end+1 < len(rows) && rows[end+1].line == e.row && rows[end+1].note >= 0 {
		end++
	}
	top = e.top
	if end-top >= h {
		top = end - h + 1
	}
	if cur < top {
		top = cur
	}
	if cur-top >= h {
		top = cur - h + 1
	}
	return max(min(top, len(rows)-h), 0), left
}

// settle scrolls the editor shown in w×h cells (Lines) so that the
// cursor is in view (scrolled). Its owner calls it after each message
// while the editor is drawn, so that Lines only draws.
func (e *textEditor) settle(w, h int) {
	if w <= 0 || h <= 0 {
		return
	}
	if len(e.lines) == 0 {
		e.lines = [][]rune{{}}
	}
	_, tw := e.widths(w)
	rows, cur := e.visRows(tw)
	e.top, e.left = e.scrolled(tw, h, rows, cur)
}

// Lines renders the editor in w×h cells: a gutter with line numbers (✗ on
// lines with a note), the text scrolled to keep the cursor in view (as
// settle left it: scrolled, which moves nothing once settled), and each
// note wrapped under its line.
func (e *textEditor) Lines(w, h int, th *style.Theme) []string {
	if w <= 0 || h <= 0 {
		return nil
	}
	if len(e.lines) == 0 {
		c := *e // drawn as one empty line (settle makes it one)
		c.lines = [][]rune{{}}
		e = &c
	}
	nw, tw := e.widths(w)
	rows, cur := e.visRows(tw)
	top, left := e.scrolled(tw, h, rows, cur)
	noted := map[int]bool{}
	for _, n := range e.notes {
		noted[n.line] = true
	}
	errSpec := style.FG(style.Vermillion).With(style.Bold)
	faint := style.Spec{Attr: style.Faint}
	out := make([]string, 0, h)
	for _, r := range rows[top:min(top+h, len(rows))] {
		if r.note >= 0 {
			out = append(out, fit(strings.Repeat(" ", nw+1)+th.Paint(faint, " │ ")+th.Paint(style.FG(style.Vermillion), "↳ "+r.text), w))
			continue
		}
		mark := " "
		if noted[r.line] {
			mark = th.Paint(errSpec, "✗")
		}
		g := mark + fmt.Sprintf("%*d", nw, r.line+1) + th.Paint(faint, " │ ")
		out = append(out, fit(g+e.renderLine(r.line, left, tw, th), w))
	}
	return out
}

// renderLine shows line i from column left, cut to w cells, with the
// cursor on the cursor's line: a reversed cell where the terminal has
// attributes, else a █ (as the one-line inputs show it).
func (e *textEditor) renderLine(i, left, w int, th *style.Theme) string {
	l := e.lines[i]
	from := min(left, len(l))
	vis := strings.ReplaceAll(string(l[from:]), "\t", " ")
	if i != e.row {
		return fit(vis, w)
	}
	at := e.col - from
	rs := []rune(vis)
	before := string(rs[:at])
	if th.Profile().HasAttrs() {
		under, after := " ", ""
		if at < len(rs) {
			under, after = string(rs[at]), string(rs[at+1:])
		}
		return fit(before+th.Paint(style.Spec{Attr: style.Reverse}, under)+after, w)
	}
	return fit(before+"█"+string(rs[at:]), w)
}

// wrap breaks s into lines of at most w cells at spaces, at most n lines
// (the last one cut with "…"). A word wider than w (a long path) is
// broken across lines, not cut; widths are terminal cells (ansi.Wrap), so
// wide characters break where they fill the line.
func wrap(s string, w, n int) []string {
	w = max(w, 1)
	var out []string
	for _, para := range strings.Split(s, "\n") {
		para = strings.Join(strings.Fields(para), " ")
		if para == "" {
			continue
		}
		for _, l := range strings.Split(wrapAtSpaces(para, w), "\n") {
			out = append(out, strings.TrimRight(l, " "))
		}
	}
	if len(out) > n {
		out = out[:n]
		out[n-1] = fit(out[n-1]+" …", w)
	}
	for i := range out {
		out[i] = fit(out[i], w)
	}
	return out
}
