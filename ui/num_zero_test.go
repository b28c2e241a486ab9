package ui

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestNumHasNoNegativeZero: num writes a value that rounds to zero at the
// decimals shown without a sign. An r_SS of about -1e-5 (a solution the
// teacher all but certainly predicts) read "-0.000" in the Traces list and
// the detail, where snum already wrote such an advantage "0.000".
func TestNumHasNoNegativeZero(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		d    int
		want string
	}{
		{-1e-5, 3, "0.000"},
		{math.Copysign(0, -1), 3, "0.000"},
		{-0.4, 0, "0"},
		{-0.0004, 3, "0.000"},
		{-0.0006, 3, "-0.001"},
		{-7.3571, 3, "-7.357"},
		{1e-5, 3, "0.000"},
		{math.NaN(), 3, "—"},
	} {
		if got := num(tc.v, tc.d); got != tc.want {
			t.Errorf("num(%g, %d) = %q, want %q", tc.v, tc.d, got, tc.want)
		}
	}
}

// TestTracesRSSHasNoNegativeZero: a trace whose solution the teacher all
// but certainly predicts (log-prob -1e-5) shows r_SS 0.000 in the Traces
// list and the detail, not -0.000.
func TestTracesRSSHasNoNegativeZero(t *testing.T) {
	r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tr := dTrace(1, 0, []string{"a", "b"}, []float32{0.3, 0})
	tr.Score.SolutionLP = []float32{-1e-5}
	tr.Score.Terms = record.DefaultRewardConfig().Reduce(tr.Score.SolutionLP, tr.Score.D, tr.Score.StudentLP, true)
	if rss := tr.Score.Terms.RSS; !(rss < 0 && rss > -5e-4) {
		t.Fatalf("r_SS %g: want a small negative value to show", rss)
	}
	r.Emit(tr)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	m := sized(t, r, 120, 40, nil)
	m.pull()
	send(m, press("2"))
	if v := m.View(); strings.Contains(v, "-0.000") || !strings.Contains(v, " 0.000 ") {
		t.Errorf("the Traces list does not show r_SS 0.000:\n%s", v)
	}
	send(m, press("enter"))
	if d := m.View(); strings.Contains(d, "-0.000") {
		t.Errorf("the detail shows -0.000:\n%s", d)
	}
}
