package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestScoreTokenizerFile: --tokenizer takes the tokenizer.json itself as
// well as the model folder holding it (as rlt tokenize does), reading the
// prompts.json beside it, and scores the same; a tokenizer that cannot be
// read is named once, its path and the "tokenizer:" prefix not doubled
// (it was "tokenizer: tokenizer: open DIR/tokenizer.json/tokenizer.json:
// not a directory" for a file).
func TestScoreTokenizerFile(t *testing.T) {
	tURL := startServe(t, "--model", embeddedTeacher)
	sURL := startServe(t, "--model", embeddedStudent, "--api", "sglang")
	in := `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6"}
{"question":"12+9=?","solution":"21","completion":"the answer is 21. 2+9=11"}
`
	code, want, errs := runCLI(t, in, "score", "--teacher", tURL, "--student", sURL, "--tokenizer", embeddedStudent)
	if code != 0 {
		t.Fatalf("--tokenizer a folder: exit %d: %s", code, errs)
	}
	missing := filepath.Join(t.TempDir(), "tok.json")
	for _, tc := range []struct {
		name, tokenizer string
		code            int
		want            string
	}{
		{"tokenizer.json", filepath.Join(embeddedStudent, "tokenizer.json"), 0, ""},
		{"missing file", missing, 1, "open " + missing + ":"},
		{"a model's config.json", filepath.Join(embeddedStudent, "config.json"), 1, filepath.Join(embeddedStudent, "config.json")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, got, errs := runCLI(t, in, "score", "--teacher", tURL, "--student", sURL, "--tokenizer", tc.tokenizer)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, want %d; stderr %q, want %q", code, tc.code, errs, tc.want)
			}
			if strings.Contains(errs, "tokenizer: tokenizer:") || strings.Count(errs, tc.tokenizer) > 1 {
				t.Errorf("stderr %q says the prefix or the path twice", errs)
			}
			if tc.code == 0 {
				sameScores(t, tc.name, scoreLines(t, got), scoreLines(t, want))
			}
		})
	}
}
