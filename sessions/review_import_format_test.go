package sessions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An import's [import] format that is text rlt import never writes (empty,
// or a hand edit's "oficial") is said at its line with the formats to
// write, by the listing and rlt score --run (ConfigTypes) and the export
// (StudentPrompt), as a format of the wrong type is; the run stays an
// import. An empty one made it a run of ours (rlt run --resume refused it
// for every key of a training configuration it lacks, the export wrote the
// models' prompt); an unknown one was taken unsaid for a traces file's,
// its steps numbered from 0 where a trainer's count from 1.
func TestImportWithAnUnknownFormat(t *testing.T) {
	const rest = "source = '/data/rows.jsonl'\nfiles = ['rows.jsonl']\ntraces = 1\nstudent_system = 'Answer.'\n"
	const hint = ` (the trainer rlt import read the run from, as it wrote it: format = "official", "trl", "verl", "nemo-rl" or "traces")`
	for _, c := range []struct {
		name, text   string
		format, want string // ImportedFrom's format, and configTypes' words after the file
	}{
		{"empty", "[import]\nformat = ''\n" + rest, "format unread", `:2:10: key "import.format": no format (it is empty)`},
		{"a typo", "[import]\nformat = \"oficial\"\n" + rest, "oficial", `:2:10: key "import.format": unknown format "oficial"`},
		{"after a mistyped value", "[import]\ntraces = 'one'\nformat = 'foo'\nsource = '/data/rows.jsonl'\n", "foo", `:2:10: key "import.traces": wrong type: got TOML string, want integer; 1 more on line 3;`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, ConfigFile)
			if err := os.WriteFile(cfg, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			src, ok := ImportedFrom(dir)
			if !ok || src.Format != c.format || src.Source != "/data/rows.jsonl" {
				t.Errorf("ImportedFrom: %+v, %v; want an import of /data/rows.jsonl, its format %q", src, ok, c.format)
			}
			want := cfg + c.want
			if !strings.Contains(c.want, "more on") {
				want += hint + "; the run's settings cannot be read until it is fixed"
			}
			if err := configTypes(cfg, []byte(c.text)); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("configTypes: %v\nwant it to start %q", err, want)
			}
			r, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got, err := r.StudentPrompt(); err == nil || !strings.HasSuffix(err.Error(), "so nothing is exported until it is fixed") {
				t.Errorf("StudentPrompt %q, %v; want it refused", got, err)
			}
		})
	}
	// The formats rlt import writes are none of this.
	for _, f := range importFormatsWritten {
		if ce := unknownImportFormat("config.toml", []byte("[import]\nformat = '"+f+"'\n")); ce != nil {
			t.Errorf("format %q: %v", f, ce)
		}
	}
}
