package serve

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/rlt"
)

// TestHeldBack: vLLM's min_tokens, bad_words and allowed_token_ids, and
// SGLang's min_new_tokens, keep tokens from being the one generated token
// as those servers' samplers do: the token is then the most likely of
// the others (by the model's own whole-vocabulary log-probs, computed
// apart); vLLM says it with its log-prob of the whole vocabulary, SGLang
// with log-probs renormalized over the tokens kept, which sum to 1 and
// keep their differences. min_tokens holds back the stop token ids and
// the end of sequence whatever ignore_eos, so the token no longer ends
// the choice as a stop.
func TestHeldBack(t *testing.T) {
	s, ts := testServer(t, Both)
	tok := tokOf(s)
	prompt := tok.Encode("a")
	ref, err := s.Src.PromptLogProbs(prompt, 1, rlt.PromptOptions{Next: true, NextTopK: s.Src.Vocab})
	if err != nil {
		t.Fatal(err)
	}
	// The most likely tokens after "a", and each token's log-prob.
	g, s1, s2 := ref.NextTopIDs[0], ref.NextTopIDs[1], ref.NextTopIDs[2]
	lp := map[int32]float64{}
	for i, id := range ref.NextTopIDs {
		lp[id] = float64(ref.NextTopLogProbs[i])
	}
	// g is the model's end of sequence, for vLLM and SGLang.
	s.EOS = EOS{Token: &g, SGLang: []int32{g}}
	defer func() { s.EOS = EOS{} }()
	// x is the most likely token whose text is a word after a space,
	// that word without it another token, y the token after it: vLLM
	// strips a bad word's leading spaces and holds back its token both
	// without a space and with one, where each is one token. g's text
	// encodes as itself, and so does s1's.
	var x, y int32 = -1, -1
	var xWord string
	for k, id := range ref.NextTopIDs[:len(ref.NextTopIDs)-1] {
		text := tok.DecodeHF([]int32{id}, false)
		word := strings.TrimLeft(text, " ")
		if alone := tok.Encode(word); word != text && slices.Equal(tok.Encode(text), []int32{id}) && len(alone) == 1 && alone[0] != id {
			x, y, xWord = id, ref.NextTopIDs[k+1], word
			break
		}
	}
	gText, s1Text := tok.DecodeHF([]int32{g}, false), tok.DecodeHF([]int32{s1}, false)
	for _, c := range []struct {
		id   int32
		text string
	}{{g, gText}, {s1, s1Text}} {
		if ids := tok.Encode(c.text); !slices.Equal(ids, []int32{c.id}) {
			t.Fatalf("%q encodes as %v, not %d", c.text, ids, c.id)
		}
	}
	if x < 0 {
		t.Fatal("no token is a word after a space whose word is another token")
	}
	// g's word is two tokens without its space (its text, one token,
	// holds nothing back then: vLLM takes both forms only when they have
	// as many tokens).
	if gWord := strings.TrimLeft(gText, " "); gWord == gText || len(tok.Encode(gWord)) == 1 {
		t.Fatalf("%q: the test wants a word after a space, whose word is more than one token", gText)
	}
	words := func(ws ...string) string { b, _ := json.Marshal(ws); return string(b) }

	for _, c := range []struct {
		name, fields string
		want         int32
		finish       string
	}{
		{"nothing held", ``, g, "stop"},
		{"min_tokens 0", `,"min_tokens":0,"stop_token_ids":[` + fmt.Sprint(s1) + `]`, g, "stop"},
		{"min_tokens 1: not the end of sequence", `,"min_tokens":1`, s1, "length"},
		{"min_tokens 1, ignore_eos", `,"min_tokens":1,"ignore_eos":true`, s1, "length"},
		{"min_tokens 1, a stop token too", `,"min_tokens":1,"stop_token_ids":[` + fmt.Sprint(s1) + `]`, s2, "length"},
		{"bad words that are not the token, or of two tokens", `,"bad_words":` + words(gText+gText, s1Text), g, "stop"},
		{"a bad word of one token, and min_tokens", `,"min_tokens":1,"bad_words":` + words(s1Text), s2, "length"},
		{"a bad word after a space", `,"bad_words":` + words(" \t"+xWord) + fmt.Sprintf(`,"allowed_token_ids":[%d,%d]`, y, x), y, "length"},
		{"a bad word after a space, as many tokens without it only", `,"bad_words":` + words(gText), g, "stop"},
		{"allowed_token_ids", `,"allowed_token_ids":[` + fmt.Sprintf("%d,%d", s2, s1) + `]`, s1, "length"},
		{"allowed_token_ids, one", `,"allowed_token_ids":[` + fmt.Sprint(s2) + `]`, s2, "length"},
	} {
		status, body := post(t, ts.URL+"/v1/completions", `{"prompt":"a","max_tokens":1,"logprobs":2,"return_tokens_as_token_ids":true`+c.fields+`}`)
		var r struct {
			Choices []struct {
				vllmChoice
				Logprobs struct {
					Tokens        []string          `json:"tokens"`
					TokenLogprobs []float64         `json:"token_logprobs"`
					TopLogprobs   []json.RawMessage `json:"top_logprobs"`
				} `json:"logprobs"`
			}
		}
		if status != 200 || json.Unmarshal([]byte(body), &r) != nil || len(r.Choices) != 1 {
			t.Fatalf("%s: %d %s", c.name, status, body)
		}
		ch := r.Choices[0]
		own := fmt.Sprintf("token_id:%d", c.want)
		// The dict: the token, then the top 2 of the whole vocabulary.
		wantKeys := []string{own}
		for _, id := range []int32{g, s1} {
			if id != c.want {
				wantKeys = append(wantKeys, fmt.Sprintf("token_id:%d", id))
			}
		}
		if ch.FinishReason != c.finish || !slices.Equal(ch.Logprobs.Tokens, []string{own}) || len(ch.Logprobs.TokenLogprobs) != 1 ||
			ch.Logprobs.TokenLogprobs[0] != lp[c.want] || !slices.Equal(orderedKeys(t, ch.Logprobs.TopLogprobs[0]), wantKeys) {
			t.Errorf("%s: finish_reason %q, tokens %v, token_logprobs %v, top_logprobs %s; want %q, %s at %v, keys %v",
				c.name, ch.FinishReason, ch.Logprobs.Tokens, ch.Logprobs.TokenLogprobs, ch.Logprobs.TopLogprobs[0], c.finish, own, lp[c.want], wantKeys)
		}
	}
	// The token vLLM generates and does not show, with echo and
	// max_tokens 0, is held back alike: it no longer ends the choice.
	for _, c := range []struct{ fields, finish string }{{``, "stop"}, {`,"min_tokens":1`, "length"}} {
		status, body := post(t, ts.URL+"/v1/completions", `{"prompt":"a","max_tokens":0,"echo":true`+c.fields+`}`)
		var r struct{ Choices []vllmChoice }
		if status != 200 || json.Unmarshal([]byte(body), &r) != nil || len(r.Choices) != 1 || r.Choices[0].FinishReason != c.finish || r.Choices[0].Text != "a" {
			t.Errorf("echo, max_tokens 0%s: %d %s; want the text \"a\", finish_reason %q", c.fields, status, body, c.finish)
		}
	}

	s.MaxLogprobs = -1 // the whole vocabulary's top log-probs
	defer func() { s.MaxLogprobs = maxLogprobs }()
	kept := s.Src.Vocab - 1
	for _, c := range []struct {
		name, sampling string
		want           int32
		renormalized   bool
	}{
		{"nothing held", ``, g, false},
		{"min_new_tokens 0", `,"min_new_tokens":0,"stop_token_ids":[` + fmt.Sprint(s1) + `]`, g, false},
		{"min_new_tokens 1: not the end of sequence", `,"min_new_tokens":1`, s1, true},
		{"min_new_tokens 1, ignore_eos", `,"min_new_tokens":1,"ignore_eos":true`, s1, true},
		{"min_new_tokens 1, a stop token too", `,"min_new_tokens":1,"stop_token_ids":[null,` + fmt.Sprint(s1) + `]`, s2, true},
	} {
		status, body := post(t, ts.URL+"/generate", fmt.Sprintf(`{"text":"a","return_logprob":true,"top_logprobs_num":%d,"sampling_params":{"max_new_tokens":1%s}}`, kept, c.sampling))
		var r struct {
			OutputIDs []int32    `json:"output_ids"`
			Meta      sglangMeta `json:"meta_info"`
		}
		if status != 200 || json.Unmarshal([]byte(body), &r) != nil || len(r.Meta.Out) != 1 || len(r.Meta.OutTop) != 1 {
			t.Fatalf("%s: %d %.300s", c.name, status, body)
		}
		out, top := r.Meta.Out[0], r.Meta.OutTop[0]
		if !slices.Equal(r.OutputIDs, []int32{c.want}) || out.id != c.want || top[0].id != c.want || *top[0].lp != *out.lp {
			t.Errorf("%s: output_ids %v, output_token_logprobs' %d at %v, the top's first %d at %v; want %d",
				c.name, r.OutputIDs, out.id, *out.lp, top[0].id, *top[0].lp, c.want)
			continue
		}
		if !c.renormalized {
			if *out.lp != lp[c.want] {
				t.Errorf("%s: log-prob %v, want the model's %v", c.name, *out.lp, lp[c.want])
			}
			continue
		}
		// The tokens kept: their probabilities sum to 1, their log-probs
		// differ as the model's do, and no token held back is among them.
		sum := 0.0
		for _, tr := range top {
			sum += math.Exp(*tr.lp)
			if tr.id == g || c.want == s2 && tr.id == s1 {
				t.Errorf("%s: %d, held back, among the top log-probs", c.name, tr.id)
			}
		}
		if len(top) != kept-1 && c.want == s2 || len(top) != kept && c.want == s1 {
			t.Errorf("%s: %d top log-probs for %d tokens kept", c.name, len(top), kept)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("%s: the top log-probs of the tokens kept sum to %v in probability, want 1", c.name, sum)
		}
		if d, want := *top[0].lp-*top[1].lp, lp[top[0].id]-lp[top[1].id]; math.Abs(d-want) > 1e-5 {
			t.Errorf("%s: the first two log-probs differ by %v, the model's by %v", c.name, d, want)
		}
	}
}

