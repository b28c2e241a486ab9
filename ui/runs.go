package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/size"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/internal/nouns"
	"github.com/rlt-workbench/rlt/ui/keys"
	"github.com/rlt-workbench/rlt/ui/style"
)

// launchKind is what the Runs screen asks the Launcher for.
type launchKind int

const (
	launchStart launchKind = iota
	launchResume
	launchReadOnly
	// launchReview opens one of our run folders to review: writable when
	// no other process holds it, else read-only (Launcher.OpenForReview).
	launchReview
)

// launchReq is one request to open a run in place of the current one.
type launchReq struct {
	kind launchKind
	dir  string
	cfg  []byte
}

func (r launchReq) String() string {
	switch r.kind {
	case launchStart:
		return "start a new run"
	case launchResume:
		return "resume " + filepath.Base(r.dir)
	case launchReview:
		return "open " + filepath.Base(r.dir)
	}
	return "open " + filepath.Base(r.dir) + " read-only"
}

// runsListedMsg carries a refreshed list (gen tells stale ones apart).
type runsListedMsg struct {
	gen  int
	rows []runRow
	err  error
	// rootGone: the runs folder (--runs) does not exist, which the
	// listing reads as no runs.
	rootGone bool
	// rootFile is the file where the runs folder, or a folder above it,
	// should be ("": none), which the listing met as "not a directory".
	rootFile string
}

// relistEvery is how often the list refreshes itself while shown: often
// enough to see states change, rarely enough that re-reading every run's
// logs takes little from an engine training on the same cores.
const relistEvery = 10 * time.Second

// runsScreen lists the run folders under the runs folder and the folders
// the user follows, and opens, resumes or starts runs through the
// Launcher. Its configuration editor starts new runs.
type runsScreen struct {
	m     *Model
	keys  keys.Runs
	ekeys keys.Editor

	rows     []runRow
	rowKey   []string // the followed path each row came from ("" for the runs folder)
	sel, top int
	selDir   string
	follow   []string
	listErr  error
	rootGone bool   // the runs folder does not exist (runsListedMsg)
	rootFile string // the file in the way of the runs folder (runsListedMsg)
	listGen  int
	listing  bool
	listedAt time.Time
	// lister keeps what the listings read of each run, so a relist reads
	// only what the runs appended since. Refreshes run off the event loop
	// and may overlap (one asked for while another lists): the Lister
	// lets them take turns.
	lister *sessions.Lister

	adding  bool // typing a folder to follow
	input   lineInput
	confirm *launchReq // waiting for y
	// checking is the run folder whose resume is looked at again before
	// the live run is stopped for it (resumeCheckedMsg); "" none.
	checking string
	msg      string // outcome of the last action
	msgErr   bool
	// msgAt is when msg was said, or when the screen was shown after it
	// was said elsewhere (unseen): an outcome is cleared msgShown later,
	// as the footer's messages are (expire); an error stays until a key.
	msgAt  time.Time
	unseen bool
	// heldFor is the run folder the message says another process holds
	// (sayRefused), "" for any other message: it goes once the listing
	// shows that process gone, no longer true though it is an error.
	heldFor string

	editing  bool
	ed       textEditor
	edFrom   string   // where the text came from
	edLoose  []string // problems without a line
	edCount  int      // problems found by the last check
	hasDraft bool
	edOrig   string // the text as it was loaded: what differs from it is the user's edit
	// discardKey is the key pressed once to replace an edited draft: a
	// second press of it confirms.
	discardKey string

	w, h int
}

func newRunsScreen(m *Model) *runsScreen {
	r := &runsScreen{m: m, keys: keys.NewRuns(), ekeys: keys.NewEditor(), input: lineInput{limit: 4096},
		lister: new(sessions.Lister)}
	r.loadFollowed()
	return r
}

// FollowedFile, in the runs folder, keeps the folders the Runs screen
// follows across workbench sessions.
const FollowedFile = ".followed.json"

// followedJSON is FollowedFile's content.
type followedJSON struct {
	Folders []string `json:"folders"` // absolute paths, in the order they were followed
}

func (r *runsScreen) followedPath() string { return filepath.Join(r.m.runsDir, FollowedFile) }

// loadFollowed reads the followed folders saved by an earlier session. A
// missing file is an empty list; a corrupt one is reported and ignored
// (it is rewritten when the list next changes).
func (r *runsScreen) loadFollowed() {
	data, err := os.ReadFile(r.followedPath())
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return // none; a runs folder that is a file is said by the list (rootFileWords)
	}
	var f followedJSON
	if err == nil {
		err = json.Unmarshal(data, &f)
	}
	if err != nil {
		r.say(true, "followed folders not restored: %s: %v (ignored; it is rewritten when you follow a folder)", r.followedPath(), err)
		return
	}
	// A folder the runs folder lists itself (saved before addFollow
	// refused one) adds no row, so x could not remove it: it is dropped,
	// and the list saved without it.
	var dropped []string
	for _, p := range f.Folders {
		if p = strings.TrimSpace(p); p == "" || slices.Contains(r.follow, p) {
			continue
		}
		if listedIn(r.m.runsDir, p) != "" {
			dropped = append(dropped, p)
			continue
		}
		r.follow = append(r.follow, p)
	}
	if len(dropped) == 0 {
		return
	}
	what := strings.Join(dropped, ", ")
	if err := r.saveFollowed(); err != nil {
		r.say(true, "no longer following %s (already listed under the runs folder %s), but %s could not be rewritten without it: %v (it is dropped again at the next start)",
			what, r.m.runsDir, r.followedPath(), err)
		return
	}
	r.say(false, "no longer following %s: it is already listed under the runs folder %s", what, r.m.runsDir)
}

// saveFollowed writes the followed folders (as absolute paths, so a
// workbench started elsewhere finds them) atomically.
func (r *runsScreen) saveFollowed() error {
	f := followedJSON{Folders: []string{}}
	for _, p := range r.follow {
		f.Folders = append(f.Folders, absPath(p))
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(r.m.runsDir, 0o755); err != nil {
		return err
	}
	return durable.WriteFile(r.followedPath(), append(data, '\n'), 0o644)
}

func (r *runsScreen) SetSize(w, h int) { r.w, r.h = w, h }

// Capturing: text inputs, the editor and a pending confirmation take every
// key (ctrl+c still quits).
func (r *runsScreen) Capturing() bool { return r.editing || r.adding || r.confirm != nil }

func (r *runsScreen) ShortHelp() []key.Binding {
	switch {
	case r.confirm != nil:
		return []key.Binding{
			key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "confirm")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("any other key", "cancel")),
		}
	case r.editing:
		return r.ekeys.ShortHelp()
	case r.adding:
		return []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "follow")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		}
	}
	km := r.keyMap()
	if row := r.selected(); row != nil && !r.resumeOffered(*row) {
		km.Resume.SetEnabled(false)
	}
	return km.ShortHelp()
}

// resumeOffered reports whether the key bar offers r on row: only where
// r resumes it. r on the run this workbench trains only says that it
// trains (or, paused, that p goes on); on a run with no checkpoint to
// continue from, an imported or a finished one (not runRow.Resumable),
// one another process holds, one whose run.lock cannot be probed
// (unknown) or is refused to an open to write it (LockRefused), and a
// broken one, it says why it is not resumed (resumeRefusal): the bar
// offered "r resume from checkpoint" there. What the listing read says
// it, not the disk read at each draw. The help page still lists the key.
func (r *runsScreen) resumeOffered(row runRow) bool {
	switch {
	case !row.Resumable, r.isCurrent(row) && r.m.engineRunning():
		return false
	case r.heldElsewhere(row), row.LockRefused != nil:
		return false
	case row.State == string(sessions.StateUnknown), row.State == string(sessions.StateBroken), row.State == "missing":
		return false
	}
	return true
}

