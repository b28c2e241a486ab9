package ui

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/heatmap"
	"github.com/rlt-workbench/rlt/ui/internal/golden"
	"github.com/rlt-workbench/rlt/ui/style"
)

// sizedIn is sized with theme th.
func sizedIn(t *testing.T, r *sessions.Run, th *style.Theme, w, h int) *Model {
	t.Helper()
	m := newModel(Options{Session: &sessions.Session{Run: r, Steps: 20, Control: &fakeControl{}}, Theme: th})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// tokenOpening matches an escape sequence that opens one of the test
// trace's explanation tokens (as heatmap.Visible shows them).
var tokenOpening = regexp.MustCompile(`\x1b\[([0-9;]*)m(The|·sum|·of|·2|·and|·3|·is|·5|\.|⏎|·We|·add|·the|·units|·first|,)`)

// TestDetailReadableWithoutColour: under NO_COLOR the explanation's
// tokens carry their values in bands of attributes (bold above zero,
// faint below, underlined past half the scale), and the legend says so
// with the bands' bounds, not red and blue: the colours' cells were all
// alike, the max-d_k token's underline alone, under a legend of colours.
func TestDetailReadableWithoutColour(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 60)
	for _, c := range []struct {
		keys []string
		say  func(b heatmap.Bands) []string
	}{
		{nil, func(b heatmap.Bands) []string {
			_, lo, hi := b.Text() // as the legend writes them ("0.50" beside "1.00")
			return []string{"bold: d_k", "≥ +" + lo, "faint: ≤ −" + lo, "underlined: beyond ±" + hi}
		}},
		{[]string{"v", "v", "z"}, func(b heatmap.Bands) []string {
			_, lo, hi := b.Text() // as the legend writes them ("0.50" beside "1.00")
			return []string{"plain: ", "certain", "bold: ≤ −" + lo, "underlined: ≤ −" + hi}
		}},
	} {
		for _, w := range []int{60, 80, 120} {
			m := sizedIn(t, r, style.NewTheme(style.NoColor), w, 30)
			send(m, press("2"))
			send(m, press("enter"))
			for _, k := range c.keys {
				send(m, press(k))
			}
			v := m.View()
			golden.Fits(t, v, w, 30)
			flat := strings.Join(strings.Fields(ansi.Strip(v)), " ")
			for _, part := range c.say(m.detail.expl.Bands()) {
				if !strings.Contains(flat, part) {
					t.Errorf("keys %q at %d columns: the legend does not say %q:\n%s", c.keys, w, part, flat)
				}
			}
			for _, colour := range []string{"red:", "blue:", "white:", "dark:"} {
				if strings.Contains(flat, colour) {
					t.Errorf("keys %q at %d columns: the legend names a colour (%q) the view does not show:\n%s", c.keys, w, colour, flat)
				}
			}
			bands := map[string]bool{}
			for _, g := range tokenOpening.FindAllStringSubmatch(v, -1) {
				if g[1] != "0" && !strings.Contains(g[1], "7") { // not a reset, nor the cursor's
					bands[g[1]] = true
				}
			}
			if len(bands) < 2 {
				t.Errorf("keys %q at %d columns: the tokens are drawn in %d style(s) %v, want their bands:\n%q", c.keys, w, len(bands), bands, v)
			}
		}
	}
}

