package heatmap

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/ui/internal/nouns"
	"github.com/rlt-workbench/rlt/ui/style"
)

// OpKind says how a reference token and a reconstruction token line up.
type OpKind uint8

const (
	Equal      OpKind = iota // same token on both sides
	Substitute               // different tokens in the same place
	Delete                   // reference token missing from the reconstruction
	Insert                   // reconstruction token absent from the reference
)

// DiffOp is one aligned column: Ref and Rec index the two sequences (-1
// for a gap).
type DiffOp struct {
	Kind     OpKind
	Ref, Rec int
}

// DiffStats counts a diff's columns.
type DiffStats struct{ Equal, Substitute, Delete, Insert int }

// Match is the share of reference tokens reproduced exactly.
func (s DiffStats) Match() float64 {
	n := s.Equal + s.Substitute + s.Delete
	if n == 0 {
		if s.Insert == 0 {
			return 1
		}
		return 0
	}
	return float64(s.Equal) / float64(n)
}

// Stats counts ops by kind.
func Stats(ops []DiffOp) DiffStats {
	var s DiffStats
	for _, o := range ops {
		switch o.Kind {
		case Equal:
			s.Equal++
		case Substitute:
			s.Substitute++
		case Delete:
			s.Delete++
		case Insert:
			s.Insert++
		}
	}
	return s
}

// DiffWords splits text into the tokens Diff aligns: runs of letters and
// digits (with the spaces before them), and single other characters
// ("6 apples, ok" is "6", " apples", ",", " ok"). The workbench's Detail
// screen and rlt report's page split a trace's reference and
// reconstruction by it, so that both show one diff.
func DiffWords(s string) []string {
	var out []string
	rs := []rune(s)
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && rs[j] == ' ' {
			j++
		}
		k := j
		for k < len(rs) && (unicode.IsLetter(rs[k]) || unicode.IsDigit(rs[k])) {
			k++
		}
		if k == j {
			if j < len(rs) {
				k = j + 1
			} else {
				k = j
			}
		}
		if k == i {
			break
		}
		out = append(out, string(rs[i:k]))
		i = k
	}
	return out
}

// maxDiffCells bounds the LCS table; beyond it the middle is aligned by
// position.
const maxDiffCells = 4 << 20

// Diff aligns ref and rec by a longest common subsequence of tokens (after
// trimming their common prefix and suffix); between matches, leftover
// reference and reconstruction tokens pair up as substitutions, the rest
// are deletions or insertions.
func Diff(ref, rec []string) []DiffOp {
	p := 0
	for p < len(ref) && p < len(rec) && ref[p] == rec[p] {
		p++
	}
	s := 0
	for s < len(ref)-p && s < len(rec)-p && ref[len(ref)-1-s] == rec[len(rec)-1-s] {
		s++
	}
	ops := make([]DiffOp, 0, max(len(ref), len(rec)))
	for i := 0; i < p; i++ {
		ops = append(ops, DiffOp{Equal, i, i})
	}
	a, b := ref[p:len(ref)-s], rec[p:len(rec)-s]
	ops = append(ops, middle(a, b, p, p)...)
	for k := 0; k < s; k++ {
		ops = append(ops, DiffOp{Equal, len(ref) - s + k, len(rec) - s + k})
	}
	return ops
}

func middle(a, b []string, offA, offB int) []DiffOp {
	n, m := len(a), len(b)
	var ops []DiffOp
	// pending unmatched runs, paired when a match or the end arrives
	var da, db []int
	flush := func() {
		k := 0
		for ; k < len(da) && k < len(db); k++ {
			ops = append(ops, DiffOp{Substitute, da[k], db[k]})
		}
		for i := k; i < len(da); i++ {
			ops = append(ops, DiffOp{Delete, da[i], -1})
		}
		for j := k; j < len(db); j++ {
			ops = append(ops, DiffOp{Insert, -1, db[j]})
		}
		da, db = da[:0], db[:0]
	}
	if n == 0 || m == 0 || (n+1)*(m+1) > maxDiffCells {
		for k := 0; k < max(n, m); k++ {
			switch {
			case k < n && k < m && a[k] == b[k]:
				flush()
				ops = append(ops, DiffOp{Equal, offA + k, offB + k})
			default:
				if k < n {
					da = append(da, offA+k)
				}
				if k < m {
					db = append(db, offB+k)
				}
			}
		}
		flush()
		return ops
	}
	// L[i][j] = LCS length of a[i:], b[j:].
	w := m + 1
	L := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				L[i*w+j] = L[(i+1)*w+j+1] + 1
			} else {
				L[i*w+j] = max(L[(i+1)*w+j], L[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			flush()
			ops = append(ops, DiffOp{Equal, offA + i, offB + j})
			i++
			j++
		case L[(i+1)*w+j] >= L[i*w+j+1]:
			da = append(da, offA+i)
			i++
		default:
			db = append(db, offB+j)
			j++
		}
	}
	for ; i < n; i++ {
		da = append(da, offA+i)
	}
	for ; j < m; j++ {
		db = append(db, offB+j)
	}
	flush()
	return ops
}