// FullHelp shows the editor's keys too: they cannot be read from the help
// page while the editor has the keyboard.
func (r *runsScreen) FullHelp() [][]key.Binding {
	return append(r.keyMap().FullHelp(), r.ekeys.FullHelp()...)
}

// keyMap is the Runs keys as the help says them: enter's words are what
// it does on the selected row (openHelp), which is not always to open it
// read-only.
func (r *runsScreen) keyMap() keys.Runs {
	km := r.keys
	km.Open.SetHelp(km.Open.Help().Key, r.openHelp())
	return km
}

func (r *runsScreen) say(err bool, format string, args ...any) {
	r.msg, r.msgErr, r.msgAt, r.heldFor = fmt.Sprintf(format, args...), err, time.Now(), ""
	r.unseen = r.m.active != scrRuns
	if !r.unseen {
		// The answer to a key pressed here is read at once: a message
		// said before it (opening's note) would cover it, wrapped over
		// the bottom lines, for its few seconds.
		r.m.msg, r.m.msgAt = "", time.Time{}
	}
}

// note adds s to the message shown (after a failure, what still holds).
func (r *runsScreen) note(s string) {
	r.msgAt, r.unseen = time.Now(), r.m.active != scrRuns
	if r.msg == "" {
		r.msg = s
		return
	}
	r.msg += " · " + s
}

// expire clears the message at the tick after it has been shown msgShown
// (the Model calls it while the screen is shown), unless it is an error
// (a refusal, a failed launch: it may be long, and said while nobody
// watched a slow resume), which stays until a key, or it asks what a key
// will do (the draft's discardKey) or says what is under way (a resume
// checking): those go when what they say ends.
func (r *runsScreen) expire(now time.Time) {
	if r.msg == "" || r.msgErr || r.discardKey != "" || r.checking != "" || !expired(r.msgAt, now) {
		return
	}
	r.clearMsg()
}

func (r *runsScreen) clearMsg() {
	r.msg, r.msgErr, r.msgAt, r.unseen, r.heldFor = "", false, time.Time{}, false, ""
}

// shown starts the message's time when the screen is shown, if it was
// said while another screen was (a launch, a warning at start): it is read
// here before it goes. One already seen keeps its time.
func (r *runsScreen) shown() {
	if r.msg != "" && r.unseen {
		r.msgAt, r.unseen = time.Now(), false
	}
}

// refresh lists the runs off the event loop (the first listing reads every
// run's logs; later ones what was appended since).
func (r *runsScreen) refresh() tea.Cmd {
	r.listGen++
	r.listing = true
	gen, root, follow, lister := r.listGen, r.m.runsDir, slices.Clone(r.follow), r.lister
	open := "" // the run folder open here, listed where nothing else lists it
	if o := r.m.cur; o != nil && o.Run != nil && !o.FollowsTrainer {
		open = o.Run.Dir()
	}
	return func() tea.Msg {
		rows, err := listRuns(lister, root, follow, open)
		fi, serr := os.Stat(root)
		file := ""
		if serr != nil && !errors.Is(serr, fs.ErrNotExist) || serr == nil && !fi.IsDir() {
			file = sessions.FileOnPath(root)
		}
		return runsListedMsg{gen: gen, rows: rows, err: err, rootGone: errors.Is(serr, fs.ErrNotExist), rootFile: file}
	}
}

// stale reports whether the shown list is old enough to list again.
func (r *runsScreen) stale(now time.Time) bool {
	return !r.listing && !r.editing && now.Sub(r.listedAt) >= relistEvery
}

func (r *runsScreen) listed(msg runsListedMsg) {
	if msg.gen != r.listGen {
		return
	}
	r.listing, r.listedAt = false, time.Now()
	r.rows, r.listErr, r.rootGone, r.rootFile = msg.rows, msg.err, msg.rootGone, msg.rootFile
	r.rowKey = r.rowKey[:0]
	for _, row := range r.rows {
		k := ""
		if row.Origin == originFollowed {
			for _, f := range r.follow {
				if row.Dir == f || row.Name == f || strings.HasPrefix(row.Dir, f+string(filepath.Separator)) {
					k = f
					break
				}
			}
		}
		r.rowKey = append(r.rowKey, k)
	}
	if r.heldFor != "" && !slices.ContainsFunc(r.rows, func(row runRow) bool { return row.Dir == r.heldFor && row.Holder.Held() }) {
		// The process the message says holds the run is gone (or the
		// run is no longer listed): what it says no longer holds.
		r.clearMsg()
	}
	r.sel = 0
	if r.selDir == "" {
		// First listing: select the open run, else the newest.
		r.sel = len(r.rows) - 1
		for i, row := range r.rows {
			if r.isCurrent(row) {
				r.sel = i
			}
		}
	}
	for i, row := range r.rows {
		if row.Dir == r.selDir {
			r.sel = i
		}
	}
	r.syncSel()
}

func (r *runsScreen) syncSel() {
	if len(r.rows) == 0 {
		r.sel, r.selDir = 0, ""
		return
	}
	r.sel = min(max(r.sel, 0), len(r.rows)-1)
	r.selDir = r.rows[r.sel].Dir
}

func (r *runsScreen) selected() *runRow {
	if r.sel < 0 || r.sel >= len(r.rows) {
		return nil
	}
	return &r.rows[r.sel]
}

func (r *runsScreen) isCurrent(row runRow) bool {
	o := r.m.cur
	return o != nil && o.Run != nil && absPath(o.Run.Dir()) == absPath(row.Dir)
}

func (r *runsScreen) pageRows() int { return max(r.h-5, 1) }

// listRows is how many lines the list of runs has under the action line
// act (actionLines): its message, read whole, takes rows from the list.
func (r *runsScreen) listRows(act []string) int { return max(r.pageRows()-len(act)+1, 1) }

// listShown is how many runs the list's n lines (listRows) show: all n,
// or, when there are more runs than lines, n-1 above the line that says
// which runs are shown ("runs 4–15 of 20"). settle scrolls by it, so
// that the selected run is one of the rows drawn, not under that line.
func (r *runsScreen) listShown(n int) int {
	if len(r.rows) > n && n > 1 {
		return n - 1
	}
	return n
}

// settle keeps the selected run in sight on the list: the rows shown
// move only as far as they must (scrollTop); in the new run's editor, the
// cursor (textEditor.settle). How many rows are shown changes with the
// action line's message as well as the size, and the message with many
// messages (said from the Model, expired by its ticks): the Model calls
// settle after each message while the screen is drawn (Model.Update), so
// that View only draws.
func (r *runsScreen) settle() {
	if r.w <= 0 || r.h <= 0 {
		return // nothing is drawn (View)
	}
	if r.editing {
		act := r.actionLines(actionMax(r.h))
		r.ed.settle(r.w, r.editorRows(act, r.editorLoose()))
		return
	}
	n := r.listRows(r.actionLines(actionMax(r.h)))
	r.top = scrollTop(r.top, r.sel, r.listShown(n), len(r.rows))
}

