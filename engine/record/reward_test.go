package record

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/configkey"
)

// near compares at float32 precision: the per-token arrays are float32.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func TestReduceByHand(t *testing.T) {
	c := DefaultRewardConfig()
	cases := []struct {
		name                     string
		sol, d, studentExpl      []float32
		ended                    bool
		rss, rkl, pen, r, noentR float64
		minPos, maxPos           int
	}{
		{
			name: "ordinary", sol: []float32{-0.5, -1.5}, d: []float32{0.2, -0.4, 1.0}, studentExpl: []float32{-1, -2, -3}, ended: true,
			// r_SS = 1·(−1) + 0.01·(−1.5); r_KL = 3·(0.8/3) + 0.03·1.0
			rss: -1.015, rkl: 0.83, pen: 0, r: -1.015 - 0.83,
			// no entropy: −ℓS = 1, 2, 3 → 3·2 + 0.03·3
			noentR: -1.015 - 6.09, minPos: 1, maxPos: 2,
		},
		{
			name: "negative d everywhere", sol: []float32{-0.1}, d: []float32{-2, -1}, studentExpl: []float32{-0.5, -0.5}, ended: true,
			rss: -0.101, rkl: 3*-1.5 + 0.03*-1, r: -0.101 - (3*-1.5 + 0.03*-1), noentR: -0.101 - (3*0.5 + 0.03*0.5), minPos: 0, maxPos: 1,
		},
		{
			name: "missing end tag", sol: []float32{-1}, d: []float32{0.5}, studentExpl: []float32{-1}, ended: false,
			rss: -1.01, rkl: 1.515, pen: -1, r: -1.01 - 1.515 - 1, noentR: -1.01 - 3.03 - 1, minPos: 0, maxPos: 0,
		},
		{
			name: "empty explanation", sol: []float32{-1}, d: nil, studentExpl: nil, ended: true,
			rss: -1.01, rkl: 3.03, r: -1.01 - 3.03, noentR: -1.01 - 3.03, minPos: 0, maxPos: -1,
		},
		{
			name: "empty solution", sol: nil, d: []float32{0}, studentExpl: []float32{-1}, ended: true,
			rss: -1.01, rkl: 0, r: -1.01, noentR: -1.01 - 3.03, minPos: -1, maxPos: 0,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Reduce(tc.sol, tc.d, tc.studentExpl, tc.ended)
			if !near(got.RSS, tc.rss) || !near(got.RKL, tc.rkl) || !near(got.Penalty, tc.pen) || !near(got.Reward, tc.r) {
				t.Errorf("r_SS %v r_KL %v m %v r %v; want %v %v %v %v", got.RSS, got.RKL, got.Penalty, got.Reward, tc.rss, tc.rkl, tc.pen, tc.r)
			}
			if !near(got.NoEntReward, tc.noentR) {
				t.Errorf("no-entropy reward %v, want %v", got.NoEntReward, tc.noentR)
			}
			if got.SolutionMinPos != tc.minPos || got.KLMaxPos != tc.maxPos {
				t.Errorf("min at %d, max at %d; want %d, %d", got.SolutionMinPos, got.KLMaxPos, tc.minPos, tc.maxPos)
			}
		})
	}
}

func TestTokenScoreEstimators(t *testing.T) {
	for _, d := range []float64{-2, -0.3, 0, 0.7, 3} {
		lr := float64(RewardConfig{Estimator: LogRatio}.TokenScore(float32(d-1), -1))
		k3 := float64(RewardConfig{Estimator: K3}.TokenScore(float32(d-1), -1))
		if !near(lr, d) {
			t.Errorf("log-ratio of %v: %v", d, lr)
		}
		if !near(k3, d-1+math.Exp(-d)) || k3 < 0 {
			t.Errorf("k3 of %v: %v", d, k3)
		}
	}
}

