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
		{"one", func(c *RewardConfig) { c.KLMax = math.Inf(1) }, []string{"reward.kl_max is +Inf: give a finite number (the default is 0.03)"}},
		{"infinite temperature", func(c *RewardConfig) { c.Temperature = math.Inf(1) },
			[]string{"reward.temperature +Inf must be a finite positive number"}},
		// 1/τ past float32's range: every step's log-probs were NaN or
		// -Inf, refused as non-finite rewards once the models had loaded.
		{"a temperature whose reciprocal float32 has not", func(c *RewardConfig) { c.Temperature = 1e-39 },
			[]string{"reward.temperature 1e-39 is below 2.9e-39 (1/MaxFloat32), where log-probs are not finite: give 1e-38 or more (0.01 is near greedy already)"}},
		{"the smallest temperature", func(c *RewardConfig) { c.Temperature = MinTemperature }, nil},
		{"every kind at once", func(c *RewardConfig) {
			c.Temperature, c.SolutionMin, c.FormatPenalty, c.Estimator = 0, math.NaN(), math.Inf(-1), "l2"
		}, []string{
			"reward.temperature 0 must be a finite positive number",
			"reward.solution_min is NaN: give a finite number (the default is 0.01)",
			"reward.format_penalty is -Inf: give a finite number (the default is -1)",
			`reward.estimator "l2": want "logratio", "k3" or "full"`,
		}},
		// A weight of the other sign than its default's turns its term
		// around (RLT.md §3): taken before, and the teacher learned what
		// the term punishes. 0 leaves a term out (the ablation without
		// r_KL) and is taken.
		{"weights turned around", func(c *RewardConfig) {
			c.SolutionMean, c.SolutionMin, c.KLMean, c.KLMax, c.FormatPenalty = -1, -0.01, -3, -0.03, 1
		}, []string{
			"reward.solution_mean -1 is negative, which rewards explanations after which the student is less sure of the solution: the objective turned around; give 0 to leave the term out (the default is 1)",
			"reward.solution_min -0.01 is negative, which rewards explanations after which the student's least likely solution token is less likely: the objective turned around; give 0 to leave the term out (the default is 0.01)",
			"reward.kl_mean -3 is negative, which rewards explanations the student finds less natural than the teacher does (r_KL is subtracted): the objective turned around; give 0 to leave the term out (the default is 3)",
			"reward.kl_max -0.03 is negative, which rewards explanations whose least natural token to the student is less natural still (r_KL is subtracted): the objective turned around; give 0 to leave the term out (the default is 0.03)",
			"reward.format_penalty 1 is positive, which rewards explanations cut off before their end tag (it is added to their reward); give 0 for no penalty (the default is -1)",
		}},
		{"terms left out", func(c *RewardConfig) { c.SolutionMin, c.KLMean, c.KLMax, c.FormatPenalty = 0, 0, 0, 0 }, nil},
		{"weights of any size", func(c *RewardConfig) { c.SolutionMean, c.KLMean, c.FormatPenalty = 1e6, 1e-9, -100 }, nil},
		{"every coefficient", func(c *RewardConfig) {
			c.SolutionMean, c.SolutionMin, c.KLMean, c.KLMax, c.FormatPenalty = math.NaN(), math.NaN(), math.Inf(1), math.NaN(), math.NaN()
		}, []string{
			"reward.solution_mean is NaN: give a finite number (the default is 1)", "reward.solution_min is NaN: give a finite number (the default is 0.01)",
			"reward.kl_mean is +Inf: give a finite number (the default is 3)", "reward.kl_max is NaN: give a finite number (the default is 0.03)",
			"reward.format_penalty is NaN: give a finite number (the default is -1)",
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

// termsViaMap is how UnmarshalJSON reads an object it does not scan: by
// encoding/json's map and fromMap, from start. The reference scan must
// agree with.
func termsViaMap(b []byte, start Terms) (Terms, error) {
	t := start
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return t, fmt.Errorf("terms: %w", err)
	}
	return t, t.fromMap(m)
}

// sameTerms compares every field bit for bit (NaN equals NaN, -0 is not 0).
func sameTerms(a, b Terms) bool {
	for i := range termCount {
		_, fa, na := a.field(i)
		_, fb, nb := b.field(i)
		if na != nil {
			if *na != *nb {
				return false
			}
		} else if math.Float64bits(*fa) != math.Float64bits(*fb) {
			return false
		}
	}
	return true
}

// checkTermsAsMap reads b with UnmarshalJSON from start and checks it
// against termsViaMap: the same terms, the same error in the same words;
// it returns whether scan took b itself.
func checkTermsAsMap(t *testing.T, b []byte, start Terms) (scanned bool) {
	t.Helper()
	want, wantErr := termsViaMap(b, start)
	got := start
	err := got.UnmarshalJSON(b)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) || !sameTerms(got, want) {
		t.Fatalf("%s: read %+v (%v), the map reads %+v (%v)", b, got, err, want, wantErr)
	}
	_, scanned = start.scan(b)
	if scanned && wantErr != nil {
		t.Fatalf("%s: scanned, but the map refuses it: %v", b, wantErr)
	}
	return scanned
}

