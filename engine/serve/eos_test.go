package serve

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/rlt"
)

// TestEOS: the model's end of sequence ends the generated token as vLLM's
// engine ends it: its tokenizer's eos_token with stop_reason null, the
// generation config's other eos ids as stop token ids (stop_reason the
// id), the token left out of the text unless include_stop_str_in_output,
// and neither with ignore_eos; the tokenizer's comes first.
func TestEOS(t *testing.T) {
	s, ts := testServer(t, VLLM)
	ids := s.Tok.Encode("a")
	sc, err := s.Src.PromptLogProbs(ids, 1, rlt.PromptOptions{Next: true})
	if err != nil {
		t.Fatal(err)
	}
	next, other := sc.Next, (sc.Next+1)%int32(s.Src.Vocab)
	text := vllmOutputText(s.Tok, ids, next, true)
	id := fmt.Sprint(next)
	for _, c := range []struct {
		name   string
		eos    EOS
		fields string
		text   string
		finish string
		reason string // the JSON of stop_reason
	}{
		{"the tokenizer's", EOS{Token: &next}, ``, "", "stop", `null`},
		{"the tokenizer's, kept", EOS{Token: &next}, `,"include_stop_str_in_output":true`, text, "stop", `null`},
		{"the tokenizer's, ignored", EOS{Token: &next}, `,"ignore_eos":true`, text, "length", `null`},
		{"another token", EOS{Token: &other, More: []int32{other}}, ``, text, "length", `null`},
		{"the generation config's", EOS{Token: &other, More: []int32{next}}, ``, "", "stop", id},
		{"the generation config's, no tokenizer's", EOS{More: []int32{other, next}}, ``, "", "stop", id},
		{"the generation config's, ignored", EOS{More: []int32{next}}, `,"ignore_eos":true`, text, "length", `null`},
		{"the request's stop token, whatever ignore_eos", EOS{}, `,"ignore_eos":true,"stop_token_ids":[` + id + `]`, "", "stop", id},
		{"the tokenizer's before the request's", EOS{Token: &next}, `,"stop_token_ids":[` + id + `]`, "", "stop", `null`},
		{"none", EOS{}, ``, text, "length", `null`},
	} {
		s.EOS = c.eos
		for _, echo := range []bool{false, true} {
			body := `{"prompt":"a","max_tokens":1` + c.fields + `}`
			want := c.text
			if echo { // the token vLLM generates and does not show ends it alike
				body, want = `{"prompt":"a","max_tokens":0,"echo":true`+c.fields+`}`, "a"
			}
			status, resp := post(t, ts.URL+"/v1/completions", body)
			var r struct{ Choices []vllmChoice }
			if status != 200 || json.Unmarshal([]byte(resp), &r) != nil || len(r.Choices) != 1 {
				t.Fatalf("%s: %d %s", c.name, status, resp)
			}
			ch := r.Choices[0]
			if ch.Text != want || ch.FinishReason != c.finish || string(ch.StopReason) != c.reason {
				t.Errorf("%s, echo %v: text %q, finish_reason %q, stop_reason %s; want %q, %q, %s", c.name, echo, ch.Text, ch.FinishReason, ch.StopReason, want, c.finish, c.reason)
			}
		}
	}
}

