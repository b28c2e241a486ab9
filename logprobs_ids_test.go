package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogprobsBadIDs: an id no token of the model has is said as the
// row's, at its index, with the vocabulary's range (it was the tape's
// "embedding: id 99999 at position 2 is outside table …"), and the other
// rows go on.
func TestLogprobsBadIDs(t *testing.T) {
	dir := tinyFolderRows(t, "f32", 1216)
	for _, c := range []struct{ row, want string }{
		{`{"ids": [1, 2, 99999]}`, `{"line":1,"error":"\"ids\"[2] is 99999, not a token id of this model: its vocabulary is 0..1215"}`},
		{`{"ids": [-1]}`, `{"line":1,"error":"\"ids\"[0] is -1, not a token id of this model: its vocabulary is 0..1215"}`},
		{`{"ids": [1216]}`, `"ids\"[0] is 1216`},
	} {
		code, out, errs := runCLI(t, c.row+"\n{\"ids\": [1, 2]}\n", "logprobs", "--model", dir, "--device", "cpu")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 1 || len(lines) != 2 || !strings.Contains(lines[0], c.want) || !strings.Contains(lines[1], `"logprobs"`) {
			t.Errorf("%s: exit %d\n%s\n%s\nwant its line to hold %s and the next row to go on", c.row, code, out, errs, c.want)
		}
	}
}

// TestLogprobsNonFiniteIsTheLinesError: a log-prob that comes out -Inf
// (the embedded teacher's logits divided by --temperature 1e-38 overflow
// float32) is that line's error, naming the flag, and the next line goes
// on; it ended the command with the encoder's "json: unsupported value:
// -Inf", no line named and no line after it written.
func TestLogprobsNonFiniteIsTheLinesError(t *testing.T) {
	model := filepath.Join("engine", "defaults", "models", "teacher")
	code, out, errs := runCLI(t, "{\"ids\": [51, 52, 55]}\n{\"ids\": [51]}\n", "logprobs", "--model", model, "--device", "cpu", "--temperature", "1e-38")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := `{"line":1,"error":"the log-prob of \"ids\"[1] is -Inf, which JSON cannot hold: at --temperature 1e-38 the logits divided by it overflow float32; give a larger --temperature"}`
	if code != 1 || len(lines) != 2 || lines[0] != want || lines[1] != `{"ids":[51],"tokens":["3"],"logprobs":[null]}` {
		t.Errorf("exit %d\n%s\n%s\nwant exit 1, the first line %s and the second line's log-probs", code, out, errs, want)
	}
}

// TestLogprobsModelFolderBeforeDevice: a --model that is no model folder
// is said before any device opens, as rlt generate's is, also where it
// holds no tokenizer.json (ids can be scored without one); it was said
// once the device had opened ("computing on cpu/avx512" first).
func TestLogprobsModelFolderBeforeDevice(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing")
	empty := t.TempDir()
	for _, c := range []struct{ dir, want string }{
		{missing, "rlt logprobs: load model " + missing + ": model folder " + missing + " does not exist"},
		{empty, "rlt logprobs: load model " + empty + ": model folder " + empty + " is incomplete: missing config.json"},
	} {
		code, out, errs := runCLI(t, "{\"ids\": [1, 2]}\n", "logprobs", "--model", c.dir, "--device", "cpu")
		if code != 1 || out != "" || !strings.HasPrefix(errs, c.want) || strings.Contains(errs, "computing on") {
			t.Errorf("--model %s: exit %d, output %q, stderr %q; want exit 1 and %q before any device", c.dir, code, out, errs, c.want)
		}
	}
}

// TestLogprobsPastThePositions: a line of more tokens than the model's
// positions is that line's error in the words of every refusal past a
// model's positions (model.PositionsError: the model, what, its tokens,
// by how much, what to do), and the next line goes on; it said "300
// tokens are more than the model's 256 positions", no model named and
// nothing to do.
func TestLogprobsPastThePositions(t *testing.T) {
	teacher := filepath.Join("engine", "defaults", "models", "teacher")
	ids := strings.TrimSuffix(strings.Repeat("51, ", 257), ", ")
	for _, c := range []struct{ row, want string }{
		{`{"text": "` + strings.Repeat("1", 300) + `"}`, `{"line":1,"error":"the model ` + teacher + `: \"text\" takes 300 tokens, 44 more than its 256 positions (max_position_embeddings): give a text of at most 256 tokens"}`},
		{`{"ids": [` + ids + `]}`, `{"line":1,"error":"the model ` + teacher + `: \"ids\" takes 257 tokens, 1 more than its 256 positions (max_position_embeddings): give at most 256 ids"}`},
	} {
		code, out, errs := runCLI(t, c.row+"\n{\"ids\": [51]}\n", "logprobs", "--model", teacher, "--device", "cpu")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 1 || len(lines) != 2 || lines[0] != c.want || !strings.Contains(lines[1], `"logprobs"`) {
			t.Errorf("exit %d\n%s\n%s\nwant the first line %s and the next row to go on", code, out, errs, c.want)
		}
	}
}

// TestLogprobsTextWithoutATokenizer: a text line to a --model folder with
// no tokenizer.json says what the user can do, give the line's ids or put
// the model's tokenizer.json in the folder, and the ids lines go on; it
// said "give the tokenizer.json of the model, or the model folder that
// holds it", which rlt logprobs, with no flag for a tokenizer, cannot take.
func TestLogprobsTextWithoutATokenizer(t *testing.T) {
	dir := tinyFolderRows(t, "f32", 1216)
	if err := os.Remove(filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "{\"text\": \"ab\"}\n{\"ids\": [1, 2]}\n", "logprobs", "--model", dir, "--device", "cpu")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := `{"line":1,"error":"cannot tokenize \"text\": ` + dir + ` holds no tokenizer.json, which logprobs tokenizes with: put the model's tokenizer.json there, or give the line's token ids, such as {\"ids\": [18, 19]}"}`
	if code != 1 || len(lines) != 2 || lines[0] != want || !strings.Contains(lines[1], `"logprobs"`) {
		t.Errorf("exit %d\n%s\n%s\nwant the first line %s and the ids line to go on", code, out, errs, want)
	}
}

// TestLogprobsEmptyInputSaysWhich: an empty "ids" or "text" is that
// line's error naming which was empty and what to give (it was "no
// tokens", which said neither), and the next line goes on.
func TestLogprobsEmptyInputSaysWhich(t *testing.T) {
	teacher := filepath.Join("engine", "defaults", "models", "teacher")
	for _, c := range []struct{ row, want string }{
		{`{"ids": []}`, `{"line":1,"error":"\"ids\" is empty: give at least one token id, such as {\"ids\": [18, 19]}"}`},
		{`{"text": ""}`, `{"line":1,"error":"\"text\" is empty: give a text to score, such as {\"text\": \"347+285=?\"}"}`},
	} {
		code, out, errs := runCLI(t, c.row+"\n{\"ids\": [51]}\n", "logprobs", "--model", teacher, "--device", "cpu")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 1 || len(lines) != 2 || lines[0] != c.want || !strings.Contains(lines[1], `"logprobs"`) {
			t.Errorf("%s: exit %d\n%s\n%s\nwant the first line %s and the next row to go on", c.row, code, out, errs, c.want)
		}
	}
}