// followOpen brings the open run's row up to what the header says of it:
// the list is read again every relistEvery, the header follows the open
// run's store at every tick, and the two must not tell one run two ways
// ('finished · step 30/30' above, 'running 29/30' in its row). The
// header's moments the listing never shows (pausing, stopping, starting:
// runState's "") leave the listed state. Model.Update calls it after each
// message while the list is shown, so that View only draws the rows.
func (r *runsScreen) followOpen() {
	m := r.m
	for i := range r.rows {
		row := &r.rows[i]
		if !r.isCurrent(*row) || row.State == "missing" {
			continue
		}
		row.LastStep, row.Numbering, row.Best = -1, m.numbering, m.best
		if m.hasStep {
			row.LastStep = m.lastStep
		}
		if m.counted.HasStep { // the header's count (stepsDone)
			row.LastStep = max(row.LastStep, m.counted.LastStep)
		}
		if p := m.plannedSteps(); p > 0 {
			row.Planned = p
		}
		if st, _ := m.runState(true); st != "" {
			row.State = string(st)
		}
		// Where its step is, as the header says it: the engine's latest,
		// not progress.json's of up to ProgressEvery and relistEvery ago.
		row.Progress = nil
		if p, ok := m.progressShown(); ok {
			row.Progress = &p
		}
	}
}

func (r *runsScreen) wheel(d int) {
	if r.editing {
		r.ed.moveRows(d)
		return
	}
	r.sel += d
	r.syncSel()
}

func (r *runsScreen) Update(k tea.KeyMsg) tea.Cmd {
	if r.confirm != nil {
		req := *r.confirm
		r.confirm = nil
		if k.String() == "y" {
			return r.m.switchRun(req)
		}
		r.say(false, "cancelled: %s", req)
		return nil
	}
	r.checking = "" // a resume looked at again is dropped by any key
	if r.msgErr && r.discardKey == "" {
		r.clearMsg() // an error stays until a key: this one
	}
	if r.discardKey != "" && k.String() != r.discardKey {
		// The draft is replaced by the key pressed again at once, not by
		// the same key pressed later, after more edits, with no warning.
		r.discardKey = ""
	}
	if r.editing {
		return r.editorKey(k)
	}
	if r.adding {
		switch k.Type {
		case tea.KeyEnter:
			r.addFollow(strings.TrimSpace(r.input.Value()))
			return r.refresh()
		case tea.KeyEsc:
			r.adding = false
			return nil
		}
		r.input.Update(k)
		return nil
	}
	km := r.keys
	if d, ok := km.Move(k, r.pageRows(), len(r.rows)); ok {
		r.sel += d
		r.syncSel()
		return nil
	}
	switch {
	case key.Matches(k, km.Open):
		return r.act(launchReadOnly)
	case key.Matches(k, km.Resume):
		return r.act(launchResume)
	case key.Matches(k, km.New):
		if !r.hasDraft {
			if !r.loadDefault() {
				return nil
			}
		}
		r.editing = true
	case key.Matches(k, km.CopyNew):
		r.copyConfig()
	case key.Matches(k, km.Follow):
		r.adding = true
		r.input.SetValue("")
	case key.Matches(k, km.Unfollow):
		r.unfollow()
		return r.refresh()
	case key.Matches(k, km.Refresh):
		return r.refresh()
	case key.Matches(k, km.Compare):
		r.toggleCompare()
	case key.Matches(k, km.Back):
		r.m.back()
	}
	return nil
}

// act opens, or resumes, the selected run in place of the current one.
func (r *runsScreen) act(kind launchKind) tea.Cmd {
	row := r.selected()
	switch {
	case row == nil:
		r.say(true, "no run selected")
		return nil
	case r.m.launcher == nil:
		r.say(true, "this workbench was started without a launcher: it cannot open runs")
		return nil
	}
	// A run open here whose engine has stopped (S, done, failed) or was
	// interrupted (killed, crashed) resumes in place: the session is
	// ended first, as for any other run.
	resumeHere := kind == launchResume && (r.m.sh.engineEnded || r.m.interrupted())
	if r.isCurrent(*row) && !resumeHere {
		o := r.m.cur
		if e := r.enterDoes(*row); kind == launchReadOnly && !e.show {
			return r.m.request(launchReq{kind: e.kind, dir: row.Dir})
		}
		if kind == launchReadOnly || o.Control != nil || !o.IsReadOnly() {
			r.m.active = scrDashboard
			r.m.say("%s is the run open here%s", filepath.Base(row.Dir), r.trainingHere(kind))
			return nil
		}
		// Resuming the run viewed read-only: the view is closed first.
	}
	if kind == launchResume {
		why, done := r.resumeRefusal(*row, false)
		if why != "" && !done {
			r.sayRefused(*row, why)
			return nil
		}
		if live := r.m.engineRunning() && r.m.switching == ""; live || why != "" {
			// What the resume would refuse is looked at again now, off
			// the event loop (the list may be up to relistEvery old):
			// before the live run is stopped for it (a process may have
			// taken the run's lock since), and before a run listed with
			// nothing left to run is refused (its config.toml's steps
			// may have been raised a moment ago).
			r.checking = row.Dir
			if live {
				r.say(false, "checking %s before stopping %s …", filepath.Base(row.Dir), r.m.openName())
			} else {
				r.say(false, "checking %s …", filepath.Base(row.Dir))
			}
			l, was := r.lister, *row
			return func() tea.Msg {
				msg := resumeCheckedMsg{row: freshRow(l, was)}
				if live {
					msg.noRoom = sessions.RoomToResume(was.Dir)
				}
				return msg
			}
		}
	}
	return r.m.request(launchReq{kind: kind, dir: row.Dir})
}

// enterAction is what enter (keys.Runs.Open) does on a row: opens it
// (kind), again when it is the run open here (again), or shows the run
// open here on the Dashboard (show).
type enterAction struct {
	kind        launchKind
	again, show bool
}

// enterDoes is what enter does on row, asked by act, which does it, and
// by the key bar, which says it: the two cannot part.
func (r *runsScreen) enterDoes(row runRow) enterAction {
	if !r.isCurrent(row) {
		return enterAction{kind: launchReadOnly}
	}
	o := r.m.cur
	held := row.Holder.Held()
	if row.Kind == kindRun && o.Control == nil && o.IsReadOnly() && !held && row.State != string(sessions.StateBroken) && row.State != string(sessions.StateUnknown) {
		// Viewed read-only while another process held it, which has
		// since let go: opened again, now to review (reviews and
		// exports written), as rlt open would. Not one whose run.lock
		// cannot be probed (unknown), which opens to review read-only:
		// enter reads it again, below.
		return enterAction{kind: launchReview}
	}
	if !r.m.engineRunning() && !(held && o.IsReadOnly()) {
		// No engine runs it, here or in another process (a run open
		// writable here is held by this one): enter reads it again
		// from its files, as the Detail's "reopen the run" asks of a
		// trace file removed or rewritten since
		// (sessions.TraceStore), opened as it is now (to review, or
		// read-only).
		if !o.IsReadOnly() {
			return enterAction{kind: launchReview, again: true}
		}
		return enterAction{kind: launchReadOnly, again: true}
	}
	// Trained here, or followed while another process holds it: its
	// Dashboard is where it is seen.
	return enterAction{show: true}
}

// openHelp is the key bar's words for enter on the selected row
// (enterDoes); with no row, what it does on any run but the open one.
func (r *runsScreen) openHelp() string {
	e := enterAction{kind: launchReadOnly}
	if row := r.selected(); row != nil {
		e = r.enterDoes(*row)
	}
	switch {
	case e.show:
		return "show on dashboard"
	case e.again:
		return "read again"
	case e.kind == launchReview:
		return "open to review"
	}
	return "open read-only"
}

