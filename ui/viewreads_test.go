package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/engine/event"
)

// viewCase is a sequence of messages TestViewOnlyReads sends to a Model,
// drawing after each.
type viewCase struct {
	name  string
	scr   screenID // the screen tried
	open  func(t *testing.T) *Model
	steps []func(*Model) tea.Msg
	state func(m *Model) string // what the screen holds, said first where View changed the Model
	marks int                   // lines starting with the selection mark, at least
	// selected is what the selected row's line starts with after the
	// selection mark and the marks beside it ("" where no row is
	// selected): the row drawn, not only scrolled to.
	selected func(m *Model) string
}

// viewCases are TestViewOnlyReads's Models and messages: the Runs list,
// the Traces list, the dashboard, the detail, the help, the problems and
// the new run's editor, each moved, resized, and given new data.
func viewCases() []viewCase {
	key := func(s string) func(*Model) tea.Msg { return func(*Model) tea.Msg { return keyMsg(s) } }
	size := func(w, h int) func(*Model) tea.Msg {
		return func(*Model) tea.Msg { return tea.WindowSizeMsg{Width: w, Height: h} }
	}
	typ := func(k tea.KeyType) func(*Model) tea.Msg { return func(*Model) tea.Msg { return tea.KeyMsg{Type: k} } }
	paste := func(s string) func(*Model) tea.Msg {
		return func(*Model) tea.Msg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true} }
	}
	repeat := func(n int, s string) []func(*Model) tea.Msg {
		out := make([]func(*Model) tea.Msg, n)
		for i := range out {
			out[i] = key(s)
		}
		return out
	}
	steps := func(parts ...any) []func(*Model) tea.Msg {
		var out []func(*Model) tea.Msg
		for _, p := range parts {
			switch p := p.(type) {
			case func(*Model) tea.Msg:
				out = append(out, p)
			case []func(*Model) tea.Msg:
				out = append(out, p...)
			default:
				panic(fmt.Sprintf("a step of %T", p))
			}
		}
		return out
	}
	tick := func(*Model) tea.Msg { return tickMsg(time.Now()) }
	// news is a step's metrics and traces written to the open run, and the
	// message that says so.
	news := func(step int) func(m *Model) tea.Msg {
		return func(m *Model) tea.Msg {
			m.sh.run.Emit(event.Metrics{Time: t0.Add(time.Duration(step) * 6 * time.Second), Step: step,
				Values: map[string]float64{"reward": -1 + 0.1*float64(step), "kl": 0.01 * float64(step), "loss": 1 / float64(step)}})
			m.sh.run.Emit(makeTrace(step, 0, 0, 8))
			m.sh.run.Flush()
			return changedMsg{m.gen}
		}
	}
	// warning is an engine warning written to the open run (a problem),
	// and the message that says so.
	warning := func(i int) func(m *Model) tea.Msg {
		return func(m *Model) tea.Msg {
			m.sh.run.Emit(event.Error{Time: t0, Step: 1, Severity: event.SeverityWarning,
				Err: fmt.Errorf("data train.jsonl: skipped row %d: not JSON", i)})
			m.sh.run.Flush()
			return changedMsg{m.gen}
		}
	}
	// runsIn is a Model on the Runs screen of n runs written by hand.
	runsIn := func(t *testing.T, n, w, h int) *Model {
		t.Chdir(t.TempDir())
		for i := range n {
			writeRun(t, filepath.Join("runs", fmt.Sprintf("2026010%d-%02d0000", 1+i/10, i)), t0.Add(time.Duration(i)*time.Hour), 2, true)
		}
		m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
		t.Cleanup(func() { closeModel(t, m) })
		m.Update(tea.WindowSizeMsg{Width: w, Height: h})
		listNow(t, m)
		return m
	}
	return []viewCase{
		{
			name: "runs", scr: scrRuns,
			open: func(t *testing.T) *Model { return runsIn(t, 20, 80, 20) },
			steps: steps(
				key("g"), repeat(15, "j"), key("G"), repeat(3, "k"),
				size(80, 16), size(60, 24), size(60, 20), key("G"),
				// An error said with the last row selected, read whole
				// over two lines, takes a row from the list; the next key
				// clears it.
				key("x"), key("k"),
				func(m *Model) tea.Msg { return m.runs.refresh()() }, // listed again
				typ(tea.KeyPgUp), key("end"), size(80, 20),
				func(*Model) tea.Msg {
					return tea.MouseMsg{Action: tea.MouseActionPress, Button: tea.MouseButtonWheelUp}
				},
				key("?"), repeat(12, "k"), key("?"), // moved under the help, drawn once it closes
				func(*Model) tea.Msg { return tickMsg(time.Now()) },
			),
			state: func(m *Model) string {
				return fmt.Sprintf("top %d sel %d of %d", m.runs.top, m.runs.sel, len(m.runs.rows))
			},
			// Its row, and its folder under the list. The last row of a
			// page (G, or j to the bottom of it) was kept to the n lines
			// of the list and hidden behind the "runs a–b of N" line
			// drawn over the n-th (listShown).
			marks: 2,
			selected: func(m *Model) string {
				if r := m.runs; !r.editing && r.sel < len(r.rows) {
					return r.rows[r.sel].Name + " "
				}
				return ""
			},
		},
		{
			name: "traces", scr: scrTraces,
			open: func(t *testing.T) *Model {
				r := newTestRun(t, 6, 2, 4, 8)
				m := sized(t, r, 80, 20, &fakeControl{})
				m.Update(keyMsg("2"))
				return m
			},
			steps: steps(
				repeat(20, "j"), key("r"), repeat(3, "j"), key("R"), key("a"), key("G"),
				size(80, 16), size(120, 30), size(80, 16),
				key("l"), key("esc"), key("t"), key("v"), key("]"), key("v"),
				func(m *Model) tea.Msg {
					m.sh.run.Emit(makeTrace(7, 0, 0, 8)) // a new step's trace
					m.sh.run.Flush()
					return changedMsg{m.gen}
				},
				key("/"), key("t"), key("o"), key("p"), key("enter"), // the top quartile
				repeat(4, "j"), key("esc"),
				func(*Model) tea.Msg {
					return tea.MouseMsg{Action: tea.MouseActionPress, Button: tea.MouseButtonWheelDown}
				},
				key("1"), repeat(3, "j"), key("2"), // moved on the dashboard's charts, back to the list
			),
			state: func(m *Model) string {
				tr := m.traces
				return fmt.Sprintf("top %d sel %d of %d stale %v", tr.top, tr.sel, len(tr.rows), tr.stale)
			},
			marks: 1,
		},
		{
			name: "dashboard", scr: scrDashboard,
			open: func(t *testing.T) *Model { return sized(t, newTestRun(t, 12, 2, 4, 8), 80, 24, &fakeControl{}) },
			steps: steps(
				repeat(2, "j"), key("enter"), key("+"), key("+"), key("h"), key("l"), key("f"), key("y"),
				key("s"), key("]"), key("["), key("r"), key("n"), key(" "), key("N"), key("enter"), key("k"),
				size(100, 30), size(60, 15), size(80, 24),
				key("m"), repeat(3, "j"), key(" "), key("G"), key("esc"), // the picker: a chart added
				news(13), tick, key("0"), news(14),
				key("?"), key("?"), key("2"), key("1"), key("!"), key("esc"), key("4"), key("esc"),
				func(*Model) tea.Msg {
					return tea.MouseMsg{Action: tea.MouseActionPress, Button: tea.MouseButtonWheelDown}
				},
			),
			state: func(m *Model) string {
				d := m.dash
				return fmt.Sprintf("dirty %v focus %d picking %v cache %d bytes", d.dirty, d.focus, d.picking, len(d.cache))
			},
		},
		{
			name: "detail", scr: scrDetail,
			open: func(t *testing.T) *Model {
				m := sized(t, newTestRun(t, 6, 2, 4, 40), 80, 24, &fakeControl{})
				m.Update(keyMsg("2"))
				return m
			},
			steps: steps(
				func(m *Model) tea.Msg { return openMsg{m.traces.selectedID()} },
				repeat(3, "l"), key("w"), key("j"), key("end"), key("m"), key("v"), key("v"), key("z"),
				key("s"), key("a"), key("u"), key("x"),
				key("f"), paste("too long"), key("enter"), // a flag with its note
				size(130, 40), size(60, 15), size(80, 24),
				news(7), tick, key("n"), key("esc"), key("3"), key("v"),
				key("?"), key("?"), key("!"), key("esc"),
			),
			state: func(m *Model) string {
				d := m.detail
				return fmt.Sprintf("dirty %v trace %s view %d editing %v cache %d bytes", d.dirty, d.rec.ID, d.view, d.editing, len(d.cache))
			},
		},
		{
			name: "help", scr: scrDashboard,
			open: func(t *testing.T) *Model { return sized(t, newTestRun(t, 3, 1, 2, 8), 60, 15, &fakeControl{}) },
			steps: steps(
				key("?"), key("G"), repeat(3, "k"), key("j"), typ(tea.KeyPgDown), // past the end: back to the last page
				size(60, 20), size(140, 50), size(60, 15), key("g"), key("G"),
				tick, news(4), key("esc"),
				key("4"), key("?"), key("G"), size(70, 18), repeat(2, "k"), key("?"), // the Runs screen's
			),
			state: func(m *Model) string { return fmt.Sprintf("help %v top %d", m.help, m.helpTop) },
		},
		{
			name: "problems", scr: scrDashboard,
			open: func(t *testing.T) *Model {
				r := newTestRun(t, 2, 1, 2, 8)
				m := sized(t, r, 80, 20, &fakeControl{})
				for i := range 30 {
					r.Emit(event.Error{Time: t0, Step: 1, Severity: event.SeverityWarning, Err: fmt.Errorf("data train.jsonl: skipped row %d: not JSON", i)})
				}
				r.Emit(event.Error{Time: t0, Step: 2, Err: errors.New("checkpoint of step 2 failed: no space left on device")})
				m.pull()
				return m
			},
			steps: steps(
				key("!"), key("G"), repeat(3, "k"), key("j"), typ(tea.KeyPgUp), key("end"),
				size(80, 16), size(100, 30), size(80, 20), key("G"),
				warning(30), warning(31), tick, key("home"), repeat(14, "j"),
				func(*Model) tea.Msg {
					return tea.MouseMsg{Action: tea.MouseActionPress, Button: tea.MouseButtonWheelDown}
				},
				key("esc"), warning(32), key("!"), key("G"),
			),
			state: func(m *Model) string {
				p := &m.probs
				return fmt.Sprintf("open %v top %d sel %d of %d stale %v", p.open, p.top, p.sel, len(p.list), p.stale)
			},
		},
		{
			name: "editor", scr: scrRuns,
			open: func(t *testing.T) *Model { return runsIn(t, 3, 60, 15) },
			steps: steps(
				key("n"), repeat(12, "down"), typ(tea.KeyCtrlEnd), typ(tea.KeyEnter),
				paste("# a comment wider than the screen, so that the text scrolls to the side with the cursor at its end"),
				key("home"), key("end"), repeat(6, "enter"), paste("bogus = 1"), typ(tea.KeyCtrlHome),
				key("ctrl+s"), // its unknown key: a note under its line, the cursor on it
				size(80, 20), size(60, 15), typ(tea.KeyCtrlEnd), repeat(20, "up"),
				typ(tea.KeyPgDown), key("right"), tick,
				key("esc"), key("n"), size(100, 30),
			),
			state: func(m *Model) string {
				e := &m.runs.ed
				return fmt.Sprintf("editing %v row %d col %d top %d left %d lines %d", m.runs.editing, e.row, e.col, e.top, e.left, len(e.lines))
			},
		},
	}
}

