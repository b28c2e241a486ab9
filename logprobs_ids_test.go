package main

import (
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