// TestHeldBackRefused: a value vLLM or SGLang refuses is refused in its
// words, naming the field; so is a request that holds back every token.
func TestHeldBackRefused(t *testing.T) {
	s, ts := testServer(t, Both)
	sc, err := s.Src.PromptLogProbs(s.Tok.Encode("a"), 1, rlt.PromptOptions{Next: true})
	if err != nil {
		t.Fatal(err)
	}
	s.EOS = EOS{Token: &sc.Next, SGLang: []int32{sc.Next}}
	defer func() { s.EOS = EOS{} }()
	for _, c := range []struct{ path, fields, param, want string }{
		{"/v1/completions", `"max_tokens":1,"min_tokens":-1`, "min_tokens", `min_tokens must be greater than or equal to 0, got -1.`},
		{"/v1/completions", `"max_tokens":1,"min_tokens":2`, "min_tokens", `min_tokens must be less than or equal to max_tokens=1, got 2.`},
		{"/v1/completions", `"max_tokens":0,"echo":true,"min_tokens":2`, "min_tokens", `min_tokens must be less than or equal to max_tokens=1, got 2.`},
		{"/v1/completions", `"max_tokens":1,"min_tokens":0.5`, "min_tokens", `min_tokens must be a whole number, got 0.5`},
		{"/v1/completions", `"max_tokens":1,"allowed_token_ids":[]`, "allowed_token_ids", `allowed_token_ids is not None and empty! (parameter=allowed_token_ids, value=[])`},
		{"/v1/completions", `"max_tokens":1,"allowed_token_ids":[3,99999]`, "allowed_token_ids", `allowed_token_ids contains out-of-vocab token id! (parameter=allowed_token_ids, value=[99999])`},
		{"/v1/completions", `"max_tokens":1,"allowed_token_ids":[-1,5,-2]`, "allowed_token_ids", `allowed_token_ids contains out-of-vocab token id! (parameter=allowed_token_ids, value=[-1, -2])`},
		{"/v1/completions", `"max_tokens":1,"bad_words":["x"," \n","x"]`, "bad_words", `bad_words entries must tokenize to at least one token. (parameter=bad_words, value=['x', ' \n'])`},
		{"/v1/completions", `"max_tokens":1,"bad_words":["x","","it's","x"]`, "bad_words", `bad_words cannot contain an empty string. Got bad_words=['x', '', "it's"]`},
		{"/v1/completions", `"max_tokens":1,"stop_token_ids":[3,99999,-1]`, "stop_token_ids", fmt.Sprintf(`token_id(s) [99999, -1] in stop_token_ids contain out-of-vocab token ids. Vocabulary size: %d (parameter=stop_token_ids, value=[99999, -1])`, s.Src.Vocab)},
		{"/v1/completions", fmt.Sprintf(`"max_tokens":1,"min_tokens":1,"allowed_token_ids":[%d]`, sc.Next), "", `every token of the vocabulary is held back`},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"min_new_tokens":-1}`, "", `min_new_tokens must be in [0, max_new_tokens], got -1.`},
		{"/generate", `"sampling_params":{"max_new_tokens":0,"min_new_tokens":1}`, "", `min_new_tokens must be in [0, max_new_tokens(0)], got 1.`},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"min_new_tokens":1.5}`, "", `min_new_tokens must be in [0, max_new_tokens(1)], got 1.5.`}, // verify's bounds before its being whole
		{"/generate", `"sampling_params":{"max_new_tokens":1,"min_new_tokens":-0.5}`, "", `min_new_tokens must be in [0, max_new_tokens], got -0.5.`},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"min_new_tokens":0.5}`, "", `sampling_params.min_new_tokens must be a whole number, got 0.5`},
		// A number said as Python's json read it: a float as one, every digit.
		{"/generate", `"sampling_params":{"max_new_tokens":1,"min_new_tokens":1234567.5}`, "", `min_new_tokens must be in [0, max_new_tokens(1)], got 1234567.5.`},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"min_new_tokens":2.0}`, "", `min_new_tokens must be in [0, max_new_tokens(1)], got 2.0.`},
		{"/generate", `"sampling_params":{"max_new_tokens":-9007199254740993}`, "", `sampling_params.max_new_tokens must be 0 or 1 (got -9007199254740993)`},
		{"/generate", `"sampling_params":{"max_new_tokens":9007199254740993}`, "", `You requested a total of 9007199254740994 tokens: 1 tokens from the input messages and 9007199254740993 tokens for the completion.`}, // SGLang's check against the model's positions, first
		{"/generate", `"sampling_params":{"max_new_tokens":1,"stop_token_ids":"5"}`, "", `sampling_params.stop_token_ids`},
	} {
		field := `"prompt":"a"`
		if c.path == "/generate" {
			field = `"text":"a"`
		}
		status, body := post(t, ts.URL+c.path, `{`+field+`,`+c.fields+`}`)
		var r struct {
			Error struct {
				Message string
				Param   *string
			}
		}
		if status != 400 || json.Unmarshal([]byte(body), &r) != nil || !strings.Contains(r.Error.Message, c.want) {
			t.Errorf("%s %s: %d %s; want 400 with %q", c.path, c.fields, status, body, c.want)
			continue
		}
		if c.path == "/v1/completions" && (r.Error.Param == nil) != (c.param == "") || r.Error.Param != nil && *r.Error.Param != c.param {
			t.Errorf("%s %s: param %v, want %q", c.path, c.fields, r.Error.Param, c.param)
		}
	}
	// SGLang holding back every token: a list's input is named.
	all := make([]string, s.Src.Vocab)
	for i := range all {
		all[i] = fmt.Sprint(i)
	}
	status, body := post(t, ts.URL+"/generate", `{"text":["a","b"],"sampling_params":[{"max_new_tokens":1},{"max_new_tokens":1,"min_new_tokens":1,"stop_token_ids":[`+strings.Join(all, ",")+`]}]}`)
	if status != 400 || !strings.Contains(body, `input 1: every token of the vocabulary is held back`) {
		t.Errorf("every token held back: %d %s", status, body)
	}
}

