// Package keys holds the workbench's key maps, one per screen, with help
// text, and a renderer that lays help entries out in columns for a width.
//
// Each map has ShortHelp() []key.Binding and FullHelp() [][]key.Binding,
// so it satisfies bubbles/help's KeyMap too; this package itself imports
// only bubbles/key, not Bubble Tea.
package keys

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
)

func bind(keys []string, help, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
}

// Global keys work on every screen (unless a text input has focus).
type Global struct {
	Quit       key.Binding
	Help       key.Binding
	NextScreen key.Binding
	PrevScreen key.Binding
	GoScreen   key.Binding // 1–3: jump to a run's screen by number
	Runs       key.Binding // 4: the Runs screen (start, resume, open runs)
	Problems   key.Binding // !: the open run's problems (broken records, errors, warnings)
}

// NewGlobal returns the global key map.
func NewGlobal() Global {
	return Global{
		Quit:       bind([]string{"q", "ctrl+c"}, "q", "quit"),
		Help:       bind([]string{"?"}, "?", "help"),
		NextScreen: bind([]string{"tab"}, "tab", "next screen"),
		PrevScreen: bind([]string{"shift+tab"}, "S-tab", "prev screen"),
		GoScreen:   bind([]string{"1", "2", "3"}, "1-3", "dashboard/traces/detail"),
		Runs:       bind([]string{"4"}, "4", "runs: start/resume/open"),
		Problems:   bind([]string{"!"}, "!", "problems of this run"),
	}
}

// ShortHelp is the one-line help.
func (k Global) ShortHelp() []key.Binding { return []key.Binding{k.Help, k.Runs, k.NextScreen, k.Quit} }

// FullHelp is the help page, one column per group.
func (k Global) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.NextScreen, k.PrevScreen, k.GoScreen, k.Runs}, {k.Help, k.Problems, k.Quit}}
}

// Dashboard keys drive the metric charts.
type Dashboard struct {
	ZoomIn       key.Binding
	ZoomOut      key.Binding
	PanLeft      key.Binding
	PanRight     key.Binding
	ResetView    key.Binding
	Follow       key.Binding
	LogScale     key.Binding
	Smoothing    key.Binding
	SmoothMore   key.Binding
	SmoothLess   key.Binding
	RawLines     key.Binding
	NextSeries   key.Binding
	PrevSeries   key.Binding
	ToggleSeries key.Binding
	NextChart    key.Binding
	PrevChart    key.Binding
	ExpandChart  key.Binding
}

// NewDashboard returns the dashboard key map.
func NewDashboard() Dashboard {
	return Dashboard{
		ZoomIn:       bind([]string{"+", "="}, "+", "zoom in"),
		ZoomOut:      bind([]string{"-", "_"}, "-", "zoom out"),
		PanLeft:      bind([]string{"left", "h"}, "←/h", "pan left"),
		PanRight:     bind([]string{"right", "l"}, "→/l", "pan right"),
		ResetView:    bind([]string{"0", "home"}, "0", "all steps"),
		Follow:       bind([]string{"f"}, "f", "follow newest"),
		LogScale:     bind([]string{"y"}, "y", "log/linear y"),
		Smoothing:    bind([]string{"s"}, "s", "smoothing on/off"),
		SmoothMore:   bind([]string{"]"}, "]", "smooth more"),
		SmoothLess:   bind([]string{"["}, "[", "smooth less"),
		RawLines:     bind([]string{"r"}, "r", "raw lines on/off"),
		NextSeries:   bind([]string{"n"}, "n", "next series"),
		PrevSeries:   bind([]string{"N"}, "N", "prev series"),
		ToggleSeries: bind([]string{" "}, "space", "hide/show series"),
		NextChart:    bind([]string{"down", "j"}, "↓/j", "next chart"),
		PrevChart:    bind([]string{"up", "k"}, "↑/k", "prev chart"),
		ExpandChart:  bind([]string{"enter"}, "enter", "expand chart"),
	}
}

