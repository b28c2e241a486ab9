package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// BenchmarkBatchRequest is a /v1/completions request of 8 prompts of 72
// to 101 tokens to the embedded default teacher, as rlt score sends them
// (prompt_logprobs 0, one token) and as lm-eval-harness's loglikelihood
// does (echo, logprobs 1, no token): "batched" is one request of the 8,
// "one-by-one" 8 requests of one, which is what a batch cost before its
// prompts were computed together.
func BenchmarkBatchRequest(b *testing.B) {
	dir, err := defaults.Dir()
	if err != nil {
		b.Fatal(err)
	}
	dir = filepath.Join(dir, defaults.Teacher)
	m, err := model.Load(compute.NewCPU(), dir)
	if err != nil {
		b.Fatal(err)
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
	request := func(b *testing.B, prompt, fields string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(`{"prompt":`+prompt+`,`+fields+`}`)))
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	for _, c := range []struct{ name, fields string }{
		{"score", `"max_tokens":1,"prompt_logprobs":0,"temperature":0.7`},
		{"lm-eval", `"max_tokens":0,"echo":true,"logprobs":1`},
	} {
		b.Run(c.name+"/batched", func(b *testing.B) {
			for b.Loop() {
				request(b, "["+strings.Join(prompts, ",")+"]", c.fields)
			}
		})
		b.Run(c.name+"/one-by-one", func(b *testing.B) {
			for b.Loop() {
				for _, p := range prompts {
					request(b, p, c.fields)
				}
			}
		})
	}
}
