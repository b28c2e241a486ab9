package task

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

func allTasks() []Task { return []Task{DefaultAddition(), DefaultLinear()} }

func TestSamplerDeterministic(t *testing.T) {
	for _, tk := range allTasks() {
		for _, split := range []Split{Train, HeldOut} {
			a := NewSampler(tk, split, 42).Take(500)
			b := NewSampler(tk, split, 42).Take(500)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%s/%s: same seed gave different examples", tk.Name(), split)
			}
			c := NewSampler(tk, split, 43).Take(500)
			if reflect.DeepEqual(a, c) {
				t.Fatalf("%s/%s: seeds 42 and 43 gave the same examples", tk.Name(), split)
			}
		}
	}
}

func TestSplitsDisjoint(t *testing.T) {
	for _, tk := range allTasks() {
		train := map[string]bool{}
		for _, ex := range NewSampler(tk, Train, 1).Take(20000) {
			key, ok := tk.SplitKey(ex.Question)
			if !ok {
				t.Fatalf("%s: generated question %q has no split key", tk.Name(), ex.Question)
			}
			train[key] = true
		}
		held := 0
		for _, ex := range NewSampler(tk, HeldOut, 2).Take(3000) {
			key, _ := tk.SplitKey(ex.Question)
			if train[key] {
				t.Fatalf("%s: held-out question %q (key %q) also in train", tk.Name(), ex.Question, key)
			}
			if SplitOf(tk, ex.Question, DefaultHeldOut) != HeldOut {
				t.Fatalf("%s: held-out sampler produced %q of split train", tk.Name(), ex.Question)
			}
			held++
		}
		if held == 0 {
			t.Fatalf("%s: no held-out examples", tk.Name())
		}
	}
}

func TestSplitFraction(t *testing.T) {
	tk := DefaultAddition()
	rng := rand.New(rand.NewPCG(9, 9))
	n, h := 20000, 0
	for range n {
		if SplitOf(tk, tk.Sample(rng).Question, DefaultHeldOut) == HeldOut {
			h++
		}
	}
	if f := float64(h) / float64(n); f < 0.08 || f > 0.12 {
		t.Fatalf("held-out fraction %.3f, want about %.2f", f, DefaultHeldOut)
	}
}

func TestSplitKeyCanonical(t *testing.T) {
	add, lin := DefaultAddition(), DefaultLinear()
	tests := []struct {
		tk   Task
		a, b string
	}{
		{add, "347+285=?", "285+347=?"},
		{add, "347+285=?", " 347 + 285 = ? "},
		{add, "347+285=?", "347+285"},
		{lin, "3x+5=20, x=?", "3x + 5 = 20,x=?"},
		{lin, "3x+5=20, x=?", "3x+5=20"},
	}
	for _, tc := range tests {
		ka, oka := tc.tk.SplitKey(tc.a)
		kb, okb := tc.tk.SplitKey(tc.b)
		if !oka || !okb || ka != kb {
			t.Errorf("%s: keys of %q and %q: %q (%v), %q (%v); want equal", tc.tk.Name(), tc.a, tc.b, ka, oka, kb, okb)
		}
		for _, h := range []float64{0.1, 0.5} {
			if SplitOf(tc.tk, tc.a, h) != SplitOf(tc.tk, tc.b, h) {
				t.Errorf("%s: %q and %q in different splits", tc.tk.Name(), tc.a, tc.b)
			}
		}
	}
	for _, q := range []string{"", "347-285=?", "034+1=?", "a+b=?", "1+2+3=?"} {
		if _, ok := add.SplitKey(q); ok {
			t.Errorf("addition accepted %q", q)
		}
	}
	for _, q := range []string{"", "3y+5=20, x=?", "3x+5=21, x=?", "3x+5, x=?", "0x+5=5"} {
		if _, ok := lin.SplitKey(q); ok {
			t.Errorf("linear accepted %q", q)
		}
	}
}

// The split and ID hashes are pure functions of the task name and split
// key: pin a few so a change that would reshuffle every split is noticed.
func TestSplitGolden(t *testing.T) {
	add, lin := DefaultAddition(), DefaultLinear()
	tests := []struct {
		tk   Task
		q    string
		half Split // split with heldOut = 0.5
	}{
		{add, "347+285=?", HeldOut},
		{add, "12+34=?", Train},
		{add, "9999+1000=?", Train},
		{lin, "3x+5=20, x=?", HeldOut},
		{lin, "2x-24=0, x=?", Train},
	}
	for _, tc := range tests {
		if got := SplitOf(tc.tk, tc.q, 0.5); got != tc.half {
			t.Errorf("SplitOf(%s, %q, 0.5) = %s, want %s", tc.tk.Name(), tc.q, got, tc.half)
		}
	}
	if got := exampleID("addition", "285+347"); got != "addition:2bea6db5d4bfd842" {
		t.Errorf("ID of 285+347 = %s", got)
	}
	ex := add.Sample(rand.New(rand.NewPCG(1, 1)))
	if key, _ := add.SplitKey(ex.Question); ex.ID != exampleID("addition", key) {
		t.Errorf("ID %q is not the hash of the split key %q", ex.ID, key)
	}
}