// Terms read back without the map wherever a run's files may hold them
// (the writer's layout, NaN and ±Inf in every spelling ParseFloat reads,
// exponents, nulls, missing and unknown keys, another order, spacing), to
// exactly what encoding/json's map reads; anything else goes to the map,
// which reads it or refuses it in its own words.
func TestTermsJSONReadsAsTheMap(t *testing.T) {
	base := Terms{SolutionMean: -0.25, SolutionMin: -1.5, SolutionMinPos: 7, KLMean: 0.125, KLMax: 3, KLMaxPos: 41,
		RSS: -0.3, RKL: 0.9, Penalty: -1, Reward: -2.2, NoEntKLMean: math.NaN(), NoEntKLMax: math.Inf(1),
		NoEntRKL: math.Inf(-1), NoEntReward: 1e-300}
	written, _ := base.MarshalJSON()
	w := string(written)
	with := func(old, new string) string {
		if !strings.Contains(w, old) {
			t.Fatalf("%s not in %s", old, w)
		}
		return strings.Replace(w, old, new, 1)
	}
	// Not a zero Terms: a missing key, and null for an int, leave the
	// field as it was.
	prior := Terms{SolutionMean: 9, SolutionMinPos: 99, KLMaxPos: -5, Reward: 4}
	for _, c := range []struct {
		name, json string
		scanned    bool // read without the map
	}{
		{"as written", w, true},
		{"spaced", " {\t\"reward\" :\n-2.2 ,\r\"kl_max_pos\": 3 }\n", true},
		{"reordered", `{"reward":-2.2,"solution_min_pos":7,"solution_mean":1}`, true},
		{"missing keys", `{"r_ss":-1.5,"r_kl":0.25}`, true},
		{"empty", `{}`, true},
		{"empty spaced", ` { } `, true},
		{"unknown keys", `{"x":1,"reward":2,"y":"z","z":null,"t":true,"f":false,"e":-1.5e-3,"u":"` + "\xff" + `"}`, true},
		{"exponents", `{"kl_max":1E+2,"kl_mean":-2.5e-310,"r_kl":0e0,"r_ss":5e-324,"reward":1.5E-3}`, true},
		{"negative zero", with(`"penalty":-1`, `"penalty":-0`), true},
		{"null float", with(`"kl_max":3`, `"kl_max":null`), true},
		{"null int", with(`"kl_max_pos":41`, `"kl_max_pos":null`), true},
		{"NaN", with(`"r_ss":-0.3`, `"r_ss":"NaN"`), true},
		{"+Inf", with(`"r_ss":-0.3`, `"r_ss":"+Inf"`), true},
		{"Inf", with(`"r_ss":-0.3`, `"r_ss":"Inf"`), true},
		{"Infinity", with(`"r_ss":-0.3`, `"r_ss":"Infinity"`), true},
		{"-Inf", with(`"r_ss":-0.3`, `"r_ss":"-Inf"`), true},
		{"-Infinity", with(`"r_ss":-0.3`, `"r_ss":"-Infinity"`), true},
		{"negative int", with(`"kl_max_pos":41`, `"kl_max_pos":-3`), true},
		{"largest int", with(`"kl_max_pos":41`, `"kl_max_pos":9223372036854775807`), true},
		// The map's: read by it, or refused in its words.
		{"key twice", `{"reward":1,"reward":2}`, false},
		{"int twice, null last", `{"kl_max_pos":3,"kl_max_pos":null}`, false},
		{"escaped key", `{"rew\u0061rd":2}`, false},
		{"escaped NaN", with(`"r_ss":-0.3`, `"r_ss":"\u004eaN"`), false},
		{"nested unknown", `{"x":{"reward":1},"reward":2}`, false},
		{"array unknown", `{"x":[1,2],"reward":2}`, false},
		{"null", `null`, false},
		{"nan", with(`"r_ss":-0.3`, `"r_ss":"nan"`), false},
		{"+Infinity", with(`"r_ss":-0.3`, `"r_ss":"+Infinity"`), false},
		{"quoted number", with(`"r_ss":-0.3`, `"r_ss":"-0.3"`), false},
		{"bool float", with(`"r_ss":-0.3`, `"r_ss":true`), false},
		{"overflow", with(`"kl_max":3`, `"kl_max":1e400`), false},
		{"int fraction", with(`"kl_max_pos":41`, `"kl_max_pos":41.0`), false},
		{"int exponent", with(`"kl_max_pos":41`, `"kl_max_pos":4e1`), false},
		{"int overflow", with(`"kl_max_pos":41`, `"kl_max_pos":9223372036854775808`), false},
		{"int string", with(`"kl_max_pos":41`, `"kl_max_pos":"41"`), false},
		{"int NaN", with(`"kl_max_pos":41`, `"kl_max_pos":"NaN"`), false},
		{"hex float", with(`"kl_max":3`, `"kl_max":0x1p3`), false},
		{"plus", with(`"kl_max":3`, `"kl_max":+3`), false},
		{"leading zero", with(`"kl_max":3`, `"kl_max":03`), false},
		{"trailing dot", with(`"kl_max":3`, `"kl_max":3.`), false},
		{"bare dot", with(`"kl_max":3`, `"kl_max":.5`), false},
		{"bare exponent", with(`"kl_max":3`, `"kl_max":3e`), false},
		{"bare minus", with(`"kl_max":3`, `"kl_max":-`), false},
		{"literal run on", with(`"kl_max":3`, `"kl_max":nullx`), false},
		{"control character", `{"x":"a` + "\n" + `b","reward":2}`, false},
		{"trailing comma", `{"reward":2,}`, false},
		{"no colon", `{"reward" 2}`, false},
		{"cut short", w[:len(w)/2], false},
		{"after the object", w + `x`, false},
		{"two objects", w + w, false},
		{"not an object", `[1]`, false},
		{"vertical tab", "{\v\"reward\":2}", false},
		{"nothing", ``, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, start := range []Terms{{}, prior} {
				if scanned := checkTermsAsMap(t, []byte(c.json), start); scanned != c.scanned {
					t.Errorf("%s: scanned %v, want %v", c.json, scanned, c.scanned)
				}
			}
		})
	}
	var got Terms
	if err := got.UnmarshalJSON(written); err != nil || !sameTerms(got, base) {
		t.Errorf("read %+v (%v) from %s", got, err, written)
	}
}

