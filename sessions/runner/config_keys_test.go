package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
	"github.com/rlt-workbench/rlt/engine/hf/hftest"
	"github.com/rlt-workbench/rlt/sessions"
)

// configKeys are the dotted keys of a run configuration, each with its
// default's value: those rlt train --print-config writes (EncodeTOML of
// the defaults), and matmul, which it leaves out when empty.
func configKeys(t *testing.T, models string) map[string]any {
	text, err := sessions.EncodeTOML(DefaultConfig(models, 0))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := toml.Unmarshal(text, &doc); err != nil {
		t.Fatal(err)
	}
	keys := map[string]any{"matmul": "f32"}
	var flatten func(prefix string, m map[string]any)
	flatten = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				flatten(prefix+k+".", sub)
				continue
			}
			keys[prefix+k] = v
		}
	}
	flatten("", doc)
	if len(keys) < 30 {
		t.Fatalf("%d keys: want every key of the run configuration (%v)", len(keys), keys)
	}
	return keys
}

// TestEveryKeysMistakeIsSaidAtItsLine: for every key of the run
// configuration, a value of the wrong type, a number past its type's
// range, a text no key takes as it is ('zzz': an unknown enum, a folder
// or file not there) and the key set twice are each refused at
// FILE:LINE:COL, naming the key, with what to write; each is said with
// the file's other problems (a negative steps on line 1), none lost. A key
// set twice was "bad.toml:3:1: key \"lr\": key lr is already defined:
// each key may be set once per table" (the key twice, not its dotted
// path, nor where the first was) and stopped the checks: the file's other
// problems came only once it was fixed; a teacher or student folder not
// there was "bad.toml:1:1: model folder zzz does not exist", no key named.
func TestEveryKeysMistakeIsSaidAtItsLine(t *testing.T) {
	models := hftest.StubModels(t, t.TempDir())
	keys := configKeys(t, models)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	})
	for _, key := range names {
		value := keys[key]
		table, name := "", key
		if i := strings.LastIndex(key, "."); i >= 0 {
			table, name = key[:i], key[i+1:]
		}
		// Line 1 is another key's problem, said whatever the case's is.
		other, otherWords := "steps = -2", "bad.toml:1:1: steps -2 must not be negative"
		if key == "steps" {
			other, otherWords = "eval_every = -2", "bad.toml:1:1: eval_every -2 must not be negative"
		}
		head, at := other+"\n", 2
		if table != "" {
			head, at = head+"["+table+"]\n", 3
		}
		written, err := toml.Marshal(map[string]any{name: value})
		if err != nil {
			t.Fatal(err)
		}
		good := strings.TrimSpace(string(written))
		type mistake struct {
			what, lines string
			line        int    // where the problem is
			want        string // what its words hold beside the key
		}
		var cases []mistake
		switch value.(type) {
		case string:
			cases = append(cases,
				mistake{"a number for a text", name + " = 12", at, "want string"},
				mistake{"a text no key takes", name + " = 'zzz'", at, ""})
		case int64:
			cases = append(cases,
				mistake{"a text for a number", name + ` = "x"`, at, "want integer"},
				mistake{"past an integer's range", name + " = 99999999999999999999", at, "write one in that range"})
		case float64:
			cases = append(cases,
				mistake{"a text for a number", name + ` = "x"`, at, "want float"},
				mistake{"not a number", name + " = nan", at, ""})
		case bool:
			cases = append(cases, mistake{"a text for a boolean", name + ` = "yes"`, at, "want boolean"})
		default:
			t.Fatalf("%s: a default of type %T the audit does not know", key, value)
		}
		cases = append(cases, mistake{"set twice", good + "\n" + good, at + 1, fmt.Sprintf("(first on line %d): a key is set once: delete one of the two", at)})
		for _, c := range cases {
			t.Run(key+"/"+c.what, func(t *testing.T) {
				text := head + c.lines + "\n"
				got := configProblems(t, models, text)
				if !slices.Contains(got, otherWords) {
					t.Errorf("%q:\n%s\nwant line 1's problem said with it: %s", text, strings.Join(got, "\n"), otherWords)
				}
				i := slices.IndexFunc(got, func(l string) bool { return strings.HasPrefix(l, fmt.Sprintf("bad.toml:%d:", c.line)) })
				if i < 0 && (c.what == "a text no key takes" || c.what == "not a number") {
					return // a key that takes any text or number (a prompt, a reward's weight)
				}
				if i < 0 {
					t.Fatalf("%q:\n%s\nwant a problem at bad.toml:%d:COL", text, strings.Join(got, "\n"), c.line)
				}
				words := got[i]
				if !namesKey(words, key) || !strings.Contains(words, c.want) || !colAt(words, c.line) {
					t.Errorf("%q: %s\nwant bad.toml:%d:COL: naming %s and saying %q", text, words, c.line, key, c.want)
				}
			})
		}
	}
}

