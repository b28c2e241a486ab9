// Package report writes a run report: one self-contained HTML page (inline
// SVG and CSS, no script, no external asset) with a table of the runs,
// each with its λ (lambda.Of: a sweep of r_KL's weight is told apart by
// it, also in the legend where the runs' differ), a chart per recorded
// metric, the runs overlaid in one colour each with their mean ± std band
// where two or more record a step, and the d_k heatmaps of
// chosen traces on the same run-wide colour scale as the workbench's Detail
// screen (heatmap.DLimit, heatmap.BucketColor), each with the student's
// reconstruction beside the reference as that screen shows it (the same
// diff: heatmap.DiffWords, heatmap.Diff). Its SVG charts are also
// what the dashboard exports (ExportChart).
package report

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/lambda"
	"github.com/rlt-workbench/rlt/ui/heatmap"
	"github.com/rlt-workbench/rlt/ui/internal/decimals"
	"github.com/rlt-workbench/rlt/ui/style"
)

// FileName is the page Write writes in its output folder.
const FileName = "report.html"

// Selection says which traces of each run get a heatmap.
type Selection struct {
	Accepted bool // the traces accepted in review
	Top      int  // the Top highest rewards
	Bottom   int  // the Bottom lowest rewards
}

// DefaultSelection is the top and bottom 3 traces by reward.
var DefaultSelection = Selection{Top: 3, Bottom: 3}

// ParseSelection reads --traces: "accepted", "top:K", "bottom:K", or
// several of them joined by commas. An error names the value once, and
// the part of it that is wrong where it has several.
func ParseSelection(s string) (Selection, error) {
	var sel Selection
	seen := map[string]string{}
	parts := strings.Split(s, ",")
	bad := func(part, format string, args ...any) error {
		if len(parts) > 1 {
			format = fmt.Sprintf("%q: ", part) + format
		}
		return fmt.Errorf("traces %q: %s", s, fmt.Sprintf(format, args...))
	}
	for _, part := range parts {
		part = strings.TrimSpace(part)
		name, num, hasNum := strings.Cut(part, ":")
		if first, ok := seen[name]; ok && (name == "accepted" || name == "top" || name == "bottom") {
			return Selection{}, fmt.Errorf("traces %q: %q and %q both say %s: give it once", s, first, part, name)
		}
		seen[name] = part
		switch {
		case name == "accepted" && !hasNum:
			sel.Accepted = true
		case (name == "top" || name == "bottom") && hasNum:
			k, err := strconv.Atoi(num)
			switch {
			case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(num, "-"):
				return Selection{}, bad(part, "%s is out of range: give a count of at most %d (a count past a run's traces shows them all)", num, math.MaxInt)
			case err != nil && !errors.Is(err, strconv.ErrRange):
				return Selection{}, bad(part, "%q is not a count: give a whole number of at least 1, e.g. %s:3", num, name)
			case err != nil || k < 1:
				return Selection{}, bad(part, "the count must be at least 1, e.g. %s:3", name)
			}
			if name == "top" {
				sel.Top = k
			} else {
				sel.Bottom = k
			}
		default:
			return Selection{}, bad(part, "want accepted, top:K or bottom:K, or several joined by commas")
		}
	}
	return sel, nil
}

// Series is one run's values of one metric, in step order.
type Series struct {
	Name   string // the run's name in the legend
	Color  style.Color
	Steps  []float64
	Values []float64
	// Lambda is the run's λ as the legend says it after its name ("λ=3",
	// lambda.Lambda.String), where the charted runs' λ differ (a sweep);
	// "" where they are one λ.
	Lambda string
	// Spread, where set, is a ± half-width at each of Values (NaN where
	// none is recorded): a band drawn around the line (the dashboard's
	// reward ± std), written to the CSV as its own column, SpreadName.
	Spread     []float64
	SpreadName string
}

// spreadAt is s's spread at point j, and whether it has one.
func (s Series) spreadAt(j int) (float64, bool) {
	if j >= len(s.Spread) || math.IsNaN(s.Spread[j]) || math.IsInf(s.Spread[j], 0) {
		return 0, false
	}
	return s.Spread[j], true
}

