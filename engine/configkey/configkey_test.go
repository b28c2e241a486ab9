package configkey

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// An Error names its key by its dotted path, in every table alike: as the
// subject of words that begin with the key's name, before other words; and
// its key is found through the wrapping and joining its callers add.
func TestErrorReadsAndIsFound(t *testing.T) {
	for _, c := range []struct {
		name    string
		err     error
		text    string
		key     string
		hasKey  bool
		problem int // how many problems Problems finds
	}{
		{"top-level key", Errorf("steps", "steps %d must not be negative", -1), "steps -1 must not be negative", "steps", true, 1},
		{"key in a table", Errorf("grpo.temperature", "temperature %g must be a finite positive number", 0.0),
			"grpo.temperature 0 must be a finite positive number", "grpo.temperature", true, 1},
		{"key in another table", Errorf("reward.estimator", "estimator %q: want %q", "l2", "k3"),
			`reward.estimator "l2": want "k3"`, "reward.estimator", true, 1},
		{"words that are the key's name alone", Errorf("prompts.teacher_system", "teacher_system"),
			"prompts.teacher_system", "prompts.teacher_system", true, 1},
		{"words that do not begin with the key's name", Errorf("grpo.samples", "one sample per question"),
			"grpo.samples: one sample per question", "grpo.samples", true, 1},
		{"words that begin with a longer name", Errorf("grpo.lr", "lr_decay is 2"),
			"grpo.lr: lr_decay is 2", "grpo.lr", true, 1},
		{"a key in a table in a table", Errorf("a.b.c", "c is 1"), "a.b.c is 1", "a.b.c", true, 1},
		{"top-level words that do not begin with the key's name", Errorf("task", "unknown task %q", "x"),
			`unknown task "x"`, "task", true, 1},
		{"a check that knows no key, wrapped", Wrap("device", errors.New(`device "tpu": want cpu, gpu, gpu:N or auto`)),
			`device "tpu": want cpu, gpu, gpu:N or auto`, "device", true, 1},
		{"wrapped again by a caller", fmt.Errorf("resume r: %w", Errorf("reward.kl_max", "kl_max is %g", 1.5)),
			"resume r: reward.kl_max is 1.5", "reward.kl_max", true, 1},
		{"about no key", errors.New("the disk is full"), "the disk is full", "", false, 1},
		{"nested joins", errors.Join(Errorf("steps", "a"), errors.Join(Errorf("grpo.lr", "b"), nil, Errorf("grpo.beta", "c"))),
			"a\ngrpo.lr: b\ngrpo.beta: c", "steps", true, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.err.Error(); got != c.text {
				t.Errorf("Error() = %q, want %q", got, c.text)
			}
			if key, ok := Of(c.err); key != c.key || ok != c.hasKey {
				t.Errorf("Of = %q, %v; want %q, %v", key, ok, c.key, c.hasKey)
			}
			if n := len(Problems(c.err)); n != c.problem {
				t.Errorf("%d problems, want %d", n, c.problem)
			}
		})
	}
}

func TestWrapKeepsNil(t *testing.T) {
	if err := Wrap("device", nil); err != nil {
		t.Errorf("Wrap(nil) = %#v", err)
	}
	if p := Problems(nil); p != nil {
		t.Errorf("Problems(nil) = %v", p)
	}
}

// The problems of a join keep their keys and their order.
func TestProblemsKeepKeysInOrder(t *testing.T) {
	err := errors.Join(Errorf("teacher", "x"), errors.Join(Errorf("student", "y")), errors.New("z"))
	var keys []string
	for _, p := range Problems(err) {
		k, _ := Of(p)
		keys = append(keys, k)
	}
	if got := strings.Join(keys, ","); got != "teacher,student," {
		t.Errorf("keys %q", got)
	}
}

func TestSplit(t *testing.T) {
	for _, c := range []struct{ key, table, name string }{
		{"steps", "", "steps"}, {"grpo.lr", "grpo", "lr"}, {"a.b.c", "a.b", "c"},
	} {
		table, name, ok := Split(c.key)
		if table != c.table || name != c.name || ok != (c.table != "") {
			t.Errorf("Split(%q) = %q, %q, %v", c.key, table, name, ok)
		}
	}
}

// Named says a problem of a flag's value as Error says the key's: the
// label where the key's name begins the words, else before them.
func TestNamed(t *testing.T) {
	for _, c := range []struct {
		err   *Error
		label string
		want  string
	}{
		{Errorf("reward.temperature", "temperature %g must be a finite positive number", 0.0), "--temperature", "--temperature 0 must be a finite positive number"},
		{Errorf("reward.solution_mean", "solution_mean is NaN"), "--c1", "--c1 is NaN"},
		{Errorf("reward.estimator", "estimator %q: want %q", "kl", "k3"), "--estimator", `--estimator "kl": want "k3"`},
		{Errorf("grpo.samples", "one sample per question"), "--samples", "--samples: one sample per question"},
		{Errorf("steps", "steps %d must not be negative", -1), "--steps", "--steps -1 must not be negative"},
	} {
		if got := c.err.Named(c.label); got != c.want {
			t.Errorf("Named(%q) of %q = %q, want %q", c.label, c.err.Key, got, c.want)
		}
	}
}