// TestLogitBias: logit_bias adds its biases to the logits the generated
// token is picked from, before the temperature and after nothing else:
// vLLM's clamped to [−100, 100] and said with the raw log-probs of the
// whole vocabulary, SGLang's unclamped and said with the log-probs of the
// biased logits (each checked against a float64 computation from the
// model's own whole-vocabulary log-probs, computed apart). Its keys are
// read as Python's int() reads them, a key given twice keeps its last
// value, and a token held back (min_tokens, allowed_token_ids) stays held
// whatever its bias.
func TestLogitBias(t *testing.T) {
	s, ts := testServer(t, Both)
	ref, err := s.Src.PromptLogProbs(s.Tok.Encode("a"), 1, rlt.PromptOptions{Next: true, NextTopK: s.Src.Vocab})
	if err != nil {
		t.Fatal(err)
	}
	g, s1, s2 := ref.NextTopIDs[0], ref.NextTopIDs[1], ref.NextTopIDs[2]
	lp := map[int32]float64{}
	for i, id := range ref.NextTopIDs {
		lp[id] = float64(ref.NextTopLogProbs[i])
	}
	if !(lp[g] > lp[s1] && lp[s1] > lp[s2]) || s2 < 10 {
		t.Fatalf("the test wants three distinct most likely tokens, the third of two digits: %d %d %d at %v %v %v", g, s1, s2, lp[g], lp[s1], lp[s2])
	}
	s.EOS = EOS{Token: &g, SGLang: []int32{g}}
	defer func() { s.EOS = EOS{} }()
	gap := lp[g] - lp[s1] // of the logits too, at temperature 1
	id := func(v int32) string { return fmt.Sprint(v) }
	// s2 as Python's int() reads it too: spaces, a sign, an underscore,
	// and Arabic-Indic digits.
	digits := id(s2)
	underscored := digits[:1] + "_" + digits[1:]
	arabic := strings.Map(func(r rune) rune { return r - '0' + '\u0660' }, digits)

	for _, c := range []struct {
		name, fields string
		want         int32
	}{
		{"empty", `"logit_bias":{}`, g},
		{"null", `"logit_bias":null`, g},
		{"+100 on the third", `"logit_bias":{"` + id(s2) + `":100}`, s2},
		{"-100 on the first", `"logit_bias":{"` + id(g) + `":-100}`, s1},
		{"just past the gap", fmt.Sprintf(`"logit_bias":{"%d":%g}`, s1, gap+0.01), s1},
		{"just short of it", fmt.Sprintf(`"logit_bias":{"%d":%g}`, s1, gap-0.01), g},
		{"past the gap, at temperature 0.5", fmt.Sprintf(`"temperature":0.5,"logit_bias":{"%d":%g}`, s1, gap+0.01), s1},
		{"clamped: 150 is 100, as the second's", `"logit_bias":{"` + id(s2) + `":150,"` + id(s1) + `":100}`, s1},
		{"1e999 is +inf, clamped", `"logit_bias":{"` + id(s2) + `":1e999}`, s2},
		{"a key with spaces and a sign", `"logit_bias":{" +` + id(s2) + "\\t" + `":100}`, s2},
		{"a key with an underscore", `"logit_bias":{"` + underscored + `":100}`, s2},
		{"a key in Arabic-Indic digits", `"logit_bias":{"` + arabic + `":100}`, s2},
		{"a key twice: its last value", `"logit_bias":{"` + id(s2) + `":100,"` + id(s2) + `":-1}`, g},
		{"two keys of one id: the last", `"logit_bias":{"` + id(s2) + `":-1,"0` + id(s2) + `":100}`, s2},
		{"min_tokens holds the end of sequence whatever its bias", `"min_tokens":1,"logit_bias":{"` + id(g) + `":100}`, s1},
		{"min_tokens, and a bias on another", `"min_tokens":1,"logit_bias":{"` + id(s2) + `":100}`, s2},
		{"allowed_token_ids, a bias among them", fmt.Sprintf(`"allowed_token_ids":[%d,%d],"logit_bias":{"%d":100}`, s1, s2, s2), s2},
		{"allowed_token_ids, a bias outside them", fmt.Sprintf(`"allowed_token_ids":[%d],"logit_bias":{"%d":100}`, s2, g), s2},
		// Biases as texts and booleans, as vLLM's pydantic model reads them.
		{"a text", fmt.Sprintf(`"logit_bias":{"%d":"%g"}`, s1, gap+0.01), s1},
		{"a text short of the gap", fmt.Sprintf(`"logit_bias":{"%d":"%g"}`, s1, gap-0.01), g},
		{"a text with spaces and an exponent", `"logit_bias":{"` + id(s2) + `":" 1e2\n"}`, s2},
		{"a text with an underscore", `"logit_bias":{"` + id(s2) + `":"1_00"}`, s2},
		{"a text of a point and a sign", `"logit_bias":{"` + id(g) + `":"-100."}`, s1},
		{"Infinity as a text, clamped", `"logit_bias":{"` + id(s2) + `":"Infinity"}`, s2},
		{"-inf as a text, clamped to -100", `"logit_bias":{"` + id(g) + `":"-inf"}`, s1},
		{"NaN as a text: Python's min and max make it -100", `"logit_bias":{"` + id(g) + `":"NaN"}`, s1},
		{"true is 1", fmt.Sprintf(`"logit_bias":{"%d":true,"%d":%g}`, g, s1, gap+0.5), g},
		{"false is 0", fmt.Sprintf(`"logit_bias":{"%d":false,"%d":%g}`, g, s1, gap+0.5), s1},
	} {
		status, body := post(t, ts.URL+"/v1/completions", `{"prompt":"a","max_tokens":1,"logprobs":2,"return_tokens_as_token_ids":true,`+c.fields+`}`)
		var r struct {
			Choices []struct {
				Logprobs struct {
					Tokens        []string          `json:"tokens"`
					TokenLogprobs []float64         `json:"token_logprobs"`
					TopLogprobs   []json.RawMessage `json:"top_logprobs"`
				} `json:"logprobs"`
			}
		}
		if status != 200 || json.Unmarshal([]byte(body), &r) != nil || len(r.Choices) != 1 || len(r.Choices[0].Logprobs.TopLogprobs) != 1 {
			t.Errorf("vLLM, %s: %d %s", c.name, status, body)
			continue
		}
		got := r.Choices[0].Logprobs
		own := fmt.Sprintf("token_id:%d", c.want)
		wantKeys := []string{own} // the token, then the raw top 2
		for _, v := range []int32{g, s1} {
			if v != c.want {
				wantKeys = append(wantKeys, fmt.Sprintf("token_id:%d", v))
			}
		}
		if !slices.Equal(got.Tokens, []string{own}) || !slices.Equal(orderedKeys(t, got.TopLogprobs[0]), wantKeys) {
			t.Errorf("vLLM, %s: tokens %v, top_logprobs %s; want %s, keys %v", c.name, got.Tokens, got.TopLogprobs[0], own, wantKeys)
		}
		if !strings.Contains(c.fields, "temperature") && got.TokenLogprobs[0] != lp[c.want] {
			t.Errorf("vLLM, %s: token_logprobs %v, want the raw log-prob %v", c.name, got.TokenLogprobs, lp[c.want])
		}
	}

	// SGLang: the biased row's greedy token and log-softmax, by hand.
	for _, c := range []struct {
		name, sampling string
		bias           map[int32]float64
		held           []int32
	}{
		{"none", ``, nil, nil},
		{"+100 on the third", `,"logit_bias":{"` + id(s2) + `":100}`, map[int32]float64{s2: 100}, nil},
		{"-1.5 on the first", `,"logit_bias":{"` + id(g) + `":-1.5}`, map[int32]float64{g: -1.5}, nil},
		{"unclamped: 150 beats 100", `,"logit_bias":{"` + id(s2) + `":150,"` + id(s1) + `":100}`, map[int32]float64{s2: 150, s1: 100}, nil},
		{"small biases on several", fmt.Sprintf(`,"logit_bias":{"%d":%g,"%d":0.25}`, s1, gap+0.5, s2), map[int32]float64{s1: gap + 0.5, s2: 0.25}, nil},
		{"min_new_tokens holds the end of sequence whatever its bias", `,"min_new_tokens":1,"logit_bias":{"` + id(g) + `":100,"` + id(s2) + `":0.5}`, map[int32]float64{s2: 0.5}, []int32{g}},
		{"true is 1, as the bias tensor takes it", `,"logit_bias":{"` + id(s1) + `":true}`, map[int32]float64{s1: 1}, nil},
		{"false is 0", `,"logit_bias":{"` + id(s1) + `":false}`, map[int32]float64{s1: 0}, nil},
	} {
		adj := map[int32]float64{}
		var want int32 = -1
		for v, x := range lp {
			if slices.Contains(c.held, v) {
				continue
			}
			adj[v] = x + c.bias[v]
			if want < 0 || adj[v] > adj[want] || adj[v] == adj[want] && v < want {
				want = v
			}
		}
		m, sum := adj[want], 0.0
		for _, x := range adj {
			sum += math.Exp(x - m)
		}
		lse := m + math.Log(sum)
		order := slices.Collect(maps.Keys(adj))
		slices.SortFunc(order, func(a, b int32) int {
			if adj[a] != adj[b] {
				return cmp.Compare(adj[b], adj[a])
			}
			return cmp.Compare(a, b)
		})
		status, body := post(t, ts.URL+"/generate", `{"text":"a","return_logprob":true,"top_logprobs_num":3,"sampling_params":{"max_new_tokens":1`+c.sampling+`}}`)
		var r struct {
			OutputIDs []int32    `json:"output_ids"`
			Meta      sglangMeta `json:"meta_info"`
		}
		if status != 200 || json.Unmarshal([]byte(body), &r) != nil || len(r.Meta.Out) != 1 || len(r.Meta.OutTop) != 1 {
			t.Errorf("SGLang, %s: %d %.300s", c.name, status, body)
			continue
		}
		out, top := r.Meta.Out[0], r.Meta.OutTop[0]
		if !slices.Equal(r.OutputIDs, []int32{want}) || out.id != want || math.Abs(*out.lp-(adj[want]-lse)) > 1e-4 || len(top) != 3 {
			t.Errorf("SGLang, %s: output_ids %v at %v, %d top; want %d at %v", c.name, r.OutputIDs, *out.lp, len(top), want, adj[want]-lse)
			continue
		}
		for i, tr := range top {
			if tr.id != order[i] || math.Abs(*tr.lp-(adj[tr.id]-lse)) > 1e-4 {
				t.Errorf("SGLang, %s: top %d is %d at %v, want %d at %v", c.name, i, tr.id, *tr.lp, order[i], adj[order[i]]-lse)
			}
		}
	}
}

