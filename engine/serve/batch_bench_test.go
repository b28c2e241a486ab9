package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/cputime"
	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// benchTeacher serves the embedded default teacher (vLLM's endpoint), its
// weights float32 or, with bf16, saved in bfloat16 and held so
// (model.Frozen16, rlt serve's default for such a checkpoint), and gives 8
// prompts of 72 to 101 tokens to it, as rlt score makes them: each the
// JSON of its token ids.
func benchTeacher(b *testing.B, bf16 bool) (http.Handler, []string) {
	dir, err := defaults.Dir()
	if err != nil {
		b.Fatal(err)
	}
	dir = filepath.Join(dir, defaults.Teacher)
	m, err := model.Load(compute.NewCPU(), dir)
	if err != nil {
		b.Fatal(err)
	}
	if bf16 {
		half := b.TempDir()
		if err := m.Save(half, hf.BF16); err != nil {
			b.Fatal(err)
		}
		if m, err = model.LoadAs(context.Background(), compute.NewCPU(), half, model.Frozen16); err != nil {
			b.Fatal(err)
		}
	}
	tok, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		b.Fatal(err)
	}
	h := New(rlt.NewModelSource(m, "teacher"), tok, "teacher", VLLM).Handler()
	var prompts []string
	for i, ab := range [][2]int{{12, 9}, {347, 285}, {5, 7}, {1234, 8765}, {99, 1}, {42, 58}, {700, 300}, {31415, 92653}} {
		text := fmt.Sprintf("<|im_start|>system\nTeach: solution, then explanation.<|im_end|>\n<|im_start|>user\n%d+%d=?<|im_end|>\n<|im_start|>assistant\n<|begin_of_solution|>", ab[0], ab[1])
		text += strings.Repeat(fmt.Sprint(ab[0]+ab[1]), i%4+1)
		ids, _ := json.Marshal(tok.Encode(text))
		prompts = append(prompts, string(ids))
	}
	return h, prompts
}

// benchRequest posts a /v1/completions body of prompt and fields to h.
func benchRequest(b *testing.B, h http.Handler, prompt, fields string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(`{"prompt":`+prompt+`,`+fields+`}`)))
	if rec.Code != http.StatusOK {
		b.Errorf("%d %s", rec.Code, rec.Body)
	}
}

// reportCPU reports the process's CPU time per op since start (all its
// threads, user and system) as cpu-ms/op: on shared, busy cores it moves
// far less than the wall time, which counts the waits for a core too.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cputime.Process()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

// benchAsks are the requests' fields: as rlt score sends them
// (prompt_logprobs 0, one token) and as lm-eval-harness's loglikelihood
// does (echo, logprobs 1, no token).
var benchAsks = []struct{ name, fields string }{
	{"score", `"max_tokens":1,"prompt_logprobs":0,"temperature":0.7`},
	{"lm-eval", `"max_tokens":0,"echo":true,"logprobs":1`},
}

// BenchmarkBatchRequest is a /v1/completions request of benchTeacher's 8
// prompts, each of benchAsks: "batched" is one request of the 8,
// "one-by-one" 8 requests of one, which is what a batch cost before its
// prompts were computed together.
func BenchmarkBatchRequest(b *testing.B) {
	h, prompts := benchTeacher(b, false)
	for _, c := range benchAsks {
		b.Run(c.name+"/batched", func(b *testing.B) {
			cpu := cputime.Process()
			for b.Loop() {
				benchRequest(b, h, "["+strings.Join(prompts, ",")+"]", c.fields)
			}
			reportCPU(b, cpu)
		})
		b.Run(c.name+"/one-by-one", func(b *testing.B) {
			cpu := cputime.Process()
			for b.Loop() {
				for _, p := range prompts {
					benchRequest(b, h, p, c.fields)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkConcurrentClients is 8 clients each posting one of
// benchTeacher's prompts at once, as rlt score does (--concurrency 8) and
// lm-eval-harness with concurrent requests: an op is the 8 answered. The
// weights are float32 or bfloat16, which the CPU's products widen as they
// pack them, at every forward: the fewer forwards, the fewer passes over
// the weights.
func BenchmarkConcurrentClients(b *testing.B) {
	for _, weights := range []string{"f32", "bf16"} {
		h, prompts := benchTeacher(b, weights == "bf16")
		for _, c := range benchAsks {
			b.Run(c.name+"/"+weights, func(b *testing.B) {
				cpu := cputime.Process()
				for b.Loop() {
					var wg sync.WaitGroup
					for _, p := range prompts {
						wg.Go(func() { benchRequest(b, h, p, c.fields) })
					}
					wg.Wait()
				}
				reportCPU(b, cpu)
			})
		}
	}
}

// mixedPrompts are 8 of benchTeacher's prompt texts cut to mixed lengths,
// 24 to 240 tokens of the teacher's 256 positions (789 in all, 1,920
// padded to the longest), as rlt score's teacher prompts differ by the
// length of their explanations: each the JSON of its token ids.
func mixedPrompts(b *testing.B) []string {
	dir, err := defaults.Dir()
	if err != nil {
		b.Fatal(err)
	}
	tok, err := tokenizer.Load(filepath.Join(dir, defaults.Teacher, "tokenizer.json"))
	if err != nil {
		b.Fatal(err)
	}
	var prompts []string
	for i, n := range []int{240, 24, 180, 45, 120, 30, 90, 60} {
		text := fmt.Sprintf("<|im_start|>system\nTeach: solution, then explanation.<|im_end|>\n<|im_start|>user\n%d+%d=?<|im_end|>\n<|im_start|>assistant\n", i, 7*i)
		ids := tok.Encode(text + strings.Repeat(fmt.Sprint(8*i), 200))
		if len(ids) < n {
			b.Fatalf("prompt %d: %d tokens, fewer than %d", i, len(ids), n)
		}
		raw, _ := json.Marshal(ids[len(ids)-n:]) // a different start for each
		prompts = append(prompts, string(raw))
	}
	return prompts
}

// BenchmarkMixedLengths is mixedPrompts through the teacher's vLLM
// endpoint, each of benchAsks: "batched" one request of the 8,
// "concurrent" 8 clients posting one each at once (computed together as
// they wait: coalesce.go). An op is the 8 answered. Computed padded to
// the longest, the forwards hold 1,920 positions for the prompts' 789.
func BenchmarkMixedLengths(b *testing.B) {
	h, _ := benchTeacher(b, false)
	prompts := mixedPrompts(b)
	for _, c := range benchAsks {
		b.Run(c.name+"/batched", func(b *testing.B) {
			cpu := cputime.Process()
			for b.Loop() {
				benchRequest(b, h, "["+strings.Join(prompts, ",")+"]", c.fields)
			}
			reportCPU(b, cpu)
		})
		b.Run(c.name+"/concurrent", func(b *testing.B) {
			cpu := cputime.Process()
			for b.Loop() {
				var wg sync.WaitGroup
				for _, p := range prompts {
					wg.Go(func() { benchRequest(b, h, p, c.fields) })
				}
				wg.Wait()
			}
			reportCPU(b, cpu)
		})
	}
}
