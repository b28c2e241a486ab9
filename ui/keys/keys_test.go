package keys

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	"github.com/rlt-workbench/rlt/ui/internal/golden"
	"github.com/rlt-workbench/rlt/ui/style"
)

type helpMap interface {
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
}

func screens() map[string]helpMap {
	return map[string]helpMap{
		"global":    NewGlobal(),
		"dashboard": NewDashboard(),
		"traces":    NewTraces(),
		"detail":    NewDetail(),
		"runs":      NewRuns(),
		"editor":    NewEditor(),
		"problems":  NewProblems(),
	}
}

// No key does two things on one screen (the global keys included).
func TestNoConflicts(t *testing.T) {
	g := All(NewGlobal().FullHelp())
	for name, m := range screens() {
		if name == "global" || name == "editor" || name == "problems" {
			continue // the editor and the problems overlay take the keys: the global ones are off there
		}
		if c := Conflicts(g, All(m.FullHelp())); len(c) > 0 {
			t.Errorf("%s: keys bound twice: %v", name, c)
		}
	}
	// The conflict finder itself works.
	a := key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "one"))
	b := key.NewBinding(key.WithKeys("y", "x"), key.WithHelp("y", "two"))
	if c := Conflicts([]key.Binding{a}, []key.Binding{b}); len(c["x"]) != 2 {
		t.Fatalf("conflict not found: %v", c)
	}
}

// Every binding has keys and help, and appears in its full help.
func TestHelpComplete(t *testing.T) {
	for name, m := range screens() {
		full := All(m.FullHelp())
		for _, b := range full {
			if len(b.Keys()) == 0 || b.Help().Key == "" || b.Help().Desc == "" {
				t.Errorf("%s: binding %v lacks keys or help", name, b.Help())
			}
		}
		for _, s := range m.ShortHelp() {
			found := false
			for _, f := range full {
				if f.Help() == s.Help() {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: short help %q not in full help", name, s.Help().Desc)
			}
		}
	}
	// Struct fields all reach FullHelp: count them by reflection-free means.
	if n := len(All(NewDetail().FullHelp())); n != 19 {
		t.Errorf("detail full help has %d entries, want 19 (a field is missing from FullHelp?)", n)
	}
	if n := len(All(NewDashboard().FullHelp())); n != 17 {
		t.Errorf("dashboard full help has %d entries, want 17", n)
	}
	if n := len(All(NewTraces().FullHelp())); n != 14 {
		t.Errorf("traces full help has %d entries, want 14", n)
	}
	if n := len(All(NewRuns().FullHelp())); n != 15 {
		t.Errorf("runs full help has %d entries, want 15", n)
	}
	if n := len(All(NewEditor().FullHelp())); n != 8 {
		t.Errorf("editor full help has %d entries, want 8", n)
	}
	if n := len(All(NewProblems().FullHelp())); n != 8 {
		t.Errorf("problems full help has %d entries, want 8", n)
	}
	if n := len(All(NewGlobal().FullHelp())); n != 7 {
		t.Errorf("global full help has %d entries, want 7", n)
	}
}

func TestGolden(t *testing.T) {
	for _, sz := range golden.Sizes {
		var parts []string
		for _, name := range []string{"global", "dashboard", "traces", "detail", "runs", "editor", "problems"} {
			m := screens()[name]
			parts = append(parts, "# "+name,
				ShortHelpView(m.ShortHelp(), sz.W, HelpStyle{}),
				FullHelpView(m.FullHelp(), sz.W, 0, HelpStyle{}))
		}
		got := strings.Join(parts, "\n")
		golden.NoEscapes(t, got)
		golden.Fits(t, got, sz.W, 0)
		golden.Assert(t, fmt.Sprintf("help_%dx%d", sz.W, sz.H), got)
		// Height limit.
		v := FullHelpView(NewDetail().FullHelp(), sz.W, sz.H/3, HelpStyle{})
		golden.Fits(t, v, sz.W, sz.H/3)
	}
}

func TestHelpFitsAnyWidth(t *testing.T) {
	for _, p := range []style.Profile{style.Plain, style.TrueColor} {
		st := DefaultHelpStyle(style.NewTheme(p))
		for name, m := range screens() {
			for w := 1; w <= 130; w++ {
				golden.Fits(t, ShortHelpView(m.ShortHelp(), w, st), w, 1)
				golden.Fits(t, FullHelpView(m.FullHelp(), w, 12, st), w, 12)
			}
			_ = name
		}
	}
	b := key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "disabled"), key.WithDisabled())
	if v := FullHelpView([][]key.Binding{{b}}, 40, 0, HelpStyle{}); v != "" {
		t.Fatalf("disabled binding shown: %q", v)
	}
}

// keyName is a key as Bubble Tea names it (tea.KeyMsg's String).
type keyName string

func (k keyName) String() string { return string(k) }

// TestListMove: every navigation key of a list moves its selection by one,
// a page or to an end; other keys are not moves.
func TestListMove(t *testing.T) {
	nav := newListNav()
	for _, c := range []struct {
		key string
		d   int
		ok  bool
	}{
		{"down", 1, true}, {"j", 1, true}, {"up", -1, true}, {"k", -1, true},
		{"pgdown", 7, true}, {"ctrl+d", 7, true}, {"pgup", -7, true}, {"ctrl+u", -7, true},
		{"home", -40, true}, {"g", -40, true}, {"end", 40, true}, {"G", 40, true},
		{"enter", 0, false}, {"q", 0, false}, {"J", 0, false},
	} {
		if d, ok := nav.Move(keyName(c.key), 7, 40); d != c.d || ok != c.ok {
			t.Errorf("Move(%q) = %d, %v; want %d, %v", c.key, d, ok, c.d, c.ok)
		}
	}
}

// TestShortHelpMarksLeftOutKeysApart: where a screen's keys do not all
// fit, the line keeps whole entries and says the rest are left out as a
// part of its own ("• …"). The mark ended the last entry, " …", which
// read as its phrase cut: "f flag with note …" (Detail at 80 columns).
func TestShortHelpMarksLeftOutKeysApart(t *testing.T) {
	for name, m := range screens() {
		for w := 1; w <= 130; w++ {
			v := ShortHelpView(m.ShortHelp(), w, HelpStyle{})
			if strings.HasSuffix(v, " …") && !strings.HasSuffix(v, " • …") {
				t.Errorf("%s at %d columns: %q ends in a cut phrase", name, w, v)
			}
			// Keys left out are said: the mark was dropped where it did
			// not fit ("… • esc back to the list (keeps edits)" at 60).
			if full := ShortHelpView(m.ShortHelp(), 1000, HelpStyle{}); v != full && !strings.HasSuffix(v, "…") {
				t.Errorf("%s at %d columns: %q leaves keys out unsaid", name, w, v)
			}
		}
	}
	if v := ShortHelpView(NewDetail().ShortHelp(), 80, HelpStyle{}); !strings.HasSuffix(v, "flag with note • …") && !strings.HasSuffix(v, " • …") {
		t.Errorf("detail at 80 columns: %q, want it to end \" • …\"", v)
	}
}