// TestReadEOS: a model folder's end of sequence is read as vLLM reads it:
// the tokenizer's eos_token from special_tokens_map.json, else
// tokenizer_config.json (a text or an AddedToken object); the generation
// config's eos_token_id (one or a list) from generation_config.json, else
// config.json; and as SGLang reads it (what min_new_tokens holds back):
// the tokenizer's, then those of both files, then an added <|eom_id|>; a
// file that says it wrongly is named, with the way on.
func TestReadEOS(t *testing.T) {
	vocab := map[string]int32{"<|im_end|>": 7, "<|endoftext|>": 9, "</s>": 2}
	p := func(v int32) *int32 { return &v }
	for _, c := range []struct {
		name  string
		files map[string]string
		eom   bool // the tokenizer has an <|eom_id|>, 12
		want  EOS
		err   string
	}{
		{"our own folder: none", map[string]string{"config.json": `{"vocab_size":151936}`}, false, EOS{}, ""},
		{"Qwen2.5 Instruct", map[string]string{
			"tokenizer_config.json":  `{"eos_token":"<|im_end|>","pad_token":"<|endoftext|>"}`,
			"generation_config.json": `{"eos_token_id":[151645,151643]}`,
			"config.json":            `{"eos_token_id":151643}`,
		}, false, EOS{Token: p(7), More: []int32{151645, 151643}, SGLang: []int32{7, 151645, 151643}}, ""},
		{"the tokenizer's among the generation config's", map[string]string{
			"tokenizer_config.json":  `{"eos_token":{"content":"<|im_end|>","special":true}}`,
			"generation_config.json": `{"eos_token_id":[9,7,9]}`,
		}, false, EOS{Token: p(7), More: []int32{9}, SGLang: []int32{7, 9}}, ""},
		{"special_tokens_map.json first", map[string]string{
			"special_tokens_map.json": `{"eos_token":"</s>"}`,
			"tokenizer_config.json":   `{"eos_token":"<|im_end|>"}`,
		}, false, EOS{Token: p(2), SGLang: []int32{2}}, ""},
		{"special_tokens_map.json without one", map[string]string{
			"special_tokens_map.json": `{"pad_token":"</s>"}`,
			"tokenizer_config.json":   `{"eos_token":"<|im_end|>"}`,
		}, false, EOS{Token: p(7), SGLang: []int32{7}}, ""},
		{"generation_config.json without one: none for vLLM, config.json's for SGLang", map[string]string{
			"generation_config.json": `{"do_sample":true}`,
			"config.json":            `{"eos_token_id":9}`,
		}, false, EOS{SGLang: []int32{9}}, ""},
		{"both files: the first for vLLM, both for SGLang", map[string]string{
			"generation_config.json": `{"eos_token_id":2}`,
			"config.json":            `{"eos_token_id":[9,2]}`,
		}, true, EOS{More: []int32{2}, SGLang: []int32{2, 9, 12}}, ""},
		{"config.json's", map[string]string{"config.json": `{"eos_token_id":9}`}, false, EOS{More: []int32{9}, SGLang: []int32{9}}, ""},
		{"null", map[string]string{"tokenizer_config.json": `{"eos_token":null}`, "config.json": `{"eos_token_id":null}`}, false, EOS{}, ""},
		{"<|eom_id|> alone", map[string]string{"config.json": `{"vocab_size":151936}`}, true, EOS{SGLang: []int32{12}}, ""},
		{"a token the tokenizer lacks", map[string]string{"tokenizer_config.json": `{"eos_token":"<eos>"}`}, false, EOS{},
			`tokenizer_config.json: eos_token "<eos>" is not a token of the folder's tokenizer.json`},
		{"not a token", map[string]string{"tokenizer_config.json": `{"eos_token":5}`}, false, EOS{}, `tokenizer_config.json: eos_token is 5, not a token's text`},
		{"content in another case", map[string]string{"tokenizer_config.json": `{"eos_token":{"Content":"<|im_end|>","special":true}}`}, false, EOS{},
			`tokenizer_config.json: eos_token: "Content" is not a field: the field is "content" (field names are case-sensitive): write it "content"`},
		{"content and a near miss", map[string]string{"special_tokens_map.json": `{"eos_token":{"content":"</s>","CONTENT":"<|im_end|>"}}`}, false, EOS{},
			`special_tokens_map.json: eos_token: "CONTENT" is not a field: the field is "content"`},
		{"not ids", map[string]string{"generation_config.json": `{"eos_token_id":"2"}`}, false, EOS{}, `generation_config.json: eos_token_id "2" is a string, not a whole number (write it without the quotes): fix the file`},
		{"not JSON", map[string]string{"generation_config.json": `{"eos_token_id":`}, false, EOS{}, `generation_config.json: it ends at line 1`},
		// A tokenizer_config.json is read by its one reader
		// (tokenizer.ParseConfig) and refused as every command refuses
		// it: JSON null was a folder without an eos_token.
		{"tokenizer_config.json null", map[string]string{"tokenizer_config.json": `null`}, false, EOS{},
			`tokenizer_config.json: holds a JSON null, not the object of the tokenizer's settings (chat_template, added_tokens_decoder, …) it should be: fix the file, or remove it`},
		{"tokenizer_config.json not JSON", map[string]string{"tokenizer_config.json": "{\n  \"eos_token\": \"<|im_end|>\",\n}\n"}, false, EOS{},
			`tokenizer_config.json: not valid JSON: line 3, column 1: invalid character '}' looking for beginning of object key string: fix the file, or remove it`},
	} {
		dir := t.TempDir()
		for name, data := range c.files {
			if name == "config.json" {
				// Given as hf read it: the file is not read again, so
				// one that is no JSON is never seen.
				data = `{"eos_token_id": [`
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		config := hf.Config{VocabSize: 151936} // Qwen2.5's vocab_size
		if data, ok := c.files["config.json"]; ok {
			config = configOf(t, data)
		}
		id := func(tok string) (int32, bool) {
			if c.eom && tok == "<|eom_id|>" {
				return 12, true
			}
			v, ok := vocab[tok]
			return v, ok
		}
		got, err := ReadEOS(dir, config, id)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), dir) {
				t.Errorf("%s: %v, want an error naming the file with %q", c.name, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case fmt.Sprint(deref(got.Token), got.More, got.SGLang) != fmt.Sprint(deref(c.want.Token), c.want.More, c.want.SGLang):
			t.Errorf("%s: %v %v, SGLang's %v; want %v %v, SGLang's %v", c.name, deref(got.Token), got.More, got.SGLang, deref(c.want.Token), c.want.More, c.want.SGLang)
		}
	}
}

// configOf is the hf.Config of config.json's text js, as far as ReadEOS
// takes it: vocab_size (151936 when absent) and eos_token_id.
func configOf(t *testing.T, js string) hf.Config {
	t.Helper()
	var f struct {
		Vocab *int            `json:"vocab_size"`
		EOS   json.RawMessage `json:"eos_token_id"`
	}
	if err := json.Unmarshal([]byte(js), &f); err != nil {
		t.Fatal(err)
	}
	c := hf.Config{VocabSize: 151936}
	if f.Vocab != nil {
		c.VocabSize = *f.Vocab
	}
	var one int
	switch {
	case len(f.EOS) == 0 || string(f.EOS) == "null":
	case json.Unmarshal(f.EOS, &one) == nil:
		c.EOSTokenID = []int{one}
	default:
		if err := json.Unmarshal(f.EOS, &c.EOSTokenID); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestReadEOSBadIDs: an eos_token_id that is no token the model can
// generate (not a whole number, negative, past config.json's vocab_size,
// or a list with such an item) is refused naming the file, saying what is
// wrong with which value and what to write; it was taken when a number
// (a generation it should end ran to max_tokens), and said as "not a
// token id or a list of them" when a list held one bad item, naming none.
// Whole numbers written as floats are ids, as vLLM's Python compares them.
// config.json's are hf's to read and refuse (hf.Config.Validate); one
// handed over unvalidated is refused here all the same.
func TestReadEOSBadIDs(t *testing.T) {
	const fix = "fix the file: write the id of the token that ends a generation (the tokenizer's end of sequence, from 0 to 15), or a list of them, or remove the key"
	const file = "generation_config.json"
	for _, c := range []struct {
		name, value string
		want        []int32 // eos.More, when it is read
		err         string  // after the file's path
	}{
		{"one", `3`, []int32{3}, ""},
		{"a list", `[3, 15]`, []int32{3, 15}, ""},
		{"whole floats", `[3.0, 1e1]`, []int32{3, 10}, ""},
		{"an empty list", `[]`, nil, ""},
		{"a string", `"3"`, nil, `eos_token_id "3" is a string, not a whole number (write it without the quotes): ` + fix},
		{"a fraction", `1.5`, nil, `eos_token_id 1.5 is not a whole number: ` + fix},
		{"an object", `{"id": 3}`, nil, `eos_token_id {"id": 3} is an object, not a whole number: ` + fix},
		{"true", `true`, nil, `eos_token_id true is a boolean, not a whole number: ` + fix},
		{"negative", `-1`, nil, `eos_token_id -1 is negative, no token's id, so no generation could end with it: ` + fix},
		{"past the vocabulary", `16`, nil, `eos_token_id 16 is past the model's vocabulary (config.json's vocab_size 16: ids 0 to 15), so no generation could end with it: ` + fix},
		{"past int32", `3000000000`, nil, `eos_token_id 3000000000 is past the model's vocabulary (config.json's vocab_size 16: ids 0 to 15)`},
		{"past any float", `1e400`, nil, `eos_token_id 1e400 is past any whole number read here (2^63): ` + fix},
		{"digits past 2^53", `9007199254740993`, nil, `eos_token_id 9007199254740993 is past the model's vocabulary (config.json's vocab_size 16: ids 0 to 15), so no generation could end with it: ` + fix},
		{"a list with a string", `[3, "x"]`, nil, `eos_token_id [3, "x"]: its item 2, "x", is a string, not a whole number: ` + fix},
		{"a list with null", `[null]`, nil, `eos_token_id [null]: its item 1, null, is not a number: ` + fix},
		{"a list with a negative", `[3, -3]`, nil, `eos_token_id [3, -3]: its item 2, -3, is negative, no token's id, so no generation could end with it: ` + fix},
		{"a list past the vocabulary", `[16, 3]`, nil, `eos_token_id [16, 3]: its item 1, 16, is past the model's vocabulary (config.json's vocab_size 16: ids 0 to 15), so no generation could end with it: ` + fix},
		{"a nested list", `[[3]]`, nil, `eos_token_id [[3]]: its item 1, [3], is a list, not a whole number: ` + fix},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, []byte(`{"eos_token_id": `+c.value+`}`), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadEOS(dir, hf.Config{VocabSize: 16}, func(string) (int32, bool) { return 0, false })
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), path+": "+c.err) {
				t.Errorf("%s: %v, want an error with %q", c.name, err, path+": "+c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case fmt.Sprint(got.More) != fmt.Sprint(c.want):
			t.Errorf("%s: %v, want %v", c.name, got.More, c.want)
		}
	}
	// With no vocabulary known (0), only ids no model has are refused.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, file), []byte(`{"eos_token_id": [151645, 3000000000]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadEOS(dir, hf.Config{}, func(string) (int32, bool) { return 0, false }); err == nil || !strings.Contains(err.Error(), "its item 2, 3000000000, is past any vocabulary (token ids are 32-bit)") {
		t.Errorf("no vocabulary, past int32: %v", err)
	}
	configs := []hf.Config{{VocabSize: 16, EOSTokenID: []int{16}}, {EOSTokenID: []int{-1}}}
	if past32 := int64(3000000000); strconv.IntSize == 64 { // an int holds it (not on 386 or arm)
		configs = append(configs, hf.Config{EOSTokenID: []int{int(past32)}})
	}
	for _, c := range configs {
		dir := t.TempDir()
		want := filepath.Join(dir, "config.json") + fmt.Sprintf(": eos_token_id %d is no token id the model has", c.EOSTokenID[0])
		if _, err := ReadEOS(dir, c, func(string) (int32, bool) { return 0, false }); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config.json's %v, vocab_size %d: %v, want an error with %q", c.EOSTokenID, c.VocabSize, err, want)
		}
	}
}

// deref is *p, or "none".
func deref(p *int32) any {
	if p == nil {
		return "none"
	}
	return *p
}