func TestDefaultsAreTheOfficialRunsAndValidate(t *testing.T) {
	c := DefaultRewardConfig()
	if c.Temperature != 0.7 || c.SolutionMean != 1 || c.SolutionMin != 0.01 || c.KLMean != 3 || c.KLMax != 0.03 || c.FormatPenalty != -1 || c.Estimator != LogRatio {
		t.Fatalf("defaults %+v differ from RLT.md §3", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := c
	bad.Estimator = "kl"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `"kl"`) {
		t.Errorf("unknown estimator: %v", err)
	}
	bad = c
	bad.Temperature = 0
	if err := bad.Validate(); err == nil {
		t.Error("temperature 0 accepted")
	}
}

// Validate reports every problem of a configuration, each with the key it
// is about below [reward] as data (configkey), not only the first: the
// config editor shows each at its line.
func TestRewardValidateReportsEveryProblem(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(*RewardConfig)
		wants []string // each problem, its key's path first, in Validate's order
	}{
		{"valid", func(*RewardConfig) {}, nil},
		{"one", func(c *RewardConfig) { c.KLMax = math.Inf(1) }, []string{"reward.kl_max is +Inf"}},
		{"infinite temperature", func(c *RewardConfig) { c.Temperature = math.Inf(1) },
			[]string{"reward.temperature +Inf must be a finite positive number"}},
		{"every kind at once", func(c *RewardConfig) {
			c.Temperature, c.SolutionMin, c.FormatPenalty, c.Estimator = 0, math.NaN(), math.Inf(-1), "l2"
		}, []string{
			"reward.temperature 0 must be a finite positive number",
			"reward.solution_min is NaN",
			"reward.format_penalty is -Inf",
			`reward.estimator "l2": want "logratio", "k3" or "full"`,
		}},
		{"every coefficient", func(c *RewardConfig) {
			c.SolutionMean, c.SolutionMin, c.KLMean, c.KLMax, c.FormatPenalty = math.NaN(), math.NaN(), math.Inf(1), math.NaN(), math.NaN()
		}, []string{
			"reward.solution_mean is NaN", "reward.solution_min is NaN",
			"reward.kl_mean is +Inf", "reward.kl_max is NaN",
			"reward.format_penalty is NaN",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultRewardConfig()
			c.edit(&cfg)
			err := cfg.Validate()
			var got []string
			for _, p := range configkey.Problems(err) {
				key, ok := configkey.Of(p)
				if !ok {
					key = "(no key)"
				}
				if !strings.HasPrefix(p.Error(), key+" ") {
					t.Errorf("%q does not begin with its key %q", p, key)
				}
				got = append(got, p.Error())
			}
			if strings.Join(got, "\n") != strings.Join(c.wants, "\n") {
				t.Errorf("Validate:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.wants, "\n"))
			}
			if j, ok := err.(interface{ Unwrap() []error }); len(c.wants) > 0 && (!ok || len(j.Unwrap()) != len(c.wants)) {
				t.Errorf("Validate did not join its %d problems (errors.Join): %#v", len(c.wants), err)
			}
		})
	}
}

func TestExtract(t *testing.T) {
	cases := []struct {
		gen, body string
		ended     bool
	}{
		{"carry the one.<|end_of_explanation|><|im_end|>", "carry the one.", true},
		{"no end in sight", "no end in sight", false},
		{"<|end_of_explanation|>", "", true},
		{"a<|end_of_explanation|>b<|end_of_explanation|>", "a", true},
		// The turn ends at the first end of turn: what follows was never
		// part of it (a raw completion imported whole).
		{"A<|im_end|>more<|end_of_explanation|>", "A", false},
		{"A<|endoftext|>x<|end_of_explanation|><|im_end|>", "A", false},
		{"A<|end_of_explanation|><|im_end|>\n<|im_start|>user", "A", true},
	}
	for _, c := range cases {
		e := Extract(c.gen)
		if e.Body != c.body || e.Ended != c.ended || e.Explanation != "\n\n"+c.body {
			t.Errorf("Extract(%q) = %+v", c.gen, e)
		}
	}
}

func TestPromptLayouts(t *testing.T) {
	p := Prompts{TeacherSystem: "T", StudentSystem: "S"}
	if got, want := p.TeacherPrompt("1+1?", "2"),
		"<|im_start|>system\nT<|im_end|>\n<|im_start|>user\n1+1?<|im_end|>\n<|im_start|>assistant\n"+
			"<|begin_of_solution|>2<|end_of_solution|>\n\n<|begin_of_explanation|>\n\n"; got != want {
		t.Errorf("teacher prompt\n%q\nwant\n%q", got, want)
	}
	if got, want := p.StudentContext("1+1?", "one and one", "2"),
		"<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n1+1?<|im_end|>\n<|im_start|>assistant\n"+
			"<|begin_of_thought|>\n\none and one<|end_of_thought|>\n\n<|begin_of_solution|>2<|end_of_solution|><|im_end|>"; got != want {
		t.Errorf("student context\n%q\nwant\n%q", got, want)
	}
}

func TestCheckText(t *testing.T) {
	if err := CheckText("solution", "  "); err == nil || !strings.Contains(err.Error(), "solution is empty") {
		t.Errorf("empty solution: %v", err)
	}
	if err := CheckText("question", "what is <|end_of_solution|>?"); err == nil || !strings.Contains(err.Error(), "<|end_of_solution|>") {
		t.Errorf("tag in question: %v", err)
	}
	if err := CheckText("question", "what is 2+2?"); err != nil {
		t.Error(err)
	}
}

// Terms read back as written, by the layout reader for what MarshalJSON
// writes and by the map for any other object, to the same values.
func TestTermsJSONLayout(t *testing.T) {
	base := Terms{SolutionMean: -0.25, SolutionMin: -1.5, SolutionMinPos: 7, KLMean: 0.125, KLMax: 3, KLMaxPos: 41,
		RSS: -0.3, RKL: 0.9, Penalty: -1, Reward: -2.2, NoEntKLMean: math.NaN(), NoEntKLMax: math.Inf(1),
		NoEntRKL: math.Inf(-1), NoEntReward: 1e-300}
	same := func(a, b Terms) bool {
		return fmt.Sprintf("%v", a) == fmt.Sprintf("%v", b)
	}
	written, _ := base.MarshalJSON()
	var viaLayout Terms
	if !viaLayout.unmarshalLayout(written) || !same(viaLayout, base) {
		t.Fatalf("layout read %+v from %s", viaLayout, written)
	}
	for _, c := range []struct {
		name, json string
		ok         bool // read at all
	}{
		{"spaced", strings.ReplaceAll(string(written), ":", ": "), true},
		{"reordered", `{"reward":-2.2,"solution_min_pos":7}`, true},
		{"hex float", strings.Replace(string(written), `"kl_max":3`, `"kl_max":0x1p3`, 1), false},
		{"plus int", strings.Replace(string(written), `"kl_max_pos":41`, `"kl_max_pos":+41`, 1), false},
		{"trailing dot", strings.Replace(string(written), `"kl_max":3`, `"kl_max":3.`, 1), false},
		{"unknown key", strings.Replace(string(written), `{`, `{"x":1,`, 1), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var fast Terms
			if fast.unmarshalLayout([]byte(c.json)) {
				t.Errorf("the layout reader took %s", c.json)
			}
			var m map[string]json.RawMessage
			var want Terms
			wantErr := json.Unmarshal([]byte(c.json), &m)
			if wantErr == nil {
				wantErr = want.fromMap(m)
			}
			var got Terms
			err := got.UnmarshalJSON([]byte(c.json))
			if (err == nil) != c.ok || (wantErr == nil) != c.ok || !same(got, want) {
				t.Errorf("read %+v (%v), the map reads %+v (%v)", got, err, want, wantErr)
			}
		})
	}
}