// TestLogitBiasRefused: a logit_bias vLLM or SGLang refuses is refused in
// its words, naming the field: a key that is no integer, one outside the
// vocabulary, a value that is no number; SGLang's also past float32's
// range, which its bias tensor would hold as inf.
func TestLogitBiasRefused(t *testing.T) {
	s, ts := testServer(t, Both)
	vocab := s.Src.Vocab
	huge := "1" + strings.Repeat("0", 4300) // 4301 digits
	for _, c := range []struct{ path, fields, param, want string }{
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"x":1,"5":1,"1.5":2,"it's":0}`, "logit_bias",
			`logit_bias contains key(s) that cannot be converted to integer token IDs: ['x', '1.5', "it's"] (parameter=logit_bias, value=['x', '1.5', "it's"])`},
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"99999":1,"3":1,"-1":2}`, "logit_bias",
			fmt.Sprintf(`token_id(s) [99999, -1] in logit_bias contain out-of-vocab token ids. Vocabulary size: %d (parameter=logit_bias, value=[99999, -1])`, vocab)},
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"` + fmt.Sprint(vocab) + `":1}`, "logit_bias", fmt.Sprintf(`token_id(s) [%d] in logit_bias`, vocab)},
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"1__0":1,"_1":1,"1_":1,"":1," ":1,"0x1":1}`, "logit_bias", `['1__0', '_1', '1_', '', ' ', '0x1']`},
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"5":"x"}`, "", `logit_bias["5"] must be a number, got "x"`},
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"5":"0x1p3"}`, "", `logit_bias["5"] must be a number, got "0x1p3"`},
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"5":" 1_0"}`, "", `logit_bias["5"] must be a number, got " 1_0"`},
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"5":"1__0"}`, "", `logit_bias["5"] must be a number, got "1__0"`},
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"5":"."}`, "", `logit_bias["5"] must be a number, got "."`},
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"5":"1e"}`, "", `logit_bias["5"] must be a number, got "1e"`},
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"5":"+nan1"}`, "", `logit_bias["5"] must be a number, got "+nan1"`},
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"5":null}`, "", `logit_bias["5"] must be a number, got null`},
		{"/v1/completions", `"max_tokens":1,"logit_bias":[1]`, "", `logit_bias must be an object of token ids (as texts) and biases, got [1]`},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"logit_bias":{"3":1,"x":1}}`, "", `invalid literal for int() with base 10: 'x'`},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"logit_bias":{"3":1,"99999":1,"-1":1}}`, "", fmt.Sprintf(`logit_bias must has keys in [0, %d], got 99999.`, vocab-1)},
		{"/generate", `"sampling_params":{"max_new_tokens":0,"logit_bias":{"-1":1}}`, "", fmt.Sprintf(`logit_bias must has keys in [0, %d], got -1.`, vocab-1)},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"logit_bias":{" 7 ":1e39}}`, "", `sampling_params.logit_bias[" 7 "] 1e+39 is past float32's range`},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"logit_bias":{"7":-1e999}}`, "", `sampling_params.logit_bias["7"] -inf is past float32's range`},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"logit_bias":{"7":"1.5"}}`, "", `sampling_params.logit_bias["7"] must be a number, got "1.5": SGLang puts each bias into a tensor`},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"logit_bias":{"7":"1.5","x":1}}`, "", `invalid literal for int() with base 10: 'x'`},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"logit_bias":{"7":1e39,"99999":1}}`, "", fmt.Sprintf(`logit_bias must has keys in [0, %d], got 99999.`, vocab-1)},
		// Keys past int64's range, which Python's int() reads: outside the
		// vocabulary, said as each server says it; past int()'s 4300
		// digits, int()'s own ValueError.
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"99999999999999999999":1,"3":1,"-1_0000000000000000000":1}`, "logit_bias",
			fmt.Sprintf(`token_id(s) [99999999999999999999, -10000000000000000000] in logit_bias contain out-of-vocab token ids. Vocabulary size: %d (parameter=logit_bias, value=[99999999999999999999, -10000000000000000000])`, vocab)},
		{"/v1/completions", `"max_tokens":1,"logit_bias":{"` + huge + `":1}`, "logit_bias", `logit_bias contains key(s) that cannot be converted to integer token IDs: ['1000`},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"logit_bias":{"3":1,"99999999999999999999":1}}`, "", fmt.Sprintf(`logit_bias must has keys in [0, %d], got 99999999999999999999.`, vocab-1)},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"logit_bias":{" -9223372036854775809":1}}`, "", fmt.Sprintf(`logit_bias must has keys in [0, %d], got  -9223372036854775809.`, vocab-1)},
		{"/generate", `"sampling_params":{"max_new_tokens":1,"logit_bias":{"` + huge + `":1}}`, "", `Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit`},
	} {
		field := `"prompt":"a"`
		if c.path == "/generate" {
			field = `"text":"a"`
		}
		status, body := post(t, ts.URL+c.path, `{`+field+`,`+c.fields+`}`)
		var r struct {
			Error struct {
				Message string
				Param   *string
			}
		}
		if status != 400 || json.Unmarshal([]byte(body), &r) != nil || !strings.Contains(r.Error.Message, c.want) {
			t.Errorf("%s %s: %d %s; want 400 with %q", c.path, c.fields, status, body, c.want)
			continue
		}
		if c.path == "/v1/completions" && c.param != "" && (r.Error.Param == nil || *r.Error.Param != c.param) {
			t.Errorf("%s %s: param %v, want %q", c.path, c.fields, r.Error.Param, c.param)
		}
	}
	// SGLang: a list's sampling_params are named.
	status, body := post(t, ts.URL+"/generate", `{"text":["a","b"],"sampling_params":[{"max_new_tokens":1},{"max_new_tokens":1,"logit_bias":{"x":1}}]}`)
	if status != 400 || !strings.Contains(body, `sampling_params[1]: invalid literal for int() with base 10: 'x'`) {
		t.Errorf("a list's bad logit_bias: %d %s", status, body)
	}
}