// trainingHere says, for r on the run whose engine this workbench
// drives, what r cannot do for it and what does ("" for another key, or
// no engine here): a paused engine goes on with p, as the Dashboard's p
// decides (the controller's word, else the pause it last asked for).
func (r *runsScreen) trainingHere(kind launchKind) string {
	if kind != launchResume || !r.m.engineRunning() {
		return ""
	}
	asked, canAsk := r.m.pauseAsked()
	if canAsk && asked || !canAsk && r.m.sh.pausedHint {
		return ", paused: p here goes on with its training"
	}
	return ", training here already: nothing to resume"
}

// resumeRefusal is why the run of row is not resumed here, said for the
// message line, or "", and whether that is its listing's nothing left to
// run (done: worth a fresh look, the plan may have been raised since).
// live: a run training here would be stopped for it, so a run with nothing
// left to run is refused too (its resume would finish at once, having
// stopped the live run for nothing).
func (r *runsScreen) resumeRefusal(row runRow, live bool) (why string, done bool) {
	name := filepath.Base(row.Dir)
	switch {
	case row.Kind == kindOfficial:
		return "another trainer's run (official RLT, TRL, verl, NeMo-RL) cannot be resumed here; enter opens it read-only", false
	case row.Kind == kindRun && imported(row.Dir):
		// rlt import's copy of such a run: never resumed, said in the
		// launcher's own words (ImportSource.NotResumed) before anything
		// here is closed or stopped for it, whatever is open. With a
		// run open it was said as a run of ours with no checkpoint,
		// naming neither the import nor a way on.
		src, _ := sessions.ImportedFrom(row.Dir)
		return fmt.Sprintf("%s is not resumed: %v", name, src.NotResumed(row.Dir)), false
	case r.heldElsewhere(row):
		// Another process trains it, loads its engine to, or keeps
		// it open to review it: a resume here would fail on its
		// lock. The run viewed read-only is no exception (this
		// process holds no lock on it), whatever its phases say of
		// the engine's end: the view stays open, and enter has
		// nothing more to open.
		why := fmt.Sprintf("%s is held by another process (%s); enter opens it read-only", name, row.Holder)
		if r.isCurrent(row) {
			why = fmt.Sprintf("%s is held by another process (%s): not resumed; it is open here read-only", name, row.Holder)
		}
		if live {
			why += "; " + r.m.openName() + " keeps running"
		}
		return why, false
	case row.State == string(sessions.StateUnknown):
		// Its run.lock could not be probed, and its events leave open a
		// session that may train it still: a resume would take the lock,
		// which fails as the probe did (the run here closed, or its
		// training stopped, for nothing), or finds it held.
		why := fmt.Sprintf("%s is not resumed: its %s cannot be probed (%s), so whether another process trains it is not known; enter opens it read-only; %s",
			name, sessions.LockFileName, probeCause(row.Note), resumeLockAdvice)
		if live {
			why += "; " + r.m.openName() + " keeps running"
		}
		return why, false
	case row.State == string(sessions.StateBroken) || row.State == "missing":
		return fmt.Sprintf("%s cannot be resumed: %s", name, row.Note), false
	case row.LockRefused != nil:
		// An open to write it refuses its run.lock (a symbolic link, a
		// named pipe or a folder of that name, one far too big): the
		// launcher's refusal, in the words failed says it in, but said
		// before the run open here is closed or the one training here
		// stopped for a resume that cannot run.
		why := fmt.Sprintf("%s is not resumed: %s; enter opens it read-only; %s", name, row.LockRefused.Why(), row.LockRefused.Fix())
		if live {
			why += "; " + r.m.openName() + " keeps running"
		}
		return why, false
	case live && nothingLeft(row):
		return fmt.Sprintf("%s has nothing left to run (%s steps done): not resumed, %s keeps running; enter opens it; %s",
			name, row.steps(), r.m.openName(), moreSteps(row.Dir, row.Numbering.StepsDone(row.LastStep), "r here")), true
	case live && !sessions.HasCheckpoint(row.Dir):
		// Its resume is refused (no checkpoint to continue from), in the
		// launcher's words: the live run is not stopped for it. That is
		// said first, so that the command the refusal ends with stands
		// alone at the line's end: after it, "; live keeps running" read
		// as more of the command (a shell runs it as one).
		return r.m.openName() + " keeps running; " + sessions.NoCheckpointRefusal(row.Dir).Error(), false
	case !live && !r.m.engineRunning() && r.m.hasRun() && !sessions.HasCheckpoint(row.Dir):
		// Said before the run open here is closed for it (switchRun), in
		// the words the launcher refuses it in with no run open: asked,
		// it refuses only once the view was closed, the run then opened
		// again, the user's place in it lost for nothing.
		return sessions.NoCheckpointRefusal(row.Dir).Error(), false
	case !live && !r.m.engineRunning() && nothingLeft(row):
		// Its resume would find nothing to run (said here in the
		// workbench's way on, not --steps's). With a run training here,
		// the first case says so once the run is looked at again.
		return fmt.Sprintf("%s has nothing left to run (%s steps done): not resumed; %s",
			name, row.steps(), moreSteps(row.Dir, row.Numbering.StepsDone(row.LastStep), "r here")), true
	}
	return "", false
}

// nothingLeft reports whether the resume of row's run would be refused as
// having nothing to run, by the resume's own rule (sessions.NothingLeftToRun:
// its newest checkpoint after the last step its config.toml plans), not by
// the steps its listing counts: a finished run whose final checkpoint is
// gone resumes, doing its last step again, and one stopped after its last
// step's checkpoint is refused as a finished one is.
func nothingLeft(row runRow) bool {
	return sessions.NothingLeftToRun(row.Dir, row.Planned)
}

// resumeLockAdvice says how a run whose run.lock cannot be taken, or
// probed, is resumed.
const resumeLockAdvice = "to resume it, make sure no process trains it, and that its " + sessions.LockFileName +
	" is a file on a disk that locks files (a local one; NFS's lock manager may not be reached)"

// probeCause is why a listing's note says its run.lock could not be
// probed (the probe's error, after sessions.LockNotKnown), or "" where
// it does not say.
func probeCause(note string) string {
	_, cause, ok := strings.Cut(note, sessions.LockNotKnown)
	if !ok {
		return ""
	}
	cause, _, _ = strings.Cut(cause, "; ") // the notes after it
	return cause
}

// imported reports whether the run in dir was imported from a trainer's
// folder: it has no training to resume, whatever its steps (the
// launcher's refusal says so), and its config.toml is the import's record.
func imported(dir string) bool {
	_, ok := sessions.ImportedFrom(dir)
	return ok
}

// moreSteps says how a run of dir that has done its done planned steps
// trains further from the workbench: its config.toml's steps raised (a
// resume goes on to the plan its config.toml records), then r.
// then is where r is pressed ("r here", "r on the Runs screen (4)").
func moreSteps(dir string, done int, then string) string {
	return fmt.Sprintf("to train it further, set steps above %d in %s, then %s", done, filepath.Join(dir, sessions.ConfigFile), then)
}

// heldElsewhere reports whether another process holds row's run, so
// that it is not resumed here: the run viewed here read-only included
// (this process holds no lock on it).
func (r *runsScreen) heldElsewhere(row runRow) bool {
	return row.Holder.Held() && (!r.isCurrent(row) || r.m.cur.IsReadOnly())
}

