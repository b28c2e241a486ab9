package ui

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/keys"
	"github.com/rlt-workbench/rlt/ui/style"
)

type sortBy int

const (
	sortStep sortBy = iota
	sortReward
	sortAdvantage
)

var sortNames = [...]string{"step", "reward", "advantage"}

// labelFilters cycle with the label-filter key.
var labelFilters = []struct {
	name string
	keep func(sessions.Label) bool
}{
	{"all", func(sessions.Label) bool { return true }},
	{sessions.LabelNone.Verdict(), func(l sessions.Label) bool { return l == sessions.LabelNone }},
	{sessions.LabelAccept.Verdict(), func(l sessions.Label) bool { return l == sessions.LabelAccept }},
	{sessions.LabelReject.Verdict(), func(l sessions.Label) bool { return l == sessions.LabelReject }},
	{sessions.LabelFlag.Verdict(), func(l sessions.Label) bool { return l == sessions.LabelFlag }},
}

// rewardFilter keeps rewards in [lo, hi], or a quartile of the traces the
// label filter keeps (quart 1: bottom, 4: top).
type rewardFilter struct {
	on     bool
	quart  int
	lo, hi float64
	text   string // in the list's header: "top quartile", "reward -1..0"
	// said is the filter after "reward filter: " on the status line
	// ("top quartile", "-1..0"): text there read "reward filter: reward
	// -1..0".
	said string
}

// parseRewardFilter reads "top", "bottom", "q1".."q4", "min..max" (either
// side may be empty) or "" (no filter).
func parseRewardFilter(s string) (rewardFilter, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "", "all":
		return rewardFilter{}, nil
	case "top", "q4":
		return rewardFilter{on: true, quart: 4, text: "top quartile", said: "top quartile"}, nil
	case "bottom", "q1":
		return rewardFilter{on: true, quart: 1, text: "bottom quartile", said: "bottom quartile"}, nil
	case "q2", "q3":
		return rewardFilter{on: true, quart: int(s[1] - '0'), text: "quartile " + s[1:], said: "quartile " + s[1:]}, nil
	}
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		return rewardFilter{}, fmt.Errorf("reward filter %q: want top, bottom, q1–q4 or min..max", s)
	}
	f := rewardFilter{on: true, lo: math.Inf(-1), hi: math.Inf(1), text: "reward " + s, said: s}
	var err error
	if a = strings.TrimSpace(a); a != "" {
		if f.lo, err = strconv.ParseFloat(a, 64); err != nil {
			return rewardFilter{}, fmt.Errorf("reward filter: %q is not a number", a)
		}
	}
	if b = strings.TrimSpace(b); b != "" {
		if f.hi, err = strconv.ParseFloat(b, 64); err != nil {
			return rewardFilter{}, fmt.Errorf("reward filter: %q is not a number", b)
		}
	}
	if f.lo > f.hi {
		return rewardFilter{}, fmt.Errorf("reward filter: %s > %s", a, b)
	}
	return f, nil
}

type tracesKeys struct {
	keys.Traces
	Group     key.Binding
	PrevGroup key.Binding
	NextGroup key.Binding
}

func (k tracesKeys) ShortHelp() []key.Binding {
	return append(k.Traces.ShortHelp(), k.Group)
}

func (k tracesKeys) FullHelp() [][]key.Binding {
	g := k.Traces.FullHelp()
	g[len(g)-1] = append(append([]key.Binding{}, g[len(g)-1]...), k.Group, k.PrevGroup, k.NextGroup)
	// The help page says what the list's rescoreMark means.
	for i, grp := range g {
		for j, b := range grp {
			if b.Help() == k.SortReward.Help() {
				grp = append([]key.Binding{}, grp...)
				grp[j] = key.NewBinding(key.WithKeys(b.Keys()...),
					key.WithHelp(b.Help().Key, b.Help().Desc+" ("+rescoreMark+": a rescore's, the trace has none)"))
				g[i] = grp
			}
		}
	}
	return g
}

