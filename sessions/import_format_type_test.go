package sessions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An import's config.toml whose [import] format is not text (a hand edit:
// format = 3, a table) stays an import (readImport: the [import] table
// holding a format is an import's, whatever is wrong in it), and the
// format's type is said at its line with what to write, by the listing and
// rlt score --run (ConfigTypes) and by the export (StudentPrompt), which
// reads the rows' prompt from [import]. It was taken for a run of ours:
// rlt run --resume refused it for every key of a training configuration it
// lacks, the export wrote the models' prompt, not the rows' student_system;
// a table's type was said by nothing (go-toml's words for it were taken for
// a syntax problem's).
func TestImportWithAFormatOfTheWrongType(t *testing.T) {
	const rest = "source = '/data/rows.jsonl'\nfiles = ['rows.jsonl']\ntraces = 1\nstudent_system = 'Answer.'\n"
	const hint = `(the trainer rlt import read the run from, as it wrote it: format = "official", "trl", "verl", "nemo-rl" or "traces")`
	for _, c := range []struct {
		name, text string
		at, got    string // the format's line:column, and the type said
	}{
		{"an integer", "[import]\nformat = 3\n" + rest, ":2:10:", "integer"},
		{"a boolean", "[import]\nformat = true\n" + rest, ":2:10:", "boolean"},
		{"an array", "[import]\nformat = ['traces']\n" + rest, ":2:10:", "array"},
		{"an inline table", "[import]\nformat = { name = 'traces' }\n" + rest, ":2:10:", "inline table"},
		{"a table", "[import]\n" + rest + "\n[import.format]\nname = 'traces'\n", ":7:2:", "table"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, ConfigFile)
			if err := os.WriteFile(cfg, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			src, ok := ImportedFrom(dir)
			if !ok || src.Format != "format unread" || src.Source != "/data/rows.jsonl" {
				t.Errorf("ImportedFrom: %+v, %v; want an import of /data/rows.jsonl, its format unread", src, ok)
			}
			want := cfg + c.at + ` key "import.format": wrong type: got TOML ` + c.got + ", want string " + hint
			if err := configTypes(cfg, []byte(c.text)); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("configTypes: %v\nwant it to start %q", err, want)
			}
			r, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got, err := r.StudentPrompt(); err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "so nothing is exported until it is fixed") {
				t.Errorf("StudentPrompt %q, %v\nwant an error starting %q", got, err, want)
			}
			if st := r.Settings(); st.Imported == "" {
				t.Errorf("Settings: %+v, want an import's", st)
			}
		})
	}
}