// namesKey reports whether words, a problem at FILE:LINE:COL:, name key
// before what they say of it (up to their first ": "): "grpo.lr -1 must
// …", "key \"grpo.lr\": wrong type …", "unknown task \"zzz\" …"; not
// "model folder zzz does not exist: … the embedded teacher", whose key
// is named only in the way on.
func namesKey(words, key string) bool {
	parts := strings.SplitN(words, ": ", 3)
	if len(parts) < 2 {
		return false
	}
	for _, w := range strings.FieldsFunc(parts[1], func(r rune) bool { return r == ' ' || r == '"' }) {
		if w == key {
			return true
		}
	}
	return false
}

// colAt reports whether words begin bad.toml:line:COL: with a column.
func colAt(words string, line int) bool {
	var l, col int
	n, _ := fmt.Sscanf(words, "bad.toml:%d:%d:", &l, &col)
	return n == 2 && l == line && col >= 1
}

// configProblems are the lines rlt train --config bad.toml says of text,
// its every problem (DecodeFile, then CheckFile); none where it is taken.
func configProblems(t *testing.T, models, text string) []string {
	path := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Dir(path)) // the words name the file as given: bad.toml
	cfg := DefaultConfig(models, 0)
	data, decodeErr, err := DecodeFile("train", "bad.toml", &cfg)
	if err == nil {
		_, err = CheckFile(cfg, "bad.toml", data, decodeErr, nil)
	}
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// TestConfigNothingWrittenIsRefused: a --config file that is empty, or
// blanks alone, is refused at its first line with what to write: it ran on
// the defaults without a word, where it was most often emptied by mistake
// (rlt train --config run.toml --print-config > run.toml empties it
// before it is read, and printed the defaults over it). A file of
// comments alone is written so, and is the defaults.
func TestConfigNothingWrittenIsRefused(t *testing.T) {
	models := hftest.StubModels(t, t.TempDir())
	const want = "bad.toml:1:1: the file is empty: write the run configuration there (rlt train --print-config prints one to start from), or leave out --config to run on the defaults"
	for _, text := range []string{"", "\n  \n\t\n"} {
		if got := configProblems(t, models, text); strings.Join(got, "\n") != want {
			t.Errorf("%q: %q\nwant %q", text, got, want)
		}
	}
	if got := configProblems(t, models, "# the defaults\n"); got != nil {
		t.Errorf("a file of comments alone: %q; want the defaults taken", got)
	}
	// rlt run --config's names rlt run --print-config: rlt train's
	// defaults are not the embedded run's.
	empty := filepath.Join(t.TempDir(), "empty.toml")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig(models, 0)
	if _, _, err := DecodeFile("run", empty, &cfg); err == nil || !strings.Contains(err.Error(), "(rlt run --print-config prints one to start from)") {
		t.Errorf("rlt run's empty --config: %v; want rlt run --print-config named", err)
	}
}