// TestViewOnlyReads: drawing a frame changes nothing of the Model. After
// each message of viewCases (keys that move, sort and filter, resizes,
// new data, a message that takes rows from the list), View twice leaves
// the Model as it was (deepState: the screens, the help's and the
// problems' first line shown, all they hold) and draws the same frame
// both times, with the selection in sight. The Runs list moved its first
// row while it was drawn, the Traces list rebuilt its rows and moved its
// first row; the dashboard and the detail drew their caches, the help and
// the problems moved their first line shown, the editor its first line
// and column, and the header's problem count rebuilt the problems' list.
func TestViewOnlyReads(t *testing.T) {
	for _, c := range viewCases() {
		t.Run(c.name, func(t *testing.T) {
			m := c.open(t)
			for i, step := range c.steps {
				msg := step(m)
				m.Update(msg)
				said, before := c.state(m), deepState(m)
				v1 := m.View()
				after1 := deepState(m)
				v2 := m.View()
				after2 := deepState(m)
				what := fmt.Sprintf("after message %d (%T %v)", i, msg, msg)
				if after1 != before || after2 != before {
					t.Fatalf("%s, View changed the Model (%s):\nafter one View: %s\nafter two: %s",
						what, said, firstDiff(before, after1), firstDiff(before, after2))
				}
				if v1 != v2 {
					t.Fatalf("%s, two Views drew two frames:\n%s\n---\n%s", what, v1, v2)
				}
				if m.probs.open && !m.help {
					// The selected problem's row, not only scrolled to: the
					// last of a page was hidden behind the "problems a–b of
					// N" line drawn over the list's last line.
					if where, msg, ok := selectedProblem(m); ok && !problemDrawn(ansi.Strip(v1), where, msg) {
						t.Errorf("%s: the problems overlay draws no line starting with the selection mark and %q, then %q:\n%s", what, where, msg, ansi.Strip(v1))
					}
				}
				if m.help || m.probs.open || m.active != c.scr {
					continue
				}
				if n := strings.Count(ansi.Strip(v1), "\n▸"); n < c.marks {
					t.Errorf("%s: %d lines start with the selection mark, want %d:\n%s", what, n, c.marks, ansi.Strip(v1))
				}
				if c.selected == nil {
					continue
				}
				if want := c.selected(m); want != "" && !selectedDrawn(ansi.Strip(v1), want) {
					t.Errorf("%s: no line starts with the selection mark and %q:\n%s", what, want, ansi.Strip(v1))
				}
			}
		})
	}
}

