package sessions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/configkey"
)

type testReward struct {
	Lambda float64 `toml:"lambda"`
	Alpha  float64 `toml:"alpha"`
	Kind   string  `toml:"kind"`
}

type testCommon struct {
	Seed int `toml:"seed"`
}

type testConfig struct {
	testCommon
	Name   string     `toml:"name"`
	Steps  int        `toml:"steps"`
	Reward testReward `toml:"reward"`
	Tasks  []struct {
		File string `toml:"file"`
	} `toml:"tasks"`
	Extra  map[string]int `toml:"extra"`
	Hidden string         `toml:"-"`
	LR     *float64       `toml:"lr"`
}

func TestDecodeStrict(t *testing.T) {
	cases := []struct {
		name  string
		doc   string
		want  []string // substrings of the error; nil = success
		line  int
		col   int
		key   string
		known []string
	}{
		{"ok", "name = \"a\"\nseed = 3\nsteps = 10\nlr = 1e-6\n[reward]\nlambda = 3.0\n[[tasks]]\nfile = \"x\"\n[extra]\nfoo = 1\n", nil, 0, 0, "", nil},
		{"unknown key in table",
			"name = \"a\"\n\n[reward]\nlambda = 3\n# comment\n\nlamda = 3\n",
			[]string{`config.toml:7:1: unknown key "lamda" in [reward] (known: lambda, alpha, kind)`}, 7, 1, "reward.lamda", []string{"lambda", "alpha", "kind"}},
		{"unknown top-level dotted key",
			"name = \"a\"\nbogus.deep = 1\n",
			[]string{`config.toml:2:1: unknown key "bogus.deep" at top level (known: seed, name, steps, reward, tasks, extra, lr)`}, 2, 1, "bogus.deep", nil},
		{"unknown key in array of tables",
			"[[tasks]]\nfile = \"a\"\n[[tasks]]\nfiel = \"b\"\n",
			[]string{`config.toml:4:1: unknown key "fiel" in [tasks] (known: file)`}, 4, 1, "tasks.fiel", []string{"file"}},
		{"hidden field is unknown",
			"Hidden = \"x\"\n",
			[]string{`unknown key "Hidden" at top level`}, 1, 1, "Hidden", nil},
		{"wrong type",
			"name = \"a\"\nsteps = \"ten\"\n",
			[]string{`config.toml:2:9: key "steps": wrong type: got TOML string, want integer`}, 2, 9, "steps", nil},
		{"wrong type in table",
			"[reward]\nlambda = true\n",
			[]string{`config.toml:2:10: key "reward.lambda": wrong type: got TOML boolean, want float`}, 2, 10, "reward.lambda", nil},
		// go-toml names the inline table of a value inside it: it was
		// 'key "reward": wrong type: got TOML boolean, want a value of
		// another type', the key at fault unsaid.
		{"wrong type in an inline table",
			"reward = { alpha = 0.5, lambda = true }\n",
			[]string{`config.toml:1:34: key "reward.lambda": wrong type: got TOML boolean, want float (such as lambda = 0.5)`}, 1, 34, "reward.lambda", nil},
		{"float for int",
			"steps = 1.5\n",
			[]string{`config.toml:1:9: key "steps": wrong type: got TOML float, want integer`}, 1, 9, "steps", nil},
		{"table expected",
			"reward = 5\n",
			[]string{`config.toml:1:10: key "reward": wrong type: got TOML integer, want table`}, 1, 10, "reward", nil},
		{"syntax error",
			"name = \"a\"\nsteps = \n",
			[]string{`config.toml:2:9: `}, 2, 9, "", nil},
		{"unterminated string",
			"name = \"a\n",
			[]string{`config.toml:1:`}, 1, 0, "", nil},
		{"duplicate key",
			"steps = 1\nsteps = 2\n",
			[]string{`config.toml:2:1: key "steps" is set a second time (first on line 1): a key is set once: delete one of the two`}, 2, 1, "steps", nil},
		// Its dotted path, not "lr" as written under [reward]: which
		// table's key it is.
		{"duplicate key in a table",
			"[reward]\nlambda = 1.0\n\nlambda = 2.0\n",
			[]string{`config.toml:4:1: key "reward.lambda" is set a second time (first on line 2): a key is set once: delete one of the two`}, 4, 1, "reward.lambda", nil},
		{"duplicate key, dotted then in its table",
			"reward.lambda = 1.0\n[reward]\nlambda = 2.0\n",
			[]string{`config.toml:2:2: [reward] is opened after line 1 set its keys as reward.KEY: write them all under [reward], or all as reward.KEY`}, 2, 2, "reward", nil},
		{"a table opened twice",
			"[reward]\nlambda = 1.0\n[reward]\nalpha = 2.0\n",
			[]string{`config.toml:3:2: [reward] is opened a second time (first on line 1): write its keys under one [reward] and delete this header`}, 3, 2, "reward", nil},
		// A name given a value and made a table, in either order: go-toml
		// said "key reward should be a table, not a value" and "key reward
		// is already defined", naming neither line nor what to do.
		{"a value, then its [table]",
			"reward = {lambda = 1.0}\n[reward]\nalpha = 2.0\n",
			[]string{`config.toml:2:2: [reward] opens "reward" as a table, which line 1 set as a value: a key is a value or a table, not both: delete one of the two`}, 2, 2, "reward", nil},
		{"a value, then a [table] below it",
			"[reward]\nlambda = 1.0\n[reward.lambda]\n",
			[]string{`config.toml:3:2: [reward.lambda] opens "reward.lambda" as a table, which line 2 set as a value: a key is a value or a table, not both`}, 3, 2, "reward.lambda", nil},
		{"a value, then a dotted key through it",
			"steps = 1\nsteps.x = 2\n",
			[]string{`config.toml:2:1: key "steps.x" is written under "steps", which line 1 set as a value: a key is a value or a table, not both: delete one of the two`}, 2, 1, "steps.x", nil},
		{"a table, then a value",
			"reward.lambda = 1.0\nreward = 2\n",
			[]string{`config.toml:2:1: key "reward" is set as a value, which line 1 made a table: a key is a value or a table, not both: delete one of the two`}, 2, 1, "reward", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c testConfig
			err := DecodeStrict("config.toml", []byte(tc.doc), &c)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if c.Seed != 3 || c.Reward.Lambda != 3 || len(c.Tasks) != 1 || c.Extra["foo"] != 1 || *c.LR != 1e-6 {
					t.Errorf("decoded %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("not a *ConfigError: %T", err)
			}
			if ce.Line != tc.line || (tc.col != 0 && ce.Column != tc.col) || (tc.key != "" && ce.Key != tc.key) {
				t.Errorf("at %d:%d key %q, want %d:%d %q", ce.Line, ce.Column, ce.Key, tc.line, tc.col, tc.key)
			}
			if tc.known != nil && strings.Join(ce.Known, ",") != strings.Join(tc.known, ",") {
				t.Errorf("known %v, want %v", ce.Known, tc.known)
			}
		})
	}
}

