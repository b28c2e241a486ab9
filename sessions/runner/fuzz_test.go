package runner

import (
	"reflect"
	"testing"

	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// FuzzRunConfig: config.toml decoded as rlt run does (strict TOML into
// the real Config over the defaults) and validated never panics; what
// decodes is written back (as a run folder's config.toml is) to the same
// configuration.
func FuzzRunConfig(f *testing.F) {
	f.Add([]byte("steps = 4\ntask = \"addition\"\n[grpo]\nquestions = 2\nsamples = 2\n"))
	f.Add([]byte("data = \"x.jsonl\"\neval_every = 0\n[reward]\nlambda = 1.5\n"))
	f.Add([]byte("[grpo]\nquestions = 0\nlearning_rate = 1e-3\n"))
	f.Add([]byte("[prompts]\nsystem = \"\"\"\nhi\n\"\"\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := run.DefaultConfig("/t", "/s")
		if err := sessions.DecodeStrict("config.toml", data, &cfg); err != nil {
			return
		}
		_ = run.Validate(cfg)
		out, err := sessions.EncodeTOML(cfg)
		if err != nil {
			return // a value TOML cannot hold (NaN …) is not written
		}
		back := run.DefaultConfig("/t", "/s")
		if err := sessions.DecodeStrict("config.toml", out, &back); err != nil {
			t.Fatalf("written back:\n%s\ndoes not decode: %v", out, err)
		}
		if !reflect.DeepEqual(cfg, back) {
			t.Fatalf("round trip changed the configuration:\n%+v\n%+v\n%s", cfg, back, out)
		}
	})
}