// RunData is what a report shows of one run.
type RunData struct {
	Name    string
	Dir     string
	Color   style.Color
	Metrics []sessions.MetricRecord
	// Traces are the run's traces as the store lists them
	// (sessions.Store.TracesSince): scores and previews, without their
	// texts and per-token arrays; Trace reads one whole, traceReader many.
	Traces []*sessions.TraceRecord
	// DHistogram counts every trace's |d_k|: the run's d_k scale.
	DHistogram record.DHistogram
	Labels     map[string]sessions.LabelState
	// Skipped are the run's records its reading left out (broken lines),
	// the first 1000, for the caller to say; Problems counts them all.
	Skipped  []sessions.Issue
	Problems int
	// StepsDone is how many steps the run has done, counted as rlt
	// sessions and the workbench count them (its step numbering: an
	// imported trainer's run keeps the trainer's numbers).
	StepsDone int
	// Lambda is the run's r_KL coefficient, read from its config.toml:
	// what a sweep of λ varies, said as the dashboard's comparison
	// legend says it.
	Lambda lambda.Lambda

	store *sessions.Store
}

// Trace returns trace id whole, its texts and per-token arrays read back
// from the run's trace file.
func (r RunData) Trace(id string) (sessions.TraceRecord, error) {
	if r.store == nil {
		return sessions.TraceRecord{}, fmt.Errorf("trace %s: %w", id, sessions.ErrNoTrace)
	}
	return r.store.Trace(id)
}

// wholeTraces reads the traces chosen whole, one after another, keeping a
// trace file open from one to the next (sessions.TraceReader): fn gets
// each with the error of reading it back, if any (the record then as
// listed). It stops at fn's first error.
func (r RunData) wholeTraces(chosen []*sessions.TraceRecord, fn func(t sessions.TraceRecord, readErr error) error) error {
	read := r.Trace
	if r.store != nil {
		rd := r.store.TraceReader()
		defer rd.Close()
		read = rd.Trace
	}
	for _, t := range chosen {
		whole, err := read(t.ID)
		if errors.Is(err, sessions.ErrNoTrace) {
			whole = *t
		}
		if err := fn(whole, err); err != nil {
			return err
		}
	}
	return nil
}

// Load reads the runs at dirs (read-only; they may be running). A missing
// folder or a run with neither metrics nor traces is an error naming it.
func Load(dirs []string) ([]RunData, error) {
	if len(dirs) == 0 {
		return nil, errors.New("no run given: name at least one run folder")
	}
	out := make([]RunData, 0, len(dirs))
	var colors style.RunColors   // the dashboard's comparison's rule
	given := map[string]string{} // a run's folder (absolute, links resolved) → as it was given
	for _, dir := range dirs {
		key := absDir(dir)
		if real, err := filepath.EvalSymlinks(key); err == nil {
			key = real
		}
		if first, ok := given[key]; ok {
			if first == dir {
				return nil, fmt.Errorf("run %s is given twice: give each run once", dir)
			}
			return nil, fmt.Errorf("run %s is given twice, as %s and as %s: give each run once", key, first, dir)
		}
		given[key] = dir
		r, err := sessions.OpenReadOnly(dir)
		if err != nil {
			return nil, err // it names the run, and says what to give where it is none
		}
		ms, _ := r.Store().MetricsSince(0)
		ts, _ := r.Store().TracesSince(0)
		labels := r.Store().Labels()
		skipped := r.Store().Issues()
		highest := -1
		for _, m := range ms {
			highest = max(highest, m.Step)
		}
		done := r.StepNumbering().StepsDone(highest)
		lam := lambda.Of(r.Settings())
		if err := r.Close(); err != nil {
			return nil, fmt.Errorf("run %s: %w", dir, err)
		}
		if len(ms) == 0 && len(ts) == 0 {
			return nil, fmt.Errorf("run %s is empty: it records no metrics and no traces (has it taken a step?)", dir)
		}
		out = append(out, RunData{
			Name: filepath.Base(filepath.Clean(dir)), Dir: dir,
			Color:   colors.Add(absDir(dir)),
			Metrics: ms, Traces: ts, DHistogram: r.Store().DHistogram(), Labels: labels, Skipped: skipped, Problems: r.Store().IssueCount(),
			StepsDone: done, Lambda: lam, store: r.Store(),
		})
	}
	distinctNames(out)
	return out, nil
}

