package sessions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/record"
)

// KeyLine finds a key however TOML lets a file write it, and is not
// misled by text that only looks like keys or headers: inside strings,
// multi-line strings and arrays, or comments.
func TestKeyLineReadsTOMLsKeyStructure(t *testing.T) {
	for _, c := range []struct {
		name       string
		text       string
		table, key string
		line       int
		found      bool
	}{
		{name: "a key under its header", text: "steps = 1\n[grpo]\nlr = 1e-6\n", table: "grpo", key: "lr", line: 3, found: true},
		{name: "a header followed by a comment", text: "[grpo] # the trainer\nseed = 2\nlr = 1e-6 # small\n", table: "grpo", key: "lr", line: 3, found: true},
		{name: "a key absent under a commented header: the header", text: "steps = 1\n[grpo]   # trainer\nseed = 2\n", table: "grpo", key: "lr", line: 2},
		{name: "a header with spaces inside its brackets", text: "[ grpo ]\nlr = 1e-6\n", table: "grpo", key: "lr", line: 2, found: true},
		{name: "a dotted key at the top level", text: "steps = 1\ngrpo.lr = 1e-6\n", table: "grpo", key: "lr", line: 2, found: true},
		{name: "a dotted key with spaces and quotes", text: "steps = 1\n\ngrpo . \"lr\" = 1e-6\n", table: "grpo", key: "lr", line: 3, found: true},
		{name: "a dotted key below a header", text: "[grpo]\nseed = 1\nsampling.temperature = 0.7\n", table: "grpo.sampling", key: "temperature", line: 3, found: true},
		{name: "the table a dotted key opens, for a key it lacks", text: "steps = 1\ngrpo.seed = 3\n", table: "grpo", key: "lr", line: 2},
		{name: "an inline table", text: "steps = 1\ngrpo = { seed = 3, lr = 1e-6 }\n", table: "grpo", key: "lr", line: 2, found: true},
		{name: "an inline table inside an inline table", text: "grpo = { sampling = { temperature = 0.7 } }\n", table: "grpo.sampling", key: "temperature", line: 1, found: true},
		{name: "an inline table lacking the key: its line", text: "steps = 1\n\ngrpo = { seed = 3 }\n", table: "grpo", key: "lr", line: 3},
		{name: "a quoted key", text: "[reward]\n'estimator' = 'k3'\n", table: "reward", key: "estimator", line: 2, found: true},
		{name: "a key in another case, as go-toml decodes it", text: "[grpo]\nLR = 1e-6\n", table: "grpo", key: "lr", line: 2, found: true},
		{name: "a string holding # = and [", text: "[prompts]\nteacher_system = \"# [grpo]\\nlr = 1\"\n[grpo]\nlr = 5\n", table: "grpo", key: "lr", line: 4, found: true},
		{name: "a literal string holding a header", text: "[prompts]\nstudent_system = '[grpo] lr = 1'\n", table: "grpo", key: "lr", line: 0},
		{name: "a multi-line string holding a header and a key",
			text:  "[prompts]\nteacher_system = \"\"\"\n[grpo]\nlr = 1\n\"\"\"\n[grpo]\nseed = 1\nlr = 5\n",
			table: "grpo", key: "lr", line: 8, found: true},
		{name: "a multi-line literal string holding a key",
			text:  "steps = 1\nnote = '''\nsteps = 2\n'''\n",
			table: "", key: "steps", line: 1, found: true},
		{name: "a multi-line array with comments",
			text:  "[grpo]\nlayers = [\n  1, # lr = 2\n  2,\n]\nlr = 5\n",
			table: "grpo", key: "lr", line: 6, found: true},
		{name: "a comment that looks like a key", text: "# lr = 1\n[grpo]\n# lr = 2\nlr = 3\n", table: "grpo", key: "lr", line: 4, found: true},
		{name: "a sub-table opens its parent", text: "steps = 1\n[grpo.sampling]\ntemperature = 0.7\n", table: "grpo", key: "lr", line: 2},
		{name: "an array of tables", text: "[[runs]]\nseed = 1\n[[runs]]\nseed = 2\n", table: "runs", key: "seed", line: 2, found: true},
		{name: "CRLF line ends", text: "steps = 1\r\n[grpo] # x\r\nlr = 1e-6\r\n", table: "grpo", key: "lr", line: 3, found: true},
		{name: "a top-level key the file lacks", text: "[grpo]\nlr = 1\n", table: "", key: "steps", line: 0},
		{name: "a table the file lacks", text: "steps = 1\n", table: "reward", key: "kl_max", line: 0},
		{name: "the same key in another table", text: "[grpo]\ntemperature = 1\n[reward]\ntemperature = 2\n", table: "reward", key: "temperature", line: 4, found: true},
		{name: "keys before a syntax error", text: "[grpo]\nlr = 1\nseed = = 2\nsamples = 4\n", table: "grpo", key: "lr", line: 2, found: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			line, found := KeyLine([]byte(c.text), c.table, c.key)
			if line != c.line || found != c.found {
				t.Errorf("KeyLine(%q, %q) = %d, %v; want %d, %v", c.table, c.key, line, found, c.line, c.found)
			}
		})
	}
}