// sayRefused says why row's run is not resumed (resumeRefusal); where
// another process holds it, the message goes once a listing shows that
// process gone (listed): it no longer holds.
func (r *runsScreen) sayRefused(row runRow, why string) {
	r.say(true, "%s", why)
	if row.Kind == kindRun && r.heldElsewhere(row) {
		r.heldFor = row.Dir
	}
}

// resumeCheckedMsg carries a fresh look at a run to resume in place of
// the run training here (freshRow), and, when one trains here, whether its
// disk has room for the checkpoints the resume writes (sessions.RoomToResume:
// the launcher's own check comes after the live run is stopped).
type resumeCheckedMsg struct {
	row    runRow
	noRoom error
}

// freshRow is row as its folder reads now, its lock probed again: row
// itself where its folder is no longer listed.
func freshRow(l *sessions.Lister, row runRow) runRow {
	if row.Kind != kindRun {
		return row
	}
	s, err := l.Summarize(row.Dir)
	if err != nil {
		return row
	}
	return fromSummary(s, row.Name, row.Origin)
}

// resumeChecked asks to stop the live run for the resume looked at again
// (resumeCheckedMsg), or says why that resume would be refused, the live
// run left running.
func (r *runsScreen) resumeChecked(msg resumeCheckedMsg) tea.Cmd {
	if r.checking != msg.row.Dir {
		return nil // another action came since
	}
	r.checking = ""
	r.msg, r.msgErr = "", false
	if why, _ := r.resumeRefusal(msg.row, r.m.engineRunning()); why != "" {
		r.sayRefused(msg.row, why)
		return nil
	}
	if msg.noRoom != nil && r.m.engineRunning() {
		r.say(true, "%v; %s keeps running", msg.noRoom, r.m.openName())
		return nil
	}
	return r.m.request(launchReq{kind: launchResume, dir: msg.row.Dir})
}

// toggleCompare marks the selected run to be overlaid on the open run's
// dashboard, or unmarks it.
func (r *runsScreen) toggleCompare() {
	row := r.selected()
	cmp := r.m.cmp
	switch {
	case row == nil:
		r.say(true, "no run selected")
		return
	case !r.m.hasRun():
		r.say(true, "open a run first (enter): the runs marked here are overlaid on its dashboard")
		return
	case r.isCurrent(*row):
		r.say(false, "%s is the open run: the runs marked with space are compared with it", filepath.Base(row.Dir))
		return
	case cmp.has(absPath(row.Dir)):
		if err := cmp.remove(absPath(row.Dir)); err != nil {
			r.say(true, "%v", err)
		} else {
			r.say(false, "%s no longer compared (%s)", filepath.Base(row.Dir), compareCount(cmp))
		}
		r.m.dash.syncCompare()
		return
	case row.Kind == kindOfficial || row.State == "missing" || row.State == string(sessions.StateBroken):
		r.say(true, "%s cannot be compared: only run folders with metrics.jsonl can (enter opens it)", filepath.Base(row.Dir))
		return
	}
	if _, err := cmp.add(row.Dir); err != nil {
		r.say(true, "compare %s: %v", filepath.Base(row.Dir), err)
		return
	}
	r.m.dash.syncCompare()
	r.say(false, "%s compared with %s (%s): 1 shows the dashboard, C there turns it off", filepath.Base(row.Dir), r.m.openName(), compareCount(cmp))
}

func compareCount(c *comparison) string {
	if len(c.runs) == 0 {
		return "none marked"
	}
	return nouns.Count(len(c.runs), "run") + " marked"
}

// failed shows why a launch did not happen: problems with the
// configuration go to the editor under their lines, the rest to the list.
func (r *runsScreen) failed(req launchReq, err error) {
	if req.kind == launchStart && r.hasDraft {
		r.editing = true
		r.problems(err)
		return
	}
	if problems, ok := configFileProblems(err); ok && req.kind == launchResume {
		// The run's config.toml does not decode, or its values cannot
		// run: say each where it is, and that the run can still be viewed.
		r.say(true, "%s: %s (enter opens it read-only)", req, problems)
		return
	}
	if nothing := (*sessions.NothingToRunError)(nil); req.kind == launchResume && errors.As(err, &nothing) {
		// Its listing was out of date (the run listed stopped, or its
		// config.toml's steps were lowered since): said as the listing's
		// refusal says it (resumeRefusal).
		r.say(true, "%s has nothing left to run (%s steps done): not resumed; %s", filepath.Base(req.dir),
			sessions.StepsLabel(nothing.Done, nothing.Planned), moreSteps(req.dir, nothing.Done, "r here"))
		return
	}
	if lu := (*sessions.LockUnknownError)(nil); req.kind == launchResume && errors.As(err, &lu) {
		// Its run.lock can be neither taken nor found held (a run not
		// listed unknown: resumeRefusal says those before closing
		// anything): said in the Runs screen's words, not rlt open's.
		r.say(true, "%s is not resumed: %s; enter opens it read-only; %s", filepath.Base(req.dir), lu.Why(), lu.Fix())
		return
	}
	r.say(true, "%v", launchError(req, err))
}

// launchError is err, req's launch's error, naming the request where err
// does not name it itself: the Runs screen says it (failed), and the
// workbench's exit, for a launch that ended after it quit
// (background.finish).
func launchError(req launchReq, err error) error {
	if err == nil || namesRequest(err, req) {
		return err // 'resume runs/X: resume runs/X: …' otherwise
	}
	if nr := (*sessions.NoRoomError)(nil); errors.As(err, &nr) {
		// It names the request and the folder itself ('not enough room
		// to resume runs/X: …', 'not enough room for a new run in runs').
		return err
	}
	return fmt.Errorf("%s: %w", req, err)
}

// namesRequest reports whether err's text already begins by saying what
// req was, with its folder ("resume /path/X: …", as the launcher's
// refusals do: sessions.RequestError). A start's folder is the launcher's
// to choose ("start runs/X: …"): its verb names it.
func namesRequest(err error, req launchReq) bool {
	named := sessions.LeadingRequest(err)
	if named == nil {
		return false
	}
	verb, _, _ := strings.Cut(req.String(), " ")
	if req.kind == launchStart {
		return named.Op == verb
	}
	return req.dir != "" && named.Op == verb && (named.Dir == req.dir || absPath(named.Dir) == absPath(req.dir))
}

// launched notes a run that opened.
func (r *runsScreen) launched(req launchReq, o *opened) {
	if req.kind == launchStart {
		r.editing, r.hasDraft = false, false
		r.ed.SetText("")
	}
	r.selDir = o.Run.Dir()
	r.say(false, "%s", launchedText(req, o))
}

// launchedText says what was opened, naming the run once (the request's
// words named it too: 'open 20261205-071425 read-only: 20261205-071425').
// A run opened to review that another process holds comes read-only.
func launchedText(req launchReq, o *opened) string {
	name := filepath.Base(o.Run.Dir())
	switch {
	case req.kind == launchStart:
		return "started " + name
	case req.kind == launchResume:
		return "resumed " + name
	case o.IsReadOnly():
		return "opened " + name + " read-only"
	}
	return "opened " + name + " to review"
}