// distinctNames names runs that share a folder name by as much of their
// absolute path as tells them apart (runs/X and other/X are runs/X and
// other/X), so that their table rows, legends, sections and ids differ.
func distinctNames(runs []RunData) {
	for depth := 2; ; depth++ {
		count := map[string]int{}
		for _, r := range runs {
			count[r.Name]++
		}
		clash := false
		for i := range runs {
			if count[runs[i].Name] < 2 {
				continue
			}
			parts := strings.Split(filepath.ToSlash(absDir(runs[i].Dir)), "/")
			runs[i].Name = strings.Join(parts[max(len(parts)-depth, 0):], "/")
			if depth < len(parts) {
				clash = true
			}
		}
		if !clash {
			return
		}
	}
}

// absDir is the key a run's colour is given under (style.RunColors): its
// absolute folder, as the workbench keys it.
func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return filepath.Clean(dir)
}

// MetricNames is the sorted union of the runs' metric names.
func MetricNames(runs []RunData) []string {
	seen := map[string]bool{}
	var names []string
	for _, r := range runs {
		for _, m := range r.Metrics {
			for _, n := range m.Names {
				if !seen[n] {
					seen[n] = true
					names = append(names, n)
				}
			}
		}
	}
	slices.Sort(names)
	return names
}

// MetricSeries is each run's finite values of metric name.
// Each chart's legend names each run's λ where the runs' differ, as the
// page's legend above the charts does.
func MetricSeries(runs []RunData, name string) []Series {
	lams := make([]lambda.Lambda, len(runs))
	for i, r := range runs {
		lams[i] = r.Lambda
	}
	differ := lambda.Differ(lams)
	var out []Series
	for _, r := range runs {
		s := Series{Name: r.Name, Color: r.Color}
		if differ {
			s.Lambda = r.Lambda.String()
		}
		for _, m := range r.Metrics {
			if v, ok := m.Get(name); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
				s.Steps = append(s.Steps, float64(m.Step))
				s.Values = append(s.Values, v)
			}
		}
		if len(s.Values) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// StepRange is the first and last step of any of the charts' series (each
// a metric's MetricSeries, which holds its finite values): the x axis
// every chart of a report shares (as the workbench's chart grid shares its
// step range), so that a metric recorded at a few steps (eval_*) is drawn
// where those steps lie in the run. Where none is recorded it is 0…1.
func StepRange(charts [][]Series) [2]float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, series := range charts {
		for _, s := range series {
			for _, x := range s.Steps {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
	}
	if lo > hi {
		return [2]float64{0, 1}
	}
	return [2]float64{lo, hi}
}

// Select returns the traces of r that sel chooses: accepted ones first,
// then the top by reward (highest first), then the bottom (lowest first),
// each once. Traces without a score are never top or bottom.
func Select(r RunData, sel Selection) []*sessions.TraceRecord {
	var out []*sessions.TraceRecord
	seen := map[string]bool{}
	add := func(t *sessions.TraceRecord) {
		if !seen[t.ID] {
			seen[t.ID] = true
			out = append(out, t)
		}
	}
	if sel.Accepted {
		for _, t := range r.Traces {
			if r.Labels[t.ID].Label == sessions.LabelAccept {
				add(t)
			}
		}
	}
	var scored []*sessions.TraceRecord
	for _, t := range r.Traces {
		if t.HasScore && !math.IsNaN(t.Reward) {
			scored = append(scored, t)
		}
	}
	slices.SortStableFunc(scored, func(a, b *sessions.TraceRecord) int { return cmp.Compare(b.Reward, a.Reward) })
	for i := 0; i < sel.Top && i < len(scored); i++ {
		add(scored[i])
	}
	for i := 0; i < sel.Bottom && i < len(scored); i++ {
		add(scored[len(scored)-1-i])
	}
	return out
}

// Write renders the report of runs into dir/report.html: dir is created if
// missing, and the page is written to a temporary file renamed into place,
// so a failed write leaves no partial page, nor the folders it made. A
// disk with less room free than the page takes is refused before anything
// is made, and one found full by the write is said as that
// (sessions.FullDiskError). It returns the page's path.
func Write(dir string, runs []RunData, sel Selection) (string, error) {
	var b bytes.Buffer
	Render(&b, runs, sel)
	room := sessions.FullDiskError{What: FileName, Dir: dir, Need: int64(b.Len()), Flag: "--out", Names: "folder"}
	if err := room.Check(); err != nil {
		return "", err
	}
	made := missingDirs(dir)
	unmake := func() {
		for i := len(made) - 1; i >= 0; i-- {
			os.Remove(made[i]) // empty: a failed write removes its temporary file
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		unmake()
		if full := room.IfFull(err); full != err {
			return "", full
		}
		return "", outFolderError(dir, err)
	}
	path := filepath.Join(dir, FileName)
	if err := durable.WriteFile(path, b.Bytes(), 0o644); err != nil {
		unmake()
		if full := room.IfFull(err); full != err {
			return "", full
		}
		return "", pageWriteError(path, err)
	}
	return path, nil
}

// outFolderError says why the output folder dir could not be made (err,
// os.MkdirAll's), with the flag and the way on: it was "output folder:
// mkdir DIR: read-only file system", with neither.
func outFolderError(dir string, err error) error {
	cause := err
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		cause = pathErr.Err
	}
	hint := "give --out a folder this process can write in"
	switch {
	case errors.Is(cause, syscall.ENOTDIR):
		hint = "a file is in the way on its path: " + hint
	case errors.Is(cause, syscall.EROFS):
		hint = "its disk is mounted read-only: " + hint
	}
	return fmt.Errorf("--out %s: cannot make the output folder (%w): %s (nothing was written)", dir, err, hint)
}

// pageWriteError says the failed write of the page at path by that name
// and what stopped it, not by the hidden temporary file it was written to
// (".report.html.tmp-…", the name its open, sync or rename failed on),
// which the user never asked for and which the write removes: it is
// named only where it is still there and cannot be removed. Its cause is
// kept in the chain (errors.Is(err, fs.ErrPermission)).
func pageWriteError(path string, err error) error {
	tmp, cause := "", err
	var pathErr *fs.PathError
	var linkErr *os.LinkError
	switch {
	case errors.As(err, &linkErr): // the rename into place
		tmp, cause = linkErr.Old, linkErr.Err
	case errors.As(err, &pathErr) && pathErr.Path != path:
		tmp, cause = pathErr.Path, pathErr.Err
	}
	if pathErr != nil && pathErr.Path == filepath.Dir(path) {
		// The rename was done; syncing the folder after it failed.
		return fmt.Errorf("wrote %s, but syncing its folder failed (%w): the page may not survive a power loss; run the command again to be sure", path, cause)
	}
	what, hint := cause.Error(), "give --out a folder this process can write in"
	switch {
	case errors.Is(cause, syscall.EISDIR), errors.Is(cause, syscall.ENOTEMPTY), errors.Is(cause, fs.ErrExist):
		// os.Rename says a folder in the way as "file exists".
		what, hint = "something that is not a page is in its place", "move it away, or choose another --out folder"
		if st, err := os.Lstat(path); err == nil && st.IsDir() {
			what = "a folder is in its place"
		}
	case errors.Is(cause, syscall.EROFS):
		hint = "its disk is mounted read-only: " + hint
	}
	left := "nothing was written"
	if st, serr := os.Lstat(path); serr == nil && st.Mode().IsRegular() {
		left = "the earlier page is left as it was"
	}
	if tmp != "" {
		if _, serr := os.Lstat(tmp); serr == nil && os.Remove(tmp) != nil {
			left = "its temporary file " + tmp + " is left: remove it"
		}
	}
	return &writeError{fmt.Sprintf("cannot write %s: %s; %s (%s)", path, what, hint, left), cause}
}

// writeError is a failed write said in words of its own, its cause in the
// chain.
type writeError struct {
	msg   string
	cause error
}

func (e *writeError) Error() string { return e.msg }
func (e *writeError) Unwrap() error { return e.cause }

// missingDirs are dir and the folders above it that do not exist, the
// outermost first: what os.MkdirAll(dir) makes, for a failed write to
// remove.
func missingDirs(dir string) []string {
	var missing []string
	for p := filepath.Clean(dir); ; {
		if _, err := os.Stat(p); err == nil {
			break
		}
		missing = append([]string{p}, missing...)
		up := filepath.Dir(p)
		if up == p {
			break
		}
		p = up
	}
	return missing
}

const pageCSS = `body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}h3{font-size:1em;margin-bottom:.3em}
.charts{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0;min-width:0;max-width:100%}figcaption{font-weight:600;font-size:.9em}
svg{max-width:100%;height:auto}
.meta,.tokens,.legend,h3,td{overflow-wrap:anywhere}
.legend span.sw{display:inline-block;width:1.2em;height:.8em;margin:0 .3em 0 1em;vertical-align:middle}
.tokens{font-family:ui-monospace,monospace;font-size:.85em;line-height:1.7;white-space:pre-wrap;border:1px solid #ddd;padding:.4em}
.tokens span{padding:0 1px}
.tokens span.nan{background:repeating-linear-gradient(45deg,#ddd 0 3px,#999 3px 4px);color:#222}
bdi,.tokens{unicode-bidi:isolate}
.meta{font-size:.85em;color:#555}
.diff{display:flex;flex-wrap:wrap;font-family:ui-monospace,monospace;font-size:.85em;line-height:1.5;border:1px solid #ddd;padding:.4em;unicode-bidi:isolate}
.diff .col{display:flex;flex-direction:column;max-width:100%}.diff .col>span{white-space:pre-wrap;overflow-wrap:anywhere;min-height:1.5em}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left}
`

// Render writes the page.
func Render(w io.Writer, runs []RunData, sel Selection) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	esc := html.EscapeString
	var names []string
	for _, r := range runs {
		names = append(names, r.Name)
	}
	p(pageHead+"%s</title>\n<style>%s</style></head><body>\n", esc(strings.Join(names, ", ")), pageCSS)
	p(pageHeading + "\n<table><tr><th>run</th><th>folder</th><th>steps done</th><th>traces</th><th>r_KL's weight</th></tr>\n")
	for _, r := range runs {
		p("<tr><td><span style=\"color:%s\">■</span> <bdi>%s</bdi></td><td><bdi>%s</bdi></td><td>%d</td><td>%d</td><td>%s</td></tr>\n",
			r.Color.Hex(), esc(r.Name), esc(r.Dir), r.StepsDone, len(r.Traces), esc(r.Lambda.String()))
	}
	// The legend names each run's λ where they differ, as the dashboard's
	// comparison does: a sweep's runs are told apart by it, not by their
	// folders' names (times).
	lams := make([]lambda.Lambda, len(runs))
	for i, r := range runs {
		lams[i] = r.Lambda
	}
	differ := lambda.Differ(lams)
	p("</table>\n<h2>Metrics</h2>\n<p class=\"legend\">")
	for _, r := range runs {
		tail := ""
		if differ {
			tail = " " + r.Lambda.String()
		}
		p("<span class=\"sw\" style=\"background:%s\"></span><bdi>%s</bdi>%s", r.Color.Hex(), esc(r.Name), esc(tail))
	}
	p("</p>\n<div class=\"charts\">\n")
	metrics := MetricNames(runs)
	charts := make([][]Series, len(metrics)) // each metric's, built once for the range and the chart
	for i, n := range metrics {
		charts[i] = MetricSeries(runs, n)
	}
	steps := StepRange(charts)
	for i, n := range metrics {
		p("<figure><figcaption>%s</figcaption>\n", esc(n))
		series := charts[i]
		chartSVG(w, n, series, 520, 220, chartOpts{band: len(series) >= 2, steps: &steps})
		p("</figure>\n")
	}
	p("</div>\n")
	for _, r := range runs {
		renderHeatmaps(w, r, sel)
	}
	p("</body></html>\n")
}

func renderHeatmaps(w io.Writer, r RunData, sel Selection) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	esc := html.EscapeString
	lim, ok := heatmap.DLimit(&r.DHistogram)
	if !ok {
		lim = heatmap.MinDSpan
	}
	chosen := Select(r, sel)
	p("<h2>Traces of <bdi>%s</bdi></h2>\n", esc(r.Name))
	if len(chosen) == 0 {
		p("<p>No trace chosen (%s).</p>\n", esc(describe(sel, false)))
		return
	}
	p("<p class=\"meta\">%s. Explanation tokens are coloured by d<sub>k</sub> = log π<sup>T</sup> − log π<sup>S</sup> on this run's scale ±%s (the same as the workbench's Detail screen): vermillion where the teacher (with the solution) finds the token likelier than the student does, which r<sub>KL</sub> penalises, blue the reverse. Solution tokens are coloured by the student's log-prob after the explanation, white at log p 0 (certain) to dark at −%s nats and below.</p>\n",
		esc(describe(sel, true)), heatmap.LimitWords(lim), heatmap.LimitWords(heatmap.LogPLimit))
	p("%s\n%s\n", legendSVG(heatmap.Diverging, lim), legendSVG(heatmap.Sequential, heatmap.LogPLimit))
	r.wholeTraces(chosen, func(t sessions.TraceRecord, readErr error) error {
		verdict := ""
		if st := r.Labels[t.ID]; st.Label != sessions.LabelNone {
			verdict = " · " + esc(st.Label.Verdict())
			if st.Note != "" {
				verdict += ": <bdi class=\"note\">" + esc(st.Note) + "</bdi>"
			}
		}
		// The ID's parts said, as the Detail screen's heading says them
		// ("trace 6-3-0 · step 6 group 3 sample 0"): the ID alone left
		// the reader to guess what 6-3-0 counts.
		p("<section class=\"trace\" id=\"%s\"><h3>trace %s · step %d group %d sample %d · reward %s · r_SS %s · r_KL %s%s</h3>\n",
			esc(r.Name+"-"+t.ID), esc(t.ID), t.Step, t.Group, t.Sample, fmtScore(t.Reward), fmtScore(t.RSS), fmtScore(t.RKL), verdict)
		if readErr != nil {
			// The listing's start of the question, and why the rest is missing.
			p("<p class=\"meta\">question (its start): <bdi>%s</bdi></p>\n<p class=\"meta\">%s</p>\n", esc(t.QuestionPreview), esc(readErr.Error()))
		} else {
			p("<p class=\"meta\">question: <bdi>%s</bdi><br>solution: <bdi>%s</bdi></p>\n", esc(t.Question), esc(t.Solution))
		}
		tk := t.Tokens // none where it could not be read back (the error above says why)
		p("<div class=\"tokens expl\">")
		tokenSpans(w, tk.ExplanationTokens, tk.D, heatmap.Diverging, lim, "d")
		p("</div>\n<div class=\"tokens sol\">")
		tokenSpans(w, tk.SolutionTokens, tk.SolutionLP, heatmap.Sequential, heatmap.LogPLimit, "log p")
		p("</div>\n")
		renderReconstruction(w, t, readErr)
		p("</section>\n")
		return nil
	})
}