// ShortHelp is the one-line help.
func (k Dashboard) ShortHelp() []key.Binding {
	return []key.Binding{k.ZoomIn, k.ZoomOut, k.PanLeft, k.PanRight, k.Follow, k.LogScale, k.Smoothing}
}

// FullHelp is the help page, one column per group.
func (k Dashboard) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.ZoomIn, k.ZoomOut, k.PanLeft, k.PanRight, k.ResetView, k.Follow},
		{k.LogScale, k.Smoothing, k.SmoothMore, k.SmoothLess, k.RawLines},
		{k.NextSeries, k.PrevSeries, k.ToggleSeries, k.NextChart, k.PrevChart, k.ExpandChart},
	}
}

// ListNav moves through a list; the traces list, the Runs screen and the
// problems overlay share it.
type ListNav struct {
	Next     key.Binding
	Prev     key.Binding
	PageDown key.Binding
	PageUp   key.Binding
	Top      key.Binding
	Bottom   key.Binding
}

// Move is how far a navigation key moves a list's selection of count rows,
// page rows to a page: ±1, ±page, or to an end (±count, for the caller to
// clamp); ok is false for any other key.
func (n ListNav) Move(k fmt.Stringer, page, count int) (d int, ok bool) {
	switch {
	case key.Matches(k, n.Next):
		return 1, true
	case key.Matches(k, n.Prev):
		return -1, true
	case key.Matches(k, n.PageDown):
		return page, true
	case key.Matches(k, n.PageUp):
		return -page, true
	case key.Matches(k, n.Top):
		return -count, true
	case key.Matches(k, n.Bottom):
		return count, true
	}
	return 0, false
}

func newListNav() ListNav {
	return ListNav{
		Next:     bind([]string{"down", "j"}, "↓/j", "next"),
		Prev:     bind([]string{"up", "k"}, "↑/k", "prev"),
		PageDown: bind([]string{"pgdown", "ctrl+d"}, "pgdn", "page down"),
		PageUp:   bind([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
		Top:      bind([]string{"home", "g"}, "g", "first"),
		Bottom:   bind([]string{"end", "G"}, "G", "last"),
	}
}

// Help keys scroll the help overlay where it is taller than the
// terminal: a list's keys.
type Help struct{ ListNav }

// NewHelp returns the help overlay's key map.
func NewHelp() Help { return Help{newListNav()} }

// Traces keys drive the list of sampled traces.
type Traces struct {
	ListNav
	Open          key.Binding
	SortReward    key.Binding
	SortAdvantage key.Binding
	SortStep      key.Binding
	ReverseSort   key.Binding
	FilterLabel   key.Binding
	FilterReward  key.Binding
	ClearFilters  key.Binding
}

// NewTraces returns the traces key map. The advantage sort is on A, not
// a: a accepts the trace on the Detail screen, one enter away, and the
// review key is pressed far more often than the sort.
func NewTraces() Traces {
	return Traces{
		ListNav:       newListNav(),
		Open:          bind([]string{"enter"}, "enter", "open trace"),
		SortReward:    bind([]string{"r"}, "r", "sort by reward"),
		SortAdvantage: bind([]string{"A"}, "A", "sort by advantage"),
		SortStep:      bind([]string{"t"}, "t", "sort by step"),
		ReverseSort:   bind([]string{"R"}, "R", "reverse order"),
		FilterLabel:   bind([]string{"l"}, "l", "filter by label"),
		FilterReward:  bind([]string{"/"}, "/", "filter reward range"),
		ClearFilters:  bind([]string{"esc"}, "esc", "clear filters"),
	}
}

// ShortHelp is the one-line help.
func (k Traces) ShortHelp() []key.Binding {
	return []key.Binding{k.Next, k.Prev, k.Open, k.SortReward, k.SortAdvantage, k.FilterLabel, k.FilterReward}
}

// FullHelp is the help page, one column per group.
func (k Traces) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Next, k.Prev, k.PageDown, k.PageUp, k.Top, k.Bottom, k.Open},
		{k.SortReward, k.SortAdvantage, k.SortStep, k.ReverseSort},
		{k.FilterLabel, k.FilterReward, k.ClearFilters},
	}
}