func TestDecodeStrictSeveralUnknown(t *testing.T) {
	var c testConfig
	err := DecodeStrict("c.toml", []byte("nme = 1\n[reward]\nlamda = 2\n"), &c)
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "c.toml:1:1: unknown key \"nme\"") || !strings.HasPrefix(lines[1], "c.toml:3:1: unknown key \"lamda\" in [reward]") {
		t.Fatalf("%v", err)
	}
}

func TestEncodeTOMLRoundTrip(t *testing.T) {
	lr := 2e-5
	in := testConfig{Name: "tiny", Steps: 125, Reward: testReward{Lambda: 3, Alpha: 0.01, Kind: "rlt"}, LR: &lr, Extra: map[string]int{"a": 1}}
	in.Seed = 7
	data, err := EncodeTOML(in)
	if err != nil {
		t.Fatal(err)
	}
	var out testConfig
	if err := DecodeStrict("enc.toml", data, &out); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if out.Name != in.Name || out.Steps != in.Steps || out.Reward != in.Reward || *out.LR != lr || out.Seed != 7 || out.Extra["a"] != 1 {
		t.Fatalf("round trip %+v\n%s", out, data)
	}
}

func FuzzDecodeStrict(f *testing.F) {
	f.Add([]byte("name = \"a\"\n[reward]\nlamda = 3\n"))
	f.Add([]byte("[[tasks]]\nfile = 1\n"))
	f.Add([]byte("steps = [1,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c testConfig
		err := DecodeStrict("f.toml", data, &c)
		var ce *ConfigError
		if err != nil && errors.As(err, &ce) && ce.Line < 1 {
			t.Fatalf("bad position in %v", err)
		}
	})
}