type tracesScreen struct {
	sh   *shared
	keys tracesKeys

	all  []*sessions.TraceRecord
	rows []int // indices into all, filtered and sorted
	sel  int   // index into rows
	top  int   // first row shown
	// selID keeps the selection on the same trace across rebuilds;
	// firstID is the first row's trace at the last rebuild (a selection
	// on it follows new steps: rebuild).
	selID, firstID string
	// toFirst: the order changed (a sort key, R) with the selection on
	// the first row, which the next rebuild moves to the new first row.
	toFirst bool

	sort     sortBy
	reverse  bool
	label    int
	reward   rewardFilter
	group    bool // only the selected trace's group
	groupKey [2]int

	input   lineInput
	editing bool

	// rescored holds, per trace without a score of its own, the terms of
	// its latest rescore (rescores.jsonl), read at each rebuild: the
	// reward shown, sorted and filtered on, marked with rescoreMark.
	rescored  map[string]record.Terms
	nRescored int // rows showing a rescore's values
	// lostReviews says the reviews of traces the run no longer holds
	// (sessions.LostReviewsSaid: lost or unreadable after their review),
	// under the list: they have no row here, and an export leaves them
	// out; "" where there are none.
	lostReviews string

	w, h  int
	stale bool   // rows need rebuilding
	dirty bool   // the frame needs drawing again (settle)
	cache string // the frame settle drew: what View shows
}

func newTracesScreen(sh *shared) *tracesScreen {
	t := &tracesScreen{sh: sh, stale: true, dirty: true}
	// ] and [ go in step order whatever the sort (groupKeys): down the
	// list only when it is sorted by step.
	t.keys = tracesKeys{Traces: keys.NewTraces(),
		Group:     key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "group view on/off")),
		PrevGroup: key.NewBinding(key.WithKeys("["), key.WithHelp("[", "previous group, toward newer steps (R: older)")),
		NextGroup: key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next group, toward older steps (R: newer)"))}
	t.input = lineInput{limit: 40}
	sh.nextUnreviewed = t.nextUnreviewed
	return t
}

func (t *tracesScreen) clear() {
	t.all = t.all[:0]
	t.touch()
}

func (t *tracesScreen) add(ts []*sessions.TraceRecord) {
	if len(ts) == 0 {
		return
	}
	t.all = append(t.all, ts...)
	t.touch()
}

// nextUnreviewed is the first unreviewed trace after id in the list as
// sorted and filtered now, wrapping around; when id is not in the list,
// the first unreviewed row. ok false: no row is unreviewed.
func (t *tracesScreen) nextUnreviewed(id string) (string, bool) {
	t.rebuild()
	n := len(t.rows)
	start := 0
	for i, r := range t.rows {
		if t.all[r].ID == id {
			start = i + 1
			break
		}
	}
	for k := 0; k < n; k++ {
		r := t.all[t.rows[(start+k)%n]]
		if r.ID != id && t.sh.store.Label(r.ID).Label == sessions.LabelNone {
			return r.ID, true
		}
	}
	return "", false
}

// filterText says what the list's sort and filters are, for messages.
func (t *tracesScreen) filterText() string {
	by := sortNames[t.sort]
	if t.group && t.sort == sortStep {
		by = "reward"
	}
	s := "sort " + by + ", label " + labelFilters[t.label].name
	if t.reward.on {
		s += ", " + t.reward.text
	}
	if t.group {
		s += fmt.Sprintf(", group %d of step %d", t.groupKey[1], t.groupKey[0])
	}
	return s
}

// filtersOn names the filters that narrow the list (its label and reward
// filters, the group view), "" where none does.
func (t *tracesScreen) filtersOn() string {
	var on []string
	if t.label != 0 {
		on = append(on, "label "+labelFilters[t.label].name)
	}
	if t.reward.on {
		on = append(on, "reward "+t.reward.said)
	}
	if t.group {
		on = append(on, fmt.Sprintf("group %d of step %d", t.groupKey[1], t.groupKey[0]))
	}
	return strings.Join(on, ", ")
}

func (t *tracesScreen) touch() { t.stale, t.dirty = true, true }

func (t *tracesScreen) SetSize(w, h int) {
	if w != t.w || h != t.h {
		t.w, t.h = w, h
		t.dirty = true
	}
}

func (t *tracesScreen) Capturing() bool { return t.editing }