func (r *runsScreen) addFollow(p string) {
	r.adding = false
	if p == "" {
		return
	}
	p = filepath.Clean(expandHome(p))
	if slices.ContainsFunc(r.follow, func(f string) bool { return absPath(f) == absPath(p) }) {
		r.say(false, "already following %s", p)
		return
	}
	if why := listedIn(r.m.runsDir, p); why != "" {
		r.say(true, "not following %s: %s (only folders outside %s need following)", p, why, r.m.runsDir)
		return
	}
	rows, _, err := followRows(r.lister, p) // its root: named by the next listing, which follows p
	if errors.Is(err, errNotThere) {
		r.say(true, "%v: check the path, then a again with a run folder, a trainer's run or a folder of runs that is there", err)
		return
	}
	if err != nil {
		r.say(true, "%v", err)
		return
	}
	r.follow = append(r.follow, p)
	r.selDir = rows[0].Dir
	r.say(false, "following %s (%s)", p, nouns.Count(len(rows), "run"))
	if err := r.saveFollowed(); err != nil {
		r.say(true, "following %s, but the list could not be saved for the next session: %v", p, err)
	}
}

func (r *runsScreen) unfollow() {
	if s := r.selected(); s != nil && s.Origin == originOpen {
		r.say(true, "%s is listed because it is open here, not followed: it leaves the list when another run is opened", s.Dir)
		return
	}
	if r.sel >= len(r.rowKey) || r.rowKey[r.sel] == "" {
		r.say(true, "only followed folders can be removed from the list (runs under %s stay)", r.m.runsDir)
		return
	}
	f := r.rowKey[r.sel]
	r.follow = slices.DeleteFunc(r.follow, func(s string) bool { return s == f })
	r.say(false, "no longer following %s", f)
	if err := r.saveFollowed(); err != nil {
		r.say(true, "no longer following %s, but the list could not be saved: %v", f, err)
	}
}

// ---- the configuration editor ----------------------------------------

func (r *runsScreen) loadDefault() bool {
	if r.m.launcher == nil {
		r.say(true, "this workbench was started without a launcher: it cannot start runs")
		return false
	}
	cfg, err := r.m.launcher.NewConfig()
	if err != nil {
		r.say(true, "new run: %v", err)
		return false
	}
	r.openEditor(cfg, "default configuration")
	return true
}

func (r *runsScreen) copyConfig() {
	row := r.selected()
	switch {
	case r.m.launcher == nil:
		r.say(true, "this workbench was started without a launcher: it cannot start runs")
		return
	case row == nil:
		r.say(true, "no run selected")
		return
	case row.Kind == kindOfficial:
		r.say(true, "another trainer's run has no config.toml to start from")
		return
	}
	data, err := os.ReadFile(filepath.Join(row.Dir, sessions.ConfigFile))
	if err != nil {
		r.say(true, "new run from %s: %v", filepath.Base(row.Dir), err)
		return
	}
	if r.keepsEdits("c") {
		return
	}
	r.openEditor(data, "config of "+filepath.Base(row.Dir))
}

// keepsEdits reports whether replacing the draft would lose edits the
// user has not confirmed losing: the first press of key says so, the
// second goes ahead.
func (r *runsScreen) keepsEdits(key string) bool {
	if !r.draftEdited() || r.discardKey == key {
		r.discardKey = ""
		return false
	}
	r.discardKey = key
	if r.editing {
		r.say(true, "the draft configuration has edits (%s): press %s again to replace them, any other key keeps them", r.edFrom, key)
		return true
	}
	r.say(true, "the draft configuration has edits (%s): press %s again to replace them, n to go back to them", r.edFrom, key)
	return true
}

// draftEdited reports whether the draft holds edits the user made (it lives
// only in memory until a run starts from it).
func (r *runsScreen) draftEdited() bool { return r.hasDraft && r.ed.Text() != r.edOrig }

func (r *runsScreen) openEditor(cfg []byte, from string) {
	r.ed.SetText(string(cfg))
	r.edOrig, r.discardKey = string(cfg), ""
	r.edFrom, r.edLoose, r.edCount = from, nil, 0
	r.editing, r.hasDraft = true, true
}

func (r *runsScreen) editorKey(k tea.KeyMsg) tea.Cmd {
	if r.m.switching != "" {
		return nil // starting: the text is what is being started
	}
	switch {
	case key.Matches(k, r.ekeys.Save):
		return r.save()
	case key.Matches(k, r.ekeys.Cancel):
		r.editing = false
	case key.Matches(k, r.ekeys.Reset):
		if r.keepsEdits("ctrl+r") {
			return nil
		}
		r.loadDefault()
	default:
		r.ed.Update(k)
	}
	return nil
}

// save checks the text; if it is sound, the run starts (the Launcher
// saves the text as the new run's config.toml).
func (r *runsScreen) save() tea.Cmd {
	cfg := []byte(r.ed.Text())
	if err := r.m.launcher.Check(cfg); err != nil {
		r.problems(err)
		return nil
	}
	r.ed.SetNotes(nil)
	r.edLoose, r.edCount = nil, 0
	return r.m.request(launchReq{kind: launchStart, cfg: cfg})
}

// problems puts configuration errors under their lines and moves the
// cursor to the first.
func (r *runsScreen) problems(err error) {
	var notes []lineNote
	r.edLoose = nil
	for _, e := range flatten(err) {
		if n, ok := problemNote(e); ok {
			notes = append(notes, n)
			continue
		}
		r.edLoose = append(r.edLoose, e.Error())
	}
	r.ed.SetNotes(notes)
	r.edCount = len(notes) + len(r.edLoose)
	if len(notes) > 0 {
		r.ed.GotoLine(notes[0].line)
	}
}

// flatten undoes errors.Join (nested too).
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// ---- view ------------------------------------------------------------

func (r *runsScreen) View() string {
	if r.w <= 0 || r.h <= 0 {
		return ""
	}
	if r.editing {
		return strings.Join(block(r.editorView(), r.w, r.h), "\n")
	}
	return strings.Join(block(r.listView(), r.w, r.h), "\n")
}

func (r *runsScreen) editorView() []string {
	th := r.m.sh.theme
	line, _ := r.ed.Cursor()
	title := th.Paint(style.Spec{Attr: style.Bold}, "New run") +
		fmt.Sprintf(" · %s · line %d/%d · TOML", r.edFrom, line, r.ed.LineCount())
	loose := r.editorLoose()
	act := r.actionLines(actionMax(r.h))
	out := []string{title}
	out = append(out, r.ed.Lines(r.w, r.editorRows(act, loose), th)...)
	for len(out) < r.h-len(act)-len(loose) {
		out = append(out, "")
	}
	bad := style.FG(style.Vermillion)
	for _, l := range loose {
		out = append(out, th.Paint(bad, l))
	}
	return append(out[:max(r.h-len(act), 1)], act...)
}

// editorLoose is the draft's problems without a line (the memory
// check's, say: what the run needs and what to change), shown whole below
// the text, up to a third of the screen; the action line has room for
// the first words only.
func (r *runsScreen) editorLoose() []string {
	var loose []string
	for _, p := range r.edLoose {
		loose = append(loose, wrap("✗ "+p, max(r.w-2, 10), max(r.h/3, 1))...)
	}
	return loose[:min(len(loose), max(r.h/3, 0))]
}

// editorRows is how many rows the editor's text has between its title
// and the problems below it (editorLoose) over the action line act.
func (r *runsScreen) editorRows(act, loose []string) int { return max(r.h-1-len(act)-len(loose), 1) }

