package serve

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/cputime"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// qwenVocab is Qwen2.5's vocabulary (its LM head's rows): what keeping
// tokens from the generated token costs is about the vocabulary's size.
const qwenVocab = 151936

// BenchmarkHeldBack is one request of a two-token prompt to a server whose
// model has Qwen's vocabulary (and a tiny body, so that the vocabulary's
// part shows), generating one token: with nothing held back, and with each
// field that keeps tokens from being it (vLLM's allowed_token_ids,
// min_tokens, and SGLang's min_new_tokens), as lm-eval-harness's and RLT
// scoring's requests are. The cost of holding back is each case's time
// less "none". The benchmark speaks only HTTP, so the same file measures
// any version of the server: alternate two test binaries
// (go test -c) to compare them.
func BenchmarkHeldBack(b *testing.B) {
	tok, err := tokenizer.Load("../tokenizer/testdata/qwen2_pairs.json")
	if err != nil {
		b.Fatal(err)
	}
	cfg := model.Config{Vocab: qwenVocab, Hidden: 32, Intermediate: 64, Layers: 2, Heads: 4, KVHeads: 2,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 64, Tied: true, QKVBias: true}
	m, err := model.NewRandom(compute.NewCPU(), cfg, 5)
	if err != nil {
		b.Fatal(err)
	}
	m.InitRandom(5, 0.3)
	s := New(rlt.NewModelSource(m, "tiny"), tok, "tiny", Both)
	eos := int32(3)
	s.EOS = EOS{Token: &eos, SGLang: []int32{eos}}
	h := s.Handler()
	for _, c := range []struct{ name, path, body string }{
		{"none", "/v1/completions", `{"prompt":[5,6],"max_tokens":1,"logprobs":1}`},
		{"allowed_token_ids", "/v1/completions", `{"prompt":[5,6],"max_tokens":1,"logprobs":1,"allowed_token_ids":[7,8,9]}`},
		{"min_tokens", "/v1/completions", `{"prompt":[5,6],"max_tokens":1,"logprobs":1,"min_tokens":1}`},
		{"min_new_tokens", "/generate", `{"input_ids":[5,6],"return_logprob":true,"top_logprobs_num":1,"sampling_params":{"max_new_tokens":1,"min_new_tokens":1}}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			start := cputime.Process()
			t0 := time.Now()
			for range b.N {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(c.body)))
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(time.Since(t0))/float64(b.N)/1e6, "ms/op")
			b.ReportMetric(float64(cputime.Process()-start)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// BenchmarkLogitBiasKeys reads a logit_bias with a key for each token of
// Qwen's vocabulary, as SGLang and vLLM read its keys (Python's int() of
// each): the most keys a request that biases tokens can hold.
func BenchmarkLogitBiasKeys(b *testing.B) {
	f := make(logitBiasField, qwenVocab)
	for i := range f {
		f[i].key = strconv.Itoa(i)
	}
	values := make([]float64, qwenVocab)
	b.Run("sglang", func(b *testing.B) {
		for range b.N {
			if _, err := sglangBiasKeys(f, qwenVocab); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("vllm", func(b *testing.B) {
		for range b.N {
			if _, err := vllmLogitBiasKeys(f, values); err != nil {
				b.Fatal(err)
			}
		}
	})
}
