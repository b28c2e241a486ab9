package record

import (
	"runtime"
	"testing"
)

// DocumentError's jq line names the file as shell.Quote does every path a
// command is told to give: a name starting with '-' as ./-name, which jq
// would read as an option.
func TestDocumentFixQuotesThePath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the words below are a POSIX shell's")
	}
	for _, c := range []struct {
		path, want string
	}{
		{"rows.json", "jq -c '.[]' rows.json > rows.jsonl"},
		{"my data/rows.json", "jq -c '.[]' 'my data/rows.json' > rows.jsonl"},
		{"it's.json", `jq -c '.[]' 'it'\''s.json' > rows.jsonl`},
		{"-rows.json", "jq -c '.[]' ./-rows.json > rows.jsonl"},
	} {
		e := &DocumentError{Path: c.path, Array: true, Lines: 3}
		if got, want := e.Fix(), "write one object a line (e.g. "+c.want+")"; got != want {
			t.Errorf("%q: %s, want %s", c.path, got, want)
		}
	}
}