// The problems of a configuration written with dotted keys, inline
// tables and commented headers land on their keys' lines, as those of
// one written with plain [table] sections do.
func TestLocateValidationsOfDottedAndInlineKeys(t *testing.T) {
	const text = "steps = -1 # too few\n" +
		"reward = { estimator = 'l2', kl_max = nan }\n" +
		"[grpo] # trainer\n" +
		"lr = -1.0\n" +
		"sampling.temperature = 0.0\n" +
		"samples = 0\n"
	var doc map[string]any
	if err := toml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("the test's document is not TOML: %v", err)
	}
	err := errors.Join(
		configkey.Errorf("grpo.samples", "samples 0 must be positive"),
		configkey.Errorf("reward.kl_max", "kl_max is NaN"),
		configkey.Errorf("grpo.sampling.temperature", "temperature 0 must be positive"),
		configkey.Errorf("grpo.lr", "lr -1 must not be negative"),
		configkey.Errorf("reward.estimator", `estimator "l2"`),
		configkey.Errorf("steps", "steps -1 must not be negative"),
		configkey.Errorf("grpo.seed", "seed is wrong"),
	)
	var got []string
	for _, ce := range LocateValidations("run.toml", []byte(text), err) {
		g := fmt.Sprintf("%d %s", ce.Line, ce.Key)
		if ce.KeyAbsent {
			g += " (absent)"
		}
		got = append(got, g)
	}
	want := []string{"1 steps", "2 reward.kl_max", "2 reward.estimator", "3 grpo.seed (absent)", "4 grpo.lr", "5 grpo.sampling.temperature", "6 grpo.samples"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// ValueText writes the value a configuration holds at a key as TOML
// writes it, finding the field by go-toml's rules (tag, embedded structs
// flattened, a key in another case), and declines a table or a key no
// field has.
func TestValueText(t *testing.T) {
	type sampling struct {
		Temperature float64 `toml:"temperature"`
	}
	type shared struct {
		Seed uint64 `toml:"seed"`
	}
	type grpo struct {
		shared
		LR       float64   `toml:"lr"`
		Layers   []int     `toml:"layers"`
		Sampling *sampling `toml:"sampling"`
		Skipped  int       `toml:"-"`
	}
	type config struct {
		Steps int    `toml:"steps"`
		Task  string `toml:"task"`
		Fast  bool   `toml:"fast"`
		GRPO  grpo   `toml:"grpo"`
		Plain int
	}
	cfg := &config{Steps: 4, Task: "addition", GRPO: grpo{shared: shared{Seed: 7}, LR: 1e-6, Layers: []int{1, 2}, Sampling: &sampling{Temperature: 0.7}}, Plain: 3}
	for _, c := range []struct {
		key, want string
		ok        bool
	}{
		{"steps", "4", true},
		{"task", "'addition'", true},
		{"fast", "false", true},
		{"grpo.lr", "0.000001", true}, // as --print-config writes it
		{"grpo.seed", "7", true},
		{"grpo.layers", "[1, 2]", true},
		{"grpo.sampling.temperature", "0.7", true},
		{"GRPO.LR", "0.000001", true},
		{"Plain", "3", true},
		{"grpo", "", false},
		{"grpo.Skipped", "", false},
		{"grpo.beta", "", false},
		{"steps.more", "", false},
	} {
		if got, ok := ValueText(cfg, c.key); got != c.want || ok != c.ok {
			t.Errorf("ValueText(%q) = %q, %v; want %q, %v", c.key, got, ok, c.want, c.ok)
		}
	}
	if got, ok := ValueText(&config{}, "grpo.sampling.temperature"); ok {
		t.Errorf("a key below a nil table: %q", got)
	}
}

// ExplainValidations words each problem as it reads away from the file's
// lines: one on its key's line names the line; one with a key the file
// does not set names the file, the key and what stands in for it (the
// default where the file was read over defaults; where it was read over
// nothing, as a run folder's config.toml is, only that the file does not
// set it and the zero it holds), never a line; one about no key names
// the file alone.
func TestExplainValidations(t *testing.T) {
	type reward struct {
		Temperature float64 `toml:"temperature"`
		Estimator   string  `toml:"estimator"`
	}
	type config struct {
		Steps  int    `toml:"steps"`
		Device string `toml:"device"`
		Reward reward `toml:"reward"`
	}
	const text = "steps = -1\n\n[reward]\nestimator = 'l2'\n"
	var (
		steps       = configkey.Errorf("steps", "steps -1 must not be negative")
		estimator   = configkey.Errorf("reward.estimator", `estimator "l2": want "logratio", "k3" or "full"`)
		temperature = configkey.Errorf("reward.temperature", "temperature %g must be a finite positive number", 0.7)
		wrapped     = fmt.Errorf("checking the reward: %w", configkey.Errorf("reward.temperature", "temperature is wrong"))
		nowhere     = errors.New("the teacher and the student have different tokenizers")
	)
	// Read over defaults, the unset temperature holds its default; over
	// nothing, its zero.
	overDefaults, overNothing := config{Steps: -1, Reward: reward{Temperature: 0.7, Estimator: "l2"}}, config{Steps: -1, Reward: reward{Estimator: "l2"}}
	zeroTemperature := configkey.Errorf("reward.temperature", "temperature %g must be a finite positive number", 0.0)
	for _, c := range []struct {
		name  string
		cfg   config
		unset Unset
		err   error
		want  []string // each problem's Error(), in order
		lines []int    // and its Line
		over  []string // the keys flags set over the file
	}{
		{"keys the file sets", overDefaults, UnsetIsDefault, errors.Join(estimator, steps),
			[]string{"run.toml:1:1: steps -1 must not be negative", `run.toml:4:1: reward.estimator "l2": want "logratio", "k3" or "full"`},
			[]int{1, 4}, nil},
		{"a key the file does not set, read over defaults", overDefaults, UnsetIsDefault, temperature,
			[]string{"run.toml: reward.temperature (default 0.7, not set in this file): temperature 0.7 must be a finite positive number"},
			[]int{3}, nil},
		{"the same, read over nothing", overNothing, UnsetIsZero, zeroTemperature,
			[]string{"run.toml: reward.temperature (not set in this file, so 0.0): temperature 0 must be a finite positive number"},
			[]int{3}, nil},
		{"a wrapped problem keeps its caller's words", overNothing, UnsetIsZero, wrapped,
			[]string{"run.toml: reward.temperature (not set in this file, so 0.0): checking the reward: reward.temperature is wrong"},
			[]int{3}, nil},
		{"a key no field holds: no value to name", overDefaults, UnsetIsDefault, configkey.Errorf("grpo.lr", "lr is wrong"),
			[]string{"run.toml: grpo.lr (not set in this file): lr is wrong"},
			[]int{1}, nil},
		{"a configkey.Error with no key is about no key", overDefaults, UnsetIsDefault, configkey.Errorf("", "nothing to train"),
			[]string{"run.toml: nothing to train"},
			[]int{0}, nil},
		{"about no key: after the file's lines", overDefaults, UnsetIsDefault, errors.Join(nowhere, steps),
			[]string{"run.toml:1:1: steps -1 must not be negative", "run.toml: the teacher and the student have different tokenizers"},
			[]int{1, 0}, nil},
		// The file's lines in line order; then the keys it does not set, in
		// the configuration's key order (one no field declares last), not
		// by their tables' headers nor as Validate joined them; then those
		// about no key; then the overridden keys', set in the file or not,
		// in key order too and in the validator's words.
		{"every kind, each in its order", overDefaults, UnsetIsDefault,
			errors.Join(nowhere, configkey.Errorf("grpo.lr", "lr is wrong"), configkey.Errorf("device", `device "tpu": want cpu`),
				temperature, estimator, steps),
			[]string{
				`run.toml:4:1: reward.estimator "l2": want "logratio", "k3" or "full"`,
				"run.toml: reward.temperature (default 0.7, not set in this file): temperature 0.7 must be a finite positive number",
				"run.toml: grpo.lr (not set in this file): lr is wrong",
				"run.toml: the teacher and the student have different tokenizers",
				"run.toml: steps -1 must not be negative",
				`run.toml: device "tpu": want cpu`,
			},
			[]int{4, 3, 1, 0, 1, 1}, []string{"steps", "device"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			var lines []int
			for _, ce := range ExplainValidations("run.toml", []byte(text), c.cfg, c.unset, c.err, c.over...) {
				got, lines = append(got, ce.Error()), append(lines, ce.Line)
				if !errors.Is(ce, ce.Err) {
					t.Errorf("%v does not wrap the validator's problem", ce)
				}
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") || fmt.Sprint(lines) != fmt.Sprint(c.lines) {
				t.Errorf("got\n%s %v\nwant\n%s %v", strings.Join(got, "\n"), lines, strings.Join(c.want, "\n"), c.lines)
			}
		})
	}
}

// A model folder's prompts.json problems (record.ReadPrompts') are about
// that file, not the run configuration, whose [prompts] table has keys of
// the same names: located against the run configuration they get no key
// and no line, where the configuration's own [prompts] problem is put on
// its key's line.
func TestLocateValidationsLeavesAModelFoldersPromptsOffTheRunConfiguration(t *testing.T) {
	const text = "steps = 1\n[prompts]\nteacher_system = ''\n"
	folder := t.TempDir()
	if err := os.WriteFile(filepath.Join(folder, record.PromptsFile), []byte(`{"teacher_system": "", "student_system": "Solve."}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, folderErr := record.ReadPrompts(folder)
	for _, c := range []struct {
		name string
		err  error
		key  string
		line int
	}{
		{"the configuration's own [prompts]", record.Prompts{StudentSystem: "Solve."}.Validate(), "prompts.teacher_system", 3},
		{"the model folder's prompts.json", folderErr, "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			located := LocateValidations("run.toml", []byte(text), c.err)
			if len(located) != 1 {
				t.Fatalf("%d problems located from %v, want 1", len(located), c.err)
			}
			if ce := located[0]; ce.Key != c.key || ce.Line != c.line || ce.AtItsLine() != (c.line > 0) {
				t.Errorf("%v: key %q line %d, want key %q line %d", ce, ce.Key, ce.Line, c.key, c.line)
			}
		})
	}
}
