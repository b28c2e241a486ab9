package model

import (
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// Config.FrozenBytes, which memory estimates count for a sampled float32
// model on the CPU, is what Freeze packs: compute.FrozenBytes of every
// matrix the forward multiplies by (matrices), tied or not.
func TestFrozenBytesIsWhatFreezePacks(t *testing.T) {
	for _, tied := range []bool{true, false} {
		cfg := smallCheckpointConfig()
		cfg.Tied = tied
		m, err := New(compute.NewCPU(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		for _, w := range m.matrices() {
			want += compute.FrozenBytes(w.Dim(0), w.Dim(1))
		}
		if got := cfg.FrozenBytes(); got != want {
			t.Errorf("tied %v: FrozenBytes %d, want %d (the packed sizes of its %d matrices)", tied, got, want, len(m.matrices()))
		}
	}
}