// TestRatesAndWeightsThatCannotTrainAreSaidAtTheirLines: a learning rate
// the optimiser cannot train with (past float32's largest, or 0 in it)
// and a reward weight of the other sign than its default's (the objective
// turned around, RLT.md §3) are refused at FILE:LINE:COL with the way on,
// each with the file's other problems; both were taken (grpo.lr = 1e300,
// reward.kl_mean = -3). A large rate float32 holds, and a weight of 0 (a
// term left out), are taken.
func TestRatesAndWeightsThatCannotTrainAreSaidAtTheirLines(t *testing.T) {
	models := hftest.StubModels(t, t.TempDir())
	for _, c := range []struct {
		text string
		want []string // none: taken
	}{
		{"[grpo]\nlr = 1e300\n", []string{"bad.toml:2:1: grpo.lr 1e+300 is past 3.4e+38, the largest float32, which the optimiser computes in: every update would be infinite; give a smaller one (the default is 0.0001)"}},
		{"grpo.lr = 0.0\n", []string{"bad.toml:1:1: grpo.lr 0 trains nothing: the optimiser computes in float32, where it is 0, so the teacher's weights never change; give a rate above 0 (the default is 0.0001; the official run's 1e-06 for a 7B teacher)"}},
		{"[grpo]\nadam_eps = 1e-8\nweight_decay = 1e39\n", []string{"bad.toml:3:1: grpo.weight_decay 1e+39 is past 3.4e+38, the largest float32, which the optimiser computes in: every update would be infinite; give a smaller one (the default is 0)"}},
		{"steps = -2\n[reward]\nkl_mean = -3.0\nformat_penalty = 0.5\n", []string{
			"bad.toml:1:1: steps -2 must not be negative",
			"bad.toml:3:1: reward.kl_mean -3 is negative, which rewards explanations the student finds less natural than the teacher does (r_KL is subtracted): the objective turned around; give 0 to leave the term out (the default is 3)",
			"bad.toml:4:1: reward.format_penalty 0.5 is positive, which rewards explanations cut off before their end tag (it is added to their reward); give 0 for no penalty (the default is -1)"}},
		{"[reward]\nsolution_mean = -1.0\n", []string{"bad.toml:2:1: reward.solution_mean -1 is negative, which rewards explanations after which the student is less sure of the solution: the objective turned around; give 0 to leave the term out (the default is 1)"}},
		{"[grpo]\nlr = 1e30\n[reward]\nkl_mean = 0.0\nkl_max = 0.0\nformat_penalty = 0.0\n", nil},
	} {
		got := configProblems(t, models, c.text)
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%q:\n%s\nwant\n%s", c.text, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}

// TestEveryIntegerKeyAtItsExtremes: every integer key of the run
// configuration at int64's largest and least and at 2^31 is checked
// without a panic and either refused at its line, naming it (or at its
// table's, a key's default it makes wrong: micro_batch_tokens below
// max_new_tokens), or taken where the number means what it says: steps
// (until stopped), eval_every, checkpoint_every and ref_sync_every
// (never reached), micro_batch and micro_batch_tokens (no limit met),
// seed. eval_questions = 9223372036854775807 was taken, and the run's
// first evaluation failed in the task's draw, its budget overflowed:
// refused now past task.MaxUnique, as rlt eval's --questions is.
func TestEveryIntegerKeyAtItsExtremes(t *testing.T) {
	models := hftest.StubModels(t, t.TempDir())
	keys := configKeys(t, models)
	// taken: the keys a large value of which means what it says.
	taken := map[string]bool{"steps": true, "eval_every": true, "checkpoint_every": true, "grpo.ref_sync_every": true,
		"grpo.micro_batch": true, "grpo.micro_batch_tokens": true, "grpo.seed": true}
	var ints []string
	for k, v := range keys {
		if _, ok := v.(int64); ok {
			ints = append(ints, k)
		}
	}
	slices.Sort(ints)
	if !slices.Contains(ints, "eval_questions") || len(ints) < 10 {
		t.Fatalf("integer keys %q: want every one of the run configuration", ints)
	}
	for _, key := range ints {
		table, name := "", key
		if i := strings.LastIndex(key, "."); i >= 0 {
			table, name = key[:i], key[i+1:]
		}
		for _, v := range []string{"9223372036854775807", "-9223372036854775808", "2147483648"} {
			text := name + " = " + v + "\n"
			if table != "" {
				text = "[" + table + "]\n" + text
			}
			var got []string
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%q: panic: %v", text, r)
					}
				}()
				got = configProblems(t, models, text)
			}()
			// On a 32-bit system int holds no more than 2^31-1: each is
			// past its key's range there.
			wantTaken := taken[key] && !strings.HasPrefix(v, "-") && strconv.IntSize == 64
			if wantTaken {
				if got != nil {
					t.Errorf("%q: %q; want it taken", text, got)
				}
				continue
			}
			if len(got) != 1 {
				t.Errorf("%q: %q; want one problem", text, got)
				continue
			}
			// max_new_tokens past the default micro_batch_tokens is said on
			// that key, at its table's header: raise it, or 0.
			if key == "grpo.max_new_tokens" && !strings.HasPrefix(v, "-") && strconv.IntSize == 64 {
				if !strings.HasPrefix(got[0], "bad.toml: grpo.micro_batch_tokens (default ") {
					t.Errorf("%q: %s; want it on micro_batch_tokens", text, got[0])
				}
				continue
			}
			line := strings.Count(text, "\n") // the key = value is the last line
			if !colAt(got[0], line) || !namesKey(got[0], key) {
				t.Errorf("%q: %s; want it at bad.toml:%d:COL, naming %s", text, got[0], line, key)
			}
		}
	}
	const want = "bad.toml:1:1: eval_questions 9223372036854775807 is more questions than one evaluation draws (at most 1048576): ask for fewer (the default is 32)"
	if got := configProblems(t, models, "eval_questions = 9223372036854775807\n"); strings.Join(got, "\n") != want && strconv.IntSize == 64 {
		t.Errorf("%q\nwant %q", got, want)
	}
}

