package ui

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/hf/hftest"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
	"github.com/rlt-workbench/rlt/ui/style"
)

// problemNote puts a problem the text of its line is at fault for under
// that line as "line N: …"; one whose key the text does not set under its
// table's header, in the command line's words (the file, the key, its
// default, "not set in this file"); and one about no key under no line, to
// be shown below the text as the command line prints it.
func TestProblemNote(t *testing.T) {
	const text = "steps = -1\n\n[reward]\nestimator = 'l2'\n"
	cfg := run.DefaultConfig("teacher", "student")
	cfg.Steps, cfg.Reward.Estimator = -1, "l2"
	for _, c := range []struct {
		name string
		err  error
		ok   bool
		line int // 0-based, as the editor counts
		msg  string
	}{
		{"a key on its line", configkey.Errorf("steps", "steps -1 must not be negative"),
			true, 0, "line 1: steps -1 must not be negative"},
		{"a key in a table, on its line", configkey.Errorf("reward.estimator", `estimator "l2": want "logratio", "k3" or "full"`),
			true, 3, `line 4: reward.estimator "l2": want "logratio", "k3" or "full"`},
		{"a key the text does not set: under its table's header", configkey.Errorf("reward.kl_max", "kl_max is wrong"),
			true, 2, "config.toml: reward.kl_max (default 0.03, not set in this file): kl_max is wrong"},
		{"a key of a table the text does not open: under line 1", configkey.Errorf("grpo.lr", "lr is wrong"),
			true, 0, "config.toml: grpo.lr (default 0.0001, not set in this file): lr is wrong"},
		{"about no key: no line", errors.New("the models disagree"), false, 0, ""},
		{"not a located problem: no line", errors.New("disk full"), false, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error = c.err
			if c.name != "not a located problem: no line" {
				located := sessions.ExplainValidations(sessions.ConfigFile, []byte(text), cfg, sessions.UnsetIsDefault, c.err)
				if len(located) != 1 {
					t.Fatalf("located %d problems", len(located))
				}
				err = located[0]
			}
			n, ok := problemNote(err)
			if ok != c.ok || n.line != c.line || ok && n.text() != c.msg {
				t.Errorf("problemNote(%v) = %+v, %v; want line %d %q, %v", err, n, ok, c.line, c.msg, c.ok)
			}
		})
	}
}

// The configuration editor, on the real launcher, shows each problem in
// the words rlt run --config prints for the same text (a key the draft
// does not set naming its default and that the draft does not set it),
// under the line it belongs to; a problem about no key is shown below the
// text, after the file's name.
func TestEditorSaysWhatTheCommandLineSays(t *testing.T) {
	root := t.TempDir()
	models, runs := hftest.StubModels(t, filepath.Join(root, "models")), filepath.Join(root, "runs")
	l := runner.NewLauncher(context.Background(), runs, models)
	m := newModel(Options{Launcher: l, RunsDir: runs})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	listNow(t, m)
	_, cmd := m.Update(keyMsg("n"))
	pump(t, m, cmd, func() bool { return m.runs.editing })
	for _, c := range []struct {
		name, text string
		line       int // 0-based line the problem is under
		prefix     string
	}{
		{"a key the draft sets", "[grpo]\nlr = -1.0\n", 1, "line 2: "},
		{"a default that disagrees with a key the draft sets", "steps = 2\n\n[reward]\nkl_max = 1.0\n\n[grpo]\ntemperature = 1.0\n", 2, ""},
		{"a default a dotted key outgrows", "grpo.max_new_tokens = 4096\n", 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			m.runs.ed.SetText(c.text)
			hit(t, m, "ctrl+s")
			cfg := runner.DefaultConfig(models, 0)
			if err := sessions.DecodeStrict(sessions.ConfigFile, []byte(c.text), &cfg); err != nil {
				t.Fatal(err)
			}
			_, cli := runner.CheckFile(cfg, sessions.ConfigFile, []byte(c.text), nil, nil)
			if cli == nil || strings.Contains(cli.Error(), "\n") {
				t.Fatalf("the command line says %v; want one problem", cli)
			}
			want := cli.Error()
			if c.prefix != "" { // on its own line: the editor names the line, not the file
				_, problem, _ := strings.Cut(want, ":1: ")
				want = c.prefix + problem
			}
			if len(m.runs.ed.notes) != 1 || len(m.runs.edLoose) != 0 || m.runs.ed.notes[0].line != c.line || m.runs.ed.notes[0].text() != want {
				t.Fatalf("notes %+v, below the text %q; want under line %d: %q", m.runs.ed.notes, m.runs.edLoose, c.line, want)
			}
			// The note is wrapped under its line (at most 3 rows): its start shows.
			start := strings.Join(strings.Fields(want), " ")
			start = start[:min(len(start), 60)]
			if flat := strings.Join(strings.Fields(m.View()), " "); !strings.Contains(flat, start) {
				t.Errorf("the editor does not show %q:\n%s", want, m.View())
			}
		})
	}
	// Validate keys every problem it finds today; one about no key (a
	// check that cannot know its key) goes below the text, named by file.
	m.runs.problems(errors.Join(sessions.ExplainValidations(sessions.ConfigFile, []byte("steps = 2\n"), runner.DefaultConfig(models, 0),
		sessions.UnsetIsDefault, errors.New("the teacher and the student have different tokenizers"))[0]))
	if want := "config.toml: the teacher and the student have different tokenizers"; len(m.runs.edLoose) != 1 || m.runs.edLoose[0] != want || len(m.runs.ed.notes) != 0 {
		t.Errorf("below the text %q, notes %+v; want %q below the text", m.runs.edLoose, m.runs.ed.notes, want)
	}
	if v := m.View(); !strings.Contains(v, "✗ config.toml: the teacher and the student have different tokenizers") {
		t.Errorf("the editor does not show the problem about no key:\n%s", v)
	}
}

