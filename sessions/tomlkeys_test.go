package sessions

import (
	"errors"
	"fmt"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/rlt-workbench/rlt/engine/configkey"
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
