package keys

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/ui/style"
)

// HelpStyle styles help text; the zero value renders plain text.
type HelpStyle struct {
	Key, Desc, Sep style.Spec
	Theme          *style.Theme
}

// DefaultHelpStyle is bold keys and faint descriptions in theme.
func DefaultHelpStyle(theme *style.Theme) HelpStyle {
	return HelpStyle{
		Key:   style.FG(style.SkyBlue).With(style.Bold),
		Desc:  style.Spec{Attr: style.Faint},
		Sep:   style.Spec{Attr: style.Faint},
		Theme: theme,
	}
}

func (s HelpStyle) paint(sp style.Spec, text string) string {
	if s.Theme == nil {
		return text
	}
	return s.Theme.Paint(sp, text)
}

func enabled(bs []key.Binding) []key.Binding {
	out := make([]key.Binding, 0, len(bs))
	for _, b := range bs {
		if b.Enabled() && (b.Help().Key != "" || b.Help().Desc != "") {
			out = append(out, b)
		}
	}
	return out
}

// ShortHelpView renders bindings on one line ("key desc • key desc"),
// whole entries only: where they do not all fit width, as many as fit
// beside a last part "• …" that says more are left out (the help overlay
// lists them). The mark was " …" after the last entry, which read as a
// phrase cut: "f flag with note …" on the Detail screen at 80 columns.
func ShortHelpView(bindings []key.Binding, width int, st HelpStyle) string {
	const sep = " • "
	const sepW = len(sep) - 2 // "•" is one cell
	bs := enabled(bindings)
	ws := make([]int, len(bs))
	total := 0
	for i, k := range bs {
		h := k.Help()
		ws[i] = ansi.StringWidth(h.Key) + 1 + ansi.StringWidth(h.Desc)
		if i > 0 {
			total += sepW
		}
		total += ws[i]
	}
	n, more := len(bs), false
	if total > width {
		// The most entries that fit beside the mark, sepW+1 cells.
		n, more = 0, true
		used := 0
		for i, w := range ws {
			if i > 0 {
				w += sepW
			}
			if used+w+sepW+1 > width {
				break
			}
			used += w
			n++
		}
	}
	var b strings.Builder
	for i, k := range bs[:n] {
		h := k.Help()
		if i > 0 {
			b.WriteString(st.paint(st.Sep, sep))
		}
		b.WriteString(st.paint(st.Key, h.Key) + " " + st.paint(st.Desc, h.Desc))
	}
	if more {
		switch {
		case n > 0:
			b.WriteString(st.paint(st.Sep, sep) + "…")
		case width >= 1:
			b.WriteString("…")
		}
	}
	return b.String()
}

// FullHelpView renders groups as columns ("key  desc", keys aligned within
// a column, 3 cells between columns). Columns that do not fit width go to
// a new band below, after a blank line; an entry wider than width is cut.
// With height > 0, lines past it are dropped and the last kept line says
// "…".
func FullHelpView(groups [][]key.Binding, width, height int, st HelpStyle) string {
	if width <= 0 {
		return ""
	}
	const gap = 3
	type column struct {
		keys, descs []string
		keyW, w     int
	}
	var cols []column
	for _, g := range groups {
		g = enabled(g)
		if len(g) == 0 {
			continue
		}
		var c column
		for _, b := range g {
			h := b.Help()
			c.keys = append(c.keys, h.Key)
			c.descs = append(c.descs, h.Desc)
			c.keyW = max(c.keyW, ansi.StringWidth(h.Key))
		}
		for _, d := range c.descs {
			c.w = max(c.w, c.keyW+2+ansi.StringWidth(d))
		}
		c.w = min(c.w, width)
		cols = append(cols, c)
	}
	var lines []string
	for start := 0; start < len(cols); {
		// Take as many columns as fit.
		end, used := start, 0
		for end < len(cols) {
			w := cols[end].w
			if end > start {
				w += gap
			}
			if end > start && used+w > width {
				break
			}
			used += w
			end++
		}
		if start > 0 {
			lines = append(lines, "")
		}
		rows := 0
		for _, c := range cols[start:end] {
			rows = max(rows, len(c.keys))
		}
		for r := 0; r < rows; r++ {
			var b strings.Builder
			pad := 0
			for ci, c := range cols[start:end] {
				if ci > 0 {
					pad += gap
				}
				if r >= len(c.keys) {
					pad += c.w
					continue
				}
				b.WriteString(strings.Repeat(" ", pad))
				k := c.keys[r] + strings.Repeat(" ", c.keyW-ansi.StringWidth(c.keys[r])) + "  "
				d := c.descs[r]
				if kw := ansi.StringWidth(k); kw >= c.w {
					k, d = ansi.Truncate(k, c.w, "…"), ""
				} else if kw+ansi.StringWidth(d) > c.w {
					d = ansi.Truncate(d, c.w-kw, "…")
				}
				b.WriteString(st.paint(st.Key, strings.TrimRight(k, " ")))
				b.WriteString(strings.Repeat(" ", len(k)-len(strings.TrimRight(k, " "))))
				b.WriteString(st.paint(st.Desc, d))
				pad = c.w - ansi.StringWidth(k+d)
			}
			lines = append(lines, b.String())
		}
		start = end
	}
	if height > 0 && len(lines) > height {
		lines = lines[:height]
		lines[height-1] = "…"
	}
	return strings.Join(lines, "\n")
}
