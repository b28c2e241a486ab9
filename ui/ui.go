package ui

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/keys"
	"github.com/rlt-workbench/rlt/ui/style"
)

// Minimum terminal size; below it the workbench shows one line saying so.
const (
	MinWidth  = 60
	MinHeight = 15
)

// coalesce is how long the UI waits after a change signal before pulling,
// so it pulls at most about 20 times a second.
const coalesce = 50 * time.Millisecond

// Options configure the workbench.
type Options struct {
	Run     *sessions.Run
	Control run.Controller // nil: read-only, no run controls
	Theme   *style.Theme   // nil: plain (Run detects one from the output)
	Steps   int            // planned steps, 0 = open-ended (for the ETA)
}

type screenID int

const (
	scrDashboard screenID = iota
	scrTraces
	scrDetail
	numScreens
)

var screenNames = [numScreens]string{"Dashboard", "Traces", "Detail"}

// screen is what the root asks of each screen.
type screen interface {
	SetSize(w, h int)
	View() string
	Update(tea.KeyMsg) tea.Cmd
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
	Capturing() bool // a text input has focus: global keys are off
}

// shared is what screens need from the root.
type shared struct {
	run     *sessions.Run
	store   *sessions.Store
	theme   *style.Theme
	control run.Controller
	say     func(format string, args ...any)
	// pausedHint is whether this UI paused the engine (for controllers
	// that cannot say whether they are paused).
	pausedHint bool
}

// Messages.
type (
	changedMsg struct{}
	tickMsg    time.Time
	openMsg    struct{ id string } // open a trace in the detail screen
)

type stepAt struct {
	step int
	t    time.Time
}

// Model is the root model: sizes, global keys, help, status and screens.
type Model struct {
	sh     *shared
	opts   Options
	global keys.Global

	w, h   int
	active screenID
	help   bool

	dash   *dashboard
	traces *tracesScreen
	detail *detailScreen

	mCur, tCur, eCur int

	// status
	lastStep   int
	hasStep    bool
	reward     float64
	hasReward  bool
	recent     []stepAt // last metric records' steps and times
	phase      string
	done       bool
	closed     bool
	paused     bool // as set from this UI
	dropped    int
	ckpts      int
	errors     int
	msg        string
	msgAt      time.Time
	stopSignal chan struct{}
	stopped    bool
}

// New returns the workbench model for opts.Run.
func New(opts Options) tea.Model { return newModel(opts) }

func newModel(opts Options) *Model {
	if opts.Theme == nil {
		opts.Theme = style.PlainTheme()
	}
	m := &Model{opts: opts, global: keys.NewGlobal(), stopSignal: make(chan struct{})}
	m.sh = &shared{run: opts.Run, store: opts.Run.Store(), theme: opts.Theme, control: opts.Control, say: m.say}
	m.dash = newDashboard(m.sh)
	m.traces = newTracesScreen(m.sh)
	m.detail = newDetailScreen(m.sh)
	m.pull()
	return m
}

// Run runs the workbench on in and out (nil: the process's terminal) in
// the alternate screen until the user quits. Quitting asks the Controller
// to stop; the caller waits for the engine.
func Run(opts Options, in io.Reader, out io.Writer) error {
	if opts.Theme == nil {
		w := out
		if w == nil {
			w = stdout()
		}
		opts.Theme = style.NewTheme(style.Detect(w))
	}
	m := newModel(opts)
	defer m.shutdown()
	if !isTerminal(out) {
		// No terminal, no size reports: draw at the classic size.
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	}
	po := []tea.ProgramOption{tea.WithAltScreen()}
	if in != nil {
		po = append(po, tea.WithInput(in))
	}
	if out != nil {
		po = append(po, tea.WithOutput(out))
	}
	_, err := tea.NewProgram(m, po...).Run()
	return err
}

func (m *Model) shutdown() {
	if !m.stopped {
		m.stopped = true
		close(m.stopSignal)
	}
}

func (m *Model) say(format string, args ...any) {
	m.msg = fmt.Sprintf(format, args...)
	m.msgAt = time.Now()
}

// Init starts waiting for data and the status tick.
func (m *Model) Init() tea.Cmd { return tea.Batch(m.waitChanged(), tick()) }