// actionLines is the last line, a confirmation, work in progress, the
// last outcome, or what the editor's keys do, on up to n lines of the
// screen's width: a question or an outcome (a refusal with its reasons, an
// error) is wrapped to be read whole, not cut where the terminal ends; the
// rest keeps its one line.
func (r *runsScreen) actionLines(n int) []string {
	text, sp, whole := r.action()
	th := r.m.sh.theme
	if !whole || n <= 1 || width(text) <= r.w || r.w <= 0 {
		return []string{th.Paint(sp, text)}
	}
	lines := splitLines(wrapAtSpaces(text, r.w))
	if len(lines) > n {
		lines = lines[:n]
		lines[n-1] = fit(strings.TrimRight(lines[n-1], " ")+" …", r.w)
	}
	for i, l := range lines {
		lines[i] = th.Paint(sp, strings.TrimRight(l, " "))
	}
	return lines
}

// actionMax is the most lines the action line takes on a screen h high:
// a third of it, as the draft's problems below its text.
func actionMax(h int) int { return max(h/3, 1) }

// action is what the action line says, its paint, and whether it is to
// be read whole (actionLines).
func (r *runsScreen) action() (text string, sp style.Spec, whole bool) {
	warn := style.FG(style.Orange).With(style.Bold)
	bad := style.FG(style.Vermillion).With(style.Bold)
	switch {
	case r.confirm != nil:
		return fmt.Sprintf("Stop %s %s and %s? y confirms, any other key cancels", r.m.openName(), r.m.stopWhen(), *r.confirm), warn, true
	case r.m.switching != "":
		return r.m.switching + "…", warn, true
	case r.editing && r.discardKey != "":
		// Asked before the draft's problems: the key that replaces the
		// draft is pressed again only by one who has read this.
		return r.msg, warn, true
	case r.editing && r.edCount > 0:
		// Each problem is shown whole under its line (or below the text):
		// here the first words of the first.
		first := ""
		if len(r.ed.notes) > 0 {
			first = r.ed.notes[0].text()
		} else if len(r.edLoose) > 0 {
			first = r.edLoose[0]
		}
		s := "problem"
		if r.edCount > 1 {
			s = "problems"
		}
		return fmt.Sprintf("✗ %d %s: %s", r.edCount, s, first), bad, false
	case r.editing:
		return "C-s checks this, saves it as the new run's config.toml and starts it", style.Spec{Attr: style.Faint}, false
	case r.adding:
		const label = "follow folder: "
		return label + r.input.ViewIn(r.w-len(label)), style.Spec{}, false
	case r.msg != "":
		if r.msgErr {
			return r.msg, bad, true
		}
		return r.msg, style.Spec{}, true
	}
	// Read whole as the messages above are (a dated run training here
	// is past 60 columns), where it was cut with "…" at the screen's edge.
	return "open here: " + r.m.openDescription(), style.Spec{Attr: style.Faint}, true
}

func (r *runsScreen) listView() []string {
	th := r.m.sh.theme
	own, fol, from := 0, 0, ""
	for _, row := range r.rows {
		switch row.Origin {
		case originOpen:
			from = dirName(filepath.Dir(row.Dir))
		case originFollowed:
			fol++
		default:
			own++
		}
	}
	head := r.title(own, fol, from)
	showCreated := r.w >= 80
	// STEPS as wide as its widest count ("12/20"; "12 (10 planned)" for a
	// run past a stale plan, which gives way to its count alone beyond 16).
	const maxStepsW = 16
	stepsW := 6
	for _, row := range r.rows {
		if n := ansi.StringWidth(row.steps()); n <= maxStepsW {
			stepsW = max(stepsW, n)
		}
	}
	fixed := 2 + 1 + 9 + 1 + stepsW + 1 + 11 + 1 + 9
	if showCreated {
		fixed += 1 + 11
	}
	nameW := min(max(r.w-fixed, 8), 44)
	// Where each run computed ("cpu/avx512", "vulkan/NVIDIA H200 gpu:1"),
	// on screens wide enough to keep 29 columns for the name.
	const devW = 26
	showDevice := showCreated && r.w-fixed-devW-1 >= 29
	// Each run's λ (r_KL's weight) after BEST REWARD, which compares
	// across runs of one λ alone (a sweep's), in rlt sessions' and rlt
	// report's words, where the name still keeps 29 columns beside the
	// device: as wide as the longest, 16 at most.
	lamW := 1 // "λ"
	for _, row := range r.rows {
		lamW = max(lamW, min(ansi.StringWidth(row.Lambda.String()), 16))
	}
	showLambda := showDevice && r.w-fixed-devW-1-(1+lamW) >= 29
	if showLambda {
		fixed += 1 + lamW
	}
	if showDevice {
		nameW = min(r.w-fixed-devW-1, 44)
	}
	row := func(sel, cur, name, state, step, best, lam, size, created, device string) string {
		s := sel + cur + pad(name, nameW) + " " + pad(state, 9) + fmt.Sprintf(" %*s %11s", stepsW, step, best)
		if showLambda {
			s += " " + pad(lam, lamW)
		}
		s += fmt.Sprintf(" %9s", size)
		if showCreated {
			s += " " + pad(created, 11)
		}
		if showDevice {
			s += " " + leftFit(device, devW)
		}
		return strings.TrimRight(s, " ")
	}
	out := []string{head, th.Paint(style.Spec{Attr: style.Faint}, strings.TrimRight(row(" ", " ", "RUN", "STATE", "STEPS", "BEST REWARD", "λ", "SIZE", "CREATED", "DEVICE"), " "))}
	act := r.actionLines(actionMax(r.h))
	n := r.listRows(act)
	var list []string
	if len(r.rows) == 0 {
		switch {
		case r.listing && r.listedAt.IsZero():
			list = append(list, "  listing…")
		case r.rootGone:
			// A --runs mistyped, or a first run to come: both said.
			for _, l := range wrap(fmt.Sprintf("%s does not exist: n starts a run there, making it; a follows a folder; or quit (q) and give "+sessions.Program()+" --runs the folder that holds your runs", dirName(r.m.runsDir)), r.w-2, 3) {
				list = append(list, "  "+l)
			}
		case r.rootFile != "":
			for _, l := range wrap(r.rootFileWords(), r.w-2, 3) {
				list = append(list, "  "+l)
			}
		default:
			list = append(list, fmt.Sprintf("  no runs in %s yet: n starts one, a follows a folder", dirName(r.m.runsDir)))
		}
	}
	shown := r.listShown(n)
	for i := r.top; i < len(r.rows) && i < r.top+shown; i++ {
		rw := r.rows[i]
		cur := " "
		if r.isCurrent(rw) {
			cur = "●"
		} else if r.m.cmp.has(absPath(rw.Dir)) {
			cur = "◆" // compared with the open run
		}
		step := rw.steps()
		if ansi.StringWidth(step) > stepsW {
			step = fmt.Sprint(rw.Numbering.StepsDone(rw.LastStep))
		}
		created := ""
		if !rw.Created.IsZero() {
			created = rw.Created.In(shownZone()).Format("01-02 15:04")
		}
		name := rw.Name
		if rw.Origin != originRunsFolder { // named by its path: its end says most
			name = leftFit(name, nameW)
		}
		device := "—"
		if rw.Device != "" {
			device = rw.Device
		}
		line := row(" ", cur, name, rw.State, step, num(rw.Best, 3), rw.Lambda.String(), size.Bytes(rw.Size), created, device)
		if rw.State == "missing" {
			line = row(" ", cur, name, rw.State, "", "", "", "", "", "")
		}
		if i == r.sel {
			line = th.Paint(style.Spec{Attr: style.Reverse}, "▸"+pad(line[1:], max(r.w-1, 1)))
		}
		list = append(list, line)
	}
	if shown < n {
		list = append(list, th.Paint(style.Spec{Attr: style.Faint}, fmt.Sprintf("  runs %d–%d of %d", r.top+1, min(r.top+shown, len(r.rows)), len(r.rows))))
	}
	// What the selection is, in full: its folder, then where its step is
	// (a running run's progress, in the header's words) before its note.
	// That line is the screen's width whatever the width, where a column
	// of the list would leave the name no room at 60 or 80 columns. The
	// note (a damaged run's says what is lost and what to do) goes on over
	// the lines the list leaves empty, cut only where it has none.
	faint := style.Spec{Attr: style.Faint}
	var d1 string
	d2 := []string{""}
	if s := r.selected(); s != nil {
		// The folder and whether it is the run open here, said in the
		// words that fit: why a run open from elsewhere is listed gives
		// way first, then the folder is cut from its start, where it was
		// cut at the width mid-path ("not in /tmp/a-long-…"). The run this
		// workbench holds has it said by its note under it ("open here,
		// training it"), not twice.
		open, here := "", ""
		if r.isCurrent(*s) && !s.Holder.Here() {
			open, here = " (open here)", "open here; "
		}
		d1 = "▸ " + s.Dir + open
		if s.Origin == originOpen && r.isCurrent(*s) {
			why := fmt.Sprintf(" (%slisted while it is open: not in %s, not followed)", here, dirName(r.m.runsDir))
			if l, ok := longestFitting(r.w, "▸ "+s.Dir+why); ok {
				d1 = l
			}
		}
		if width(d1) > r.w && r.w > 4 {
			d1 = "▸ " + leftFit(s.Dir, r.w-2-width(open)) + open
		}
		at, note := s.stepAt(r.m.now), s.Note
		text := note
		if at != "" && note != "" {
			text = at + "; " + note
		} else if at != "" {
			text = at
		}
		if spare := n - len(list); spare > 0 && ansi.StringWidth(text) > r.w {
			d2 = wrap(text, r.w, 1+spare)
			n -= len(d2) - 1 // the list's empty lines the note takes
		} else {
			d2 = []string{text}
		}
		for i, l := range d2 {
			// The step's place in the header's paint, the note faint.
			if i == 0 && at != "" && strings.HasPrefix(l, at) {
				d2[i] = at + th.Paint(faint, l[len(at):])
			} else {
				d2[i] = th.Paint(faint, l)
			}
		}
	}
	switch {
	case r.rootFile != "" && len(r.rows) == 0: // said in the list, not again as the raw "list runs: open runs: not a directory"
	case r.rootFile != "":
		d2 = []string{th.Paint(faint, th.Paint(style.FG(style.Vermillion), r.rootFileWords()))}
	case r.listErr != nil:
		d2 = []string{th.Paint(faint, th.Paint(style.FG(style.Vermillion), r.listErr.Error()))}
	}
	out = append(out, block(list, r.w, n)...)
	out = append(out, d1)
	out = append(out, d2...)
	out = append(out, act...)
	return out
}