// TestIncompleteRecordSaysHowMissingValuesLook: the Detail's note on an
// incomplete record says how its tokens without a value are drawn: in
// italics under NO_COLOR, where the heatmap draws them so and every
// token is uncoloured (it said "uncoloured" there too), uncoloured in
// colour.
func TestIncompleteRecordSaysHowMissingValuesLook(t *testing.T) {
	for _, c := range []struct {
		theme *style.Theme
		look  string
	}{
		{style.NewTheme(style.NoColor), "in italics"},
		{style.NewTheme(style.TrueColor), "uncoloured"},
	} {
		r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition", Steps: 20})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		tr := makeTrace(1, 0, 0, 20)
		tr.Score.D = tr.Score.D[:17] // the last 3 tokens have no d_k
		r.Emit(tr)
		m := sizedIn(t, r, c.theme, 160, 40)
		send(m, press("2"))
		send(m, press("enter"))
		v := m.View()
		flat := strings.Join(strings.Fields(ansi.Strip(v)), " ")
		if want := "tokens without a value are " + c.look + " (—)"; !strings.Contains(flat, want) {
			t.Errorf("%s: the note does not say %q:\n%s", c.look, want, flat)
		}
		if italic := strings.Contains(v, "\x1b[3m"); italic != (c.look == "in italics") {
			t.Errorf("%s: a token in italics %v:\n%q", c.look, italic, v)
		}
	}
}

// modelsCfg is a run's config.toml that names its models.
type modelsCfg struct {
	Task    string `toml:"task"`
	Steps   int    `toml:"steps"`
	Teacher string `toml:"teacher"`
	Student string `toml:"student"`
}

// TestRescoreHintPasteable: s on a trace without a rescore tells the rlt
// score command with the run's own folder, quoted for the shell where it
// needs it, and what it needs first: a workbench that holds the run (open
// to review or train it) is quit first, as rlt score --write is refused
// while it does; one that views it read-only holds nothing. A run that
// records no models (an import) is told to give them. It said "rlt score
// --run DIR --write", DIR a placeholder, and nothing of the lock.
func TestRescoreHintPasteable(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no POSIX shell to paste into")
	}
	// pasted is what the shell makes of the command's arguments.
	pasted := func(t *testing.T, cmd string) []string {
		t.Helper()
		out, err := exec.Command(sh, "-c", `for a in `+strings.TrimPrefix(cmd, "rlt ")+`; do printf '%s\n' "$a"; done`).Output()
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	}
	dir := filepath.Join(t.TempDir(), "run's folder $HOME")
	own, err := sessions.Create(dir, modelsCfg{Task: "addition", Steps: 2, Teacher: "/m/teacher", Student: "/m/student"})
	if err != nil {
		t.Fatal(err)
	}
	own.Emit(makeTrace(1, 0, 0, 5))
	if err := own.Close(); err != nil {
		t.Fatal(err)
	}
	imported := importOfficial(t)
	for _, c := range []struct {
		name      string
		dir       string
		open      func(t *testing.T, dir string) *Model
		ctl       bool
		want      []string // the command's arguments after rlt, as the shell reads them
		before    string
		notBefore string
	}{
		{"reviewed here", dir, reviewHere, false, []string{"score", "--run", dir, "--write"},
			"quit the workbench first (q), as it holds the run and rlt score --write is refused while it does, then run rlt score", "in another terminal"},
		{"trained here", dir, reviewHere, true, []string{"score", "--run", dir, "--write"},
			"quit the workbench first (q, which stops the training here), as it holds the run", "in another terminal"},
		{"read-only", dir, func(t *testing.T, dir string) *Model { return openReadOnly(t, dir, 120, 40) }, false,
			[]string{"score", "--run", dir, "--write"}, "in another terminal run rlt score", "quit"},
		{"imported, reviewed here", imported, reviewHere, false,
			[]string{"score", "--run", imported, "--teacher", "TEACHER", "--student", "STUDENT", "--write"},
			"quit the workbench first (q)", "in another terminal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.open(t, c.dir)
			if c.ctl {
				m.sh.control = &fakeControl{}
			}
			send(m, press("2"))
			send(m, press("enter"))
			if m.active != scrDetail {
				t.Fatalf("no trace open (screen %d)", m.active)
			}
			send(m, press("s"))
			msg := m.msg
			if !strings.Contains(msg, c.before) || (c.notBefore != "" && strings.Contains(msg, c.notBefore)) {
				t.Errorf("s: %q, want %q and not %q", msg, c.before, c.notBefore)
			}
			start := strings.Index(msg, "rlt score --run ")
			end := strings.Index(msg[max(start, 0):], " --write") + max(start, 0)
			if start < 0 || end < start {
				t.Fatalf("s: %q tells no rlt score command", msg)
			}
			cmd := msg[start : end+len(" --write")]
			if got := pasted(t, cmd); strings.Join(got, "\x00") != strings.Join(c.want, "\x00") {
				t.Errorf("%s pastes as %q, want %q", cmd, got, c.want)
			}
			if strings.Contains(c.name, "imported") && !strings.Contains(msg, "the run records none") {
				t.Errorf("s: %q does not say the run records no models", msg)
			}
		})
	}
}

