package sessions

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// trlRow is a completions row as GRPOTrainer writes it (one reward
// function), for the benchmark's folder.
type trlRow struct {
	Step       int64   `parquet:"step"`
	Prompt     string  `parquet:"prompt"`
	Completion string  `parquet:"completion"`
	Reward     float64 `parquet:"answer_reward"`
	Advantage  float64 `parquet:"advantage"`
}

// writeTRLStep writes completions_<step>.parquet of 64 generations with
// ~2 KB completions into src/completions.
func writeTRLStep(b *testing.B, src string, step int) int64 {
	text := strings.Repeat("Think step by step about it. ", 70) + "<|end_of_explanation|>"
	rows := make([]trlRow, 64)
	for i := range rows {
		rows[i] = trlRow{Step: int64(step), Prompt: fmt.Sprintf("user\nQ%d\nassistant\n<|begin_of_solution|>%d<|end_of_solution|>", i, i),
			Completion: fmt.Sprintf("%d %s", i, text), Reward: float64(i % 2), Advantage: 0.5}
	}
	p := filepath.Join(src, "completions", fmt.Sprintf("completions_%05d.parquet", step))
	if err := parquet.WriteFile(p, rows); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(p)
	return st.Size()
}

// trlFolder makes a TRL folder of steps completion files.
func trlFolder(b *testing.B, steps int) (string, int64) {
	src := b.TempDir()
	os.MkdirAll(filepath.Join(src, "completions"), 0o755)
	var size int64
	for s := 1; s <= steps; s++ {
		size += writeTRLStep(b, src, s)
	}
	return src, size
}

// BenchmarkImportTRL: importing a TRL folder of `steps` completion files of
// 64 generations each (rlt import, and the first look of rlt open).
func BenchmarkImportTRL(b *testing.B) {
	for _, steps := range []int{10, 100} {
		b.Run(fmt.Sprintf("steps=%d", steps), func(b *testing.B) {
			src, size := trlFolder(b, steps)
			b.ReportMetric(float64(size)/(1<<20), "MiB")
			for i := 0; b.Loop(); i++ {
				if _, err := ImportAs(filepath.Join(b.TempDir(), fmt.Sprint(i)), src, ImportTRL); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFollowTRLStep: what following a TRL run costs when the trainer
// adds one step (one completions file) to a run of `steps` steps: the look
// that reads the new file and appends its traces.
func BenchmarkFollowTRLStep(b *testing.B) {
	for _, steps := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("steps=%d", steps), func(b *testing.B) {
			src, _ := trlFolder(b, steps)
			live := filepath.Join(b.TempDir(), "live")
			f := &trainerFollow{src: src, format: ImportTRL, live: live, cache: &importCache{}}
			rep, ms, ts, err := collectImport(src, true, ImportTRL, f.cache)
			if err != nil {
				b.Fatal(err)
			}
			f.seen(rep, ms, ts)
			if err := writeImport(live, rep, ms, ts, true); err != nil {
				b.Fatal(err)
			}
			next := steps + 1
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				writeTRLStep(b, src, next)
				next++
				b.StartTimer()
				if err := f.step(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
