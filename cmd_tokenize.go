package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

const tokenizeUsage = `
Usage: rlt tokenize --tokenizer FILE < in.jsonl > out.jsonl

Reads JSON Lines {"text": "..."} on stdin and writes one line per input:
{"ids": [...], "tokens": [...]} with Hugging Face's byte-level BPE semantics.
A malformed line gets {"line": N, "error": "..."} and the rest go on; the
exit status is 1 if any line failed.

Example:
  echo '{"text": "347+285=?"}' | rlt tokenize --tokenizer model/tokenizer.json
`

func runTokenize(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt tokenize", tokenizeUsage, stderr)
	path := fs.String("tokenizer", "", "tokenizer.json, or a model folder holding one (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	tok, err := loadTokenizer(*path)
	if err != nil {
		return err
	}
	return eachJSONLine(stdin, stdout, func(line []byte) (any, error) {
		var in struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(line, &in); err != nil {
			return nil, fmt.Errorf("not a JSON object: %v", err)
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

// loadTokenizer accepts tokenizer.json or the model folder that holds it.
func loadTokenizer(path string) (*tokenizer.Tokenizer, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = path + string(os.PathSeparator) + "tokenizer.json"
	}
	return tokenizer.Load(path)
}

// errLines says some input lines failed; each was reported in the output.
type errLines int

func (e errLines) Error() string {
	return fmt.Sprintf("%d input lines failed (see their error records)", int(e))
}

// eachJSONLine runs fn on every non-blank stdin line and writes its result
// as one JSON line; a failing line is written as {"line": N, "error": ...}.
func eachJSONLine(in io.Reader, out io.Writer, fn func(line []byte) (any, error)) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	failed, n := 0, 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		res, err := fn(line)
		if err != nil {
			failed++
			res = struct {
				Line  int    `json:"line"`
				Error string `json:"error"`
			}{n, err.Error()}
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading stdin at line %d: %w", n+1, err)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return errLines(failed)
	}
	return nil
}
