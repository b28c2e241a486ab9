package run

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/engine/warmstart"
)

// BenchmarkGRPOStep is one RL step of the default configuration (P=8, G=8,
// up to 96 new tokens) on models of the embedded default's shape, barely
// trained, so completions run to the token budget: a worst case.
func BenchmarkGRPOStep(b *testing.B) {
	r := warmstart.DefaultRecipe()
	r.Steps, r.Batch = 1, 2
	dir := b.TempDir()
	if err := warmstart.Build(context.Background(), r, dir, nil); err != nil {
		b.Fatal(err)
	}
	c := DefaultConfig(filepath.Join(dir, "teacher"), filepath.Join(dir, "student"))
	e, err := checkAndNew(c, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Trainer.Step(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(60/(b.Elapsed().Seconds()/float64(b.N)), "steps/min")
}
