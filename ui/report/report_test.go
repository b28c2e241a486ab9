package report

import (
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/heatmap"
)

type testCfg struct {
	Task string `toml:"task"`
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// makeRun records steps metric steps (reward rising by slope, loss with a
// NaN at step 2) and two traces per step with the given d_k scale, the
// first's reconstruction wrong (4), the second's right (5).
func makeRun(t *testing.T, dir string, steps int, slope float64, dScale float32) {
	t.Helper()
	r, err := sessions.Create(dir, testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= steps; s++ {
		vals := map[string]float64{"reward": slope * float64(s), "kl": 0.01 * float64(s*s)}
		if s == 2 {
			vals["kl"] = math.NaN()
		}
		r.Emit(event.Metrics{Time: t0.Add(time.Duration(s) * time.Second), Step: s, Values: vals})
		for k := 0; k < 2; k++ {
			sc := &record.Scored{Ended: true}
			sc.ExplanationTokens = []string{"The", "Ġsum", "Ġis", "Ġ5"}
			sc.ExplanationIDs = []int32{1, 2, 3, 4}
			sc.TeacherLP = []float32{-0.1, -0.2, -0.3, -0.4}
			sc.StudentLP = []float32{-0.5, -0.1, -1, -2}
			sc.D = []float32{dScale, -dScale, dScale * float32(k+1) / 2, 0}
			sc.SolutionTokens, sc.SolutionIDs, sc.SolutionLP = []string{"5"}, []int32{5}, []float32{-0.1 * float32(s)}
			sc.Terms = record.DefaultRewardConfig().Reduce(sc.SolutionLP, sc.D, sc.StudentLP, true)
			r.Emit(event.Trace{Time: t0, Step: s, Group: 0, Sample: k, Question: fmt.Sprintf("2+%d=?", s),
				Solution: "5", Completion: "The sum is 5" + record.EndExplanation, Reconstruction: fmt.Sprint(4 + k), Score: sc})
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

type xmlSVG struct {
	Metric string        `xml:"data-metric,attr"`
	X0     float64       `xml:"data-x0,attr"`
	X1     float64       `xml:"data-x1,attr"`
	Y0     float64       `xml:"data-y0,attr"`
	Y1     float64       `xml:"data-y1,attr"`
	Plot   string        `xml:"data-plot,attr"`
	Lines  []xmlPolyline `xml:"polyline"`
}

type xmlPolyline struct {
	Run    string `xml:"data-run,attr"`
	Points string `xml:"points,attr"`
	Stroke string `xml:"stroke,attr"`
}

// parseCharts reads every chart SVG of page back with encoding/xml and
// returns, per metric and run, the (step, value) points drawn.
func parseCharts(t *testing.T, page string) map[string]map[string][][2]float64 {
	t.Helper()
	out := map[string]map[string][][2]float64{}
	rest := page
	for {
		i := strings.Index(rest, `<svg xmlns="http://www.w3.org/2000/svg" class="chart"`)
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "</svg>")
		var s xmlSVG
		if err := xml.Unmarshal([]byte(rest[i:i+j+len("</svg>")]), &s); err != nil {
			t.Fatalf("chart SVG does not parse: %v", err)
		}
		rest = rest[i+j:]
		var l, top, r, b float64
		if _, err := fmt.Sscan(s.Plot, &l, &top, &r, &b); err != nil {
			t.Fatalf("%s: data-plot %q: %v", s.Metric, s.Plot, err)
		}
		out[s.Metric] = map[string][][2]float64{}
		for _, pl := range s.Lines {
			var pts [][2]float64
			for _, p := range strings.Fields(pl.Points) {
				xs, ys, _ := strings.Cut(p, ",")
				x, err1 := strconv.ParseFloat(xs, 64)
				y, err2 := strconv.ParseFloat(ys, 64)
				if err1 != nil || err2 != nil {
					t.Fatalf("%s/%s: point %q", s.Metric, pl.Run, p)
				}
				pts = append(pts, [2]float64{s.X0 + (x-l)/(r-l)*(s.X1-s.X0), s.Y0 + (b-y)/(b-top)*(s.Y1-s.Y0)})
			}
			out[s.Metric][pl.Run] = pts
		}
	}
	return out
}

func TestReportChartsHoldRecordedValues(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "lambda0"), filepath.Join(root, "lambda3")
	makeRun(t, a, 6, 0.5, 0.01)
	makeRun(t, b, 4, -0.25, 30)
	runs, err := Load([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	path, err := Write(filepath.Join(root, "out", "nested"), runs, DefaultSelection)
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	charts := parseCharts(t, string(page))
	if len(charts) != 2 {
		t.Fatalf("charts %v, want reward and kl", len(charts))
	}
	for _, run := range runs {
		for _, metric := range []string{"reward", "kl"} {
			var want [][2]float64
			for _, m := range run.Metrics {
				if v, ok := m.Get(metric); ok && !math.IsNaN(v) {
					want = append(want, [2]float64{float64(m.Step), v})
				}
			}
			got := charts[metric][run.Name]
			if len(got) != len(want) || len(want) == 0 {
				t.Fatalf("%s/%s: %d points drawn, %d recorded", metric, run.Name, len(got), len(want))
			}
			for i := range want {
				if math.Abs(got[i][0]-want[i][0]) > 1e-6 || math.Abs(got[i][1]-want[i][1]) > 1e-6 {
					t.Errorf("%s/%s point %d: drawn %v, recorded %v", metric, run.Name, i, got[i], want[i])
				}
			}
		}
	}
	// The table counts each run's steps done as rlt sessions does (the
	// highest step, numbered from 0 in our runs: 1..6 is 7), not the last
	// step's number.
	listed, err := sessions.List(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range listed {
		row := fmt.Sprintf("</td><td><bdi>%s</bdi></td><td>%d</td>", filepath.Join(root, l.Name), l.StepsDone())
		if l.StepsDone() == 0 || !strings.Contains(string(page), row) {
			t.Errorf("run %s: no table row with its %d steps done (%s)", l.Name, l.StepsDone(), row)
		}
	}
	// Stable distinct run colours, each in the legend.
	if runs[0].Color == runs[1].Color {
		t.Errorf("both runs drawn in %s", runs[0].Color.Hex())
	}
	// Heatmaps on each run's own scale: lambda3's d=30 saturates, lambda0's
	// d=0.01 stays at the minimum span, pale.
	for _, tc := range []struct {
		run  RunData
		d    float32
		want string
	}{{runs[0], 0.01, "d +0.01"}, {runs[1], 30, "d +30"}} {
		var rs record.DHistogram
		for _, tr := range tc.run.Traces {
			whole, err := tc.run.Trace(tr.ID)
			if err != nil {
				t.Fatal(err)
			}
			rs.Add(whole.D)
		}
		lim, _ := heatmap.DLimit(&rs)
		bk, _ := heatmap.Bucket(heatmap.Diverging, float64(tc.d), lim)
		span := fmt.Sprintf(`<span style="background:%s;`, heatmap.BucketColor(heatmap.Diverging, bk).Hex())
		if !strings.Contains(string(page), span) || !strings.Contains(string(page), tc.want) {
			t.Errorf("%s: no token coloured %s for %s", tc.run.Name, span, tc.want)
		}
	}
	if strings.Contains(string(page), "<script") || strings.Contains(string(page), "http://") && !strings.Contains(string(page), "http://www.w3.org/2000/svg") {
		t.Error("the page has a script or an external reference")
	}
	if left, _ := filepath.Glob(filepath.Join(root, "out", "nested", "*")); len(left) != 1 {
		t.Errorf("output folder holds %v, want the page alone", left)
	}
}

func TestReportBadInput(t *testing.T) {
	root := t.TempDir()
	good := filepath.Join(root, "good")
	makeRun(t, good, 2, 1, 1)
	empty := filepath.Join(root, "empty")
	r, err := sessions.Create(empty, testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	ro := filepath.Join(root, "readonly")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		dirs []string
		out  string
		want string
	}{
		{"missing run", []string{good, filepath.Join(root, "nope")}, filepath.Join(root, "o1"), "nope"},
		{"empty run", []string{empty}, filepath.Join(root, "o2"), "is empty"},
		{"no run", nil, filepath.Join(root, "o3"), "no run given"},
		{"unwritable out", []string{good}, filepath.Join(ro, "sub"), "--out " + filepath.Join(ro, "sub") + ": cannot make the output folder ("},
		{"out is a file", []string{good}, filepath.Join(good, "config.toml"), "--out " + filepath.Join(good, "config.toml") + ": cannot make the output folder ("},
		// The way on, and the flag: it was "output folder: mkdir …: not a
		// directory", with neither.
		{"out below a file", []string{good}, filepath.Join(good, "config.toml", "sub"), "--out " + filepath.Join(good, "config.toml", "sub") + ": cannot make the output folder (mkdir " + filepath.Join(good, "config.toml") + ": not a directory): a file is in the way on its path: give --out a folder this process can write in (nothing was written)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "unwritable out" && (os.Geteuid() == 0 || runtime.GOOS == "windows") {
				t.Skip("root writes into a read-only folder, and Windows has no read-only folders")
			}
			if tc.name == "out below a file" && runtime.GOOS == "windows" {
				t.Skip("Windows words a path through a file otherwise")
			}
			runs, err := Load(tc.dirs)
			if err == nil {
				_, err = Write(tc.out, runs, DefaultSelection)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one saying %q", err, tc.want)
			}
			if _, serr := os.Stat(filepath.Join(tc.out, FileName)); serr == nil {
				t.Errorf("a page was written despite %v", err)
			}
		})
	}
}

func TestParseSelectionAndSelect(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Selection
		err  bool
	}{
		{"accepted", Selection{Accepted: true}, false},
		{"top:2,bottom:1", Selection{Top: 2, Bottom: 1}, false},
		{"top:0", Selection{}, true},
		{"middle:3", Selection{}, true},
		{"top", Selection{}, true},
		{"top:3,top:1", Selection{}, true}, // a repeated kind is refused, not the last kept
		{"accepted,accepted", Selection{}, true},
		{"accepted,bottom:2", Selection{Accepted: true, Bottom: 2}, false},
	} {
		got, err := ParseSelection(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseSelection(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	dir := filepath.Join(t.TempDir(), "run")
	makeRun(t, dir, 3, 1, 1)
	rw, err := sessions.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.Review("2-0-1", sessions.LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	rw.Close()
	runs, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(ts []*sessions.TraceRecord) string {
		var s []string
		for _, t := range ts {
			s = append(s, t.ID)
		}
		return strings.Join(s, " ")
	}
	// Reward falls with the step (the solution's log-prob does), sample 1
	// carries more d_k than sample 0.
	if got := ids(Select(runs[0], Selection{Accepted: true})); got != "2-0-1" {
		t.Errorf("accepted: %q", got)
	}
	top := Select(runs[0], Selection{Top: 1, Bottom: 1})
	if len(top) != 2 || top[0].Reward < top[1].Reward {
		t.Fatalf("top/bottom: %q", ids(top))
	}
	for _, tr := range runs[0].Traces {
		if tr.Reward > top[0].Reward || tr.Reward < top[1].Reward {
			t.Errorf("trace %s reward %v outside chosen top %v and bottom %v", tr.ID, tr.Reward, top[0].Reward, top[1].Reward)
		}
	}
}

// TestParseSelectionNamesTheValueOnce: a --traces value that cannot be
// read is named once, with what is wrong with it: a count out of range is
// said as one (it said "needs a count of at least 1"), and the part that is
// wrong is named only where the value has several.
func TestParseSelectionNamesTheValueOnce(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"top:0", `traces "top:0": the count must be at least 1, e.g. top:3`},
		{"bottom:-2", `traces "bottom:-2": the count must be at least 1, e.g. bottom:3`},
		{"top:99999999999999999999", `traces "top:99999999999999999999": 99999999999999999999 is out of range: give a count of at most ` +
			strconv.Itoa(math.MaxInt) + ` (a count past a run's traces shows them all)`},
		{"bottom:-99999999999999999999", `traces "bottom:-99999999999999999999": the count must be at least 1, e.g. bottom:3`},
		{"top:x", `traces "top:x": "x" is not a count: give a whole number of at least 1, e.g. top:3`},
		{"middle:3", `traces "middle:3": want accepted, top:K or bottom:K, or several joined by commas`},
		{"accepted,top:0", `traces "accepted,top:0": "top:0": the count must be at least 1, e.g. top:3`},
	} {
		_, err := ParseSelection(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("ParseSelection(%q) = %v\nwant %s", tc.in, err, tc.want)
		}
	}
}

// TestReportInBrowser opens the page in headless Chromium and checks the
// DOM it built: every chart SVG and polyline is there. Skipped without
// chromium unless RLT_REQUIRE_BROWSER=1 (bench/report_check.sh sets it).
func TestReportInBrowser(t *testing.T) {
	bin := ""
	for _, n := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(n); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("RLT_REQUIRE_BROWSER") == "1" {
			t.Fatal("chromium not found and RLT_REQUIRE_BROWSER=1 (apt-get install -y chromium)")
		}
		t.Skip("chromium not installed: the browser check is skipped (bench/report_check.sh installs and requires it)")
	}
	if testing.Short() && os.Getenv("RLT_REQUIRE_BROWSER") != "1" {
		t.Skip("-short: the browser check runs in bench/report_check.sh (RLT_REQUIRE_BROWSER=1)")
	}
	root := t.TempDir()
	a, b := filepath.Join(root, "seed1"), filepath.Join(root, "seed2")
	makeRun(t, a, 5, 0.5, 0.3)
	makeRun(t, b, 5, 0.4, 3)
	runs, err := Load([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	path, err := Write(filepath.Join(root, "out"), runs, DefaultSelection)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+filepath.Join(root, "profile"),
		"--enable-logging=stderr", "--v=0", "--dump-dom", "file://"+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	d := string(dom)
	if n := strings.Count(d, `class="chart"`); n != 2 {
		t.Errorf("rendered DOM has %d chart SVGs, want 2 (reward, kl)", n)
	}
	if n := strings.Count(d, "<polyline"); n != 4 {
		t.Errorf("rendered DOM has %d polylines, want 4 (2 metrics × 2 runs)", n)
	}
	if !strings.Contains(d, `class="tokens expl"`) {
		t.Error("rendered DOM has no heatmap")
	}
	if !strings.Contains(d, `class="diff"`) || !strings.Contains(d, `<span class="col sub" title="changed: 5 → 4">`) {
		t.Error("rendered DOM has no reconstruction beside the reference")
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "CONSOLE") || strings.Contains(l, "Uncaught") {
			t.Errorf("console message: %s", l)
		}
	}
}

// With several runs each chart draws their mean and ±std band at the steps
// two or more record; the mean path, read back from its pixels, is the mean
// of the recorded values.
func TestReportMeanBandAcrossRuns(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for i, slope := range []float64{0.5, 1, 3} {
		d := filepath.Join(root, fmt.Sprintf("seed%d", i))
		makeRun(t, d, 3+i, slope, 1)
		dirs = append(dirs, d)
	}
	runs, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	chartSVG(&b, "reward", MetricSeries(runs, "reward"), 400, 200, chartOpts{band: true})
	var doc struct {
		X0    float64 `xml:"data-x0,attr"`
		X1    float64 `xml:"data-x1,attr"`
		Y0    float64 `xml:"data-y0,attr"`
		Y1    float64 `xml:"data-y1,attr"`
		Plot  string  `xml:"data-plot,attr"`
		Paths []struct {
			Class string `xml:"class,attr"`
			D     string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatal(err)
	}
	var l, top, r, bot float64
	fmt.Sscan(doc.Plot, &l, &top, &r, &bot)
	// Steps 1–4 are recorded by two or more runs (step 4 by seed1 and seed2, step 5 by seed2 alone).
	want := map[float64]float64{1: (0.5 + 1 + 3) / 3, 2: (1 + 2 + 6) / 3, 3: (1.5 + 3 + 9) / 3, 4: (4 + 12) / 2}
	var mean, band string
	for _, p := range doc.Paths {
		switch p.Class {
		case "mean":
			mean = p.D
		case "band":
			band = p.D
		}
	}
	if band == "" || mean == "" {
		t.Fatalf("no mean or band path in %s", b.String())
	}
	got := map[float64]float64{}
	for _, seg := range strings.FieldsFunc(mean, func(r rune) bool { return r == 'M' || r == 'L' }) {
		var x, y float64
		if _, err := fmt.Sscan(seg, &x, &y); err != nil {
			t.Fatalf("mean path segment %q: %v", seg, err)
		}
		step := math.Round(doc.X0 + (x-l)/(r-l)*(doc.X1-doc.X0))
		got[step] = doc.Y0 + (bot-y)/(bot-top)*(doc.Y1-doc.Y0)
	}
	if len(got) != len(want) {
		t.Fatalf("mean drawn at steps %v, want %v", got, want)
	}
	for s, v := range want {
		if math.Abs(got[s]-v) > 1e-6 {
			t.Errorf("mean at step %v drawn %v, want %v", s, got[s], v)
		}
	}
}

// A run's series with its spread (the dashboard's reward ± std) is
// exported as the chart draws it: one line with a band of value ± spread
// around it, the axis holding the band, not the spread as a second line
// on the value's axis; the CSV has the spread as its own column.
func TestExportChartSpread(t *testing.T) {
	steps := []float64{0, 1, 2, 3}
	vals := []float64{-10, -8, -7.5, -6}
	sds := []float64{8, 6, math.NaN(), 3} // step 2 records no spread
	dir := t.TempDir()
	svgPath, csvPath, err := ExportChart(dir, "reward", "reward ± std",
		[]Series{{Name: "reward", Steps: steps, Values: vals, Spread: sds, SpreadName: "reward_std"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Y0    float64 `xml:"data-y0,attr"`
		Y1    float64 `xml:"data-y1,attr"`
		Plot  string  `xml:"data-plot,attr"`
		Lines []struct {
			Run string `xml:"data-run,attr"`
		} `xml:"polyline"`
		Paths []struct {
			Class string `xml:"class,attr"`
			D     string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal(svg, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Lines) != 1 || doc.Lines[0].Run != "reward" {
		t.Fatalf("polylines %+v, want reward's alone", doc.Lines)
	}
	if doc.Y0 > -18 || doc.Y1 < -3 {
		t.Errorf("y axis %v..%v does not hold the band -18..-3", doc.Y0, doc.Y1)
	}
	var band string
	for _, p := range doc.Paths {
		if p.Class == "spread" {
			band = p.D
		}
	}
	if band == "" {
		t.Fatalf("no spread band in %s", svg)
	}
	var l, top, r, bot float64
	fmt.Sscan(doc.Plot, &l, &top, &r, &bot)
	got := map[float64][]float64{} // step → the band's edges there
	for _, seg := range strings.FieldsFunc(strings.TrimSuffix(band, "Z"), func(r rune) bool { return r == 'M' || r == 'L' }) {
		var x, y float64
		if _, err := fmt.Sscan(seg, &x, &y); err != nil {
			t.Fatalf("band segment %q: %v", seg, err)
		}
		step := math.Round((x - l) / (r - l) * 3)
		got[step] = append(got[step], doc.Y0+(bot-y)/(bot-top)*(doc.Y1-doc.Y0))
	}
	for i, s := range steps {
		edges := got[s]
		if math.IsNaN(sds[i]) {
			if len(edges) != 0 {
				t.Errorf("step %v has no spread but the band has edges %v there", s, edges)
			}
			continue
		}
		if len(edges) != 2 || math.Abs(edges[0]-(vals[i]+sds[i])) > 1e-6 || math.Abs(edges[1]-(vals[i]-sds[i])) > 1e-6 {
			t.Errorf("step %v: band edges %v, want %v and %v", s, edges, vals[i]+sds[i], vals[i]-sds[i])
		}
	}
	csv, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if want := "step,reward,reward_std\n0,-10,8\n1,-8,6\n2,-7.5,\n3,-6,3\n"; string(csv) != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", csv, want)
	}
}

// renderPage loads the runs at dirs and renders their page with sel.
func renderPage(t *testing.T, dirs []string, sel Selection) string {
	t.Helper()
	runs, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	Render(&b, runs, sel)
	return b.String()
}

// On a phone's width every SVG scales down (a viewBox of its own size, and
// the page's max-width:100%; height:auto), and long words in the trace
// text wrap rather than run past the edge.
func TestReportFitsNarrowScreens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	makeRun(t, dir, 3, 1, 1)
	page := renderPage(t, []string{dir}, DefaultSelection)
	for _, rule := range []string{"svg{max-width:100%;height:auto}", ".meta,.tokens,", "{overflow-wrap:anywhere}"} {
		if !strings.Contains(page, rule) {
			t.Errorf("the style sheet has no %q", rule)
		}
	}
	svgs := 0
	for rest := page; ; {
		i := strings.Index(rest, "<svg ")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], ">")
		var tag struct {
			Class   string `xml:"class,attr"`
			Width   string `xml:"width,attr"`
			Height  string `xml:"height,attr"`
			ViewBox string `xml:"viewBox,attr"`
		}
		if err := xml.Unmarshal([]byte(rest[i:i+j]+"/>"), &tag); err != nil {
			t.Fatalf("svg tag %q: %v", rest[i:i+j+1], err)
		}
		if want := "0 0 " + tag.Width + " " + tag.Height; tag.ViewBox != want {
			t.Errorf("svg %q (%sx%s): viewBox %q, want %q: it cannot scale", tag.Class, tag.Width, tag.Height, tag.ViewBox, want)
		}
		svgs++
		rest = rest[i+j:]
	}
	if svgs < 3 { // reward, kl and the d_k colour bar
		t.Errorf("%d SVGs on the page, want the charts and the colour bar", svgs)
	}
}

// Tokens with no visible text of their own (a newline, the strongest d_k
// of an explanation's start) are drawn with the workbench's glyphs, a
// newline still breaking the line.
func TestReportTokensVisible(t *testing.T) {
	for _, tc := range []struct {
		tok, want string
	}{
		{"Ċ", "⏎\n"},
		{"ĊĊ", "⏎\n⏎\n"},
		{"ĠĊ", " ⏎\n"},
		{"ĉ", "→"},
		{"č", "␍"},
		{"", "∅"},
		{"Ġsum", " sum"},
		{"<b>", "&lt;b&gt;"},
		{"Ã", `\xc3`}, // half a character split across tokens: as the workbench shows it
	} {
		var b strings.Builder
		tokenSpans(&b, []string{tc.tok}, []float32{-12}, heatmap.Diverging, 4, "d")
		got := b.String()
		i, j := strings.Index(got, ">"), strings.LastIndex(got, "</span>")
		if i < 0 || j < i || got[i+1:j] != tc.want {
			t.Errorf("token %q drawn as %q, want its text %q", tc.tok, got, tc.want)
		}
	}
}

// chartDoc is a chart SVG read back: its bounds, plot, legend and ticks.
type chartDoc struct {
	Metric string  `xml:"data-metric,attr"`
	Width  float64 `xml:"width,attr"`
	X0     float64 `xml:"data-x0,attr"`
	X1     float64 `xml:"data-x1,attr"`
	Plot   string  `xml:"data-plot,attr"`
	Texts  []struct {
		Class  string  `xml:"class,attr"`
		X      float64 `xml:"x,attr"`
		Y      float64 `xml:"y,attr"`
		Anchor string  `xml:"text-anchor,attr"`
		Text   string  `xml:",chardata"`
	} `xml:"text"`
}

func charts(t *testing.T, page string) []chartDoc {
	t.Helper()
	var out []chartDoc
	for rest := page; ; {
		i := strings.Index(rest, `<svg xmlns="http://www.w3.org/2000/svg" class="chart"`)
		if i < 0 {
			return out
		}
		j := strings.Index(rest[i:], "</svg>") + len("</svg>")
		var c chartDoc
		if err := xml.Unmarshal([]byte(rest[i:i+j]), &c); err != nil {
			t.Fatalf("chart SVG does not parse: %v", err)
		}
		out = append(out, c)
		rest = rest[i+j:]
	}
}

// The legend has rows of its own above the plot: no name overlaps
// another, a line or a tick label, however many runs, however long their
// names, and the mean's label is one of its entries, not text in the plot.
func TestChartLegendAbovePlot(t *testing.T) {
	long := strings.Repeat("L", 120)
	for _, tc := range []struct {
		name  string
		runs  []string
		steps []float64 // each run's steps; one step is a sparse eval_* chart
	}{
		{"two runs", []string{"20261205-095227", "20261205-095258"}, []float64{0, 1, 2, 3}},
		{"sparse, mean label", []string{"20261205-095227", "20261205-095258"}, []float64{9}},
		{"long name", []string{long, "20261205-095346"}, []float64{0, 1, 2}},
		{"many runs", []string{"a-run", "b-run-with-a-longer-name", "c", "d-run-name", "e-run-name", "f-run-name", "g-run-name", "h-run-name"}, []float64{0, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var series []Series
			for i, n := range tc.runs {
				s := Series{Name: n}
				for _, x := range tc.steps {
					s.Steps, s.Values = append(s.Steps, x), append(s.Values, float64(i)+x)
				}
				series = append(series, s)
			}
			var b strings.Builder
			chartSVG(&b, "m", series, 520, 220, chartOpts{band: true})
			c := charts(t, b.String())[0]
			var l, top, r, bot float64
			fmt.Sscan(c.Plot, &l, &top, &r, &bot)
			type box struct {
				name           string
				x0, x1, y0, y1 float64
			}
			var legend []box
			for _, tx := range c.Texts {
				if tx.Class != "legend" {
					continue
				}
				x0 := tx.X - legendSwatch
				legend = append(legend, box{tx.Text, x0, tx.X + textWidth(tx.Text), tx.Y - 10, tx.Y + 2})
			}
			want := len(tc.runs)
			if len(tc.runs) >= 2 {
				want++ // the mean's entry
			}
			if len(legend) != want {
				t.Fatalf("%d legend entries, want %d: %+v", len(legend), want, legend)
			}
			if !strings.Contains(b.String(), ">mean ± std of ") || strings.Contains(b.String(), "- - mean") {
				t.Error("the mean's label is not a legend entry")
			}
			for i, a := range legend {
				if a.x0 < 0 || a.x1 > c.Width || a.y1 > top {
					t.Errorf("legend %q at %v…%v, %v…%v: outside the chart's width %v or below the plot's top %v", a.name, a.x0, a.x1, a.y0, a.y1, c.Width, top)
				}
				for _, o := range legend[i+1:] {
					if a.x0 < o.x1 && o.x0 < a.x1 && a.y0 < o.y1 && o.y0 < a.y1 {
						t.Errorf("legend %q overlaps %q", a.name, o.name)
					}
				}
			}
		})
	}
}

// Every chart of a report spans the same steps, with whole-number ticks: a
// metric recorded at one step (an eval) is drawn where that step lies in
// the run, not on an axis of its own around it.
func TestReportChartsShareSteps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r, err := sessions.Create(dir, testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s <= 15; s++ {
		vals := map[string]float64{"reward": float64(s)}
		if s == 9 {
			vals["eval_accuracy"] = 0.34
		}
		if s >= 3 && s <= 4 {
			vals["late"] = 1
		}
		r.Emit(event.Metrics{Time: t0.Add(time.Duration(s) * time.Second), Step: s, Values: vals})
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	cs := charts(t, renderPage(t, []string{dir}, DefaultSelection))
	if len(cs) != 3 {
		t.Fatalf("%d charts, want reward, eval_accuracy and late", len(cs))
	}
	for _, c := range cs {
		if c.X0 != 0 || c.X1 != 15 {
			t.Errorf("%s: steps %v…%v, want the report's 0…15", c.Metric, c.X0, c.X1)
		}
		var l, top, r, bot float64
		fmt.Sscan(c.Plot, &l, &top, &r, &bot)
		for _, tx := range c.Texts {
			if tx.Anchor == "middle" && tx.Y > bot { // an x tick label
				if _, err := strconv.Atoi(tx.Text); err != nil {
					t.Errorf("%s: x tick %q is not a whole step", c.Metric, tx.Text)
				}
			}
		}
	}
	// A chart of one step alone still has whole ticks around it.
	var b strings.Builder
	chartSVG(&b, "eval", []Series{{Name: "r", Steps: []float64{9}, Values: []float64{1}}}, 520, 220, chartOpts{band: true})
	for _, tx := range charts(t, b.String())[0].Texts {
		if tx.Anchor == "middle" && strings.Contains(tx.Text, ".") {
			t.Errorf("one step's chart has tick %q", tx.Text)
		}
	}
}

// One run given twice (however spelled) is refused, naming it; runs that
// share a folder name are named by as much of their path as tells them
// apart, with distinct colours and section ids.
func TestReportRunsToldApart(t *testing.T) {
	root := t.TempDir()
	x := filepath.Join(root, "runs", "X")
	for _, d := range []string{x, filepath.Join(root, "other", "X"), filepath.Join(root, "a", "s", "r"), filepath.Join(root, "b", "s", "r")} {
		makeRun(t, d, 2, 1, 1)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(x, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		dirs  []string
		err   string   // the error, or
		names []string // the runs' names
	}{
		{"same folder twice", []string{x, x}, "is given twice", nil},
		{"spelled differently", []string{x, filepath.Join(root, "runs", "..", "runs", "X") + "/"}, "given twice, as " + x + " and as", nil},
		{"through a link", []string{x, link}, "given twice", nil},
		{"same folder name", []string{x, filepath.Join(root, "other", "X")}, "", []string{"runs/X", "other/X"}},
		{"same parent's name too", []string{filepath.Join(root, "a", "s", "r"), filepath.Join(root, "b", "s", "r"), x}, "", []string{"a/s/r", "b/s/r", "X"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs, err := Load(tc.dirs)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			Render(&b, runs, DefaultSelection)
			ids := map[string]bool{}
			for _, m := range regexpID.FindAllStringSubmatch(b.String(), -1) {
				if ids[m[1]] {
					t.Errorf("id %q twice on the page", m[1])
				}
				ids[m[1]] = true
			}
			colors := map[string]bool{}
			for i, r := range runs {
				if r.Name != tc.names[i] {
					t.Errorf("run %s named %q, want %q", r.Dir, r.Name, tc.names[i])
				}
				if colors[r.Color.Hex()] {
					t.Errorf("run %s drawn in another run's colour %s", r.Name, r.Color.Hex())
				}
				colors[r.Color.Hex()] = true
			}
		})
	}
}

// A trace's section shows its question and solution whole, read back
// from its trace file (the store lists only their starts); where the file
// is gone since the run was read, the question's start and why the rest
// is missing.
func TestReportTraceTextsWhole(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r, err := sessions.Create(dir, testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	question := "Add these:" + strings.Repeat(" 1+1", sessions.PreviewWidth) + " LASTQ"
	solution := strings.Repeat("2 ", sessions.PreviewWidth) + "LASTS"
	sc := &record.Scored{Ended: true, Terms: record.Terms{Reward: 1}}
	r.Emit(event.Trace{Time: t0, Step: 1, Question: question, Solution: solution, Completion: "It is 2" + record.EndExplanation, Score: sc})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	runs, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if l := runs[0].Traces[0]; l.Question != "" || l.QuestionPreview != sessions.TextPreview(question) {
		t.Fatalf("listed with question %.20q, preview %.20q", l.Question, l.QuestionPreview)
	}
	page := func() string {
		var b strings.Builder
		Render(&b, runs, Selection{Top: 1})
		return b.String()
	}
	if p, want := page(), "question: <bdi>"+question+"</bdi><br>solution: <bdi>"+solution+"</bdi>"; !strings.Contains(p, want) {
		t.Errorf("the page lacks the whole texts %.60q…", want)
	}
	if err := os.RemoveAll(filepath.Join(dir, sessions.TracesDir)); err != nil {
		t.Fatal(err)
	}
	p := page()
	for _, want := range []string{"question (its start): <bdi>" + sessions.TextPreview(question) + "</bdi>", "is gone", "reopen the run"} {
		if !strings.Contains(p, want) {
			t.Errorf("with the trace file gone, the page lacks %.60q", want)
		}
	}
}

var regexpID = regexp.MustCompile(` id="([^"]*)"`)

// A trace's section says its review as the workbench does (accepted,
// rejected, flagged) with the note; user text is isolated from the page's
// direction; NaN tokens are marked, not painted as 0; both scales have a
// colour bar; "no trace chosen" reads as one sentence.
func TestReportTraceSection(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	makeRun(t, dir, 2, 1, 1)
	rw, err := sessions.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, rv := range []struct {
		id    string
		label sessions.Label
		note  string
	}{{"1-0-0", sessions.LabelAccept, ""}, {"1-0-1", sessions.LabelReject, ""}, {"2-0-0", sessions.LabelFlag, "\u202eleak?"}} {
		if err := rw.Review(rv.id, rv.label, rv.note); err != nil {
			t.Fatal(err)
		}
	}
	rw.Close()
	all := Selection{Top: 4}
	page := renderPage(t, []string{dir}, all)
	for _, tc := range []struct {
		what, want string
	}{
		{"accepted", "· accepted</h3>"},
		{"rejected", "· rejected</h3>"},
		{"flagged with its note", "· flagged: <bdi class=\"note\">\u202eleak?</bdi></h3>"},
		{"question isolated", "question: <bdi>2+1=?</bdi>"},
		{"d_k colour bar", `<svg class="legend d"`},
		{"log-prob colour bar", `<svg class="legend logp"`},
		{"NaN in the colour bar", ">NaN</text>"},
		{"isolation in CSS", "bdi,.tokens{unicode-bidi:isolate}"},
	} {
		if !strings.Contains(page, tc.want) {
			t.Errorf("%s: the page has no %q", tc.what, tc.want)
		}
	}
	for _, old := range []string{"· accept<", "· reject<", "· flag<"} {
		if strings.Contains(page, old) {
			t.Errorf("the page says %q, not the workbench's word", old)
		}
	}
	for _, tc := range []struct {
		vals []float32
		want string
	}{
		{[]float32{float32(math.NaN())}, `<span class="nan" title="d NaN">x</span>`},
		{nil, `<span class="nan" title="d NaN">x</span>`}, // no value recorded
		{[]float32{0}, `title="d 0.0000">x</span>`},       // as the cursor line: 4 decimals
	} {
		var b strings.Builder
		tokenSpans(&b, []string{"x"}, tc.vals, heatmap.Diverging, 4, "d")
		if b.String() != tc.want && !strings.HasSuffix(b.String(), tc.want) {
			t.Errorf("values %v: %q, want %q", tc.vals, b.String(), tc.want)
		}
	}
	empty := filepath.Join(t.TempDir(), "noreview")
	makeRun(t, empty, 1, 1, 1)
	if p := renderPage(t, []string{empty}, Selection{Accepted: true}); !strings.Contains(p, "No trace chosen (the traces accepted in review).") {
		t.Error("the no-trace sentence is not as written")
	}
}

// Each colour bar's labels lie within its SVG (none cut at its edge) and
// apart from one another, the high end before the swatch of NaN, for a
// run's scale of 23.71 and of float32's largest d (3.4e38, "d −3.40e+38",
// which was cut at the left edge).
func TestLegendBarLabelsFit(t *testing.T) {
	for _, c := range []struct {
		mode heatmap.Mode
		lim  float64
	}{{heatmap.Diverging, 23.71}, {heatmap.Sequential, 23.71}, {heatmap.Diverging, math.MaxFloat32}, {heatmap.Sequential, math.MaxFloat32}} {
		mode := c.mode
		var doc struct {
			Width float64 `xml:"width,attr"`
			Texts []struct {
				X      float64 `xml:"x,attr"`
				Anchor string  `xml:"text-anchor,attr"`
				Text   string  `xml:",chardata"`
			} `xml:"text"`
		}
		if err := xml.Unmarshal([]byte(legendSVG(mode, c.lim)), &doc); err != nil {
			t.Fatal(err)
		}
		var spans [][2]float64
		for _, tx := range doc.Texts {
			x0, x1 := tx.X, tx.X+textWidth(tx.Text)*1.1
			switch tx.Anchor {
			case "end":
				x0, x1 = tx.X-textWidth(tx.Text)*1.1, tx.X
			case "middle":
				continue // the 0 under the bar, on a row of its own
			}
			if x0 < 0 || x1 > doc.Width {
				t.Errorf("mode %d, scale %g: label %q at %v…%v outside the bar's width %v", mode, c.lim, tx.Text, x0, x1, doc.Width)
			}
			spans = append(spans, [2]float64{x0, x1})
		}
		for i := 1; i < len(spans); i++ {
			if spans[i][0] < spans[i-1][1] {
				t.Errorf("mode %d, scale %g: labels %v overlap", mode, c.lim, spans)
			}
		}
	}
}

// TestNumberFormats: an axis's tick labels share one format (decimals as
// the spacing needs them, or an exponent on all), and the traces' scores
// three decimals each, as the workbench's Traces screen shows them.
func TestNumberFormats(t *testing.T) {
	for _, c := range []struct {
		lo, hi  float64
		n       int
		minStep float64
		want    string
	}{
		{0, 0.015, 3, 0, "0.000 0.005 0.010 0.015"},
		{-15, -5, 2, 0, "-15 -10 -5"},
		{0, 12, 5, 1, "0 5 10"}, // steps
		{0, 0.00004, 2, 0, "0 2e-05 4e-05"},
		{0, 300000, 4, 0, "0 100k 200k 300k"}, // as the workbench's axes
		{0.2, 0.8, 3, 0, "0.5"},               // one tick: as its step needs
		{0, 0.8, 4, 0, "0.0 0.2 0.4 0.6 0.8"},
		{0, 0.00015, 3, 0, "0 5.0e-05 1.0e-04 1.5e-04"},
	} {
		vs, step := ticks(c.lo, c.hi, c.n, c.minStep)
		if got := strings.Join(tickLabels(step, vs), " "); got != c.want {
			t.Errorf("ticks of [%v, %v]: %q, want %q", c.lo, c.hi, got, c.want)
		}
	}
	for v, want := range map[float64]string{-7.3571: "-7.357", 0.1: "0.100", 1.234e-05: "0.000", -1.234e-05: "0.000", math.NaN(): "–"} { // no "-0.000"
		if got := fmtScore(v); got != want {
			t.Errorf("fmtScore(%v) = %q, want %q", v, got, want)
		}
	}
}