func (t *tracesScreen) ShortHelp() []key.Binding {
	if t.editing {
		return []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		}
	}
	return t.keys.ShortHelp()
}

func (t *tracesScreen) FullHelp() [][]key.Binding { return t.keys.FullHelp() }

// rescoreMark follows a value in the list that comes from the trace's
// rescore, the trace having none of its own.
const rescoreMark = "*"

// terms returns the reward terms shown for r: its own, or its rescore's
// (rescored true) when it has none.
func (t *tracesScreen) terms(r *sessions.TraceRecord) (terms record.Terms, ok, rescored bool) {
	if r.HasScore {
		return r.Terms, true, false
	}
	if rt, ok := t.rescored[r.ID]; ok {
		return rt, true, true
	}
	return record.Terms{}, false, false
}

// rewardOf is the reward sorted and filtered on: the trace's own, or its
// rescore's (NaN: neither).
func (t *tracesScreen) rewardOf(r *sessions.TraceRecord) float64 {
	if tm, ok, _ := t.terms(r); ok {
		return tm.Reward
	}
	return math.NaN()
}

// readRescores collects the rescores of the traces without a score.
func (t *tracesScreen) readRescores() {
	clear(t.rescored)
	if _, n := t.sh.store.Rescores(); n == 0 {
		return
	}
	if t.rescored == nil {
		t.rescored = map[string]record.Terms{}
	}
	for i := range t.all {
		r := t.all[i]
		if r.HasScore {
			continue
		}
		if rs, ok := t.sh.store.Rescore(r.ID); ok {
			t.rescored[r.ID] = rs.Terms
		}
	}
}

// rebuild filters and sorts the rows, keeping the selected trace.
func (t *tracesScreen) rebuild() {
	if !t.stale {
		return
	}
	t.stale = false
	t.readRescores()
	labels := t.sh.store.Labels()
	keep := labelFilters[t.label].keep
	if t.sh.run != nil {
		t.lostReviews = sessions.LostReviewsSaid(t.sh.run.LostReviews())
	}
	t.nRescored = 0
	rows := t.rows[:0]
	for i := range t.all {
		r := t.all[i]
		if !keep(labels[r.ID].Label) {
			continue
		}
		if t.group && (r.Step != t.groupKey[0] || r.Group != t.groupKey[1]) {
			continue
		}
		rows = append(rows, i)
	}
	if t.reward.on {
		lo, hi := t.reward.lo, t.reward.hi
		if q := t.reward.quart; q > 0 {
			vals := make([]float64, 0, len(rows))
			for _, i := range rows {
				if v := t.rewardOf(t.all[i]); !math.IsNaN(v) {
					vals = append(vals, v)
				}
			}
			sort.Float64s(vals)
			qt := func(p float64) float64 {
				if len(vals) == 0 {
					return math.NaN()
				}
				return vals[int(math.Round(p*float64(len(vals)-1)))]
			}
			lo, hi = math.Inf(-1), math.Inf(1)
			if q > 1 {
				lo = qt(float64(q-1) / 4)
			}
			if q < 4 {
				hi = qt(float64(q) / 4)
			}
		}
		kept := rows[:0]
		for _, i := range rows {
			if v := t.rewardOf(t.all[i]); v >= lo && v <= hi {
				kept = append(kept, i)
			}
		}
		rows = kept
	}
	all := t.all
	less := func(a, b int) bool { // newest step first, then group, sample
		ra, rb := all[a], all[b]
		if ra.Step != rb.Step {
			return ra.Step > rb.Step
		}
		if ra.Group != rb.Group {
			return ra.Group < rb.Group
		}
		return ra.Sample < rb.Sample
	}
	by := t.sort
	if t.group && by == sortStep {
		by = sortReward
	}
	key := func(i int) float64 {
		v := t.rewardOf(all[i])
		if by == sortAdvantage {
			v = all[i].Advantage
		}
		if math.IsNaN(v) {
			return math.Inf(-1)
		}
		return v
	}
	sort.SliceStable(rows, func(x, y int) bool {
		a, b := rows[x], rows[y]
		if t.reverse {
			a, b = b, a
		}
		if by != sortStep {
			if ka, kb := key(a), key(b); ka != kb {
				return ka > kb
			}
		}
		return less(a, b)
	})
	t.rows = rows
	for _, i := range rows {
		if _, ok, rescored := t.terms(all[i]); ok && rescored {
			t.nRescored++
		}
	}
	// On the newest-first list, a selection on its first row follows new
	// steps as they come (the newest trace), as the dashboard follows the
	// newest step; elsewhere it stays on its trace.
	follow := t.toFirst || (t.sort == sortStep && !t.reverse && !t.group && t.selID == t.firstID)
	t.toFirst = false
	t.sel = 0
	for i, r := range rows {
		if !follow && all[r].ID == t.selID {
			t.sel = i
			break
		}
	}
	t.firstID = ""
	if len(rows) > 0 {
		t.firstID = all[rows[0]].ID
	}
	t.syncSel()
}