// describe says what sel chooses, as a sentence's start where capital is
// set, within a sentence where not.
func describe(sel Selection, capital bool) string {
	var parts []string
	if sel.Accepted {
		parts = append(parts, "the traces accepted in review")
	}
	if sel.Top > 0 {
		parts = append(parts, fmt.Sprintf("the top %d by reward", sel.Top))
	}
	if sel.Bottom > 0 {
		parts = append(parts, fmt.Sprintf("the bottom %d by reward", sel.Bottom))
	}
	if len(parts) == 0 {
		return "no traces asked for"
	}
	s := strings.Join(parts, ", ")
	if !capital {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func tokenSpans(w io.Writer, toks []string, vals []float32, mode heatmap.Mode, lim float64, what string) {
	for i, tok := range toks {
		text := heatmap.VisibleText(tok) // the workbench's glyphs, lines kept
		v := math.NaN()
		if i < len(vals) {
			v = float64(vals[i])
		}
		bg := style.Neutral
		if b, ok := heatmap.Bucket(mode, v, lim); ok {
			bg = heatmap.BucketColor(mode, b)
		}
		if math.IsNaN(v) { // no value: hatched grey, not the colour of 0
			fmt.Fprintf(w, "<span class=\"nan\" title=\"%s NaN\">%s</span>", what, html.EscapeString(text))
			continue
		}
		val := decimals.Fixed(v, 4)
		if mode == heatmap.Diverging {
			// A signed d: "+0.1235" as the Detail screen's cursor line
			// writes it (decimals.Signed), where the title read "0.1235"
			// beside a negative's "-0.1235".
			val = decimals.Signed(v, 4)
		}
		fmt.Fprintf(w, "<span style=\"background:%s;color:%s\" title=\"%s %s\">%s</span>",
			bg.Hex(), style.TextOn(bg).Hex(), what, val, html.EscapeString(text))
	}
}

// legendSVG is a colour bar of the workbench's buckets: d_k's
// (Diverging) from −lim to +lim, or the solution's log-prob (Sequential)
// from 0 down to −lim, and after it the grey hatch of a token with no
// value (NaN).
func legendSVG(mode heatmap.Mode, lim float64) string {
	var b strings.Builder
	// The ends as the workbench's legend line writes them (its one
	// format of a scale: "d −5.00", "log p 0.00 … −5.00").
	label, first, zero := "d ", -heatmap.Buckets, heatmap.Buckets
	if mode == heatmap.Sequential {
		label, first, zero = "log p ", 0, 0
	}
	lo, hi := heatmap.LegendEnds(mode, lim)
	lo, hi = label+lo, label+hi
	n := heatmap.Buckets - first + 1
	const cw, h = 24, 16
	// The bar starts after its low end's label and the swatch of NaN after
	// its high end's (each 5 apart), with room for the widest ends a scale
	// writes ("d −3.40e+38" of float32's largest d was cut at the left
	// edge at a fixed 72).
	x0 := max(72, int(math.Ceil(textWidth(lo)*1.1))+5)
	width := x0 + n*cw + 5 + max(65, int(math.Ceil(textWidth(hi)*1.1))+5) + 70
	fmt.Fprintf(&b, `<svg class="legend %s" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %[2]d %[3]d">`,
		map[heatmap.Mode]string{heatmap.Diverging: "d", heatmap.Sequential: "logp"}[mode], width, h+16)
	for i := 0; i < n; i++ {
		c := heatmap.BucketColor(mode, first+i)
		fmt.Fprintf(&b, `<rect x="%d" y="0" width="%d" height="%d" fill="%s"/>`, x0+i*cw, cw, h, c.Hex())
	}
	fmt.Fprintf(&b, `<text x="%d" y="12" text-anchor="end" font-size="11">%s</text>`, x0-5, lo)
	fmt.Fprintf(&b, `<text x="%d" y="12" font-size="11">%s</text>`, x0+n*cw+5, hi)
	if mode == heatmap.Diverging {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="10">0</text>`, x0+(zero-first)*cw+cw/2, h+12)
	}
	nx := width - 70 // room for the swatch and "NaN" after it
	fmt.Fprintf(&b, `<rect class="nan" x="%d" y="0" width="%d" height="%d" fill="%s"/>`, nx, cw, h, nanColor)
	for k := 4; k < cw+h; k += 6 { // the hatch, clipped to the swatch
		fmt.Fprintf(&b, `<path d="M%d %dL%d %d" stroke="#999"/>`, nx+max(0, k-h), min(k, h), nx+min(k, cw), max(0, k-cw))
	}
	fmt.Fprintf(&b, `<text x="%d" y="12" font-size="11">NaN</text>`, nx+cw+4)
	b.WriteString(`</svg>`)
	return b.String()
}

// nanColor is the grey of a token whose value is NaN (hatched where the
// page's CSS draws it: class "nan").
const nanColor = "#dddddd"

// fmtScore formats a trace's reward and its terms as the workbench's
// Traces screen does, three decimals each, so that the traces of a page
// read alike (-7.357, 0.100, 0.000), never 4 significant digits that
// gave -7.357 beside 0.1 and 1.234e-05, nor "-0.000" for a value that
// rounds to zero.
func fmtScore(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return decimals.Fixed(v, 3) // an r_SS of -1e-5 is 0.000, as on the screen
}

// The page's own text up to its runs' names, and its heading: what
// IsPage knows a page Render wrote by.
const (
	pageHead    = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>RLT report: "
	pageHeading = "<h1>RLT report</h1>"
)

// IsPage reports whether the file at path is a page Render wrote (it
// begins with the page's head and has its heading after the style sheet),
// so that a report may replace its own earlier page and nothing else.
func IsPage(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 16<<10) // the head, its style sheet and the heading
	n, _ := io.ReadFull(f, buf)
	return bytes.HasPrefix(buf[:n], []byte(pageHead)) && bytes.Contains(buf[:n], []byte(pageHeading))
}