// Diff colours (Okabe–Ito): substitution orange, missing sky blue, extra
// vermillion.
var (
	diffSub = style.Orange
	diffDel = style.SkyBlue
	diffIns = style.Vermillion
)

// DiffColor is the colour a column of kind k is painted in (substituted
// orange, missing sky blue, extra vermillion), and false for Equal, which
// is not painted.
func DiffColor(k OpKind) (style.Color, bool) {
	switch k {
	case Substitute:
		return diffSub, true
	case Delete:
		return diffDel, true
	case Insert:
		return diffIns, true
	}
	return style.Color{}, false
}

// Marker glyphs in the third row of a diff block.
const (
	MarkSub = '^'
	MarkDel = '-'
	MarkIns = '+'
)

// DiffSummary says in words how the reconstruction rec differs from the
// reference ref: how many of the reference's words it reproduces and what
// changed; for a one-word answer (a number), how many characters are in
// place, so that 4888 vs 4278 does not read as nothing alike.
func DiffSummary(ref, rec []string, ops []DiffOp) string {
	st := Stats(ops)
	if st.Substitute+st.Delete+st.Insert == 0 {
		return "the same as the reference (" + nouns.Count(len(ref), "word") + ")"
	}
	s := "differs: " + strconv.Itoa(st.Equal) + " of " + nouns.Count(len(ref), "reference word") + " reproduced"
	for _, p := range []struct {
		n    int
		what string
	}{{st.Substitute, " changed"}, {st.Delete, " missing"}, {st.Insert, " extra"}} {
		if p.n > 0 {
			s += " · " + strconv.Itoa(p.n) + p.what
		}
	}
	if len(ref) == 1 && len(rec) == 1 {
		a, b := []rune(ref[0]), []rune(rec[0])
		same := 0
		for i := 0; i < min(len(a), len(b)); i++ {
			if a[i] == b[i] {
				same++
			}
		}
		s += " · " + strconv.Itoa(same) + " of " + nouns.Count(len(a), "character") + " in place"
	}
	return s
}

// subMarks is the marker row under a substituted token ta (reference)
// and tb (reconstruction), as Visible shows them before any cut, colW
// wide: ^ under each character that is not in place (differs, or one
// token has none there), as DiffSummary counts characters in place, so
// that 4888 vs 4278 marks " ^^ " and reads "2 of 4 characters in place"
// alike. A token cut to colW ends in "…": its last cell stands for every
// character from there on, and is marked when any of them is not in
// place (comparing the cut texts would set "…" against "…", or against
// the character the other token has there). Tokens whose characters are
// not one cell each (or that differ nowhere a cell shows) are marked
// whole.
func subMarks(ta, tb string, colW int) string {
	a, b := []rune(ta), []rune(tb)
	whole := strings.Repeat(string(MarkSub), colW)
	if ansi.StringWidth(ta) != len(a) || ansi.StringWidth(tb) != len(b) {
		return whole
	}
	inPlace := func(i int) bool { return i < len(a) && i < len(b) && a[i] == b[i] }
	cut := len(a) > colW || len(b) > colW
	m := []byte(strings.Repeat(" ", colW))
	some := false
	for i := range m {
		differs := !inPlace(i)
		if cut && i == colW-1 {
			for j := i; j < max(len(a), len(b)) && !differs; j++ {
				differs = !inPlace(j)
			}
		}
		if differs {
			m[i], some = MarkSub, true
		}
	}
	if !some {
		return whole
	}
	return string(m)
}

