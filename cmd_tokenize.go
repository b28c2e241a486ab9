package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
)

const tokenizeUsage = `
Usage: rlt tokenize --tokenizer FILE < in.jsonl > out.jsonl

Reads JSON Lines {"text": "..."} on stdin and writes one line per input
line, in order: {"ids": [...], "tokens": [...]} with Hugging Face's
byte-level BPE semantics. A line that cannot be read, a blank one
included, gets {"line": N, "error": "..."} and the rest go on; the exit
status is 1 if any line failed.

Example:
  echo '{"text": "347+285=?"}' | rlt tokenize --tokenizer /tmp/defaults/teacher/tokenizer.json
`

func runTokenize(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt tokenize", tokenizeUsage, stderr)
	path := fs.String("tokenizer", "", "tokenizer.json, or a model folder holding one (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "tokenizer"); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	tok, err := loadTokenizer(*path)
	if err != nil {
		return err
	}
	return eachJSONLine(stdin, stdout, `{"text": "347+285=?"}`, func(line []byte) (any, error) {
		var in struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(line, &in); err != nil {
			return nil, errors.New(jsonerr.Say(err))
		}
		if in.Text == nil {
			if text, _ := nullFields(line); text {
				return nil, errors.New(`field "text" is null where text is wanted: write the text as a JSON string, such as {"text": "347+285=?"}`)
			}
			return nil, fmt.Errorf(`missing "text"`)
		}
		if err := loneSurrogate(line); err != nil {
			return nil, err
		}
		ids := tok.Encode(*in.Text)
		toks := make([]string, len(ids))
		for i, id := range ids {
			toks[i] = tok.TokenString(id)
		}
		return struct {
			IDs    []int32  `json:"ids"`
			Tokens []string `json:"tokens"`
		}{ids, toks}, nil
	})
}

// nullFields reports whether a stdin line's "text" and "ids" hold JSON
// null, matched as encoding/json matches them to the fields it reads them
// into, so that a null is said as one: it reads into those fields as if
// the key were not there, and was said as a missing field.
func nullFields(line []byte) (text, ids bool) {
	var raw struct {
		Text json.RawMessage `json:"text"`
		IDs  json.RawMessage `json:"ids"`
	}
	if json.Unmarshal(line, &raw) != nil {
		return false, false
	}
	return string(raw.Text) == "null", string(raw.IDs) == "null"
}

// loneSurrogate refuses a stdin line whose "text" (matched as
// encoding/json matches it) holds an escape of half a UTF-16 surrogate
// pair without its other half (\udc00, or \ud83d not followed by a low
// half): no character. encoding/json reads it as U+FFFD, so it was
// tokenized as "�" where Hugging Face tokenizers refuses it (Python's
// json reads it into a str that cannot be encoded as UTF-8: "surrogates
// not allowed"); a text that means something else than was written is
// said, not tokenized. nil when the text holds none.
func loneSurrogate(line []byte) error {
	if !bytes.Contains(bytes.ToLower(line), []byte(`\ud`)) { // the cheap case: no such escape at all
		return nil
	}
	var raw struct {
		Text json.RawMessage `json:"text"`
	}
	if json.Unmarshal(line, &raw) != nil {
		return nil
	}
	s := raw.Text
	half := func(i int) (uint64, bool) { // the \uXXXX escape at s[i], if one
		if i+6 > len(s) || s[i] != '\\' || s[i+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(s[i+2:i+6]), 16, 16)
		return v, err == nil
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		v, ok := half(i)
		switch {
		case !ok:
			i++ // another escape (\\, \"): its character is no escape's start
			continue
		case v >= 0xD800 && v < 0xDC00:
			if w, ok := half(i + 6); ok && w >= 0xDC00 && w < 0xE000 {
				i += 11 // a pair: one character
				continue
			}
		case v < 0xDC00 || v >= 0xE000:
			i += 5
			continue
		}
		return fmt.Errorf(`field "text" holds %s, half of a UTF-16 surrogate pair without its other half: no character, which Hugging Face tokenizers refuses (Python reads it but cannot encode it as UTF-8); write the character itself, or both halves of its pair (\ud83d\ude00 for U+1F600)`, s[i:i+6])
	}
	return nil
}