// Detail keys drive one trace: a token cursor over the heatmap, and the
// review actions.
type Detail struct {
	Left           key.Binding
	Right          key.Binding
	WordLeft       key.Binding
	WordRight      key.Binding
	LineUp         key.Binding
	LineDown       key.Binding
	LineStart      key.Binding
	LineEnd        key.Binding
	MaxToken       key.Binding
	SwitchView     key.Binding
	Rescore        key.Binding // the trace's own scores / its re-scoring (rescores.jsonl)
	Scale          key.Binding // colours on the run's scale / the trace's own
	Accept         key.Binding
	Reject         key.Binding
	Flag           key.Binding
	Undo           key.Binding
	NextUnreviewed key.Binding
	Export         key.Binding
	Back           key.Binding
}

// NewDetail returns the trace-detail key map: the Detail screen's as it
// is, so that its ? page and this package's help say the same of each key.
// v cycles the explanation's colours through the views it has: d_k, the
// teacher's log p (ℓT), the student's (ℓS).
func NewDetail() Detail {
	return Detail{
		Left:           bind([]string{"left", "h"}, "←/h", "token left"),
		Right:          bind([]string{"right", "l"}, "→/l", "token right"),
		WordLeft:       bind([]string{"b", "ctrl+left", "alt+left"}, "b", "word left"),
		WordRight:      bind([]string{"w", "ctrl+right", "alt+right"}, "w", "word right"),
		LineUp:         bind([]string{"up", "k"}, "↑/k", "line up"),
		LineDown:       bind([]string{"down", "j"}, "↓/j", "line down"),
		LineStart:      bind([]string{"home", "^"}, "home", "line start"),
		LineEnd:        bind([]string{"end", "$"}, "end", "line end"),
		MaxToken:       bind([]string{"m"}, "m", "jump to max d_k"),
		SwitchView:     bind([]string{"v"}, "v", "colour by d_k / ℓT / ℓS"),
		Rescore:        bind([]string{"s"}, "s", "own scores / rescore"),
		Scale:          bind([]string{"z"}, "z", "colour scale: run / this trace"),
		Accept:         bind([]string{"a"}, "a", "accept"),
		Reject:         bind([]string{"x"}, "x", "reject"),
		Flag:           bind([]string{"f"}, "f", "flag with note"),
		Undo:           bind([]string{"u"}, "u", "undo label"),
		NextUnreviewed: bind([]string{"n"}, "n", "next unreviewed"),
		Export:         bind([]string{"e"}, "e", "export"),
		Back:           bind([]string{"esc"}, "esc", "back"),
	}
}

// ShortHelp is the one-line help.
func (k Detail) ShortHelp() []key.Binding {
	return []key.Binding{k.Left, k.Right, k.Accept, k.Reject, k.Flag, k.Undo, k.NextUnreviewed, k.Back}
}

// FullHelp is the help page, one column per group.
func (k Detail) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Left, k.Right, k.WordLeft, k.WordRight, k.LineUp, k.LineDown, k.LineStart, k.LineEnd},
		{k.MaxToken, k.SwitchView, k.Scale, k.Rescore, k.Back},
		{k.Accept, k.Reject, k.Flag, k.Undo, k.NextUnreviewed, k.Export},
	}
}

// Runs keys drive the list of run folders: open one read-only, resume
// one, start a new one from an edited configuration, follow folders that
// other processes write.
type Runs struct {
	ListNav
	Open     key.Binding
	Resume   key.Binding
	New      key.Binding
	CopyNew  key.Binding
	Follow   key.Binding
	Unfollow key.Binding
	Refresh  key.Binding
	Compare  key.Binding // mark the run to overlay on the open run's dashboard
	Back     key.Binding
}

// NewRuns returns the Runs key map.
func NewRuns() Runs {
	return Runs{
		ListNav:  newListNav(),
		Open:     bind([]string{"enter", "o"}, "enter", "open read-only"),
		Resume:   bind([]string{"r"}, "r", "resume from checkpoint"),
		New:      bind([]string{"n"}, "n", "new run (edit config)"),
		CopyNew:  bind([]string{"c"}, "c", "new run from this config"),
		Follow:   bind([]string{"a"}, "a", "follow a folder"),
		Unfollow: bind([]string{"x"}, "x", "stop following"),
		Refresh:  bind([]string{"ctrl+l"}, "C-l", "refresh list"),
		Compare:  bind([]string{" "}, "space", "mark to compare"),
		Back:     bind([]string{"esc"}, "esc", "back"),
	}
}