func TestUniqueExhausted(t *testing.T) {
	tiny, err := NewLinear(LinearConfig{MinCoef: 2, MaxCoef: 2, MaxX: 1, MaxConst: 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := NewSamplerHeldOut(tiny, Train, 1, 0.001).Unique(10)
	if !errors.Is(err, ErrExhausted) {
		t.Fatalf("err = %v, want ErrExhausted", err)
	}
	if len(got) != 2 {
		t.Fatalf("found %d distinct questions, want 2", len(got))
	}
	exs, err := NewSampler(DefaultAddition(), HeldOut, 3).Unique(200)
	if err != nil || len(exs) != 200 {
		t.Fatalf("Unique(200) = %d, %v", len(exs), err)
	}
}

// TestUniqueRefusesCountsPastItsBound: Unique itself refuses a count
// below 0 or past MaxUnique, before drawing any, for a caller that skips
// the callers' bound. At int's largest its budget of 100·n+1000 draws
// wrapped to 900, and a split of millions of questions was "exhausted"
// after 900; a little past 2^63/100 it wrapped negative and never gave up;
// -1 panicked (makeslice: cap out of range).
func TestUniqueRefusesCountsPastItsBound(t *testing.T) {
	for _, n := range []int{math.MaxInt, math.MaxInt/100 + 1, math.MaxInt/100 + 11, MaxUnique + 1, -1, math.MinInt} {
		got, err := NewSampler(DefaultAddition(), HeldOut, 3).Unique(n)
		want := fmt.Sprintf("task: %d distinct questions asked of addition heldout: want 0 to 1048576, the most one draw takes (task.MaxUnique)", n)
		if err == nil || err.Error() != want || errors.Is(err, ErrExhausted) || len(got) != 0 {
			t.Errorf("Unique(%d) = %d examples, %v; want none and %q", n, len(got), err, want)
		}
	}
	for _, n := range []int{0, 1, 3} {
		if got, err := NewSampler(DefaultAddition(), HeldOut, 3).Unique(n); err != nil || len(got) != n {
			t.Errorf("Unique(%d) = %d examples, %v", n, len(got), err)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []AdditionConfig{{0, 2}, {3, 2}, {1, 31}} {
		if _, err := NewAddition(c); err == nil {
			t.Errorf("NewAddition(%+v) accepted", c)
		}
	}
	if _, err := NewAddition(AdditionConfig{1, 1}); err != nil {
		t.Error(err)
	}
	for _, c := range []LinearConfig{{0, 2, 5, 5, false}, {3, 2, 5, 5, false}, {1, 2, -1, 5, false}, {1, 2, 5, 0, false}} {
		if _, err := NewLinear(c); err == nil {
			t.Errorf("NewLinear(%+v) accepted", c)
		}
	}
}

func TestGeneratedExamplesCheck(t *testing.T) {
	for _, tk := range allTasks() {
		rng := rand.New(rand.NewPCG(5, 5))
		for range 2000 {
			ex := tk.Sample(rng)
			if ex.Task != tk.Name() || ex.ID == "" {
				t.Fatalf("bad metadata %+v", ex)
			}
			if !tk.CheckAnswer(ex.Question, ex.Solution) {
				t.Fatalf("%s: CheckAnswer(%q, %q) false", tk.Name(), ex.Question, ex.Solution)
			}
			if tag, ok := record.ContainsTag(ex.Question + ex.Solution + ex.Reference); ok {
				t.Fatalf("generated text contains %s", tag)
			}
			if len(ex.Question) > 24 {
				t.Fatalf("question %q too long for a tiny context", ex.Question)
			}
		}
	}
}

func TestMixture(t *testing.T) {
	tk := DefaultAddition()
	if _, err := NewMixture(tk.Styles(), map[string]float64{"nope": 1}); err == nil {
		t.Error("unknown style accepted")
	}
	for _, w := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := NewMixture(tk.Styles(), map[string]float64{StyleClean: w}); err == nil {
			t.Errorf("weight %v accepted", w)
		}
	}
	if _, err := NewMixture(tk.Styles(), map[string]float64{StyleClean: 0}); err == nil {
		t.Error("zero weights accepted")
	}
	m, err := NewMixture(tk.Styles(), DefaultMixture())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	counts := map[string]int{}
	ex := tk.Sample(rng)
	const n = 20000
	for range n {
		name, expl := m.Explain(ex, rng)
		if expl == "" {
			t.Fatalf("style %s wrote nothing", name)
		}
		counts[name]++
	}
	for name, w := range DefaultMixture() {
		if f := float64(counts[name]) / n; math.Abs(f-w) > 0.02 {
			t.Errorf("style %s drawn %.3f of the time, want %.3f", name, f, w)
		}
	}
	only, _ := NewMixture(tk.Styles(), map[string]float64{StyleLeaked: 2})
	for range 100 {
		if s := only.Sample(rng); s.Name != StyleLeaked {
			t.Fatalf("drew %s from a leaked-only mixture", s.Name)
		}
	}
	// Same seed, same corpus.
	a, b := rand.New(rand.NewPCG(7, 7)), rand.New(rand.NewPCG(7, 7))
	for range 200 {
		s1, e1 := m.Explain(ex, a)
		s2, e2 := m.Explain(ex, b)
		if s1 != s2 || e1 != e2 {
			t.Fatal("mixture not deterministic")
		}
	}
}

func TestLookup(t *testing.T) {
	for _, name := range Names() {
		tk, ok := Lookup(name)
		if !ok || tk.Name() != name {
			t.Errorf("Lookup(%q) = %v, %v", name, tk, ok)
		}
		names := []string{}
		for _, s := range tk.Styles() {
			names = append(names, s.Name)
			if got, ok := StyleByName(tk, s.Name); !ok || got.Name != s.Name {
				t.Errorf("StyleByName(%s, %s) failed", name, s.Name)
			}
		}
		want := []string{StyleClean, StyleReordered, StylePadded, StyleLeaked, StylePartial}
		if !reflect.DeepEqual(names, want) {
			t.Errorf("%s styles %v, want %v", name, names, want)
		}
	}
	if _, ok := Lookup("countdown"); ok {
		t.Error("Lookup(countdown) succeeded")
	}
}

func TestNormalizeAndCheckAnswer(t *testing.T) {
	add, lin := DefaultAddition(), DefaultLinear()
	tests := []struct {
		tk     Task
		q, ans string
		want   bool
	}{
		{add, "347+285=?", "632", true},
		{add, "347+285=?", " 632\n", true},
		{add, "347+285=?", "ans 632", true},
		{add, "347+285=?", "The answer is 632.", true},
		{add, "347+285=?", "0632", true},
		{add, "347+285=?", "+632", true},
		{add, "347+285=?", "633", false},
		{add, "347+285=?", "", false},
		{add, "347+285=?", "632 apples", false},
		{add, "9999+9999=?", "19,998", true},
		{add, "not a question", "632", false},
		{lin, "3x+5=20, x=?", "5", true},
		{lin, "3x+5=20, x=?", "x=5", true},
		{lin, "3x+5=20, x=?", "x = 5", true},
		{lin, "3x+5=20, x=?", "-5", false},
		{lin, "3x+6=0, x=?", "-2", true},
		{lin, "3x-4=11, x=?", "5", true},
		{lin, "2x+0=0, x=?", "-0", true},
	}
	for _, tc := range tests {
		if got := tc.tk.CheckAnswer(tc.q, tc.ans); got != tc.want {
			t.Errorf("%s.CheckAnswer(%q, %q) = %v, want %v (normalised %q)", tc.tk.Name(), tc.q, tc.ans, got, tc.want, NormalizeAnswer(tc.ans))
		}
	}
}

func TestWarmStart(t *testing.T) {
	for _, tk := range allTasks() {
		a, err := WarmStart(tk, 5, 400, DefaultMixture())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := WarmStart(tk, 5, 400, DefaultMixture())
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: warm start not deterministic", tk.Name())
		}
		styles := map[string]int{}
		for _, tr := range a {
			styles[tr.Style]++
			if SplitOf(tk, tr.Question, DefaultHeldOut) != Train {
				t.Fatalf("warm start used held-out question %q", tr.Question)
			}
			v := tk.VerifyExplanation(tr.Question, tr.Explanation)
			if tr.Style == StyleLeaked != v.AnswerFirst {
				t.Fatalf("%s %q: leak flag %v", tr.Style, tr.Explanation, v.AnswerFirst)
			}
		}
		if len(styles) != 5 {
			t.Fatalf("%s: styles drawn %v", tk.Name(), styles)
		}
	}
	if _, err := WarmStart(DefaultAddition(), 1, 1, map[string]float64{"bogus": 1}); err == nil {
		t.Fatal("bad weights accepted")
	}
}