// title is the list's title line in r.w cells: the runs in the runs
// folder, those followed, where the open run is from, how many are
// compared, and that a listing is under way. Where all it says does not
// fit, whole parts give way, not cut mid-word or mid-number (as a chart's
// title does, fd24ce2): the comparison's key first, then where the open
// run is from (its row names its folder), the comparison, the followed,
// what ● marks, and the listing; the runs folder is cut last, from its
// start, so that its own name and "(no such folder)" stay.
func (r *runsScreen) title(own, fol int, from string) string {
	name := r.m.sh.theme.Paint(style.Spec{Attr: style.Bold}, "Runs")
	in := fmt.Sprintf("%d in ", own)
	gone := ""
	switch {
	case r.rootGone:
		gone = " (no such folder)"
	case r.rootFile != "":
		gone = " (not a folder)"
	}
	var followed, open, openFrom, compared, comparedKey, listing string
	if len(r.follow) > 0 {
		followed = fmt.Sprintf("%d followed", fol)
	}
	if from != "" {
		open, openFrom = "● the open run", ", from "+from
	}
	if n := len(r.m.cmp.runs); n > 0 {
		compared = fmt.Sprintf("◆ %d compared with the open run", n)
		comparedKey = " (1: dashboard)"
	}
	if r.listing {
		listing = "listing…"
	}
	line := func(dir string) string {
		parts := []string{name, in + dir + gone}
		for _, p := range []string{followed, open + openFrom, compared + comparedKey, listing} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		return strings.Join(parts, " · ")
	}
	dir := dirName(r.m.runsDir)
	wordings := []string{line(dir)}
	for _, drop := range []*string{&comparedKey, &openFrom, &compared, &followed, &open, &listing} {
		*drop = ""
		wordings = append(wordings, line(dir))
	}
	if s, ok := longestFitting(r.w, wordings...); ok {
		return s
	}
	// The folder, its end kept (where a path's distinctive part is).
	if room := r.w - width(line("")); room >= 2 {
		return line(leftFit(dir, room))
	}
	return fit(line(dir), r.w)
}

// rootFileWords says the runs folder a file is in the way of, in rlt
// open --runs FILE's words (what, where, what to do): the listing's own
// "list runs: open runs: not a directory" named no way on, and the list
// below it read as an empty folder's ("no runs in runs/ yet: n starts
// one"), where no run can be started.
func (r *runsScreen) rootFileWords() string {
	do := ": a follows a folder; or quit (q) and give " + sessions.Program() + " --runs the folder that holds your runs"
	if r.rootFile == filepath.Clean(r.m.runsDir) {
		return fmt.Sprintf("the runs folder %s is a file, not a folder%s", r.m.runsDir, do)
	}
	return fmt.Sprintf("the runs folder %s: %s is a file, not a folder%s", r.m.runsDir, r.rootFile, do)
}

// zone is where the Runs screen shows times (nil: local time; tests fix
// it so that golden files do not depend on the machine's zone).
var zone *time.Location

func shownZone() *time.Location {
	if zone != nil {
		return zone
	}
	return time.Local
}

// dirName shows a folder as a folder ("runs/").
func dirName(p string) string {
	if strings.HasSuffix(p, string(filepath.Separator)) {
		return p
	}
	return p + string(filepath.Separator)
}

// leftFit keeps the end of s (where a path's distinctive part is) in w
// cells, starting with "…" when cut.
func leftFit(s string, w int) string {
	if ansi.StringWidth(s) <= w || w < 2 {
		return s
	}
	rs := []rune(s)
	for len(rs) > 0 && ansi.StringWidth(string(rs))+1 > w {
		rs = rs[1:]
	}
	return "…" + string(rs)
}

// openDescription says what is open here, for the Runs screen and the
// problems view: of a run whose engine here ended on a fatal error, that
// it failed and the error's first line ("engine finished" read as if it
// had done its steps).
func (m *Model) openDescription() string {
	o := m.cur
	if o == nil || o.Run == nil {
		return "no run"
	}
	s := filepath.Base(o.Run.Dir())
	switch {
	case o.IsReadOnly():
		return s + " (read-only)"
	case o.Control != nil && m.engineRunning():
		return s + " (engine running in this workbench)"
	case o.Control != nil && m.probs.fatal != "":
		return s + " (engine failed: " + firstLine(m.probs.fatal) + ")"
	case o.Control != nil && m.done:
		return s + " (engine finished)"
	case o.Control != nil: // stopped after a step (S, or q's stop), as the header says
		return s + " (engine stopped)"
	}
	return s
}