// ShortHelp is the one-line help.
func (k Runs) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Resume, k.New, k.Compare, k.CopyNew, k.Follow, k.Back}
}

// FullHelp is the help page, one column per group.
func (k Runs) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Next, k.Prev, k.PageDown, k.PageUp, k.Top, k.Bottom},
		{k.Open, k.Resume, k.Compare, k.New, k.CopyNew},
		{k.Follow, k.Unfollow, k.Refresh, k.Back},
	}
}

// Problems keys drive the problems overlay: the list of what is wrong
// with the open run (broken records, a corrupt checkpoint, engine errors,
// skipped data rows).
type Problems struct {
	ListNav
	Open  key.Binding
	Close key.Binding
}

// NewProblems returns the problems-overlay key map.
func NewProblems() Problems {
	return Problems{
		ListNav: newListNav(),
		Open:    bind([]string{"enter"}, "enter", "open the trace it is about"),
		Close:   bind([]string{"esc", "!"}, "esc/!", "close"),
	}
}

// ShortHelp is the one-line help.
func (k Problems) ShortHelp() []key.Binding {
	return []key.Binding{k.Next, k.Prev, k.Open, k.Close}
}

// FullHelp is the help page, one column per group.
func (k Problems) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Next, k.Prev, k.PageDown, k.PageUp, k.Top, k.Bottom}, {k.Open, k.Close}}
}

// Editor keys work in the configuration editor, where every other key
// types text (so the global keys are off there; ctrl+c still quits).
type Editor struct {
	Save      key.Binding
	Cancel    key.Binding
	Reset     key.Binding
	Move      key.Binding
	Page      key.Binding
	LineEnds  key.Binding
	KillEnd   key.Binding
	KillStart key.Binding
}

// NewEditor returns the configuration-editor key map.
func NewEditor() Editor {
	return Editor{
		Save:      bind([]string{"ctrl+s"}, "C-s", "check, save & start"),
		Cancel:    bind([]string{"esc"}, "esc", "back to the list (keeps edits)"),
		Reset:     bind([]string{"ctrl+r"}, "C-r", "reset to the default config"),
		Move:      bind([]string{"up", "down", "left", "right"}, "arrows", "move"),
		Page:      bind([]string{"pgup", "pgdown"}, "pgup/pgdn", "page"),
		LineEnds:  bind([]string{"home", "end", "ctrl+a", "ctrl+e"}, "home/end", "line start/end"),
		KillEnd:   bind([]string{"ctrl+k"}, "C-k", "delete to line end"),
		KillStart: bind([]string{"ctrl+u"}, "C-u", "delete to line start"),
	}
}

// ShortHelp is the one-line help.
func (k Editor) ShortHelp() []key.Binding {
	return []key.Binding{k.Save, k.Cancel, k.Reset, k.KillEnd}
}

// FullHelp is the help page, one column per group.
func (k Editor) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Save, k.Cancel, k.Reset},
		{k.Move, k.Page, k.LineEnds, k.KillEnd, k.KillStart},
	}
}

// Conflicts returns the keys bound by more than one enabled binding
// across the given groups, each with the help texts that claim it.
func Conflicts(groups ...[]key.Binding) map[string][]string {
	seen := map[string][]string{}
	for _, g := range groups {
		for _, b := range g {
			if !b.Enabled() {
				continue
			}
			for _, k := range b.Keys() {
				seen[k] = append(seen[k], b.Help().Desc)
			}
		}
	}
	out := map[string][]string{}
	for k, v := range seen {
		if len(v) > 1 {
			out[k] = v
		}
	}
	return out
}

// All flattens a full help into one list.
func All(groups [][]key.Binding) []key.Binding {
	var out []key.Binding
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
