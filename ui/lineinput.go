package ui

import (
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// lineInput is a minimal one-line text field: typing, backspace, delete,
// left/right, home/end, ctrl+u/ctrl+w. (bubbles/textinput needs
// github.com/atotto/clipboard, which go.mod does not list yet.)
type lineInput struct {
	runes []rune
	pos   int
	limit int
}

func (l *lineInput) Value() string { return string(l.runes) }

func (l *lineInput) SetValue(s string) {
	l.runes = []rune(s)
	if l.limit > 0 && len(l.runes) > l.limit {
		l.runes = l.runes[:l.limit]
	}
	l.pos = len(l.runes)
}

// Update applies an editing key.
func (l *lineInput) Update(k tea.KeyMsg) {
	switch k.Type {
	case tea.KeyRunes, tea.KeySpace:
		rs := k.Runes
		if k.Type == tea.KeySpace {
			rs = []rune{' '}
		}
		for _, r := range rs {
			if !unicode.IsPrint(r) || (l.limit > 0 && len(l.runes) >= l.limit) {
				continue
			}
			l.runes = append(l.runes, 0)
			copy(l.runes[l.pos+1:], l.runes[l.pos:])
			l.runes[l.pos] = r
			l.pos++
		}
	case tea.KeyBackspace:
		if l.pos > 0 {
			l.runes = append(l.runes[:l.pos-1], l.runes[l.pos:]...)
			l.pos--
		}
	case tea.KeyDelete:
		if l.pos < len(l.runes) {
			l.runes = append(l.runes[:l.pos], l.runes[l.pos+1:]...)
		}
	case tea.KeyLeft:
		l.pos = max(l.pos-1, 0)
	case tea.KeyRight:
		l.pos = min(l.pos+1, len(l.runes))
	case tea.KeyHome, tea.KeyCtrlA:
		l.pos = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		l.pos = len(l.runes)
	case tea.KeyCtrlU:
		l.runes, l.pos = append([]rune{}, l.runes[l.pos:]...), 0
	case tea.KeyCtrlW:
		i := l.pos
		for i > 0 && l.runes[i-1] == ' ' {
			i--
		}
		for i > 0 && l.runes[i-1] != ' ' {
			i--
		}
		l.runes, l.pos = append(l.runes[:i], l.runes[l.pos:]...), i
	}
}

// View shows the text with a block cursor.
func (l *lineInput) View() string {
	return string(l.runes[:l.pos]) + "█" + string(l.runes[l.pos:])
}

// ViewIn is View in at most w cells: a text wider than that is cut where
// the cursor is not, each cut end marked "…", so that what is typed at
// the cursor stays in sight however long the text (a note, a path).
func (l *lineInput) ViewIn(w int) string {
	s := l.View()
	if w <= 0 || ansi.StringWidth(s) <= w {
		return s
	}
	pre, post := string(l.runes[:l.pos]), string(l.runes[l.pos:])
	if ansi.StringWidth(pre)+1 < w {
		// The text up to the cursor fits: what follows it is cut.
		return pre + "█" + ansi.Truncate(post, w-1-ansi.StringWidth(pre), "…")
	}
	// The text before the cursor is cut at its start; a little of what
	// follows the cursor stays, so that an edit in the middle reads in
	// its context.
	after := ""
	if post != "" {
		after = ansi.Truncate(post, min(ansi.StringWidth(post), max(w/4, 2)), "…")
	}
	return leftFit(pre, w-1-ansi.StringWidth(after)) + "█" + after
}
