package remote

import (
	"testing"
)

// idsOf is the token ids a fuzz input asks for: one per byte of ask (at
// most 16), so the decoders are asked for few and for many.
func idsOf(ask []byte) []int32 {
	ids := make([]int32, 0, min(len(ask), 16))
	for _, b := range ask[:min(len(ask), 16)] {
		ids = append(ids, int32(b))
	}
	return ids
}

// FuzzDecodeAnswers: the decoders of vLLM's /v1/completions, SGLang's
// /generate and /tokenize answers never panic, and a decoded answer has
// exactly one log-prob per token asked after the first, or an error.
func FuzzDecodeAnswers(f *testing.F) {
	f.Add(byte(0), []byte{1, 5, 7}, []byte(`{"choices":[{"prompt_logprobs":[null,{"5":{"logprob":-1.5,"rank":3}},{"7":{"logprob":-0.25}}]}]}`))
	f.Add(byte(0), []byte{1, 5}, []byte(`{"choices":[{"prompt_logprobs":[null,{"6":{"logprob":-1}}]}],"usage":{}}`))
	f.Add(byte(1), []byte{1, 5, 7}, []byte(`{"text":"x","meta_info":{"input_token_logprobs":[[null,1,null],[-1.5,5,"a"],[-0.25,7,null]]}}`))
	f.Add(byte(1), []byte{1, 5}, []byte(`{"meta_info":{"input_token_logprobs":[[null,1],["x",5]]}}`))
	// No token asked: an error (it was make([]float32, -1), a panic).
	f.Add(byte(0), []byte{}, []byte(`{"choices":[{"prompt_logprobs":[]}]}`))
	f.Add(byte(1), []byte{}, []byte(`{"meta_info":{"input_token_logprobs":[]}}`))
	f.Add(byte(2), []byte{}, []byte(`{"count":3,"max_model_len":2048,"tokens":[1,5,7],"token_strs":null}`))
	f.Add(byte(2), []byte{}, []byte(`{"tokens":[-1],"max_model_len":-3}`))
	f.Fuzz(func(t *testing.T, kind byte, ask, raw []byte) {
		ids := idsOf(ask)
		var lp []float32
		var err error
		switch kind % 3 {
		case 0:
			lp, err = decodeVLLM(raw, ids)
		case 1:
			lp, err = decodeSGLang(raw, ids)
		case 2:
			tr, err := decodeTokenize(raw)
			if err == nil && tr.MaxModelLen < 0 {
				t.Fatalf("max_model_len %d", tr.MaxModelLen)
			}
			return
		}
		if err != nil {
			if lp != nil {
				t.Fatalf("log-probs and an error: %v", err)
			}
			return
		}
		if len(lp) != len(ids)-1 {
			t.Fatalf("%d log-probs for %d tokens", len(lp), len(ids))
		}
	})
}
