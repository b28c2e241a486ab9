package ui

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestSignedNumberRoundingToZero: a signed number that rounds to zero at
// the decimals shown is written without a sign. A group whose rewards are
// all equal has advantages of exactly 0 as engine/rlt.Advantages takes
// them since 85cf8ec (its mean about the group's first reward), but a run
// recorded before holds about ±3e-13 on each (Σr/g off each reward in its
// last bit), which the Traces list wrote "-0.00" beside the group view's
// "zero variance: advantages 0, no gradient", and the detail
// "advantage -0.000".
func TestSignedNumberRoundingToZero(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		d    int
		want string
	}{
		{-2.775557561562068e-13, 2, "0.00"},
		{2.775557561562068e-13, 2, "0.00"},
		{0, 2, "0.00"},
		{-0.004, 2, "0.00"},
		{-0.005001, 2, "-0.01"},
		{0.354, 3, "+0.354"},
		{-2.187, 3, "-2.187"},
		{-0.00004, 4, "0.0000"},
		{-0.0001, 4, "-0.0001"},
		{math.Copysign(0, -1), 2, "0.00"}, // negative zero
		{-0.3, 0, "0"},
		{7, 0, "+7"},
		{100, 2, "+100.00"},
		{math.NaN(), 3, "—"}, // no value, as num says it
		{math.Inf(1), 3, "—"},
		{math.Inf(-1), 3, "—"},
	} {
		if got := snum(tc.v, tc.d); got != tc.want {
			t.Errorf("snum(%g, %d) = %q, want %q", tc.v, tc.d, got, tc.want)
		}
	}

	// As the Traces list and the detail show a zero-variance group.
	r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for k := 0; k < 4; k++ {
		tr := dTrace(1, k, []string{"a", "b"}, []float32{0.3, 0})
		tr.Advantage = -2.775557561562068e-13 // as a run recorded before 85cf8ec holds for equal rewards
		r.Emit(tr)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	m := sized(t, r, 120, 40, nil)
	m.pull()
	send(m, press("2"))
	send(m, press("v"))
	v := m.View()
	if !strings.Contains(v, "zero variance: advantages 0") {
		t.Fatalf("the group view does not say its advantages are 0:\n%s", v)
	}
	if strings.Contains(v, "-0.00") || !strings.Contains(v, " 0.00 ") {
		t.Errorf("the group's advantages are not shown as 0.00:\n%s", v)
	}
	send(m, press("enter"))
	if d := m.View(); !strings.Contains(d, "advantage 0.000") {
		t.Errorf("the detail does not show advantage 0.000:\n%s", d)
	}
}