func (t *tracesScreen) syncSel() {
	if len(t.rows) == 0 {
		t.sel = 0
		return
	}
	t.sel = min(max(t.sel, 0), len(t.rows)-1)
	t.selID = t.all[t.rows[t.sel]].ID
}

func (t *tracesScreen) selected() *sessions.TraceRecord {
	t.rebuild()
	if len(t.rows) == 0 {
		return nil
	}
	return t.all[t.rows[t.sel]]
}

func (t *tracesScreen) selectedID() string {
	if r := t.selected(); r != nil {
		return r.ID
	}
	return ""
}

// selectID selects the trace id if a row shows it.
func (t *tracesScreen) selectID(id string) {
	t.selID = id
	t.stale, t.dirty = true, true
}

// pageRows is how many trace rows fit: the screen less the title, the
// header, the rows line, and the legend of rescored values and the reviews
// of traces not read when shown.
func (t *tracesScreen) pageRows() int {
	n := t.h - 3
	if t.nRescored > 0 {
		n--
	}
	if t.lostReviews != "" {
		n--
	}
	if t.group {
		n-- // the group's statistics
	}
	return max(n, 1)
}

// rescoreLegend explains rescoreMark under the list.
const rescoreLegend = rescoreMark + " from the trace's rescore (" + sessions.RescoresFile + "): it has no reward of its own"

func (t *tracesScreen) Update(k tea.KeyMsg) tea.Cmd {
	if t.editing {
		switch k.Type {
		case tea.KeyEnter:
			f, err := parseRewardFilter(t.input.Value())
			if err != nil {
				t.sh.say("%v", err)
				return nil
			}
			t.reward, t.editing = f, false
			t.touch()
			// Said, so that an earlier input's error does not stand over
			// the filter now applied.
			if f.on {
				t.sh.say("reward filter: %s (esc clears the filters)", f.said)
			} else {
				t.sh.say("reward filter off")
			}
			return nil
		case tea.KeyEsc:
			t.editing = false
			t.dirty = true
			t.sh.say("reward filter unchanged")
			return nil
		}
		t.input.Update(k)
		t.dirty = true
		return nil
	}
	t.rebuild()
	km := t.keys
	if d, ok := km.Move(k, t.pageRows(), len(t.rows)); ok {
		t.sel += d
		t.syncSel()
		t.dirty = true
		return nil
	}
	switch {
	case key.Matches(k, km.Open):
		if id := t.selectedID(); id != "" {
			return func() tea.Msg { return openMsg{id} }
		}
	case key.Matches(k, km.SortReward):
		t.setSort(sortReward)
	case key.Matches(k, km.SortAdvantage):
		t.setSort(sortAdvantage)
	case key.Matches(k, km.SortStep):
		t.setSort(sortStep)
	case key.Matches(k, km.ReverseSort):
		t.reverse = !t.reverse
		t.orderChanged()
		t.touch()
	case key.Matches(k, km.FilterLabel):
		t.label = (t.label + 1) % len(labelFilters)
		t.touch()
	case key.Matches(k, km.FilterReward):
		t.editing = true
		t.input.SetValue("")
		t.dirty = true
		return nil
	case key.Matches(k, km.ClearFilters):
		// esc is back on Detail, one enter away: a reviewer pressing it
		// twice to leave a trace also clears the list's filters here, so
		// it says which, and how to set them again.
		if f := t.filtersOn(); f != "" {
			t.sh.say("filters cleared (%s): l, / and v set them again", f)
		}
		t.label, t.reward, t.group = 0, rewardFilter{}, false
		t.touch()
	case key.Matches(k, km.Group):
		if r := t.selected(); r != nil && !t.group {
			t.group, t.groupKey = true, [2]int{r.Step, r.Group}
		} else {
			t.group = false
		}
		t.touch()
	case key.Matches(k, km.PrevGroup):
		t.moveGroup(-1)
	case key.Matches(k, km.NextGroup):
		t.moveGroup(1)
	}
	return nil
}