// TestBiasedPromptsRunTogether: the prompts of a request that adjusts the
// generated token's logits still run through the model together, in one
// forward: a vLLM batch, and an SGLang list whose inputs adjust them
// alike; inputs that adjust them differently ask different things of the
// model, a forward each.
func TestBiasedPromptsRunTogether(t *testing.T) {
	be := &forwards{Backend: compute.NewCPU()}
	s, ts := testServerOn(t, Both, be)
	eos := int32(3)
	s.EOS = EOS{Token: &eos, SGLang: []int32{eos}}
	for _, c := range []struct {
		path, body string
		want       []int
	}{
		{"/v1/completions", `{"prompt":[[5,6,7],[8,9,10],[11,12,13]],"max_tokens":1,"min_tokens":1,"logit_bias":{"7":2}}`, []int{9}},
		{"/generate", `{"input_ids":[[5,6,7],[8,9,10],[11,12,13]],"sampling_params":{"max_new_tokens":1,"min_new_tokens":1,"logit_bias":{"7":2}}}`, []int{9}},
		{"/generate", `{"input_ids":[[5,6,7],[8,9,10],[11,12,13]],"sampling_params":[{"max_new_tokens":1,"logit_bias":{"7":2}},{"max_new_tokens":1,"logit_bias":{"7":2}},{"max_new_tokens":1,"min_new_tokens":1,"logit_bias":{"7":2}}]}`, []int{6, 3}},
	} {
		be.positions = nil
		if status, body := post(t, ts.URL+c.path, c.body); status != 200 || !slices.Equal(be.positions, c.want) {
			t.Errorf("%s %s: forwards of %v positions (%d %.200s), want %v", c.path, c.body, be.positions, status, body, c.want)
		}
	}
}