func ExampleDecodeStrict() {
	type Reward struct {
		Lambda float64 `toml:"lambda"`
		Alpha  float64 `toml:"alpha"`
	}
	type Config struct {
		Steps  int    `toml:"steps"`
		Reward Reward `toml:"reward"`
	}
	docs := []string{
		"steps = 125\n\n[reward]\nlambda = 3.0\nlamda = 3.0\n",
		"steps = \"many\"\n",
		"steps = 125\n[reward\n",
	}
	for _, doc := range docs {
		var c Config
		fmt.Println(DecodeStrict("config.toml", []byte(doc), &c))
	}
	// Output:
	// config.toml:5:1: unknown key "lamda" in [reward] (known: lambda, alpha)
	// config.toml:1:9: key "steps": wrong type: got TOML string, want integer (such as steps = 1)
	// config.toml:2:8: expected ']' to close table name
}

// TestDecodeStrictShowsEverySyntaxError: one pass reports each line the
// parser stops at, with a hint for values that are not TOML.
func TestDecodeStrictShowsEverySyntaxError(t *testing.T) {
	type cfg struct {
		Task  string `toml:"task"`
		Steps int    `toml:"steps"`
		Debug bool   `toml:"debug"`
		Seed  int    `toml:"seed"`
	}
	for _, tc := range []struct {
		name, text string
		lines      []int
		hints      []string
	}{
		{"two bad values and an unknown key", "task = addition\nsteps = 3\ndebug = False\nseed = 1\nlamda = 2\n",
			[]int{1, 3, 5}, []string{`text needs "quotes"`, `true and false are lower-case`, `unknown key "lamda"`}},
		{"a duplicate key", "steps = 1\nsteps = 2\n", []int{2}, []string{"a key is set once: delete one of the two"}},
		{"a key with no value", "steps =\nseed = 1\n", []int{1}, []string{"the key has no value: write one after =, or delete the line"}},
		{"a key with only a comment", "steps = # later\nseed = 1\n", []int{1}, []string{"no value before the comment"}},
		{"a key with no value at the end", "seed = 1\nsteps =", []int{2}, []string{"the key has no value"}},
		{"stops at a broken table header", "task = x\n[reward\nseed = 1\n", []int{1, 2}, []string{"text needs", "close table name"}},
		{"an array left open at the end: not said again and again till the cap", "task = 'x'\nseed = [1,\n2\n",
			[]int{3, 3}, []string{"array is incomplete"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c cfg
			err := DecodeStrict("config.toml", []byte(tc.text), &c)
			var got []int
			for _, e := range unjoin(err) {
				var ce *ConfigError
				if !errors.As(e, &ce) {
					t.Fatalf("%v is not a *ConfigError", e)
				}
				got = append(got, ce.Line)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.lines) {
				t.Errorf("errors on lines %v, want %v: %v", got, tc.lines, err)
			}
			for _, h := range tc.hints {
				if err == nil || !strings.Contains(err.Error(), h) {
					t.Errorf("%v lacks %q", err, h)
				}
			}
			if err != nil && strings.Contains(err.Error(), "struct") {
				t.Errorf("Go type names in %v", err)
			}
		})
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// TestDecodeFileRefusesJSON: a JSON file given as a run configuration (a
// model's config.json), or a file that is not text (its weights), is said
// for what it is once, not failed on every line; so too a run's
// config.toml that holds one (DecodeStrict, as a resume reads it).
func TestDecodeFileRefusesJSON(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, data, want string
	}{
		{"config.json", "{\n  \"vocab_size\": 151936,\n  \"hidden_size\": 896\n}\n", ":1:1: this is JSON, not a TOML run configuration"},
		{"list.json", "[1, 2]\n", ":1:1: this is JSON, not a TOML run configuration"},
		{"model.safetensors", "\x08\x00\x00\x00\x00\x00\x00\x00{}      ", ": this is not text (it holds a NUL byte at offset 1; a weights or other binary file?)"},
		{"latin1.toml", "name = \"caf\xe9\"\n", ": this is not text (it holds bytes that are not UTF-8;"},
	} {
		path := filepath.Join(dir, c.name)
		os.WriteFile(path, []byte(c.data), 0o644)
		var v struct {
			Steps int `toml:"steps"`
		}
		// rlt run --config's file is told to start from rlt run's
		// --print-config, whose defaults are the embedded run's.
		_, err := ReadConfigFile(path, "run", &v)
		if err == nil || !strings.Contains(err.Error(), path+c.want) || !strings.Contains(err.Error(), "(rlt run --print-config writes one to start from)") || strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("ReadConfigFile(%s) = %v, want one line holding %q and rlt run --print-config", c.name, err, path+c.want)
		}
		if err := DecodeStrict(path, []byte(c.data), &v); err == nil || !strings.Contains(err.Error(), path+c.want) || OnlyKeyProblems(err) {
			t.Errorf("DecodeStrict(%s) = %v, want %q, and no decoded configuration", c.name, err, path+c.want)
		}
	}
	// A TOML table header is not a JSON array.
	path := filepath.Join(dir, "run.toml")
	os.WriteFile(path, []byte("[grpo]\nlr = 1e-6\n"), 0o644)
	var v struct {
		GRPO struct {
			LR float64 `toml:"lr"`
		} `toml:"grpo"`
	}
	if _, err := ReadConfigFile(path, "train", &v); err != nil || v.GRPO.LR != 1e-6 {
		t.Errorf("ReadConfigFile([grpo] lr = 1e-6) = %v, lr %g", err, v.GRPO.LR)
	}
}