// groupKeys lists the (step, group) pairs of the run's traces in the
// list's step order: newest step first, then group, or the other way
// round once R reversed the list, so that sorted by step ] goes down the
// list as shown and [ up it (R reversed the rows and left them newest
// first); sorted by reward or advantage, whose rows mix the groups, they
// keep that step order, which R flips with the rows.
func (t *tracesScreen) groupKeys() [][2]int {
	seen := map[[2]int]bool{}
	var ks [][2]int
	for i := range t.all {
		k := [2]int{t.all[i].Step, t.all[i].Group}
		if !seen[k] {
			seen[k] = true
			ks = append(ks, k)
		}
	}
	sort.Slice(ks, func(a, b int) bool {
		if ks[a][0] != ks[b][0] {
			return ks[a][0] > ks[b][0]
		}
		return ks[a][1] < ks[b][1]
	})
	if t.reverse {
		slices.Reverse(ks)
	}
	return ks
}

// moveGroup shows the group d places after the one shown (group view;
// outside it, the selected trace's group is the start).
func (t *tracesScreen) moveGroup(d int) {
	cur := t.groupKey
	if !t.group {
		r := t.selected()
		if r == nil {
			return
		}
		cur = [2]int{r.Step, r.Group}
	}
	ks := t.groupKeys()
	at := 0
	for i, k := range ks {
		if k == cur {
			at = i
			break
		}
	}
	if t.group {
		at += d
	}
	if at < 0 || at >= len(ks) {
		t.sh.say("no further group that way (%d groups)", len(ks))
		return
	}
	t.group, t.groupKey = true, ks[at]
	t.selID = ""
	t.touch()
}

// groupStats are the mean and standard deviation of the rewards of group
// g of step s, over all its traces, the std with Bessel's correction as
// GRPO's advantages divide by it (engine/rlt.Advantages) and the
// reward_std metric reports it (0 for one trace); n counts those with a
// reward.
func (t *tracesScreen) groupStats(s, g int) (mean, std float64, n int) {
	var vals []float64
	for i := range t.all {
		r := t.all[i]
		if r.Step != s || r.Group != g {
			continue
		}
		if v := t.rewardOf(r); !math.IsNaN(v) {
			vals = append(vals, v)
			mean += v
		}
	}
	n = len(vals)
	if n == 0 {
		return math.NaN(), math.NaN(), 0
	}
	mean /= float64(n)
	if n == 1 {
		return mean, 0, n
	}
	var ss float64
	for _, v := range vals {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(n-1)), n
}

// groupSizes are how many traces group key has in the list, and how many
// the run's largest group has: every group of a run samples as many
// (grpo.samples), so a group with fewer lost some.
func (t *tracesScreen) groupSizes(key [2]int) (has, most int) {
	sizes := map[[2]int]int{}
	for _, r := range t.all {
		k := [2]int{r.Step, r.Group}
		sizes[k]++
		most = max(most, sizes[k])
	}
	return sizes[key], most
}

// zeroVariance reports whether a group's rewards are all equal: its
// advantages are zero and it gives no gradient.
func zeroVariance(std float64, n int) bool { return n > 1 && std < 1e-9 }

// wheel moves the selection (the mouse wheel, with --mouse).
func (t *tracesScreen) wheel(d int) {
	if t.editing {
		return
	}
	t.rebuild()
	t.sel += d
	t.syncSel()
	t.dirty = true
}

