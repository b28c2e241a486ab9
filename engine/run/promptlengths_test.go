package run

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
	"github.com/rlt-workbench/rlt/engine/warmstart"
)

// promptTokenizers are real tokenizers a data run's teacher may have: the
// embedded byte-level one (rlt model init's, the recipe's), the Qwen2 and
// GPT-2 fixtures of package tokenizer, and the full Qwen tokenizer.json
// bench/scale.sh caches, where it is there.
func promptTokenizers(tb testing.TB) map[string]*tokenizer.Tokenizer {
	tb.Helper()
	toks := map[string]*tokenizer.Tokenizer{}
	js, err := tokenizer.ByteLevelJSON(warmstart.AddedTokens)
	if err != nil {
		tb.Fatal(err)
	}
	if toks["embedded byte-level"], err = tokenizer.Parse(js); err != nil {
		tb.Fatal(err)
	}
	for _, name := range []string{"qwen2_pairs", "gpt2"} {
		if toks[name], err = tokenizer.Load(filepath.Join("..", "tokenizer", "testdata", name+".json")); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := os.Stat(qwenTokenizer); err == nil {
		if toks["Qwen (full)"], err = tokenizer.Load(qwenTokenizer); err != nil {
			tb.Fatal(err)
		}
	} else {
		tb.Logf("no full Qwen tokenizer at %s (bench/scale.sh caches it): the fixtures alone", qwenTokenizer)
	}
	return toks
}

const qwenTokenizer = "/tmp/rlt-scale-cache/tokenizer.json"

// promptRows is n data rows of varied lengths and scripts: windows of
// package tokenizer's mixed corpus (English, code, numbers, eight scripts,
// emoji) with a row number, as a long data file's questions and solutions.
func promptRows(tb testing.TB, n int) []task.Example {
	tb.Helper()
	corpus, err := os.ReadFile(filepath.Join("..", "tokenizer", "testdata", "gen", "corpus.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	text := []rune(string(corpus))
	window := func(at, size int) string {
		at %= len(text) - size
		return strings.TrimSpace(string(text[at : at+size]))
	}
	rows := make([]task.Example, n)
	for i := range rows {
		rows[i] = task.Example{
			Question: fmt.Sprintf("Question %d: %s", i, window(i*7919, 60+(i*31)%500)),
			Solution: window(i*104729, 1+(i*13)%60),
		}
	}
	return rows
}

// TestLongestPromptsIsPlain: the longest prompts Checked.Memory measures by
// GOMAXPROCS workers are those of every row measured in turn, on real
// tokenizers, for rows of one slice and of two (training and held-out),
// fewer rows than a block, a block's worth and many blocks, with more
// workers than this host's CPUs so that the workers do split the rows.
func TestLongestPromptsIsPlain(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	rows := promptRows(t, 5*promptBlock+17)
	p := record.DefaultPrompts()
	for name, tok := range promptTokenizers(t) {
		for _, c := range []struct {
			name string
			rows [][]task.Example
		}{
			{"none", nil},
			{"one row", [][]task.Example{rows[:1]}},
			{"under a block", [][]task.Example{rows[:promptBlock-1]}},
			{"two blocks and one row", [][]task.Example{rows[:2*promptBlock+1]}},
			{"train and held-out", [][]task.Example{rows[:3*promptBlock+5], rows[3*promptBlock+5:]}},
			// The longest row last, in the last block alone.
			{"longest last", [][]task.Example{rows[:4*promptBlock], {{Question: strings.Repeat(rows[3].Question, 3), Solution: rows[3].Solution}}}},
		} {
			wt, ws := longestPromptsPlain(tok, p, c.rows...)
			gt, gs := longestPrompts(tok, p, c.rows...)
			if gt != wt || gs != ws {
				t.Errorf("%s, %s: longestPrompts = %d, %d; measured in turn %d, %d", name, c.name, gt, gs, wt, ws)
			}
		}
	}
}

// BenchmarkDataPromptLengths times the prompt lengths of a data run's
// rows, as Checked.Memory measures them before a run starts, measured in
// turn (plain) and by GOMAXPROCS workers (workers), alternately in one
// process (three rounds of each: round/plain, round/workers, ...), on
// 4,096 rows of varied scripts with the Qwen2 fixture and, where it is
// there, the full Qwen tokenizer (each word cache warmed first, as a
// second pass finds it).
//
// go test -run '^$' -bench DataPromptLengths ./engine/run
func BenchmarkDataPromptLengths(b *testing.B) {
	rows := promptRows(b, 16*promptBlock)
	p := record.DefaultPrompts()
	toks := promptTokenizers(b)
	for _, name := range []string{"qwen2_pairs", "Qwen (full)"} {
		tok, ok := toks[name]
		if !ok {
			continue
		}
		longestPromptsPlain(tok, p, rows)
		for round := range 3 {
			for _, way := range []struct {
				name    string
				longest func() (int, int)
			}{
				{"plain", func() (int, int) { return longestPromptsPlain(tok, p, rows) }},
				{"workers", func() (int, int) { return longestPrompts(tok, p, rows) }},
			} {
				b.Run(fmt.Sprintf("%s/%d/%s", strings.ReplaceAll(name, " ", "_"), round, way.name), func(b *testing.B) {
					for b.Loop() {
						way.longest()
					}
					b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				})
			}
		}
	}
}
