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
// of rows take (rlt.PromptLengths), the longest of each: the same numbers
// as measuring every row in turn (longestPromptsPlain), measured by up to
// GOMAXPROCS workers, each taking the next block of rows, since every row
// is tokenized (a maximum's order does not matter). A bound that let a row
// skip its tokenization would have to sit under the longest prompt's
// tokens, and the cheap exact one does not: a token of a byte-level BPE is
// a byte at least, so a row's bytes bound its tokens, but a Qwen-style
// vocabulary's tokens hold ~4 bytes each, so almost every row's bytes pass
// the longest prompt's tokens and rule nothing out. Measured one by
// one, the rows of a 200k-row data file took 64 s of Checked.Memory, the
// check before a run starts, at a load of 30.
// BenchmarkDataPromptLengths times both ways. A tokenizer is safe for
// concurrent use (package tokenizer).
func longestPrompts(tok *tokenizer.Tokenizer, p record.Prompts, rows ...[]task.Example) (teacher, student int) {
	n := 0
	for _, r := range rows {
		n += len(r)
	}
	workers := min(runtime.GOMAXPROCS(0), (n+promptBlock-1)/promptBlock)
	if workers <= 1 {
		return longestPromptsPlain(tok, p, rows...)
	}
	// The blocks of every row slice, in one numbering.
	type block struct{ rows []task.Example }
	var blocks []block
	for _, r := range rows {
		for i := 0; i < len(r); i += promptBlock {
			blocks = append(blocks, block{r[i:min(i+promptBlock, len(r))]})
		}
	}
	var next atomic.Int64
	longest := make([][2]int, workers)
	var wg sync.WaitGroup
	for w := range longest {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(blocks) {
					return
				}
				t, s := longestPromptsPlain(tok, p, blocks[i].rows)
				longest[w] = [2]int{max(longest[w][0], t), max(longest[w][1], s)}
			}
		}()
	}
	wg.Wait()
	for _, l := range longest {
		teacher, student = max(teacher, l[0]), max(student, l[1])
	}
	return teacher, student
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