// waitChanged waits for the store's change signal, then a little longer
// so that a burst of records becomes one pull.
func (m *Model) waitChanged() tea.Cmd {
	ch, stop := m.sh.store.Changed(), m.stopSignal
	return func() tea.Msg {
		select {
		case <-ch:
		case <-stop:
			return nil
		}
		t := time.NewTimer(coalesce)
		defer t.Stop()
		select {
		case <-t.C:
		case <-stop:
			return nil
		}
		return changedMsg{}
	}
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// pull takes what is new in the store from the saved cursors.
func (m *Model) pull() {
	st := m.sh.store
	ms, cur := st.MetricsSince(m.mCur)
	if cur-len(ms) == 0 && m.mCur > 0 { // the store was reset or superseded
		m.dash.clear()
		m.recent = m.recent[:0]
	}
	m.mCur = cur
	if len(ms) > 0 {
		m.dash.add(ms)
		for _, r := range ms {
			m.lastStep, m.hasStep = r.Step, true
			if v, ok := r.Get("reward"); ok {
				m.reward, m.hasReward = v, true
			}
			m.recent = append(m.recent, stepAt{r.Step, r.Time})
		}
		if n := len(m.recent); n > 64 {
			m.recent = append(m.recent[:0], m.recent[n-64:]...)
		}
	}
	ts, cur := st.TracesSince(m.tCur)
	if cur-len(ts) == 0 && m.tCur > 0 {
		m.traces.clear()
	}
	m.tCur = cur
	m.traces.add(ts)
	evs, cur := st.EventsSince(m.eCur)
	m.eCur = cur
	for _, e := range evs {
		switch e.Kind {
		case sessions.KindPhase:
			m.phase = e.Name
			m.done = e.Name == "done"
			if e.Name == "paused" {
				m.paused = true
			} else if m.paused && e.Name != "done" {
				m.paused = false
			}
		case sessions.KindClose:
			m.closed = true
		case sessions.KindCreate, sessions.KindOpen, sessions.KindResume:
			m.closed = false
		case sessions.KindDropped:
			m.dropped += e.Count
		case sessions.KindCheckpoint:
			m.ckpts++
		case sessions.KindError:
			m.errors++
		}
	}
	m.traces.touch() // labels may have changed
	m.detail.touch()
}

// Update handles messages.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = max(msg.Width, 0), max(msg.Height, 0)
		m.layout()
		return m, nil
	case changedMsg:
		m.pull()
		return m, m.waitChanged()
	case tickMsg:
		if !m.msgAt.IsZero() && time.Time(msg).Sub(m.msgAt) > 6*time.Second {
			m.msg, m.msgAt = "", time.Time{}
		}
		return m, tick()
	case openMsg:
		m.open(msg.id)
		return m, nil
	case backMsg:
		m.active = scrTraces
		return m, nil
	case tea.KeyMsg:
		return m, m.key(msg)
	}
	return m, nil
}

func (m *Model) open(id string) {
	if id == "" {
		return
	}
	if m.detail.setTrace(id) {
		m.active = scrDetail
		m.traces.selectID(id)
	}
}

func (m *Model) screen(id screenID) screen {
	switch id {
	case scrTraces:
		return m.traces
	case scrDetail:
		return m.detail
	}
	return m.dash
}

func (m *Model) quit() tea.Cmd {
	if m.opts.Control != nil {
		m.opts.Control.Stop()
	}
	m.shutdown()
	return tea.Quit
}

func (m *Model) key(k tea.KeyMsg) tea.Cmd {
	if k.Type == tea.KeyCtrlC {
		return m.quit()
	}
	scr := m.screen(m.active)
	if scr.Capturing() {
		return scr.Update(k)
	}
	if m.help {
		switch {
		case key.Matches(k, m.global.Quit):
			return m.quit()
		case key.Matches(k, m.global.Help), k.Type == tea.KeyEsc:
			m.help = false
		}
		return nil
	}
	switch {
	case key.Matches(k, m.global.Quit):
		return m.quit()
	case key.Matches(k, m.global.Help):
		m.help = true
		return nil
	case key.Matches(k, m.global.NextScreen):
		m.switchTo((m.active + 1) % numScreens)
		return nil
	case key.Matches(k, m.global.PrevScreen):
		m.switchTo((m.active + numScreens - 1) % numScreens)
		return nil
	case key.Matches(k, m.global.GoScreen):
		if s := k.String(); s >= "1" && s <= "3" {
			m.switchTo(screenID(s[0] - '1'))
			return nil
		}
	}
	return scr.Update(k)
}

func (m *Model) switchTo(id screenID) {
	if id == scrDetail && !m.detail.loaded() {
		if sel := m.traces.selectedID(); sel != "" {
			m.detail.setTrace(sel)
		} else {
			m.say("no trace to show yet")
			return
		}
	}
	m.active = id
}

func (m *Model) bodyHeight() int { return max(m.h-2, 1) }

func (m *Model) layout() {
	bh := m.bodyHeight()
	m.dash.SetSize(m.w, bh)
	m.traces.SetSize(m.w, bh)
	m.detail.SetSize(m.w, bh)
}

