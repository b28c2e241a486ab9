package serve

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// sglangTriple is one [logprob, id, text] of SGLang's meta_info.
type sglangTriple struct {
	lp   *float64
	id   int32
	text *string
}

func (t *sglangTriple) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) != 3 {
		return fmt.Errorf("not a [logprob, id, text] triple: %s", b)
	}
	for i, v := range []any{&t.lp, &t.id, &t.text} {
		if err := json.Unmarshal(raw[i], v); err != nil {
			return err
		}
	}
	return nil
}

// sglangMeta is the part of a /generate answer's meta_info that log-probs
// fill; a missing key is nil, a null position a nil list.
type sglangMeta struct {
	In     []sglangTriple   `json:"input_token_logprobs"`
	Out    []sglangTriple   `json:"output_token_logprobs"`
	InTop  [][]sglangTriple `json:"input_top_logprobs"`
	OutTop [][]sglangTriple `json:"output_top_logprobs"`
}

// vllmTop is the vLLM endpoint's top-k at each prompt position after the
// first (prompt_logprobs k) and after the last (logprobs k,
// return_tokens_as_token_ids): ids most likely first, and their log-probs.
func vllmTop(t *testing.T, url string, ids []int32, k int, temp float64) (in [][]int32, inLP [][]float64, next []int32, nextLP []float64) {
	t.Helper()
	idsJSON, _ := json.Marshal(ids)
	status, body := post(t, url+"/v1/completions", fmt.Sprintf(`{"prompt":%s,"max_tokens":1,"prompt_logprobs":%d,"logprobs":%d,"return_tokens_as_token_ids":true,"temperature":%g}`, idsJSON, k, k, temp))
	var c struct {
		Choices []struct {
			PromptLogprobs []map[string]vllmEntry `json:"prompt_logprobs"`
			Logprobs       struct {
				Top []json.RawMessage `json:"top_logprobs"`
			} `json:"logprobs"`
		} `json:"choices"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &c) != nil {
		t.Fatalf("vLLM's top %d: %d %s", k, status, body)
	}
	for _, pos := range c.Choices[0].PromptLogprobs[1:] {
		type e struct {
			id int32
			vllmEntry
		}
		var es []e
		for key, v := range pos {
			var id int32
			fmt.Sscan(key, &id)
			if v.Rank <= k {
				es = append(es, e{id, v})
			}
		}
		slices.SortFunc(es, func(a, b e) int { return cmp.Compare(a.Rank, b.Rank) })
		var ids []int32
		var lps []float64
		for _, x := range es {
			ids, lps = append(ids, x.id), append(lps, x.Logprob)
		}
		in, inLP = append(in, ids), append(inLP, lps)
	}
	// The generated token's dict: itself (the greedy token, rank 1), then
	// the rest of the top k, keyed "token_id:<id>" in that order.
	last := c.Choices[0].Logprobs.Top[len(c.Choices[0].Logprobs.Top)-1]
	var lps map[string]float64
	json.Unmarshal(last, &lps)
	for _, key := range orderedKeys(t, last) {
		var id int32
		fmt.Sscanf(key, "token_id:%d", &id)
		next, nextLP = append(next, id), append(nextLP, lps[key])
	}
	return in, inLP, next, nextLP
}

// TestTopLogprobsNum: top_logprobs_num k answers SGLang's
// input_top_logprobs and output_top_logprobs: a list per position of
// input_token_logprobs and output_token_logprobs (null for the first input
// position, whatever logprob_start_len), each of k [logprob, id, text]
// triples, most likely first, with the vLLM endpoint's top-k ids and
// log-probs for the same positions, the text as return_text_in_logprobs
// says; without return_logprob, or with k 0, neither key.
func TestTopLogprobsNum(t *testing.T) {
	s, ts := testServer(t, Both)
	ids, _ := greedyPrompt(t, s, 5) // greedy tokens: the prompt token is among its position's top k
	idsJSON, _ := json.Marshal(ids)
	tok := tokOf(s)
	for _, c := range []struct {
		k, start, maxNew int // start -1: logprob_start_len absent
		temp             float64
		text, logprob    bool
	}{
		{5, 0, 1, 0.7, false, true},
		{1, 0, 1, 1, true, true},
		{3, 4, 0, 1, true, true},
		{20, len(ids) - 1, 1, 0.5, false, true},
		{4, -1, 1, 1, false, true},
		{0, 0, 1, 1, false, true},
		{5, 0, 1, 1, false, false},
	} {
		name := fmt.Sprintf("k %d start %d max_new_tokens %d τ %g text %v return_logprob %v", c.k, c.start, c.maxNew, c.temp, c.text, c.logprob)
		startField := ""
		if c.start >= 0 {
			startField = fmt.Sprintf(`,"logprob_start_len":%d`, c.start)
		}
		status, body := post(t, ts.URL+"/generate", fmt.Sprintf(`{"input_ids":%s,"sampling_params":{"max_new_tokens":%d,"temperature":%g},"return_logprob":%v,"top_logprobs_num":%d,"return_text_in_logprobs":%v%s}`,
			idsJSON, c.maxNew, c.temp, c.logprob, c.k, c.text, startField))
		var g struct {
			Meta map[string]json.RawMessage `json:"meta_info"`
		}
		if status != 200 || json.Unmarshal([]byte(body), &g) != nil {
			t.Fatalf("%s: %d %s", name, status, body)
		}
		_, hasIn := g.Meta["input_top_logprobs"]
		_, hasOut := g.Meta["output_top_logprobs"]
		if want := c.k > 0 && c.logprob; hasIn != want || hasOut != want {
			t.Errorf("%s: input_top_logprobs %v, output_top_logprobs %v; want them %v", name, hasIn, hasOut, want)
		}
		if !hasIn {
			continue
		}
		metaJSON, _ := json.Marshal(g.Meta)
		var m sglangMeta
		if err := json.Unmarshal(metaJSON, &m); err != nil {
			t.Fatalf("%s: %v: %s", name, err, body)
		}
		positions := 0
		if c.start >= 0 {
			positions = len(ids) - c.start
		}
		if len(m.InTop) != positions || len(m.In) != positions || len(m.OutTop) != c.maxNew || len(m.Out) != c.maxNew {
			t.Fatalf("%s: %d input_top_logprobs for %d input_token_logprobs, %d output_top_logprobs for %d output_token_logprobs; want %d and %d",
				name, len(m.InTop), len(m.In), len(m.OutTop), len(m.Out), positions, c.maxNew)
		}
		in, inLP, next, nextLP := vllmTop(t, ts.URL, ids, c.k, c.temp)
		check := func(where string, got []sglangTriple, own sglangTriple, wantIDs []int32, wantLP []float64) {
			if len(got) != c.k || len(wantIDs) != c.k {
				t.Errorf("%s %s: %d triples, vLLM's %d; want %d", name, where, len(got), len(wantIDs), c.k)
				return
			}
			for j, tr := range got {
				text := tok.DecodeHF([]int32{tr.id}, false)
				if tr.id != wantIDs[j] || tr.lp == nil || *tr.lp != wantLP[j] || c.text != (tr.text != nil) || tr.text != nil && *tr.text != text {
					t.Errorf("%s %s: triple %d is %v %d %v, vLLM's %d %v (text %q asked %v)", name, where, j, tr.lp, tr.id, tr.text, wantIDs[j], wantLP[j], text, c.text)
				}
				if tr.id == own.id && (own.lp == nil || *own.lp != *tr.lp) {
					t.Errorf("%s %s: the token's own log-prob %v, among the top %v", name, where, own.lp, *tr.lp)
				}
			}
		}
		for j, top := range m.InTop {
			pos := c.start + j
			if j == 0 {
				if top != nil || m.In[0].lp != nil {
					t.Errorf("%s: the first input position has top log-probs %v, log-prob %v; want null", name, top, m.In[0].lp)
				}
				continue
			}
			check(fmt.Sprintf("input position %d", pos), top, m.In[j], in[pos-1], inLP[pos-1])
		}
		for j, top := range m.OutTop {
			check("output", top, m.Out[j], next, nextLP)
		}
	}
}

// TestTopLogprobsNumRefused: a negative top_logprobs_num, or one past
// --max-logprobs (-1 allowing the vocabulary), is refused with SGLang's
// error body, saying what was asked and what is allowed.
func TestTopLogprobsNumRefused(t *testing.T) {
	s, ts := testServer(t, SGLang)
	vocab := s.Src.Vocab
	for _, c := range []struct {
		maxLogprobs, k int
		status         int
		want           string
	}{
		{20, -1, 400, `{"error":{"message":"top_logprobs_num must be 0 (none) or a positive count of top log-probs a position, got -1"}}`},
		{20, 21, 400, `{"error":{"message":"Requested top_logprobs_num of 21, which is greater than max allowed: 20 (parameter=top_logprobs_num, value=21; rlt serve --max-logprobs)"}}`},
		{5, 6, 400, `Requested top_logprobs_num of 6, which is greater than max allowed: 5`},
		{-1, vocab + 1, 400, fmt.Sprintf(`Requested top_logprobs_num of %d, which is greater than max allowed: %d`, vocab+1, vocab)},
		{20, 20, 200, `"output_top_logprobs":[[[`},
		{-1, vocab, 200, `"output_top_logprobs":[[[`},
	} {
		s.MaxLogprobs = c.maxLogprobs
		status, body := post(t, ts.URL+"/generate", fmt.Sprintf(`{"input_ids":[1,2,3],"sampling_params":{"max_new_tokens":1},"return_logprob":true,"logprob_start_len":0,"top_logprobs_num":%d}`, c.k))
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("--max-logprobs %d, top_logprobs_num %d: %d %.300s; want %d with %s", c.maxLogprobs, c.k, status, body, c.status, c.want)
		}
	}
}

// TestGenerateList: /generate takes a list of inputs as SGLang does
// ("text" a list of texts, "input_ids" a list of id lists) with
// sampling_params, return_logprob, logprob_start_len, top_logprobs_num
// and rid each one value for all or a list of one per input, and answers
// with a list of the objects each input gets alone, in order; the inputs
// that ask the same of the model run through it together.
func TestGenerateList(t *testing.T) {
	be := &forwards{Backend: compute.NewCPU()}
	_, ts := testServerOn(t, SGLang, be)
	for _, c := range []struct {
		name     string
		inputs   []string // each input's JSON
		field    string   // "text" or "input_ids"
		each     []string // each input's own fields, as a request of it alone has them
		list     string   // the list request's fields besides the inputs
		forwards int      // the model's forwards the list takes
	}{
		{"ids, one value for all", []string{`[5,9,12,3]`, `[7,8]`, `[40,41,42,43,44,45,46]`}, "input_ids",
			[]string{`"sampling_params":{"max_new_tokens":1,"temperature":0.7},"return_logprob":true,"logprob_start_len":0,"top_logprobs_num":3,"rid":"r_0"`,
				`"sampling_params":{"max_new_tokens":1,"temperature":0.7},"return_logprob":true,"logprob_start_len":0,"top_logprobs_num":3,"rid":"r_1"`,
				`"sampling_params":{"max_new_tokens":1,"temperature":0.7},"return_logprob":true,"logprob_start_len":0,"top_logprobs_num":3,"rid":"r_2"`},
			`"sampling_params":{"max_new_tokens":1,"temperature":0.7},"return_logprob":true,"logprob_start_len":0,"top_logprobs_num":3,"rid":"r"`, 1},
		{"texts, a value for each", []string{`"12+9=21"`, `"<|im_start|>user\n347+285=?<|im_end|>"`, `"7"`, `"a longer input, with words"`}, "text",
			[]string{`"sampling_params":{"max_new_tokens":1,"temperature":0.5},"return_logprob":true,"logprob_start_len":2,"top_logprobs_num":0,"rid":"a","return_text_in_logprobs":true`,
				`"sampling_params":{"max_new_tokens":0},"return_logprob":false,"logprob_start_len":-1,"top_logprobs_num":2,"rid":"b","return_text_in_logprobs":true`,
				`"sampling_params":{"max_new_tokens":1,"temperature":0.5},"return_logprob":true,"logprob_start_len":0,"top_logprobs_num":4,"rid":"c","return_text_in_logprobs":true`,
				`"sampling_params":{"max_new_tokens":1,"temperature":0.5},"return_logprob":true,"logprob_start_len":3,"top_logprobs_num":0,"rid":"d","return_text_in_logprobs":true`},
			`"sampling_params":[{"max_new_tokens":1,"temperature":0.5},{"max_new_tokens":0},{"max_new_tokens":1,"temperature":0.5},{"max_new_tokens":1,"temperature":0.5}],` +
				`"return_logprob":[true,false,true,true],"logprob_start_len":[2,-1,0,3],"top_logprobs_num":[0,2,4,0],"rid":["a","b","c","d"],"return_text_in_logprobs":true`, 3},
		{"a list of one", []string{`[3,1,4,1,5]`}, "input_ids",
			[]string{`"sampling_params":{"max_new_tokens":1},"return_logprob":true,"logprob_start_len":1,"rid":"only_0"`},
			`"sampling_params":[{"max_new_tokens":1}],"return_logprob":[true],"logprob_start_len":[1],"rid":"only"`, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			be.positions = nil
			status, body := post(t, ts.URL+"/generate", fmt.Sprintf(`{"%s":[%s],%s}`, c.field, strings.Join(c.inputs, ","), c.list))
			var answers []json.RawMessage
			if status != 200 || json.Unmarshal([]byte(body), &answers) != nil || len(answers) != len(c.inputs) {
				t.Fatalf("%d %.400s; want a list of %d answers", status, body, len(c.inputs))
			}
			if len(be.positions) != c.forwards {
				t.Errorf("forwards of %v positions, want %d forwards", be.positions, c.forwards)
			}
			for i, in := range c.inputs {
				status, alone := post(t, ts.URL+"/generate", fmt.Sprintf(`{"%s":%s,%s}`, c.field, in, c.each[i]))
				if status != 200 {
					t.Fatalf("input %d alone: %d %s", i, status, alone)
				}
				if got, want := string(answers[i]), strings.TrimSpace(alone); got != want {
					t.Errorf("input %d: in the list\n%s\nalone\n%s", i, got, want)
				}
			}
		})
	}
}

// TestGenerateListRefused: a list request that cannot be answered as
// asked is refused with SGLang's error body, naming the field (and the
// entry, or the input) at fault.
func TestGenerateListRefused(t *testing.T) {
	_, ts := testServer(t, SGLang)
	long := "[" + strings.Repeat("1,", 70) + "1]"
	for _, c := range []struct{ body, want string }{
		{`{"input_ids":[[1,2],[3]],"sampling_params":[{"max_new_tokens":1}]}`, `sampling_params has 1 values for 2 inputs: give one per input, or one value for all`},
		{`{"input_ids":[1,2],"return_logprob":[true]}`, `return_logprob is a list, one value per input, but the request has one input`},
		{`{"text":"ab","rid":["a"]}`, `rid is a list, one per input, but the request has one input`},
		{`{"text":[]}`, `text is an empty list`},
		{`{"input_ids":[[1,2],[]],"sampling_params":{"max_new_tokens":0}}`, `input 1: give text or input_ids (not empty)`},
		{`{"input_ids":[[1,2],` + long + `],"sampling_params":{"max_new_tokens":0}}`, `input 1: The input (71 tokens) is longer than the model's context length (64 tokens).`},
		{`{"input_ids":[[1,2],[3,4]],"sampling_params":[{"max_new_tokens":1},{"max_new_tokens":5}]}`, `sampling_params[1]: rlt serve computes input log-probs: sampling_params.max_new_tokens must be 0 or 1 (got 5)`},
		{`{"input_ids":[[1,2],[3,4]],"sampling_params":[{"max_new_tokens":1},{"temperature":-1,"max_new_tokens":1}]}`, `sampling_params[1]: temperature must be a non-negative finite number, got -1.0.`},
		{`{"input_ids":[[1,2],[3,4]],"sampling_params":{"max_new_tokens":1},"return_logprob":true,"top_logprobs_num":[1,21]}`, `input 1: Requested top_logprobs_num of 21, which is greater than max allowed: 20`},
		{`{"input_ids":[[1,2],[3,4]],"sampling_params":{"max_new_tokens":1},"top_logprobs_num":[1,-1]}`, `top_logprobs_num[1] must be 0 (none) or a positive count`},
		{`{"input_ids":[[1,2,3],[3,4]],"sampling_params":{"max_new_tokens":1},"return_logprob":true,"logprob_start_len":[0,2]}`, `input 1: logprob_start_len (2) must be less than the input length (2)`},
		{`{"input_ids":[[1,2],[3,4]],"sampling_params":{"max_new_tokens":1},"rid":["a","b","c"]}`, `The specified rids length mismatch with the batch_size for batch processing.`},
		{`{"input_ids":[[1,2],[3,4]],"sampling_params":{"max_new_tokens":1},"rid":["a","a"]}`, `Duplicate request IDs detected within the request: [\"a\"]`},
		{`{"input_ids":[[1,"a"]]}`, `the body is not the JSON expected: field \"input_ids\" holds a JSON string where a whole number is wanted`},
		{`{"text":["a",5]}`, `the body is not the JSON expected: field \"text\" holds a JSON number where text is wanted`},
		{`{"input_ids":[[1,2]],"sampling_params":[{"max_new_tokens":"1"}]}`, `field \"sampling_params.max_new_tokens\" holds a JSON string where a whole number is wanted`},
		{`{"text":["a"],"input_ids":[[1]]}`, `Either text or input_ids should be provided, not both.`},
	} {
		status, body := post(t, ts.URL+"/generate", c.body)
		if status != 400 || !strings.HasPrefix(body, `{"error":{"message":`) || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s; want 400 with %s", c.body, status, body, c.want)
		}
	}
}

// TestGenerateSamples: sampling_params' n > 1 at temperature 0 answers
// each input n times in a row, as SGLang's parallel sampling does: its
// greedy token each time, the bytes of the input alone but for the id,
// which is the server's own for each sample (SGLang gives each a new
// rid), in a list even for one input. At another temperature the samples
// would differ, so it is refused, saying so; vLLM's n is refused as vLLM
// refuses it at temperature 0, and saying why otherwise.
func TestGenerateSamples(t *testing.T) {
	_, ts := testServer(t, Both)
	const fields = `"return_logprob":true,"logprob_start_len":0,"top_logprobs_num":2`
	for _, c := range []struct {
		name, body string
		inputs     []string // each answer's input, in order
	}{
		{"one input, 3 samples", `{"text":"a","rid":"r","sampling_params":{"max_new_tokens":1,"temperature":0,"n":3},` + fields + `}`, []string{"a", "a", "a"}},
		{"two inputs, 2 samples", `{"text":["a","bc"],"rid":["r1","r2"],"sampling_params":{"max_new_tokens":1,"temperature":0,"n":2},` + fields + `}`, []string{"a", "a", "bc", "bc"}},
		{"one input, a rid list of one, no token generated", `{"text":"a","rid":["r"],"sampling_params":{"max_new_tokens":0,"temperature":0,"n":2},` + fields + `}`, []string{"a", "a"}},
	} {
		status, body := post(t, ts.URL+"/generate", c.body)
		var answers []map[string]json.RawMessage
		if status != 200 || json.Unmarshal([]byte(body), &answers) != nil || len(answers) != len(c.inputs) {
			t.Fatalf("%s: %d %.300s; want a list of %d answers", c.name, status, body, len(c.inputs))
		}
		var req map[string]json.RawMessage
		json.Unmarshal([]byte(c.body), &req)
		ids := map[string]bool{}
		for i, a := range answers {
			// The input alone, as the sample asks it.
			var sp map[string]any
			json.Unmarshal(req["sampling_params"], &sp)
			delete(sp, "n")
			spJSON, _ := json.Marshal(sp)
			status, alone := post(t, ts.URL+"/generate", fmt.Sprintf(`{"text":%q,"rid":"alone","sampling_params":%s,%s}`, c.inputs[i], spJSON, fields))
			var want map[string]json.RawMessage
			if status != 200 || json.Unmarshal([]byte(alone), &want) != nil {
				t.Fatalf("%s: input %q alone: %d %s", c.name, c.inputs[i], status, alone)
			}
			var meta, wantMeta map[string]json.RawMessage
			json.Unmarshal(a["meta_info"], &meta)
			json.Unmarshal(want["meta_info"], &wantMeta)
			var id string
			json.Unmarshal(meta["id"], &id)
			if id == "" || ids[id] || id == "r" || id == "r1" || id == "r2" {
				t.Errorf("%s: answer %d's id %q; want one of the server's own, each its own", c.name, i, id)
			}
			ids[id] = true
			delete(meta, "id")
			delete(wantMeta, "id")
			a["meta_info"], _ = json.Marshal(meta)
			want["meta_info"], _ = json.Marshal(wantMeta)
			if got, w := fmt.Sprint(a), fmt.Sprint(want); got != w {
				t.Errorf("%s: answer %d\n%s\nthe input alone\n%s", c.name, i, got, w)
			}
		}
	}
	for _, c := range []struct{ path, body, want string }{
		{"/generate", `{"text":"a","sampling_params":{"max_new_tokens":1,"n":2}}`, `sampling_params.n 2 asks for 2 samples at temperature 1, which would differ: rlt serve generates the greedy token only; give temperature 0, or n 1`},
		{"/generate", `{"text":["a","b"],"sampling_params":[{"max_new_tokens":1,"temperature":0,"n":2},{"max_new_tokens":1,"temperature":0.5,"n":2}]}`, `sampling_params[1].n 2 asks for 2 samples at temperature 0.5`},
		{"/generate", `{"text":["a","b"],"sampling_params":[{"max_new_tokens":1,"temperature":0,"n":2},{"max_new_tokens":1,"temperature":0}]}`, `The parallel_sample_num should be the same for all samples in sample params.`},
		{"/generate", `{"text":["a","b"],"sampling_params":{"max_new_tokens":1,"temperature":0,"n":2},"return_logprob":[true,false]}`, `Cannot use list return_logprob with parallel_sample_num > 1`},
		{"/generate", `{"text":"a","sampling_params":{"max_new_tokens":1,"temperature":0,"n":1.5}}`, `sampling_params.n must be a whole number, got 1.5`},
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"temperature":0,"n":2}`, `n must be 1 when using greedy sampling, got 2.`},
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"n":0}`, `n must be at least 1, got 0.`},
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"temperature":0.7,"n":3}`, `n 3 asks for 3 samples of each prompt, which would differ: rlt serve answers one choice a prompt, its greedy token`},
	} {
		status, body := post(t, ts.URL+c.path, c.body)
		var r struct{ Error struct{ Message string } }
		if status != 400 || json.Unmarshal([]byte(body), &r) != nil || !strings.Contains(r.Error.Message, c.want) {
			t.Errorf("%s %s: %d %s; want 400 with %q", c.path, c.body, status, body, c.want)
		}
	}
	// n 1 is as without it.
	_, one := post(t, ts.URL+"/generate", `{"text":"a","rid":"r","sampling_params":{"max_new_tokens":1,"n":1}}`)
	_, without := post(t, ts.URL+"/generate", `{"text":"a","rid":"r","sampling_params":{"max_new_tokens":1}}`)
	if one != without {
		t.Errorf("n 1: %s, without it: %s", one, without)
	}
}