// TestLogitBiasCheckedInVLLMsOrder: of a request with two faults, one
// of them logit_bias's, the one refused is the one vLLM refuses first: a
// bias that is no number with the request's validation, before all else;
// a key that is no integer after the pydantic model's own checks
// (prompt_logprobs, min_tokens' type, cache_salt) and before the sampling
// parameters' bounds (temperature, min_tokens, top_p) and the logprobs
// asked; a token id outside the vocabulary after those (an empty bad word
// among them), and before stop_token_ids and allowed_token_ids are checked
// against it.
func TestLogitBiasCheckedInVLLMsOrder(t *testing.T) {
	s, ts := testServer(t, VLLM)
	vocab := s.Src.Vocab
	keys := `logit_bias contains key(s) that cannot be converted to integer token IDs: ['x']`
	outside := fmt.Sprintf(`token_id(s) [99999] in logit_bias contain out-of-vocab token ids. Vocabulary size: %d`, vocab)
	for _, c := range []struct{ fields, param, want string }{
		{`"logit_bias":{"5":"abc"},"temperature":-1`, "", `logit_bias["5"] must be a number, got "abc"`},
		{`"logit_bias":{"5":"abc","x":1}`, "", `logit_bias["5"] must be a number, got "abc"`},
		{`"logit_bias":{"x":1},"prompt_logprobs":-5`, "prompt_logprobs", "`prompt_logprobs` must be a positive value or -1."},
		{`"logit_bias":{"x":1},"min_tokens":0.5`, "min_tokens", `min_tokens must be a whole number, got 0.5`},
		{`"logit_bias":{"x":1},"cache_salt":""`, "cache_salt", `Parameter 'cache_salt' must be a non-empty string if provided.`},
		{`"logit_bias":{"x":1},"temperature":-1`, "logit_bias", keys},
		{`"logit_bias":{"x":1},"min_tokens":2`, "logit_bias", keys},
		{`"logit_bias":{"x":1},"top_p":5`, "logit_bias", keys},
		{`"logit_bias":{"x":1},"n":0`, "logit_bias", keys},
		{`"logit_bias":{"x":1},"logprobs":50`, "logit_bias", keys},
		{`"logit_bias":{"99999":1},"temperature":-1`, "temperature", `temperature must be non-negative, got -1.0.`},
		{`"logit_bias":{"99999":1},"bad_words":["a",""]`, "bad_words", `bad_words cannot contain an empty string. Got bad_words=['a', '']`},
		{`"logit_bias":{"x":1},"bad_words":[""]`, "logit_bias", keys},
		{`"logit_bias":{"99999":1},"logprobs":50`, "logprobs", `Requested sample logprobs of 50, which is greater than max allowed: 20`},
		{`"logit_bias":{"99999":1},"stop_token_ids":[99999]`, "logit_bias", outside},
		{`"logit_bias":{"99999":1},"allowed_token_ids":[]`, "logit_bias", outside},
		{`"logit_bias":{"99999":1},"allowed_token_ids":[99999]`, "logit_bias", outside},
	} {
		status, body := post(t, ts.URL+"/v1/completions", `{"prompt":"a","max_tokens":1,`+c.fields+`}`)
		var r struct {
			Error struct {
				Message string
				Param   *string
			}
		}
		if status != 400 || json.Unmarshal([]byte(body), &r) != nil || !strings.HasPrefix(r.Error.Message, c.want) {
			t.Errorf("%s: %d %s; want 400 with %q", c.fields, status, body, c.want)
			continue
		}
		if c.param != "" && (r.Error.Param == nil || *r.Error.Param != c.param) {
			t.Errorf("%s: param %v, want %q", c.fields, r.Error.Param, c.param)
		}
	}
}