func (t *tracesScreen) setSort(s sortBy) {
	t.sort, t.reverse = s, false
	t.orderChanged()
	t.touch()
}

// orderChanged keeps a selection on the first row there: the list opens
// on it, and a researcher who presses r there asks for the best traces,
// which the selection staying on its trace (the newest, often far down by
// reward) scrolled above the screen. A selection moved to another row
// stays on its trace.
func (t *tracesScreen) orderChanged() {
	t.rebuild()
	t.toFirst = len(t.rows) > 0 && t.sel == 0
}

// settle makes the frame View shows: the rows filtered and sorted again
// where what they depend on changed (rebuild), the selection kept in
// sight (scrollTop) and the frame drawn again where anything it shows
// changed. The Model calls it after each message while the list is drawn
// (Model.Update), so that View only returns the frame.
func (t *tracesScreen) settle() {
	t.rebuild()
	if !t.dirty && t.cache != "" {
		return
	}
	t.dirty = false
	t.top = scrollTop(t.top, t.sel, t.pageRows(), len(t.rows))
	t.cache = t.render()
}

// View is the frame settle made.
func (t *tracesScreen) View() string { return t.cache }

// labelText is a trace's review in the label column, said as the detail,
// the messages and the report say it (Label.Verdict: accepted, rejected,
// flagged); "·" for one unreviewed, the column's most common value,
// which its word would make a wall of text of.
func labelText(l sessions.LabelState, room int) string {
	if l.Label == sessions.LabelNone {
		return "·"
	}
	if v := l.Label.Verdict(); len(v) <= room {
		return v
	}
	// The narrowest screens leave the column 4 cells: the verdict's
	// first three letters, or flag whole.
	return map[sessions.Label]string{sessions.LabelAccept: "acc", sessions.LabelReject: "rej", sessions.LabelFlag: "flag"}[l.Label]
}

// traceHeader heads the rows: each column's name over its values (a row
// starts with its selection mark, the header with a space for it), in
// the narrowest screen's 60 columns.
const traceHeader = "   step grp smp   reward     adv     r_SS     r_KL end label"

// labelW is the label column's width: its widest verdicts, accepted and
// rejected.
const labelW = len("accepted")

// traceFixedW is the width of a row's mark, numbers and label, before the
// preview column.
const traceFixedW = len(traceHeader) - len("label") + labelW

// minPreviewW is the narrowest preview column worth showing.
const minPreviewW = 12

// previewW is the width of the question and explanation preview column,
// 0 when the screen is too narrow for it.
func (t *tracesScreen) previewW() int {
	if w := t.w - 1 - traceFixedW - 1; w >= minPreviewW {
		return w
	}
	return 0
}

// minBothW is the narrowest preview column that shows the question
// before the explanation: a narrower one (80 columns leave 15) shows the
// explanation alone, what the teacher wrote and is scored on, which the
// question would push out of it (the detail shows both).
const minBothW = 40

// questionW is the width of the question in a preview column pw wide
// that shows both: a third of it, the same on every row, so that the
// explanations start in one column under the header's, each question
// padded or cut to it.
func questionW(pw int) int { return pw / 3 }

// previewHead heads a preview column pw wide.
func previewHead(pw int) string {
	if pw < minBothW {
		return "explanation"
	}
	return pad("question", questionW(pw)) + " │ explanation"
}

// preview is a trace's question and explanation on one line, or its
// explanation alone in a column narrower than minBothW: the previews the
// store lists (sessions.TextPreview, as much as a column
// sessions.PreviewWidth wide shows), not the texts, which it leaves in
// the trace's file. note, where set, goes before the explanation (after
// the question, which keeps its column).
func preview(r *sessions.TraceRecord, pw int, note string) string {
	e := r.ExplanationPreview
	if e == "" {
		e = "(no explanation)"
	}
	e = note + e
	if pw < minBothW {
		return e
	}
	return pad(r.QuestionPreview, questionW(pw)) + " │ " + e
}

