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

Reads JSON Lines {"text": "..."} on stdin and writes one line per input:
{"ids": [...], "tokens": [...]} with Hugging Face's byte-level BPE semantics.
A malformed line gets {"line": N, "error": "..."} and the rest go on; the
exit status is 1 if any line failed.

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
			return nil, fmt.Errorf(`missing "text"`)
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
