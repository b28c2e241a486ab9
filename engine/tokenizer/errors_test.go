package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixtureMap returns a fixture as a JSON map, to be edited.
func fixtureMap(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMalformed(t *testing.T) {
	model := func(m map[string]any) map[string]any { return m["model"].(map[string]any) }
	pre := func(m map[string]any, i int) map[string]any {
		return m["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[i].(map[string]any)
	}
	cases := []struct {
		name   string
		edit   func(m map[string]any)
		raw    string // used instead of the edited fixture when set
		wantIn []string
	}{
		{name: "bad JSON", raw: `{"model": {`, wantIn: []string{"not valid tokenizer JSON: it ends at line 1, column 11 before the JSON is complete: the file was cut short"}},
		{name: "not an object", raw: `[1,2]`, wantIn: []string{"not valid tokenizer JSON"}},
		{name: "no model", raw: `{"pre_tokenizer": null}`, wantIn: []string{": model: missing"}},
		{name: "model type", edit: func(m map[string]any) { model(m)["type"] = "WordPiece" },
			wantIn: []string{"model.type", `"WordPiece"`, "not supported"}},
		{name: "merge unknown token", edit: func(m map[string]any) {
			mg := model(m)["merges"].([]any)
			mg[3] = []any{"Ġt", "zzzz"}
		}, wantIn: []string{"model.merges[3]", `"zzzz"`, "not in model.vocab"}},
		{name: "merge result unknown", edit: func(m map[string]any) {
			mg := model(m)["merges"].([]any)
			mg[5] = []any{"q", "q"}
		}, wantIn: []string{"model.merges[5]", `merged token "qq"`}},
		{name: "merge string three parts", edit: func(m map[string]any) {
			model(m)["merges"].([]any)[0] = "a b c"
		}, wantIn: []string{"model.merges[0]", "two tokens"}},
		{name: "merge wrong shape", edit: func(m map[string]any) {
			model(m)["merges"].([]any)[0] = []any{"a"}
		}, wantIn: []string{"model.merges[0]", "two tokens"}},
		{name: "vocab id", edit: func(m map[string]any) { model(m)["vocab"].(map[string]any)["x"] = "seven" },
			wantIn: []string{`model.vocab["x"]`}},
		{name: "unknown split pattern", edit: func(m map[string]any) {
			pre(m, 0)["pattern"] = map[string]any{"Regex": `\w+|\s+`}
		}, wantIn: []string{"pre_tokenizer.pretokenizers[0].pattern.Regex", "unknown split pattern"}},
		{name: "split behavior", edit: func(m map[string]any) { pre(m, 0)["behavior"] = "Removed" },
			wantIn: []string{"pre_tokenizer.pretokenizers[0].behavior", `"Removed"`}},
		{name: "pre-tokenizer type", edit: func(m map[string]any) { pre(m, 1)["type"] = "Metaspace" },
			wantIn: []string{"pre_tokenizer.pretokenizers[1].type", `"Metaspace"`}},
		{name: "no ByteLevel", edit: func(m map[string]any) {
			p := m["pre_tokenizer"].(map[string]any)
			p["pretokenizers"] = p["pretokenizers"].([]any)[:1]
		}, wantIn: []string{"pre_tokenizer.pretokenizers[0]", "must be ByteLevel"}},
		{name: "normalizer", edit: func(m map[string]any) { m["normalizer"] = map[string]any{"type": "NFKC"} },
			wantIn: []string{"normalizer.type", `"NFKC"`, "only NFC or none"}},
		{name: "normalizer in sequence", edit: func(m map[string]any) {
			m["normalizer"] = map[string]any{"type": "Sequence", "normalizers": []any{
				map[string]any{"type": "NFC"}, map[string]any{"type": "Lowercase"}}}
		}, wantIn: []string{"normalizer.normalizers[1].type", `"Lowercase"`}},
		{name: "decoder", edit: func(m map[string]any) { m["decoder"] = map[string]any{"type": "WordPiece"} },
			wantIn: []string{"decoder.type", `"WordPiece"`}},
		{name: "byte fallback", edit: func(m map[string]any) { model(m)["byte_fallback"] = true },
			wantIn: []string{"model.byte_fallback"}},
		// An id far past the others names the token that holds it (it was
		// said as model.vocab's whatever the token).
		{name: "added token id too high", edit: func(m map[string]any) {
			m["added_tokens"].([]any)[1].(map[string]any)["id"] = 1 << 30
		}, wantIn: []string{"added_tokens[1] (", "id 1073741824 is too high"}},
		{name: "vocab id too high", edit: func(m map[string]any) { model(m)["vocab"].(map[string]any)["x"] = 1 << 30 },
			wantIn: []string{`model.vocab["x"]: id 1073741824 is too high`}},
		// A component of the wrong JSON kind is said in JSON's words, not
		// Go's ("cannot unmarshal array into Go value of type …").
		{name: "decoder a list", edit: func(m map[string]any) { m["decoder"] = []any{1} },
			wantIn: []string{"decoder: a JSON array where an object is wanted"}},
		{name: "model a list", edit: func(m map[string]any) { m["model"] = []any{1} },
			wantIn: []string{"model: a JSON array where an object is wanted"}},
		{name: "added token without id", edit: func(m map[string]any) {
			delete(m["added_tokens"].([]any)[1].(map[string]any), "id")
		}, wantIn: []string{"added_tokens[1].id"}},
		// A vocabulary that can only give wrong ids. Each loaded before:
		// an empty one failed later as an empty prompt, one without "h"
		// encoded "hi there" as "i tere", two tokens of one id decoded it
		// to either, and an added token took an id the model gives another
		// token (Hugging Face's tokenizers give it another id).
		{name: "vocab empty", edit: func(m map[string]any) {
			model(m)["vocab"], model(m)["merges"], m["added_tokens"] = map[string]any{}, []any{}, []any{}
		},
			wantIn: []string{"model.vocab: empty: a byte-level BPE vocabulary holds a token for each of the 256 bytes"}},
		// Tokens no merge holds: the merges alone do not refuse it.
		{name: "vocab without a byte", edit: func(m map[string]any) { delete(model(m)["vocab"].(map[string]any), "Z") },
			wantIn: []string{`model.vocab: lacks the byte-level token "Z" (byte 0x5a): `, "with no model.unk_token a byte without one is dropped from the text"}},
		{name: "vocab without bytes", edit: func(m map[string]any) {
			for _, tok := range []string{"~", "@", "#", "&", "X"} {
				delete(model(m)["vocab"].(map[string]any), tok)
			}
		}, wantIn: []string{`model.vocab: lacks the byte-level token "#" (byte 0x23), "&" (byte 0x26), "@" (byte 0x40) and 2 more: `}},
		{name: "vocab id twice", edit: func(m map[string]any) {
			v := model(m)["vocab"].(map[string]any)
			v["zz"] = v["h"]
		}, wantIn: []string{`model.vocab["zz"]: id 104 is also the id of "h": two tokens of one id cannot be told apart`}},
		// The empty token is a token too: with another of its id it was
		// refused or not as the map's order fell.
		{name: "vocab id twice, one empty", edit: func(m map[string]any) {
			v := model(m)["vocab"].(map[string]any)
			v[""] = v["h"]
		}, wantIn: []string{`model.vocab["h"]: id 104 is also the id of "": two tokens of one id cannot be told apart`}},
		{name: "added token of a vocab id", edit: func(m map[string]any) {
			m["added_tokens"].([]any)[1].(map[string]any)["id"] = 104
		}, wantIn: []string{`added_tokens[1] ("<|im_start|>"): id 104 is model.vocab's id of "h", another token`}},
		{name: "added token of a vocab token", edit: func(m map[string]any) {
			m["added_tokens"].([]any)[1].(map[string]any)["content"] = "h"
		}, wantIn: []string{`added_tokens[1] ("h"): id 1201, where model.vocab gives "h" the id 104`}},
	}
	// What each says to do: a file damaged (or not Hugging Face's
	// tokenizers') is downloaded again; one of a kind this reader does not
	// read needs a model of another family; a file with no model is not a
	// tokenizer.json. They said what was wrong and no more.
	const redownload, byteLevel, give = "download the model's tokenizer.json again", "give a model of such a family", "give a Hugging Face model folder's tokenizer.json"
	do := map[string]string{
		"bad JSON": redownload, "not an object": redownload, "no model": give, "model type": byteLevel,
		"merge unknown token": redownload, "merge result unknown": redownload, "merge string three parts": redownload,
		"merge wrong shape": redownload, "vocab id": redownload, "unknown split pattern": byteLevel, "split behavior": byteLevel,
		"pre-tokenizer type": byteLevel, "no ByteLevel": byteLevel, "normalizer": byteLevel, "normalizer in sequence": byteLevel,
		"decoder": byteLevel, "byte fallback": byteLevel, "added token id too high": redownload, "vocab id too high": redownload,
		"decoder a list": redownload, "model a list": redownload, "added token without id": redownload,
		"vocab empty": redownload, "vocab without a byte": redownload, "vocab without bytes": redownload, "vocab id twice": redownload, "vocab id twice, one empty": redownload,
		"added token of a vocab id": redownload, "added token of a vocab token": redownload,
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.wantIn = append(c.wantIn, do[c.name])
			if do[c.name] == "" {
				t.Fatalf("no remedy expected for %q", c.name)
			}
			data := []byte(c.raw)
			if c.raw == "" {
				m := fixtureMap(t, "qwen2_pairs")
				c.edit(m)
				data, _ = json.Marshal(m)
			}
			path := filepath.Join(t.TempDir(), "tokenizer.json")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil {
				t.Fatal("no error")
			}
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("error %v is not a *Error", err)
			}
			msg := err.Error()
			for _, w := range append([]string{path}, c.wantIn...) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
				t.Errorf("Parse error %v does not name tokenizer.json", err)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}

// Vocabularies that load as Hugging Face's tokenizers load them, ids and
// all: an added token that is a vocabulary entry's own (the same id and
// content, as GPT-2's and some Qwen tokenizers list <|endoftext|>), and a
// vocabulary without a byte's token that names an unk_token (the byte is
// encoded as it, as Hugging Face's BPE does, not dropped).
func TestVocabAsHuggingFaceLoadsIt(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(m map[string]any)
		text string
		want []string // the tokens of text
	}{
		{"added token of its own vocab entry", func(m map[string]any) {
			m["added_tokens"] = append(m["added_tokens"].([]any), map[string]any{"id": 104, "content": "h", "special": true})
		}, "hi there", []string{"h", "i", "Ġt", "h", "e", "re"}},
		{"no byte token, an unk_token", func(m map[string]any) {
			v := m["model"].(map[string]any)["vocab"].(map[string]any)
			delete(v, "Z") // no merge holds it
			v["<unk>"] = 90
			m["model"].(map[string]any)["unk_token"] = "<unk>"
		}, "aZ", []string{"a", "<unk>"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := fixtureMap(t, "qwen2_pairs")
			c.edit(m)
			data, _ := json.Marshal(m)
			tok, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, id := range tok.Encode(c.text) {
				got = append(got, tok.TokenString(id))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("Encode(%q) = %q, want %q", c.text, got, c.want)
			}
		})
	}
}

// Variants that must load: merges as strings, no normalizer, the GPT-2
// pattern as a Split, a Sequence normaliser of NFC only, ByteLevel with its
// default use_regex.
func TestAcceptedVariants(t *testing.T) {
	edits := map[string]func(m map[string]any){
		"gpt2 split": func(m map[string]any) {
			p := m["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)
			p[0].(map[string]any)["pattern"] = map[string]any{"Regex": gpt2Pattern}
		},
		"nfc sequence": func(m map[string]any) {
			m["normalizer"] = map[string]any{"type": "Sequence", "normalizers": []any{map[string]any{"type": "NFC"}}}
		},
		"no decoder, no model type": func(m map[string]any) {
			m["decoder"] = nil
			delete(m["model"].(map[string]any), "type")
		},
		"bare ByteLevel": func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "ByteLevel", "add_prefix_space": false}
		},
	}
	for name, edit := range edits {
		m := fixtureMap(t, "qwen2_pairs")
		edit(m)
		data, _ := json.Marshal(m)
		tok, err := Parse(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if s := "Hello, world's 123!\n"; tok.Decode(tok.Encode(s)) != s {
			t.Errorf("%s: round trip failed", name)
		}
	}
}

// A 256-byte vocabulary with no merges (the smallest model folder the
// project uses) is a valid tokenizer: every byte is its own token.
func TestByteVocabulary(t *testing.T) {
	vocab := map[string]int{}
	for b := 0; b < 256; b++ {
		vocab[string(byteToRune[b])] = b
	}
	m := map[string]any{
		"added_tokens": []any{
			map[string]any{"id": 256, "content": ImStart, "special": true},
			map[string]any{"id": 257, "content": ImEnd, "special": true},
		},
		"normalizer":    nil,
		"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false},
		"decoder":       map[string]any{"type": "ByteLevel"},
		"model":         map[string]any{"type": "BPE", "vocab": vocab, "merges": []any{}},
	}
	data, _ := json.Marshal(m)
	tok, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	s := ImStart + "héllo\n" + ImEnd
	ids := tok.Encode(s)
	want := []int32{256, 'h', 0xC3, 0xA9, 'l', 'l', 'o', '\n', 257}
	if !slices.Equal(ids, want) || tok.Decode(ids) != s || tok.VocabSize() != 258 {
		t.Errorf("Encode = %v, want %v (vocab %d)", ids, want, tok.VocabSize())
	}
}

// A model folder's tokenizer.json under a file, or another file of a model
// folder given as its tokenizer, is said for what it is with what to give
// instead, not as a file that is no directory or no tokenizer JSON.
func TestLoadOfAModelFoldersOtherFiles(t *testing.T) {
	model := t.TempDir()
	for _, name := range []string{"config.json", "model.safetensors"} {
		os.WriteFile(filepath.Join(model, name), []byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      "), 0o644)
	}
	weights, config := filepath.Join(model, "model.safetensors"), filepath.Join(model, "config.json")
	data := filepath.Join(t.TempDir(), "data.jsonl")
	os.WriteFile(data, []byte("{}\n"), 0o644)
	for _, c := range []struct {
		path, want string
	}{
		{filepath.Join(weights, "tokenizer.json"), weights + " is a file, not a model folder: give the folder that holds it (" + model + ")"},
		{filepath.Join(data, "tokenizer.json"), data + " is a file, not a model folder: give a folder holding config.json"},
		{weights, "tokenizer: " + weights + " is a model folder's model.safetensors, not its tokenizer: give " + filepath.Join(model, "tokenizer.json") + " or the folder that holds it (" + model + ")"},
		{config, "tokenizer: " + config + " is a model folder's config.json, not its tokenizer"},
		{data, data + ": model: missing: this is not a tokenizer.json"}, // any other file is read as one
	} {
		if _, err := Load(c.path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%s): %v, want %q", c.path, err, c.want)
		}
	}
}

// A model folder without tokenizer.json is said as every command says it,
// with how to make one where the slow tokenizer's vocab.json and merges.txt
// are there; those files given as the tokenizer (a vocab.json by its
// content too, whatever its name) are said for what they are.
func TestLoadOfTheSlowTokenizersFiles(t *testing.T) {
	bare, slow := t.TempDir(), t.TempDir()
	vocab := `{"hello": 0, "model": 1, "Ġworld": 2}`
	os.WriteFile(filepath.Join(slow, "vocab.json"), []byte(vocab), 0o644)
	os.WriteFile(filepath.Join(slow, "merges.txt"), []byte("#version: 0.2\nh e\n"), 0o644)
	renamed := filepath.Join(t.TempDir(), "tok.json")
	os.WriteFile(renamed, []byte(vocab), 0o644)
	need := func(dir string) string {
		return fmt.Sprintf("a tokenizer.json is needed; transformers writes it: AutoTokenizer.from_pretrained(%q).save_pretrained(%q)", dir, dir)
	}
	for _, c := range []struct {
		path, want, not string
	}{
		{filepath.Join(bare, "tokenizer.json"), bare + " holds no tokenizer.json: give the tokenizer.json of the model, or the model folder that holds it", "vocab.json"},
		{filepath.Join(slow, "tokenizer.json"), slow + " holds no tokenizer.json: give the tokenizer.json of the model, or the model folder that holds it; its vocab.json and merges.txt (the slow tokenizer's files) are not read: " + need(slow), ""},
		{filepath.Join(slow, "vocab.json"), "tokenizer: " + filepath.Join(slow, "vocab.json") + ": the slow tokenizer's vocab.json, not a tokenizer.json: " + need(slow), ""},
		{filepath.Join(slow, "merges.txt"), "tokenizer: " + filepath.Join(slow, "merges.txt") + ": the slow tokenizer's merges.txt, not a tokenizer.json: " + need(slow), ""},
		{renamed, "tokenizer: " + renamed + ": a vocab.json (token → id) of the slow tokenizer, not a tokenizer.json: " + need(filepath.Dir(renamed)), "unmarshal"},
	} {
		_, err := Load(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || (c.not != "" && strings.Contains(err.Error(), c.not)) {
			t.Errorf("Load(%s): %v\nwant %q", c.path, err, c.want)
		}
	}
}

// TestKeysAreCaseSensitive: a key of the file, its model, an added token or
// a component written in another case ("Model", "Vocab", "Content") is
// refused, naming the file, where, the key found and the key wanted:
// encoding/json would read it as the key, where Hugging Face's tokenizers
// (serde) matches keys exactly and loads another tokenizer or none. Keys
// of the vocabulary are tokens, in any case, and keys no part of the
// reader reads are passed over as before.
func TestKeysAreCaseSensitive(t *testing.T) {
	rename := func(m any, from, to string) {
		o := m.(map[string]any)
		o[to] = o[from]
		delete(o, from)
	}
	model := func(m map[string]any) any { return m["model"] }
	pre := func(m map[string]any, i int) any {
		return m["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[i]
	}
	for _, c := range []struct {
		name      string
		edit      func(m map[string]any)
		where     string // the object's path, "" for the file's
		key, want string
	}{
		{"file", func(m map[string]any) { rename(m, "model", "Model") }, "", "Model", "model"},
		{"file, another key", func(m map[string]any) { rename(m, "added_tokens", "Added_Tokens") }, "", "Added_Tokens", "added_tokens"},
		{"model", func(m map[string]any) { rename(model(m), "vocab", "Vocab") }, "model", "Vocab", "vocab"},
		{"model flag", func(m map[string]any) { rename(model(m), "ignore_merges", "IGNORE_MERGES") }, "model", "IGNORE_MERGES", "ignore_merges"},
		{"model type", func(m map[string]any) { rename(model(m), "type", "Type") }, "model", "Type", "type"},
		{"added token", func(m map[string]any) { rename(m["added_tokens"].([]any)[2], "special", "Special") }, "added_tokens[2]", "Special", "special"},
		{"pre-tokenizer", func(m map[string]any) { rename(m["pre_tokenizer"], "type", "Type") }, "pre_tokenizer", "Type", "type"},
		{"pre-tokenizer in sequence", func(m map[string]any) { rename(pre(m, 1), "add_prefix_space", "Add_Prefix_Space") }, "pre_tokenizer.pretokenizers[1]", "Add_Prefix_Space", "add_prefix_space"},
		{"split pattern", func(m map[string]any) { rename(pre(m, 0).(map[string]any)["pattern"], "Regex", "regex") }, "pre_tokenizer.pretokenizers[0].pattern", "regex", "Regex"},
		{"normalizer in sequence", func(m map[string]any) {
			m["normalizer"] = map[string]any{"type": "Sequence", "normalizers": []any{map[string]any{"TYPE": "NFC"}}}
		}, "normalizer.normalizers[0]", "TYPE", "type"},
		{"decoder", func(m map[string]any) { rename(m["decoder"], "type", "tYpe") }, "decoder", "tYpe", "type"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := fixtureMap(t, "qwen2_pairs")
			c.edit(m)
			data, _ := json.Marshal(m)
			path := filepath.Join(t.TempDir(), "tokenizer.json")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("Load: %v, want a *Error", err)
			}
			if te.File != path || te.Key != c.where {
				t.Errorf("error at %s, %q; want %s, %q", te.File, te.Key, path, c.where)
			}
			if want := fmt.Sprintf("%q is not a field: the field is %q", c.key, c.want); !strings.Contains(te.Msg, want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		})
	}
	// Tokens named like keys, and keys this reader does not read.
	m := fixtureMap(t, "qwen2_pairs")
	vocab := m["model"].(map[string]any)["vocab"].(map[string]any)
	vocab["Model"], vocab["Type"], vocab["VOCAB"] = 1500, 1501, 1502
	m["Post_Processor"] = nil
	data, _ := json.Marshal(m)
	if _, err := Parse(data); err != nil {
		t.Errorf("tokens named like keys: %v", err)
	}
}

// TestEmptyTokenSharingAnIDIsRefusedEveryTime: whether two tokens of one
// id are refused must not depend on the vocabulary map's order, which
// differs from parse to parse; the empty token once passed when it came
// second.
func TestEmptyTokenSharingAnIDIsRefusedEveryTime(t *testing.T) {
	m := fixtureMap(t, "qwen2_pairs")
	v := m["model"].(map[string]any)["vocab"].(map[string]any)
	v[""] = v["h"]
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), "two tokens of one id") {
			t.Fatalf("parse %d: error %v, want two tokens of one id refused", i, err)
		}
	}
}