func (t *tracesScreen) render() string {
	th := t.sh.theme
	by := sortNames[t.sort]
	if t.group && t.sort == sortStep {
		by = "reward"
	}
	dir := "↓"
	if t.reverse {
		dir = "↑"
	}
	info := th.Paint(style.Spec{Attr: style.Bold}, "Traces") +
		fmt.Sprintf(" · %d of %d · sort %s%s · label %s", len(t.rows), len(t.all), by, dir, labelFilters[t.label].name)
	if t.reward.on {
		info += " · " + t.reward.text
	}
	if t.group {
		info += fmt.Sprintf(" · group %d of step %d", t.groupKey[1], t.groupKey[0])
	}
	out := []string{info}
	if t.group {
		mean, std, n := t.groupStats(t.groupKey[0], t.groupKey[1])
		g := fmt.Sprintf("group reward mean %s std %s over %d", num(mean, 3), num(std, 3), n)
		if has, most := t.groupSizes(t.groupKey); has < most {
			// Traces of the group lost (a traces file cut short, a
			// step still coming in): its mean and std are of those
			// here, its advantages of the whole group as sampled.
			g += fmt.Sprintf(" of %d (%d lost: advantages are of %d)", most, most-has, most)
		}
		if zeroVariance(std, n) {
			g = th.Paint(style.FG(style.Orange).With(style.Bold), g+" · zero variance: advantages 0, no gradient")
		}
		out = append(out, g+th.Paint(style.Spec{Attr: style.Faint}, " · [ ] other groups"))
	}
	if t.editing {
		out = append(out, "reward filter: "+t.input.View()+"  (top, bottom, q1–q4, min..max; enter/esc)")
	} else {
		hd := traceHeader
		if pw := t.previewW(); pw > 0 {
			hd = pad(hd, traceFixedW) + " " + previewHead(pw)
		}
		out = append(out, th.Paint(style.Spec{Attr: style.Faint}, hd))
	}
	n := t.pageRows()
	if len(t.rows) == 0 {
		if len(t.all) == 0 {
			out = append(out, "no traces yet")
		} else {
			out = append(out, "no trace matches the filters (esc clears them)")
		}
	}
	for i := t.top; i < len(t.rows) && i < t.top+n; i++ {
		r := t.all[t.rows[i]]
		end := "yes"
		if !r.Ended {
			end = "PEN"
		}
		rw, rss, rkl := math.NaN(), math.NaN(), math.NaN()
		tm, ok, rescored := t.terms(r)
		if ok {
			rw, rss, rkl = tm.Reward, tm.RSS, tm.RKL
		}
		// A rescore's reward is marked in the column after it, so that
		// the numbers stay aligned (its r_SS and r_KL go with it).
		mark := " "
		if rescored {
			mark = rescoreMark
		}
		line := fmt.Sprintf("%6d %3d %3d %8s%s%7s %8s %8s %3s %s", r.Step, r.Group, r.Sample,
			num(rw, 3), mark, snum(r.Advantage, 2), num(rss, 3), num(rkl, 3), end, labelText(t.sh.store.Label(r.ID), t.w-1-(traceFixedW-labelW)))
		pw := t.previewW()
		switch {
		case traceGaps(r) != "" && pw > 0:
			line = pad(line, traceFixedW-1) + " " + fit(preview(r, pw, "! incomplete · "), pw)
		case traceGaps(r) != "":
			line += "  ! incomplete" // its per-token arrays; the detail says which
		case pw > 0:
			line = pad(line, traceFixedW-1) + " " + fit(preview(r, pw, ""), pw)
		}
		if i == t.sel {
			line = th.Paint(style.Spec{Attr: style.Reverse}, "▸"+pad(line, max(t.w-1, 1)))
		} else {
			line = " " + line
		}
		out = append(out, line)
	}
	if len(t.rows) > n {
		out = append(out, th.Paint(style.Spec{Attr: style.Faint}, fmt.Sprintf("  rows %d–%d of %d", t.top+1, min(t.top+n, len(t.rows)), len(t.rows))))
	}
	if t.nRescored > 0 {
		out = append(out, th.Paint(style.Spec{Attr: style.Faint}, "  "+rescoreLegend))
	}
	if t.lostReviews != "" {
		out = append(out, th.Paint(style.FG(style.Orange), "  "+t.lostReviews))
	}
	return strings.Join(block(out, t.w, t.h), "\n")
}