// LocateValidations takes apart what Validate joined, nested joins
// included, puts each problem on the line of the key it carries
// (configkey), whatever its words say, and sorts them by line. A key the
// file lacks goes on its table's header (else line 1), marked KeyAbsent;
// a problem about no key has no line (0).
func TestLocateValidationsInLineOrder(t *testing.T) {
	const text = "steps = -1\n\n[grpo]\nlr = -1.0\nsamples = 0\n\n[reward]\nestimator = 'l2'\n"
	var (
		steps     = configkey.Errorf("steps", "steps -1 must not be negative")
		estimator = configkey.Errorf("reward.estimator", `estimator "l2": want "logratio", "k3" or "full"`)
		lr        = configkey.Errorf("grpo.lr", "lr -1 must be a finite number, not negative")
		samples   = configkey.Errorf("grpo.samples", "samples 0 must be positive")
		// Words that name other keys, or none, do not move a problem.
		misleading = configkey.Errorf("grpo.samples", "lr and steps are fine; this is about the group size")
		student    = configkey.Errorf("student", "student is empty: the student model's folder is required")
		kl         = configkey.Errorf("reward.kl_max", "kl_max is NaN")
		seed       = configkey.Errorf("grpo.seed", "seed is wrong")
		wrapped    = fmt.Errorf("while checking: %w", lr)
		nowhere    = errors.New("samples and steps disagree")
	)
	for _, c := range []struct {
		name string
		err  error
		want []string // "line key" of each, in order, "(absent)" after a key the file lacks
	}{
		{"none", nil, nil},
		{"one", samples, []string{"5 grpo.samples"}},
		{"joined out of order", errors.Join(estimator, samples, steps), []string{"1 steps", "5 grpo.samples", "8 reward.estimator"}},
		{"nested joins", errors.Join(steps, errors.Join(estimator, errors.Join(samples, lr))),
			[]string{"1 steps", "4 grpo.lr", "5 grpo.samples", "8 reward.estimator"}},
		{"the key, not the words", misleading, []string{"5 grpo.samples"}},
		{"wrapped by a caller", wrapped, []string{"4 grpo.lr"}},
		{"top-level key the file lacks", errors.Join(samples, student), []string{"1 student (absent)", "5 grpo.samples"}},
		{"table keys the file lacks: their table's header", errors.Join(kl, seed, samples),
			[]string{"3 grpo.seed (absent)", "5 grpo.samples", "7 reward.kl_max (absent)"}},
		{"about no key", errors.Join(samples, nowhere), []string{"0 ", "5 grpo.samples"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, ce := range LocateValidations("run.toml", []byte(text), c.err) {
				g := fmt.Sprintf("%d %s", ce.Line, ce.Key)
				if ce.KeyAbsent {
					g += " (absent)"
				}
				got = append(got, g)
				if ce.File != "run.toml" || ce.Msg != ce.Err.Error() {
					t.Errorf("%v: file %q, message %q", ce, ce.File, ce.Msg)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// DecodeStrict goes on past a value of the wrong type, leaving its whole
// key = value out (however many lines it spans), so that one pass says
// every mistyped value and unknown key, in line order; the file's other
// keys are then decoded (OnlyKeyProblems), for a caller to validate. A
// syntax error leaves no such configuration: OnlyKeyProblems is false.
func TestDecodeStrictGoesOnPastMistypedValues(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		lines     []int    // each problem's line, in order
		words     []string // in the problems, each
		only      bool     // OnlyKeyProblems
		decoded   func(testConfig) bool
	}{
		{"two mistyped values and an unknown key", "name = 3\nsteps = 2\nbogus = 1\n[reward]\nlambda = 'x'\nalpha = 0.5\n",
			[]int{1, 3, 5}, []string{`key "name": wrong type`, `unknown key "bogus"`, `key "reward.lambda": wrong type`}, true,
			func(c testConfig) bool { return c.Steps == 2 && c.Reward.Alpha == 0.5 }},
		{"an unknown key before a mistyped value: in line order", "bogus = 1\nsteps = 'x'\nname = 'a'\n",
			[]int{1, 2}, []string{`unknown key "bogus"`, `key "steps": wrong type`}, true,
			func(c testConfig) bool { return c.Name == "a" }},
		{"a mistyped array over several lines", "steps = [\n  1,\n  2,\n]\nname = 'a'\nlr = 'x'\n",
			[]int{1, 6}, []string{`key "steps": wrong type: got TOML array`, `key "lr": wrong type`}, true,
			func(c testConfig) bool { return c.Name == "a" }},
		{"a dotted key", "reward.lambda = 'x'\nsteps = 4\n",
			[]int{1}, []string{`key "reward.lambda": wrong type`}, true,
			func(c testConfig) bool { return c.Steps == 4 }},
		{"a table given a value", "reward = 5\nsteps = 4\n",
			[]int{1}, []string{`key "reward": wrong type: got TOML integer, want table`}, true,
			func(c testConfig) bool { return c.Steps == 4 }},
		{"the second of two arrays of tables", "[[tasks]]\nfile = 'a'\n[[tasks]]\nfile = 2\n",
			[]int{4}, []string{`key "tasks.file": wrong type`}, true,
			func(c testConfig) bool { return len(c.Tasks) == 2 && c.Tasks[0].File == "a" }},
		// The value's own key is said (go-toml names the inline table);
		// all of the table is left out.
		{"inside an inline table", "reward = { lambda = 'x', alpha = 1.0 }\nsteps = 'y'\nname = 'a'\n",
			[]int{1, 2}, []string{`key "reward.lambda": wrong type`, `key "steps": wrong type`}, true,
			func(c testConfig) bool { return c.Name == "a" && c.Reward.Alpha == 0 }},
		{"an integer past 64 bits", "steps = 99999999999999999999\nname = 'a'\n",
			[]int{1}, []string{`c.toml:1:9: key "steps": 99999999999999999999 is out of range: want an integer from -9223372036854775808 to 9223372036854775807; write one in that range`}, true,
			func(c testConfig) bool { return c.Name == "a" }},
		{"integers past 64 bits, in every base", "steps = 0xffffffffffffffff\nseed = 0o1000000000000000000000\n[reward]\nkind = 'x'\n[[tasks]]\nfile = 'a'\n",
			[]int{1, 2}, []string{`key "steps": 0xffffffffffffffff is out of range`, `key "seed": 0o1000000000000000000000 is out of range`}, true,
			func(c testConfig) bool { return c.Reward.Kind == "x" && len(c.Tasks) == 1 }},
		{"a syntax error after a mistyped value is no key problem", "steps = 'x'\nname = a\nseed = 3\n",
			[]int{1, 2}, []string{`key "steps": wrong type`, `text needs "quotes"`}, false,
			func(c testConfig) bool { return c.Seed == 3 }},
		{"nor one before it", "[reward\nsteps = 'x'\n", []int{1}, []string{"close table name"}, false,
			func(testConfig) bool { return true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cfg testConfig
			err := DecodeStrict("c.toml", []byte(c.doc), &cfg)
			var lines []int
			for _, e := range configkey.Problems(err) {
				ce, ok := e.(*ConfigError)
				if !ok {
					t.Fatalf("%v (%T) is no *ConfigError", e, e)
				}
				lines = append(lines, ce.Line)
			}
			if fmt.Sprint(lines) != fmt.Sprint(c.lines) {
				t.Errorf("problems on lines %v, want %v:\n%v", lines, c.lines, err)
			}
			for _, w := range c.words {
				if !strings.Contains(fmt.Sprint(err), w) {
					t.Errorf("%v lacks %q", err, w)
				}
			}
			if got := OnlyKeyProblems(err); got != c.only {
				t.Errorf("OnlyKeyProblems = %v, want %v", got, c.only)
			}
			if !c.decoded(cfg) {
				t.Errorf("decoded %+v", cfg)
			}
		})
	}
	if OnlyKeyProblems(nil) || OnlyKeyProblems(errors.New("open c.toml: no such file")) {
		t.Error("OnlyKeyProblems of no problem, or of an unreadable file")
	}
}

// ExplainValidations says DecodeStrict's unknown keys and mistyped values
// with the problems Validate finds in what it decoded, in the file's line
// order, as DecodeStrict words them; a mistyped key's own Validate problem
// (its value being no longer the file's) is left out, unless a flag set
// the key.
func TestExplainValidationsSaysTheDecodingsProblemsInLineOrder(t *testing.T) {
	type grpo struct {
		LR   float64 `toml:"lr"`
		Beta float64 `toml:"beta"`
	}
	type config struct {
		Steps int  `toml:"steps"`
		GRPO  grpo `toml:"grpo"`
	}
	const text = "steps = -1\nseedx = 1\n[grpo]\nlr = 'x'\nbeta = -1.0\nlamda = 2\n"
	cfg := config{GRPO: grpo{LR: 1e-6}}
	decodeErr := DecodeStrict("c.toml", []byte(text), &cfg)
	if !OnlyKeyProblems(decodeErr) {
		t.Fatalf("%v: not key problems alone", decodeErr)
	}
	steps := configkey.Errorf("steps", "steps %d must not be negative", cfg.Steps)
	beta := configkey.Errorf("grpo.beta", "beta %g must not be negative", cfg.GRPO.Beta)
	lr := configkey.Errorf("grpo.lr", "lr is moot") // as if the default stood in
	for _, c := range []struct {
		name string
		over []string
		want []string
	}{
		{"from the file alone", nil, []string{
			"c.toml:1:1: steps -1 must not be negative",
			`c.toml:2:1: unknown key "seedx" at top level (known: steps, grpo)`,
			`c.toml:4:6: key "grpo.lr": wrong type: got TOML string, want float (such as lr = 0.000001)`,
			"c.toml:5:1: grpo.beta -1 must not be negative",
			`c.toml:6:1: unknown key "lamda" in [grpo] (known: lr, beta)`,
		}},
		{"a flag set the mistyped key", []string{"grpo.lr"}, []string{
			"c.toml:1:1: steps -1 must not be negative",
			`c.toml:2:1: unknown key "seedx" at top level (known: steps, grpo)`,
			`c.toml:4:6: key "grpo.lr": wrong type: got TOML string, want float (such as lr = 0.000001)`,
			"c.toml:5:1: grpo.beta -1 must not be negative",
			`c.toml:6:1: unknown key "lamda" in [grpo] (known: lr, beta)`,
			"c.toml: grpo.lr is moot",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, ce := range ExplainValidations("c.toml", []byte(text), cfg, UnsetIsDefault, errors.Join(decodeErr, errors.Join(lr, beta, steps)), c.over...) {
				got = append(got, ce.Error())
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// An integer its key cannot hold (past TOML's 64 bits, or past its field's
// type) is that key's problem, on its line, saying the range its key holds
// and what to do; the decoding goes on past it, so that the other keys'
// problems, Validate's ranges included, are said with it. The key's own
// Validate problem (its value is no longer the file's) is left out.
func TestOutOfRangeIntegersAreSaidWithTheOtherKeysProblems(t *testing.T) {
	type grpo struct {
		Seed uint64  `toml:"seed"`
		LR   float64 `toml:"lr"`
	}
	type config struct {
		Steps int  `toml:"steps"`
		Small int8 `toml:"small"`
		GRPO  grpo `toml:"grpo"`
	}
	const text = "steps = 99999999999999999999\nsmall = 300\n[grpo]\nseed = -1 # a comment\nlr = -1.0\n"
	var cfg config
	decodeErr := DecodeStrict("c.toml", []byte(text), &cfg)
	if !OnlyKeyProblems(decodeErr) {
		t.Fatalf("%v: not key problems alone, so nothing else would be checked", decodeErr)
	}
	validate := errors.Join(
		configkey.Errorf("steps", "steps %d must be positive", cfg.Steps),
		configkey.Errorf("grpo.lr", "lr %g must be positive", cfg.GRPO.LR))
	var got []string
	for _, ce := range ExplainValidations("c.toml", []byte(text), cfg, UnsetIsDefault, errors.Join(decodeErr, validate)) {
		got = append(got, ce.Error())
	}
	want := []string{
		`c.toml:1:9: key "steps": 99999999999999999999 is out of range: want an integer from -9223372036854775808 to 9223372036854775807; write one in that range`,
		`c.toml:2:9: key "small": 300 is out of range: want an integer from -128 to 127; write one in that range`,
		`c.toml:4:8: key "grpo.seed": -1 is out of range: want an integer from 0 to 9223372036854775807; write one in that range`,
		"c.toml:5:1: grpo.lr -1 must be positive",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
