package run

import (
	"encoding/json"
	"testing"
)

// FuzzTrainerState: trainer.json never panics the parser, and what parses
// is written back (as Snapshot does) to the same state.
func FuzzTrainerState(f *testing.F) {
	f.Add([]byte(`{"step":3,"adam_steps":3,"seed":1}`))
	f.Add([]byte(`{"step":1,"adam_steps":1,"seed":18446744073709551615,"data_sha256":"ab"}`))
	f.Add([]byte(`[{"step":-1}]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		st, err := ParseTrainerState(raw)
		if err != nil {
			return
		}
		out, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseTrainerState(out)
		if err != nil || back != st {
			t.Fatalf("round trip: %+v → %s → %+v, %v", st, out, back, err)
		}
	})
}
