package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

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
	fs := newFlags("rlt tokenize", tokenizeUsage, stdout, stderr)
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
// pair without its other half (jsonerr.Surrogates, the one checker of
// every reader of user text); nil when the text holds none.
func loneSurrogate(line []byte) error {
	if !jsonerr.MayHoldSurrogate(line) { // the cheap case: no such escape at all
		return nil
	}
	var raw struct {
		Text json.RawMessage `json:"text"`
	}
	if json.Unmarshal(line, &raw) != nil {
		return nil
	}
	return jsonerr.Surrogates(`field "text"`, raw.Text)
}
