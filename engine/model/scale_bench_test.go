package model

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// BenchmarkTrainStepShape is the peer's training step (forward, loss,
// backward, AdamW) at any Qwen2 shape, for bench/scale.sh. The shape comes
// from RLT_BENCH_SHAPE = "vocab,hidden,layers,heads,kv_heads,ff,batch,seq";
// Qwen2.5-0.5B at the peer's batch is "151936,896,24,14,2,4864,8,214". Without
// it the benchmark is skipped: big shapes are benchmarks a person starts, never
// part of the test suite. Layers are checkpointed by the rule GRPO's policy
// follows (checkpoint_layers = "auto": runconfig.CheckpointMode.On), or as
// RLT_BENCH_CHECKPOINT = auto|on|off says.
func BenchmarkTrainStepShape(b *testing.B) {
	spec := os.Getenv("RLT_BENCH_SHAPE")
	if spec == "" {
		b.Skip("set RLT_BENCH_SHAPE=vocab,hidden,layers,heads,kv_heads,ff,batch,seq")
	}
	cfg, B, T, err := parseBenchShape(spec)
	if err != nil {
		b.Fatal(err)
	}
	mode := runconfig.CheckpointMode(os.Getenv("RLT_BENCH_CHECKPOINT"))
	if err := mode.Validate(); err != nil {
		b.Fatalf("RLT_BENCH_CHECKPOINT: %v", err)
	}
	tr := newTrainer(b, cfg, B, T)
	tr.m.CheckpointLayers = mode.On(cfg.ActivationBytes(B * T))
	b.Logf("layers checkpointed: %v (RLT_BENCH_CHECKPOINT=%q; %.2f GB of activations without)", tr.m.CheckpointLayers, mode, float64(cfg.ActivationBytes(B*T))/1e9)
	tr.step(b) // sizes the arenas
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.step(b)
	}
	b.ReportMetric(float64(b.N*B*T)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/step")
}

func parseBenchShape(spec string) (Config, int, int, error) {
	parts := strings.Split(spec, ",")
	if len(parts) != 8 {
		return Config{}, 0, 0, fmt.Errorf("RLT_BENCH_SHAPE %q: want 8 comma-separated sizes (vocab,hidden,layers,heads,kv_heads,ff,batch,seq), got %d", spec, len(parts))
	}
	n := make([]int, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v <= 0 {
			return Config{}, 0, 0, fmt.Errorf("RLT_BENCH_SHAPE %q: size %d (%q) is not a positive integer", spec, i+1, p)
		}
		n[i] = v
	}
	cfg := PeerConfig
	cfg.Vocab, cfg.Hidden, cfg.Layers, cfg.Heads, cfg.KVHeads, cfg.Intermediate = n[0], n[1], n[2], n[3], n[4], n[5]
	cfg.MaxPos = max(n[7], cfg.MaxPos)
	return cfg, n[6], n[7], cfg.Validate()
}