// RenderDiff lays out ops as blocks of three rows that fit width: the
// reference tokens, the reconstruction's, and a marker row (^ under each
// character substituted, - missing from the reconstruction, + extra in
// it), after a summary (wrapped to width).
// Tokens are shown as Visible shows them, newlines as ⏎ without breaking.
// The result has at most maxLines lines (≤ 0: no limit).
func RenderDiff(theme *style.Theme, ref, rec []string, ops []DiffOp, width, maxLines int) []string {
	if theme == nil {
		theme = style.PlainTheme()
	}
	if width <= 0 {
		return nil
	}
	// The summary is read whole, wrapped where the width has no room.
	lines := strings.Split(ansi.Wrap(DiffSummary(ref, rec, ops), width, " "), "\n")
	const pre = "ref │"
	prefixes := [3]string{"ref │", "rec │", "    │"}
	avail := width - ansi.StringWidth(pre)
	if avail < 2 {
		return lines
	}
	var rows [3]strings.Builder
	used := 0
	emit := func() {
		for r := range rows {
			lines = append(lines, prefixes[r]+rows[r].String())
			rows[r].Reset()
		}
		used = 0
	}
	closeSeq := theme.Close()
	cell := func(r int, text string, w, colW int, spec style.Spec, paint bool) {
		open := ""
		if paint {
			open = theme.Open(spec)
		}
		rows[r].WriteString(open)
		rows[r].WriteString(text)
		rows[r].WriteString(strings.Repeat(" ", colW-w))
		if open != "" {
			rows[r].WriteString(closeSeq)
		}
	}
	for _, op := range ops {
		var fullA, fullB string // as Visible shows them, before any cut
		if op.Ref >= 0 {
			fullA = Visible(ref[op.Ref])
		}
		if op.Rec >= 0 {
			fullB = Visible(rec[op.Rec])
		}
		ta, tb := fullA, fullB
		wa, wb := ansi.StringWidth(ta), ansi.StringWidth(tb)
		if wa > avail {
			ta = ansi.Truncate(ta, avail, "…")
			wa = ansi.StringWidth(ta)
		}
		if wb > avail {
			tb = ansi.Truncate(tb, avail, "…")
			wb = ansi.StringWidth(tb)
		}
		colW := max(wa, wb, 1)
		if used+colW > avail {
			emit()
		}
		var spec style.Spec
		mark := byte(' ')
		switch op.Kind {
		case Substitute:
			spec, mark = style.FG(style.TextOn(diffSub)).On(diffSub), MarkSub
		case Delete:
			spec, mark = style.FG(style.TextOn(diffDel)).On(diffDel), MarkDel
		case Insert:
			spec, mark = style.FG(style.TextOn(diffIns)).On(diffIns), MarkIns
		}
		paint := op.Kind != Equal
		cell(0, ta, wa, colW, spec, paint && op.Ref >= 0)
		cell(1, tb, wb, colW, spec, paint && op.Rec >= 0)
		rows[2].WriteString(opMarks(op.Kind, mark, fullA, fullB, colW))
		used += colW
	}
	if used > 0 {
		emit()
	}
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	if maxLines > 0 && len(lines) > maxLines {
		lines = lines[:maxLines]
	}
	return lines
}

// opMarks is the marker row under a column of kind k colW cells wide,
// its tokens fullA (reference) and fullB (reconstruction) as Visible
// shows them: subMarks' for a substitution, mark under every cell else.
func opMarks(k OpKind, mark byte, fullA, fullB string, colW int) string {
	if k == Substitute {
		return subMarks(fullA, fullB, colW)
	}
	return strings.Repeat(string(mark), colW)
}

// ColumnMarks is the marker row RenderDiff draws under op's column,
// where the column is not cut to the width: ^ under each character of a
// substitution that is not in place, - under a token missing from the
// reconstruction, + under an extra one, spaces under equal tokens; as
// wide as the wider of its tokens (Visible), at least 1. rlt report's
// page draws its diff's columns with it.
func ColumnMarks(ref, rec []string, op DiffOp) string {
	var a, b string
	if op.Ref >= 0 && op.Ref < len(ref) {
		a = Visible(ref[op.Ref])
	}
	if op.Rec >= 0 && op.Rec < len(rec) {
		b = Visible(rec[op.Rec])
	}
	mark := map[OpKind]byte{Substitute: MarkSub, Delete: MarkDel, Insert: MarkIns}[op.Kind]
	if mark == 0 {
		mark = ' '
	}
	return opMarks(op.Kind, mark, a, b, max(ansi.StringWidth(a), ansi.StringWidth(b), 1))
}