// selectedDrawn reports whether a line of frame is a selected row that
// starts with row: the selection mark, the marks beside it (open here,
// compared), then row.
func selectedDrawn(frame, row string) bool {
	for _, l := range strings.Split(frame, "\n") {
		if rest, ok := strings.CutPrefix(l, "▸"); ok && strings.HasPrefix(strings.TrimLeft(rest, " ●◆"), row) {
			return true
		}
	}
	return false
}

// selectedProblem is what the problems overlay's selected row says: its
// severity mark and place, then the start of its message (which the
// detail under the list repeats, on lines of its own); ok is false where
// none is selected.
func selectedProblem(m *Model) (where, msg string, ok bool) {
	p := &m.probs
	if p.sel >= len(p.list) {
		return "", "", false
	}
	pr := p.list[p.sel]
	msg = oneLine(pr.msg)
	if r := []rune(msg); len(r) > 40 {
		msg = string(r[:40])
	}
	return pr.sev.mark() + " " + pr.where, msg, true
}

// problemDrawn reports whether a line of frame is the selected problem's
// row: the selection mark, where, then msg.
func problemDrawn(frame, where, msg string) bool {
	for _, l := range strings.Split(frame, "\n") {
		if rest, ok := strings.CutPrefix(l, "▸"); ok && strings.HasPrefix(rest, where) && strings.Contains(rest, msg) {
			return true
		}
	}
	return false
}

