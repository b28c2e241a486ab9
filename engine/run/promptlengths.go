package run

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// promptBlock is how many rows a worker of longestPrompts measures at a
// time: enough that taking the next block costs nothing beside
// tokenizing it, few enough that the workers end together.
const promptBlock = 256

// longestPrompts is the most tokens a teacher prompt and a student context
// of rows take (rlt.PromptLengths), the longest of each (measurePrompts).
func longestPrompts(tok *tokenizer.Tokenizer, p record.Prompts, rows ...[]task.Example) (teacher, student int) {
	ls, _ := measurePrompts(tok, p, rows...)
	for _, ls := range ls {
		for _, l := range ls {
			teacher, student = max(teacher, l[0]), max(student, l[1])
		}
	}
	return teacher, student
}

// measurePrompts is the tokens each row's teacher prompt and student
// context take (rlt.PromptLengths), one slice for each of rows: the same
// numbers as measuring every row in turn (longestPromptsPlain), measured by
// up to GOMAXPROCS workers, each taking the next block of rows and writing
// its own rows' places, since every row is tokenized. A bound that let a
// row skip its tokenization would have to sit under the longest prompt's
// tokens, and the cheap exact one does not: a token of a byte-level BPE is
// a byte at least, so a row's bytes bound its tokens, but a Qwen-style
// vocabulary's tokens hold ~4 bytes each, so almost every row's bytes pass
// the longest prompt's tokens and rule nothing out. Measured one by
// one, the rows of a 200k-row data file took 64 s of Checked.Memory, the
// check before a run starts, at a load of 30.
// BenchmarkDataPromptLengths times both ways. A tokenizer is safe for
// concurrent use (package tokenizer). solutions are the tokens each row's
// solution takes, encoded alone as the trainer encodes it for the
// student's reconstruction (the memory estimate's bound of that).
func measurePrompts(tok *tokenizer.Tokenizer, p record.Prompts, rows ...[]task.Example) (out [][][2]int, solutions [][]int) {
	out, solutions = make([][][2]int, len(rows)), make([][]int, len(rows))
	// The blocks of every row slice, in one numbering.
	type block struct{ rows, from int } // rows[rows][from:from+promptBlock]
	var blocks []block
	for r := range rows {
		out[r], solutions[r] = make([][2]int, len(rows[r])), make([]int, len(rows[r]))
		for i := 0; i < len(rows[r]); i += promptBlock {
			blocks = append(blocks, block{r, i})
		}
	}
	measure := func(b block) {
		for i := b.from; i < min(b.from+promptBlock, len(rows[b.rows])); i++ {
			ex := rows[b.rows][i]
			t, s := rlt.PromptLengths(tok, p, ex.Question, ex.Solution)
			out[b.rows][i] = [2]int{t, s}
			solutions[b.rows][i] = len(tok.Encode(ex.Solution))
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(blocks))
	if workers <= 1 {
		for _, b := range blocks {
			measure(b)
		}
		return out, solutions
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(blocks) {
					return
				}
				measure(blocks[i])
			}
		})
	}
	wg.Wait()
	return out, solutions
}

// longestPromptsPlain is longestPrompts measuring each row in turn.
func longestPromptsPlain(tok rlt.Encoder, p record.Prompts, rows ...[]task.Example) (teacher, student int) {
	for _, r := range rows {
		for _, ex := range r {
			t, s := rlt.PromptLengths(tok, p, ex.Question, ex.Solution)
			teacher, student = max(teacher, t), max(student, s)
		}
	}
	return teacher, student
}
