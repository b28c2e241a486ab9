package sessions

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// TestConfigTypesChecksEveryKey: configTypes notes a value of the wrong
// type at every key a run's config.toml holds, the engine's
// (runconfig.Config, the type it decodes into) and an import's, so that a
// key the engine gains is checked too, and none is read as another type.
func TestConfigTypesChecksEveryKey(t *testing.T) {
	checked := 0
	for _, rt := range []reflect.Type{reflect.TypeFor[runconfig.Config](), reflect.TypeFor[ImportConfig]()} {
		for key := range keyOrder(rt) {
			ft, ok := fieldTypeAt(rt, strings.Split(key, "."))
			if !ok {
				t.Fatalf("%s: no field for key %s", rt, key)
			}
			var wrongs []string
			switch tomlKindName(ft) {
			case "table":
				continue // its keys are walked too
			case "datetime":
				// import.time: go-toml reads a string, or an integer's
				// text, as a time (TestConfigTypesSaysATimeThatIsNone).
				wrongs = []string{`"yesterday"`, "5"}
			case "string":
				wrongs = []string{"1"}
			default:
				wrongs = []string{"'x'"}
			}
			for _, wrong := range wrongs {
				text := key + " = " + wrong + "\n"
				if table, name, ok := strings.Cut(key, "."); ok {
					text = "[" + table + "]\n" + name + " = " + wrong + "\n"
				}
				err := configTypes(ConfigFile, []byte(text))
				if want := fmt.Sprintf("key %q: wrong type", key); err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s = %s: %v, want %q", key, wrong, err, want)
				}
			}
			checked++
		}
	}
	if checked < 40 {
		t.Errorf("%d keys checked: the walk missed some", checked)
	}
}

// TestConfigTypesSaysATimeThatIsNone: a datetime key (import.time) given a
// value that is no time is a wrong type, said with the file, line and
// column, the key, what it got and the datetime it wants, as any other
// key's, and the keys after it are still checked. go-toml reads a string
// there as an RFC 3339 time, and an integer's, a float's or a boolean's
// text too: what it could not read was said as a syntax error (a string)
// or bare, with no key or line (the others), which configTypes passed by,
// so a listing took the time for unset.
func TestConfigTypesSaysATimeThatIsNone(t *testing.T) {
	const want = "want datetime (such as time = 2026-12-05T21:40:00Z); the run's settings cannot be read until it is fixed"
	for _, c := range []struct {
		text string
		says string // "" for no error
	}{
		{"[import]\ntime = \"yesterday\"\n", `config.toml:2:8: key "import.time": wrong type: got TOML string "yesterday", not an RFC 3339 time; ` + want},
		{"[import]\ntime = 'yesterday'\n", `config.toml:2:8: key "import.time": wrong type: got TOML string 'yesterday', not an RFC 3339 time; ` + want},
		{"[import]\ntime = 5\n", `config.toml:2:8: key "import.time": wrong type: got TOML integer, ` + want},
		{"[import]\ntime = 1.5\n", `config.toml:2:8: key "import.time": wrong type: got TOML float, ` + want},
		{"[import]\ntime = true\n", `config.toml:2:8: key "import.time": wrong type: got TOML boolean, ` + want},
		{"steps = 3\nimport = { format = \"trl\", time = 5 }\n", `config.toml:2:35: key "import.time": wrong type: got TOML integer, ` + want},
		// The keys after it are checked: the count says them.
		{"[import]\ntime = 5\nformat = 7\n", `config.toml:2:8: key "import.time": wrong type: got TOML integer, want datetime (such as time = 2026-12-05T21:40:00Z); 1 more on line 3; the run's settings cannot be read until it is fixed`},
		{"steps = 'ten'\n[import]\ntime = \"yesterday\"\n", `config.toml:1:9: key "steps": wrong type: got TOML string, want integer (such as steps = 1); 1 more on line 3; the run's settings cannot be read until it is fixed`},
		// Times it reads.
		{"[import]\ntime = 2026-12-05T21:40:00Z\n", ""},
		{"[import]\ntime = \"2026-12-05T21:40:00Z\"\n", ""},
		{"[import]\ntime = 2026-12-05\n", ""},
	} {
		err := configTypes(ConfigFile, []byte(c.text))
		if got := fmt.Sprint(err); (c.says == "") != (err == nil) || (err != nil && got != c.says) {
			t.Errorf("%q:\n got %v\nwant %s", c.text, err, c.says)
		}
	}
}

// TestListingExamplesAreTheKeysOwn: a run listing's wrong-type words give
// the key's own default as the example, as rlt run --config does, not its
// type's generic value, which can be one the key refuses: grpo.samples
// = 1.5 said "such as samples = 1" (a group needs 2), reward.format_penalty
// "such as format_penalty = 0.5" (a positive penalty is refused), grpo.lr
// "such as lr = 0.5".
func TestListingExamplesAreTheKeysOwn(t *testing.T) {
	for _, c := range []struct{ text, such string }{
		{"[grpo]\nsamples = 1.5\n", "(such as samples = 8)"},
		{"[grpo]\nlr = 'fast'\n", "(such as lr = 0.0001)"},
		{"[grpo]\ntemperature = true\n", "(such as temperature = 0.7)"},
		{"[grpo]\nmax_new_tokens = 'long'\n", "(such as max_new_tokens = 96)"},
		{"[reward]\nformat_penalty = 'x'\n", "(such as format_penalty = -1.0)"},
		{"[reward]\ntemperature = 'warm'\n", "(such as temperature = 0.7)"},
		{"grpo.questions = 'eight'\n", "(such as grpo.questions = 8)"},
		// The text written, where it is a value of the type, before the default.
		{"[grpo]\nsamples = '16'\n", "(such as samples = 16)"},
		// The top-level keys' defaults (engine/run's, kept in runconfig):
		// they said the type's, eval_questions = 1.
		{"eval_every = 'often'\n", "(such as eval_every = 10)"},
		{"eval_questions = 2.5\n", "(such as eval_questions = 32)"},
		// No default: the type's.
		{"steps = 'ten'\n", "(such as steps = 1)"},
	} {
		got := fmt.Sprint(configTypes(ConfigFile, []byte(c.text)))
		if !strings.Contains(got, c.such+"; the run's settings cannot be read") {
			t.Errorf("%q: %s\nwant the example %s", c.text, got, c.such)
		}
	}
}