// deepState is all v holds, one line a value, named by its path from v:
// pointers followed (each once) into this module's ui packages, not into
// the sessions' and the engine's (a run's store, written by goroutines of
// its own) nor the standard library's (locks, files); maps in the order
// of their keys; functions and channels only said to be there.
func deepState(v any) string {
	var b strings.Builder
	seen := map[[2]uintptr]bool{}
	const ours = "github.com/rlt-workbench/rlt/ui"
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Invalid:
			fmt.Fprintf(&b, "%s = invalid\n", path)
		case reflect.Pointer:
			if v.IsNil() {
				fmt.Fprintf(&b, "%s = nil\n", path)
				return
			}
			t := v.Elem().Type()
			if pkg := t.PkgPath(); pkg != "" && pkg != ours && !strings.HasPrefix(pkg, ours+"/") {
				fmt.Fprintf(&b, "%s = &%s\n", path, t)
				return
			}
			at := [2]uintptr{v.Pointer(), uintptr(reflect.ValueOf(t).UnsafePointer())}
			if seen[at] {
				fmt.Fprintf(&b, "%s = (seen)\n", path)
				return
			}
			seen[at] = true
			walk("*"+path, v.Elem())
		case reflect.Interface:
			if v.IsNil() {
				fmt.Fprintf(&b, "%s = nil\n", path)
				return
			}
			walk(path, v.Elem())
		case reflect.Struct:
			if pkg := v.Type().PkgPath(); pkg == "sync" || pkg == "sync/atomic" {
				return
			}
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Slice, reflect.Array:
			if v.Kind() == reflect.Slice && v.IsNil() {
				fmt.Fprintf(&b, "%s = nil\n", path)
				return
			}
			fmt.Fprintf(&b, "%s len %d\n", path, v.Len())
			for i := range v.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
			}
		case reflect.Map:
			keys := v.MapKeys()
			names := make([]string, len(keys))
			for i, k := range keys {
				names[i] = fmt.Sprint(k)
			}
			order := make([]int, len(keys))
			for i := range order {
				order[i] = i
			}
			slices.SortFunc(order, func(i, j int) int { return strings.Compare(names[i], names[j]) })
			fmt.Fprintf(&b, "%s len %d\n", path, v.Len())
			for _, i := range order {
				walk(fmt.Sprintf("%s[%s]", path, names[i]), v.MapIndex(keys[i]))
			}
		case reflect.Func, reflect.Chan, reflect.UnsafePointer:
			fmt.Fprintf(&b, "%s = %s nil %v\n", path, v.Kind(), v.IsNil())
		default:
			fmt.Fprintf(&b, "%s = %v\n", path, v)
		}
	}
	walk("m", reflect.ValueOf(v))
	return b.String()
}

// firstDiff is the first line where b differs from a, both ways.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("%q, was %q", bl[i], al[i])
		}
	}
	if len(al) != len(bl) {
		return fmt.Sprintf("%d lines, were %d", len(bl), len(al))
	}
	return "no difference"
}
