package hf

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestWholeNumber: one reader of whole numbers for config.json (hf) and
// generation_config.json (engine/serve), one wording: the file, the key,
// the value, why, and what to write. They differed: hf's jsonInt said
// 1e400 (past any float64) was no integer where engine/serve's
// wholeNumber took it as a number past the vocabulary, and a float past
// 2^53 was refused by one and taken by the other. Digits past 2^53 are
// read exactly; a float is the one Python holds, as transformers and vLLM
// compare it.
func TestWholeNumber(t *testing.T) {
	const fix = "write a count"
	for _, c := range []struct {
		raw  string
		want int64
		err  string
	}{
		{`896`, 896, ""},
		{`896.0`, 896, ""},
		{`1e3`, 1000, ""},
		{`-1`, -1, ""}, // whole: a negative id is the caller's to refuse
		{`9007199254740993`, 9007199254740993, ""},
		{`9007199254740993.0`, 9007199254740992, ""}, // Python's float
		{`1e16`, 1e16, ""},
		{`1e400`, 0, `f.json: k 1e400 is past any whole number read here (2^63): write a count`},
		{`9223372036854775808`, 0, `f.json: k 9223372036854775808 is past any whole number read here (2^63): write a count`},
		{`-1e19`, 0, `f.json: k -1e19 is past any whole number read here (2^63): write a count`},
		{`1.5`, 0, `f.json: k 1.5 is not a whole number: write a count`},
		{`"12"`, 0, `f.json: k "12" is a string, not a whole number (write it without the quotes): write a count`},
		{`"x"`, 0, `f.json: k "x" is a string, not a whole number: write a count`},
		{`true`, 0, `f.json: k true is a boolean, not a whole number: write a count`},
		{`null`, 0, `f.json: k null is not a number: write a count`},
		{`[1]`, 0, `f.json: k [1] is a list, not a whole number: write a count`},
		{`{"a":1}`, 0, `f.json: k {"a":1} is an object, not a whole number: write a count`},
	} {
		got, err := WholeNumber("f.json", "k", json.RawMessage(c.raw), fix)
		switch {
		case c.err != "":
			if err == nil || err.Error() != c.err {
				t.Errorf("%s: %d, %v; want %q", c.raw, got, err, c.err)
			}
		case err != nil || got != c.want:
			t.Errorf("%s: %d, %v; want %d", c.raw, got, err, c.want)
		}
	}
	// A long value is cut at a character's start: cut inside one, the
	// error held a byte that is no UTF-8.
	long := `"` + strings.Repeat("é", 30) + `"`
	if _, err := WholeNumber("f.json", "k", json.RawMessage(long), fix); err == nil || !utf8.ValidString(err.Error()) || !strings.Contains(err.Error(), `k "`+strings.Repeat("é", 19)+`…`) {
		t.Errorf("%s: %q", long, err)
	}
	// A list's item keeps its comma; no file leaves it to the caller.
	_, err := WholeNumber("", `ids [1, "x"]: its item 2,`, json.RawMessage(`"x"`), fix)
	if want := `ids [1, "x"]: its item 2, "x", is a string, not a whole number: write a count`; err == nil || err.Error() != want {
		t.Errorf("item: %v, want %q", err, want)
	}
}

// TestConfigBigNumbers: config.json's sizes and ids past 2^53 and past
// any float are said in WholeNumber's words, the file named by LoadConfig.
func TestConfigBigNumbers(t *testing.T) {
	base := `"vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4`
	for _, c := range []struct{ json, want string }{
		{`{` + base + `, "eos_token_id": 1e400}`, `eos_token_id 1e400 is past any whole number read here (2^63): fix the file: write the id of a token, or a list of them, or remove the key`},
		{`{` + base + `, "eos_token_id": [1, 1e400]}`, `eos_token_id [1, 1e400]: its item 2, 1e400, is past any whole number read here (2^63)`},
		{`{` + base + `, "eos_token_id": -1.5}`, `eos_token_id -1.5 is not a whole number`},
		{`{` + base + `, "eos_token_id": "12"}`, `eos_token_id "12" is a string, not a whole number (write it without the quotes)`},
	} {
		if _, err := ParseConfig([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant %q", c.json, err, c.want)
		}
	}
	// 9007199254740993 (digits) is that id exactly, and -1 a whole number
	// Validate refuses as no token's.
	c, err := ParseConfig([]byte(`{` + base + `, "eos_token_id": [9007199254740993, -1]}`))
	if err != nil || len(c.EOSTokenID) != 2 || int64(c.EOSTokenID[0]) != 9007199254740993 || c.EOSTokenID[1] != -1 {
		t.Fatalf("%v, %v", c.EOSTokenID, err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "eos_token_id 9007199254740993 is outside the vocabulary [0, 256)") || !strings.Contains(err.Error(), "eos_token_id -1 is negative") {
		t.Errorf("Validate: %v", err)
	}
}