// reviewHere opens the run in dir to review it, as rlt open does where no
// other process holds it: the workbench holds its lock.
func reviewHere(t *testing.T, dir string) *Model {
	t.Helper()
	r, err := sessions.OpenWith(dir, nil, sessions.Options{Intent: sessions.IntentReview})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	m := newModel(Options{Session: &sessions.Session{Run: r}})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	return m
}

// TestDetailScoresReadWhole: the score lines of a trace whose terms take
// many digits (early in a run: r_KL in the hundreds) are read whole at 60
// and 80 columns, broken between their parts where they do not fit, not
// cut mid-number ("(mean 11.014, max 11…").
func TestDetailScoresReadWhole(t *testing.T) {
	r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition", Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	tr := makeTrace(1, 0, 0, 40)
	tm := &tr.Score.Terms
	tm.RSS, tm.SolutionMean, tm.SolutionMin = -16.085, -15.966, -111.851
	tm.RKL, tm.KLMean, tm.KLMax = 136.527, 11.014, 1116.209
	tm.Penalty, tm.Reward = -1, -153.612
	tr.Advantage = -2.378
	r.Emit(tr)
	for _, w := range []int{60, 80} {
		m := sizedIn(t, r, style.PlainTheme(), w, 30)
		m.pull()
		send(m, press("2"))
		send(m, press("enter"))
		v := m.View()
		golden.Fits(t, v, w, 30)
		flat := strings.Join(strings.Fields(v), " ")
		for _, part := range []string{"r_SS -16.085 (mean -15.966, min -111.851)", "r_KL 136.527 (mean 11.014, max 1116.209)",
			"penalty -1.00 (ended)", "reward -153.612", "advantage -2.378"} {
			if !strings.Contains(flat, part) {
				t.Errorf("at %d columns the detail does not read %q whole:\n%s", w, part, v)
			}
		}
	}
}

// TestCursorLineGivesWayByParts: the cursor line leaves out whole parts
// where it does not fit, where the largest d_k is first, then ℓT and ℓS,
// not cut mid-word: at 60 columns it read "… d_k +1.2500 · max d_k…".
func TestCursorLineGivesWayByParts(t *testing.T) {
	r := newTestRun(t, 1, 1, 1, 60)
	for _, c := range []struct {
		w          int
		want, lack string
	}{
		{80, "ℓS -1.7000 d_k +1.2500 · max d_k at ", ""},
		{60, "ℓT -0.4500 ℓS -1.7000 d_k +1.2500", "max d_k"},
	} {
		m := sizedIn(t, r, style.PlainTheme(), c.w, 15)
		send(m, press("2"))
		send(m, press("enter"))
		send(m, press("l"))
		lines := strings.Split(ansi.Strip(m.View()), "\n")
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "tok 2/60 ") })
		if i < 0 {
			t.Fatalf("at %d columns no cursor line:\n%s", c.w, strings.Join(lines, "\n"))
		}
		l := strings.TrimRight(lines[i], " ")
		if !strings.Contains(l, c.want) || c.lack != "" && strings.Contains(l, c.lack) || strings.Contains(l, "…") {
			t.Errorf("at %d columns the cursor line reads %q, want %q whole and no %q", c.w, l, c.want, c.lack)
		}
	}
}