// TestEditorNoteNamesItsLineNow: a note about a line's text names the
// line by where it is now, beside the line's number in the gutter, after
// lines above it are joined or added ('✗ 5 │ … ↳ line 6: …' named the line
// it had been on).
func TestEditorNoteNamesItsLineNow(t *testing.T) {
	var e textEditor
	e.SetText("a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nsteps = -1\n")
	e.SetNotes([]lineNote{{line: 5, msg: "steps -1 must not be negative", numbered: true}})
	for _, tc := range []struct {
		name string
		keys []string // from the start of line 3
		line string   // the gutter's line number and the note's
	}{
		{"as checked", nil, "6"},
		{"line 3 joined to line 2", []string{"backspace"}, "5"},
		{"a line added above", []string{"enter"}, "6"},
		{"two added", []string{"enter", "enter"}, "8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.GotoLine(2)
			for _, k := range tc.keys {
				e.Update(keyMsg(k))
			}
			v := strings.Join(e.Lines(60, 20, style.PlainTheme()), "\n")
			gutter := "✗ " + tc.line + " │ steps = -1"
			note := "↳ line " + tc.line + ": steps -1 must not be negative"
			if !strings.Contains(v, gutter) || !strings.Contains(v, note) {
				t.Errorf("want %q and under it %q:\n%s", gutter, note, v)
			}
		})
	}
}

// TestEditorNotesReadWhole: a note under a line wraps with nothing cut,
// a path longer than the line broken across lines rather than ended with
// "…"; a long note under another line stops at noteLines, saying how to
// read the rest, and the cursor's line shows its note whole.
func TestEditorNotesReadWhole(t *testing.T) {
	path := "/tmp/fs/models/" + strings.Repeat("a-very-long-model-folder-name-", 4) + "student/config.json"
	keysList := "unknown key \"grpo.lrr\": the keys of [grpo] are " + strings.Repeat("questions, samples, temperature, lr, clip, kl, ", 12) + "and seed"
	for _, tc := range []struct {
		name   string
		msg    string
		cursor int // the line the cursor is on (0-based); the note is on line 1
		whole  bool
	}{
		{"a long path, cursor on its line", `student "` + path + `" is not a model folder (no config.json)`, 1, true},
		{"a long path, cursor elsewhere", `student "` + path + `" is not a model folder (no config.json)`, 0, true},
		{"the known keys, cursor on its line", keysList, 1, true},
		{"the known keys, cursor elsewhere", keysList, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e textEditor
			e.SetText("steps = 3\nstudent = 'x'\n[grpo]\nlrr = 1\n")
			e.SetNotes([]lineNote{{line: 1, msg: tc.msg, numbered: true}})
			e.GotoLine(tc.cursor)
			const w, h = 60, 40
			rows := e.Lines(w, h, style.PlainTheme())
			var note []string
			for _, r := range rows {
				if i := strings.Index(r, "↳ "); i >= 0 {
					note = append(note, r[i+len("↳ "):])
				}
			}
			for _, r := range rows {
				if ansi.StringWidth(r) > w {
					t.Errorf("row %q wider than %d", r, w)
				}
			}
			got := strings.Join(strings.Fields(strings.Join(note, " ")), "")
			want := strings.Join(strings.Fields("line 2: "+tc.msg), "")
			switch {
			case tc.whole && got != want:
				t.Errorf("note not read whole:\n got %q\nwant %q\n%s", got, want, strings.Join(rows, "\n"))
			case tc.whole && strings.Contains(strings.Join(note, "\n"), "…"):
				t.Errorf("note cut with …:\n%s", strings.Join(rows, "\n"))
			case !tc.whole:
				if len(note) != noteLines || !strings.Contains(note[len(note)-1], "more lines: the cursor on line 2 shows it whole") {
					t.Errorf("want %d lines, the last saying how to read the rest:\n%s", noteLines, strings.Join(rows, "\n"))
				}
			}
		})
	}
}

// wrap measures terminal cells: a note of wide characters breaks where a
// line fills, and nothing of it is cut.
func TestWrapWideCharacters(t *testing.T) {
	text := "路径 " + strings.Repeat("漢字", 25) + " end"
	lines := wrap(text, 20, math.MaxInt)
	got := ""
	for _, l := range lines {
		if ansi.StringWidth(l) > 20 || strings.Contains(l, "…") {
			t.Errorf("line %q: %d cells, want at most 20 and not cut", l, ansi.StringWidth(l))
		}
		got += l
	}
	if strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(text, " ", "") {
		t.Errorf("wrapped text %q lost characters of %q", got, text)
	}
}