// The terms of a trace line, as written, are read without allocating
// (opening a run reads one Terms per trace).
func TestTermsJSONAllocatesNothing(t *testing.T) {
	written, _ := Terms{SolutionMean: -0.41, SolutionMinPos: 17, KLMax: math.Inf(1), NoEntReward: math.NaN()}.MarshalJSON()
	var got Terms
	if n := testing.AllocsPerRun(100, func() {
		if err := got.UnmarshalJSON(written); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations a read of %s", n, written)
	}
}

// FuzzTermsJSON: any bytes read by UnmarshalJSON as the map reads them.
//
//	go test -run '^$' -fuzz FuzzTermsJSON -fuzztime 60s ./engine/record/
func FuzzTermsJSON(f *testing.F) {
	written, _ := Terms{SolutionMean: -0.25, SolutionMinPos: 7, KLMax: math.Inf(1), RSS: math.NaN(), Penalty: -1e-300}.MarshalJSON()
	f.Add(written)
	f.Add([]byte(`{"r_ss":"-Infinity","kl_max_pos":null,"x":[1],"reward":1E5}`))
	f.Add([]byte(` {"kl_max_pos":-0 , "u":"\u00ff","reward":"Inf"} `))
	f.Add([]byte(`{"reward":1,"reward":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkTermsAsMap(t, b, Terms{KLMaxPos: 3, Reward: 2})
	})
}

// BenchmarkTermsUnmarshal reads one trace's terms as MarshalJSON writes
// them (opening a run reads one a trace).
//
//	go test -run '^$' -bench TermsUnmarshal ./engine/record/
func BenchmarkTermsUnmarshal(b *testing.B) {
	written, _ := Terms{SolutionMean: -0.4123456789, SolutionMin: -3.25, SolutionMinPos: 17, KLMean: 0.0123456789,
		KLMax: 1.9876543, KLMaxPos: 203, RSS: -0.44487, RKL: 0.09666, Penalty: 0, Reward: -0.54153,
		NoEntKLMean: 0.734, NoEntKLMax: 6.5, NoEntRKL: 2.397, NoEntReward: -2.84187}.MarshalJSON()
	var t Terms
	for b.Loop() {
		if err := t.UnmarshalJSON(written); err != nil {
			b.Fatal(err)
		}
	}
}

// ParseRewardConfig reads what rescores.jsonl and rlt distill
// --samples-out record: every key, or some (the others their defaults);
// a key it does not know, or a value of the wrong type, is refused in
// words that name it, not taken at its default unseen. Values are not
// validated (a caller may put its own over them).
func TestParseRewardConfig(t *testing.T) {
	def := DefaultRewardConfig()
	k3 := def
	k3.Temperature, k3.KLMean, k3.Estimator = 0.9, 0.5, K3
	written, err := json.Marshal(k3)
	if err != nil {
		t.Fatal(err)
	}
	half := def
	half.KLMax = 0
	unchecked := def
	unchecked.Temperature = 0
	for _, c := range []struct {
		name, raw string
		want      RewardConfig
		err       string
	}{
		{"as recorded", string(written), k3, ""},
		{"some keys", `{"kl_max": 0}`, half, ""},
		{"not validated", `{"temperature": 0}`, unchecked, ""},
		{"an unknown key", `{"kl_max": 0.03, "klmax": 0}`, RewardConfig{},
			`reward_config: unknown key "klmax" (known: temperature, solution_mean, solution_min, kl_mean, kl_max, format_penalty, estimator)`},
		// As encoding/json and a [reward] table take it: kl_max.
		{"a key in another case", `{"KL_MAX": 0}`, half, ""},
		{"an unknown key among others", `{"kl_max": 0, "estimator": "k3", "lambda": 3, "temperature": 1}`, RewardConfig{},
			`reward_config: unknown key "lambda" (known: `},
		{"a value of the wrong type", `{"kl_max": "0.03"}`, RewardConfig{}, `reward_config: field "kl_max" holds a JSON string where a number is wanted`},
		{"not an object", `[1]`, RewardConfig{}, `reward_config: not a JSON object (such as {"temperature": 0.7, "kl_mean": 3})`},
	} {
		got, err := ParseRewardConfig([]byte(c.raw))
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%s: %+v, %v; want %+v", c.name, got, err, c.want)
		case c.err != "" && (err == nil || !strings.HasPrefix(err.Error(), c.err)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.err)
		}
	}
}

// TestStepTermsSumToTheReward: a step's recorded terms (StepTerm.Recorded,
// as engine/rlt records them) sum to the reward, r = r_SS − r_KL + m, and
// Of reads each back as the reward's formula names it (r_KL the penalty,
// positive where d_k is): rlt run --headless's step line and the
// dashboard's charts say the terms so.
func TestStepTermsSumToTheReward(t *testing.T) {
	c := DefaultRewardConfig()
	for _, tc := range []struct {
		name  string
		sol   []float32
		d     []float32
		ended bool
	}{
		{"ordinary", []float32{-0.5, -1.5}, []float32{0.2, -0.4, 1.0}, true},
		{"negative d", []float32{-0.1}, []float32{-2, -1}, true},
		{"missing end tag", []float32{-1}, []float32{0.5}, false},
	} {
		got := c.Reduce(tc.sol, tc.d, []float32{-1, -1, -1}, tc.ended)
		metrics := map[string]float64{
			StepRSS.Metric: StepRSS.Recorded(got.RSS),
			StepRKL.Metric: StepRKL.Recorded(got.RKL),
		}
		if sum := metrics["solution_log_prob_reward"] + metrics["kl_reward"] + got.Penalty; !near(sum, got.Reward) {
			t.Errorf("%s: recorded terms sum to %v, the reward is %v", tc.name, sum, got.Reward)
		}
		if rss, rkl := StepRSS.Of(metrics), StepRKL.Of(metrics); rss != got.RSS || rkl != got.RKL {
			t.Errorf("%s: read back r_SS %v r_KL %v, want %v %v", tc.name, rss, rkl, got.RSS, got.RKL)
		}
	}
}