// TestAWrongTypeSaysTheRightForm: a value of the wrong type is said with
// the type its key wants and the right form, as a key = value the file
// would hold: the text written, unquoted, where it is a value of that
// type; else the key's default; else a value of the type (a default of
// 0 or ” is no example: "samples = 0" would be refused). It said the
// type alone ("want integer"), which left the form to guess.
func TestAWrongTypeSaysTheRightForm(t *testing.T) {
	models := hftest.StubModels(t, t.TempDir())
	for _, c := range []struct{ text, want string }{
		{"steps = \"10\"\n", `bad.toml:1:9: key "steps": wrong type: got TOML string, want integer (such as steps = 10)`},
		{"steps = 'ten'\n", `bad.toml:1:9: key "steps": wrong type: got TOML string, want integer (such as steps = 1)`},
		{"[grpo]\nsamples = 8.0\n", `bad.toml:2:11: key "grpo.samples": wrong type: got TOML float, want integer (such as samples = 8)`},
		{"[grpo]\nlr = \"1e-5\"\n", `bad.toml:2:6: key "grpo.lr": wrong type: got TOML string, want float (such as lr = 1e-5)`},
		{"grpo.lr = 'fast'\n", `bad.toml:1:11: key "grpo.lr": wrong type: got TOML string, want float (such as grpo.lr = 0.0001)`},
		{"[grpo]\nreconstruct = 'false'\n", `bad.toml:2:15: key "grpo.reconstruct": wrong type: got TOML string, want boolean (such as reconstruct = false)`},
		{"[reward]\nkl_mean = \"3\"\n", `bad.toml:2:11: key "reward.kl_mean": wrong type: got TOML string, want float (such as kl_mean = 3)`},
		{"task = 3\n", `bad.toml:1:8: key "task": wrong type: got TOML integer, want string (such as task = 'addition')`},
		{"data = 5\n", `bad.toml:1:8: key "data": wrong type: got TOML integer, want string (such as data = '5')`},
	} {
		if got := configProblems(t, models, c.text); strings.Join(got, "\n") != c.want {
			t.Errorf("%q:\n%s\nwant\n%s", c.text, strings.Join(got, "\n"), c.want)
		}
	}
}