func (m *Model) helpStyle() keys.HelpStyle { return keys.DefaultHelpStyle(m.sh.theme) }

// View renders the whole frame: status line, screen body, footer.
func (m *Model) View() string {
	if m.w <= 0 || m.h <= 0 {
		return ""
	}
	if m.w < MinWidth || m.h < MinHeight {
		return fit(fmt.Sprintf("Terminal too small: need %d×%d (now %d×%d)", MinWidth, MinHeight, m.w, m.h), m.w)
	}
	scr := m.screen(m.active)
	bh := m.bodyHeight()
	var body []string
	if m.help {
		groups := append(append([][]key.Binding{}, scr.FullHelp()...), m.global.FullHelp()...)
		title := m.sh.theme.Paint(style.Spec{Attr: style.Bold}, "Keys: "+screenNames[m.active]+" (? or esc closes)")
		body = append([]string{title, ""}, splitLines(keys.FullHelpView(groups, m.w, bh-2, m.helpStyle()))...)
	} else {
		body = splitLines(scr.View())
	}
	lines := make([]string, 0, m.h)
	lines = append(lines, fit(m.statusLine(), m.w))
	lines = append(lines, block(body, m.w, bh)...)
	lines = append(lines, fit(m.footer(scr), m.w))
	return strings.Join(lines, "\n")
}

func (m *Model) footer(scr screen) string {
	if m.msg != "" {
		return m.sh.theme.Paint(style.FG(style.Orange).With(style.Bold), m.msg)
	}
	b := append(append([]key.Binding{}, scr.ShortHelp()...), m.global.ShortHelp()...)
	return keys.ShortHelpView(b, m.w, m.helpStyle())
}

// state is running, paused or done (and read-only when there are no
// controls).
func (m *Model) state() string {
	s := "waiting"
	switch {
	case m.done:
		s = "done"
	case m.paused || m.enginePaused():
		s = "paused"
	case m.closed:
		s = "closed"
	case m.phase != "" || m.hasStep:
		s = "running"
	}
	if m.opts.Control == nil {
		s += " (read-only)"
	}
	return s
}

func (m *Model) enginePaused() bool {
	p, ok := m.opts.Control.(interface{ Paused() bool })
	return ok && p.Paused()
}

// rate is steps per minute over the recent metric records (0: unknown).
func (m *Model) rate() float64 {
	n := len(m.recent)
	if n < 2 {
		return 0
	}
	a, b := m.recent[0], m.recent[n-1]
	dt := b.t.Sub(a.t).Minutes()
	if dt <= 0 || b.step <= a.step {
		return 0
	}
	return float64(b.step-a.step) / dt
}

func (m *Model) statusLine() string {
	th := m.sh.theme
	var tabs []string
	for i, n := range screenNames {
		switch {
		case screenID(i) == m.active:
			tabs = append(tabs, th.Paint(style.Spec{Attr: style.Bold | style.Reverse}, fmt.Sprintf("[%d %s]", i+1, n)))
		case m.w >= 120:
			tabs = append(tabs, fmt.Sprintf(" %d %s ", i+1, n))
		default:
			tabs = append(tabs, fmt.Sprintf(" %d ", i+1))
		}
	}
	parts := []string{strings.Join(tabs, ""), m.state()}
	if m.hasStep {
		if m.opts.Steps > 0 {
			parts = append(parts, fmt.Sprintf("step %d/%d", m.lastStep, m.opts.Steps))
		} else {
			parts = append(parts, fmt.Sprintf("step %d", m.lastStep))
		}
	}
	if m.hasReward {
		parts = append(parts, "reward "+num(m.reward, 3))
	}
	if r := m.rate(); r > 0 {
		parts = append(parts, fmt.Sprintf("%.1f st/min", r))
		if m.opts.Steps > 0 && m.lastStep < m.opts.Steps && !m.done {
			eta := time.Duration(float64(m.opts.Steps-m.lastStep) / r * float64(time.Minute))
			parts = append(parts, "ETA "+eta.Round(time.Second).String())
		}
	}
	dropped := max(m.dropped, m.sh.run.Dropped())
	if dropped > 0 || m.sh.store.Broken() > 0 {
		parts = append(parts, th.Paint(style.FG(style.Orange), fmt.Sprintf("dropped %d broken %d", dropped, m.sh.store.Broken())))
	}
	if m.errors > 0 {
		parts = append(parts, th.Paint(style.FG(style.Vermillion), fmt.Sprintf("%d errors", m.errors)))
	}
	parts = append(parts, filepath.Base(m.sh.run.Dir()))
	return strings.Join(parts, " · ")
}
