package ui

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// TestViewOnlyReads: drawing a frame changes nothing of the Runs or the
// Traces screen. After each message (keys that move, sort and filter,
// resizes, new data, a message that takes rows from the list), View
// twice leaves the screen as it was (the first row shown, the rows, the
// selection, all it holds) and draws the same frame both times, with the
// selection in sight. The Runs list moved its first row while it was
// drawn, the Traces list rebuilt its rows and moved its first row.
func TestViewOnlyReads(t *testing.T) {
	key := func(s string) func(*Model) tea.Msg { return func(*Model) tea.Msg { return keyMsg(s) } }
	size := func(w, h int) func(*Model) tea.Msg {
		return func(*Model) tea.Msg { return tea.WindowSizeMsg{Width: w, Height: h} }
	}
	typ := func(k tea.KeyType) func(*Model) tea.Msg { return func(*Model) tea.Msg { return tea.KeyMsg{Type: k} } }
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
	for _, c := range []struct {
		name  string
		scr   screenID // the screen tried
		open  func(t *testing.T) *Model
		steps []func(*Model) tea.Msg
		state func(m *Model) string // all the screen holds
		marks int                   // lines starting with the selection mark, at least
		// selected is what the selected row's line starts with after the
		// selection mark and the marks beside it ("" where no row is
		// selected): the row drawn, not only scrolled to.
		selected func(m *Model) string
	}{
		{
			name: "runs", scr: scrRuns,
			open: func(t *testing.T) *Model {
				t.Chdir(t.TempDir())
				for i := range 20 {
					writeRun(t, filepath.Join("runs", fmt.Sprintf("2026010%d-%02d0000", 1+i/10, i)), t0.Add(time.Duration(i)*time.Hour), 2, true)
				}
				m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
				t.Cleanup(func() { closeModel(t, m) })
				m.Update(tea.WindowSizeMsg{Width: 80, Height: 20})
				listNow(t, m)
				return m
			},
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
				return fmt.Sprintf("top %d sel %d of %d\n%+v", m.runs.top, m.runs.sel, len(m.runs.rows), *m.runs)
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
				return fmt.Sprintf("top %d sel %d rows %v stale %v\n%+v", tr.top, tr.sel, tr.rows, tr.stale, *tr)
			},
			marks: 1,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.open(t)
			for i, step := range c.steps {
				msg := step(m)
				m.Update(msg)
				before := c.state(m)
				v1 := m.View()
				after1 := c.state(m)
				v2 := m.View()
				after2 := c.state(m)
				what := fmt.Sprintf("after message %d (%T %v)", i, msg, msg)
				if after1 != before || after2 != before {
					t.Fatalf("%s, View changed the screen:\nbefore: %s\nafter one View: %s\nafter two: %s",
						what, firstLine(before), firstLine(after1), firstLine(after2))
				}
				if v1 != v2 {
					t.Fatalf("%s, two Views drew two frames:\n%s\n---\n%s", what, v1, v2)
				}
				if m.help || m.active != c.scr {
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

// firstLine is s up to its first line break: a state's named fields.
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	if first != s {
		first += " (and more)"
	}
	return first
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
