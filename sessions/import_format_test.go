package sessions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// importFormatHint is what every problem of an [import] format says to write.
const importFormatHint = `(the trainer rlt import read the run from, as it wrote it: format = "official", "trl", "verl", "nemo-rl" or "traces")`

// importFormatRest is an import's [import] table past its format.
const importFormatRest = "source = '/data/rows.jsonl'\nfiles = ['rows.jsonl']\ntraces = 1\nstudent_system = 'Answer.'\n"

// importFormatCase is an import of /data/rows.jsonl whose config.toml's
// [import] format is wrong.
type importFormatCase struct {
	name, text string
	format     string // ImportedFrom's format
	want       string // configTypes' words after the file's path
	// exportSays: the export's refusal starts with want too, and Settings
	// calls the run an import.
	exportSays bool
	// exported is the prompt the export writes the rows with, and note
	// what it says of it after the file's path ("": refused, as above).
	exported, note string
}

// checkImportFormat writes each case's config.toml and asks the listing's
// reader (ImportedFrom), ConfigTypes' (configTypes) and the export's
// (StudentPrompt) about it.
func checkImportFormat(t *testing.T, cases []importFormatCase) {
	t.Helper()
	for _, c := range cases {
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
			if err := configTypes(cfg, []byte(c.text)); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("configTypes: %v\nwant it to start %q", err, want)
			}
			r, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if c.exported != "" {
				got, note, err := r.ExportPrompt()
				if err != nil || got != c.exported || !strings.HasPrefix(note, cfg+c.note) {
					t.Errorf("ExportPrompt %q, note %q, %v; want %q, the note starting %q", got, note, err, c.exported, cfg+c.note)
				}
				return
			}
			got, err := r.StudentPrompt()
			if err == nil || !strings.HasSuffix(err.Error(), "so nothing is exported until it is fixed") {
				t.Errorf("StudentPrompt %q, %v; want it refused", got, err)
			} else if c.exportSays && !strings.HasPrefix(err.Error(), want) {
				t.Errorf("StudentPrompt %q, %v\nwant an error starting %q", got, err, want)
			}
			if st := r.Settings(); c.exportSays && st.Imported == "" {
				t.Errorf("Settings: %+v, want an import's", st)
			}
		})
	}
}

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
	wrongType := func(at, got string) string { // the format's line:column, and the type said
		return at + ` key "import.format": wrong type: got TOML ` + got + ", want string " + importFormatHint
	}
	checkImportFormat(t, []importFormatCase{
		{"an integer", "[import]\nformat = 3\n" + importFormatRest, "format unread", wrongType(":2:10:", "integer"), true, "", ""},
		{"a boolean", "[import]\nformat = true\n" + importFormatRest, "format unread", wrongType(":2:10:", "boolean"), true, "", ""},
		{"an array", "[import]\nformat = ['traces']\n" + importFormatRest, "format unread", wrongType(":2:10:", "array"), true, "", ""},
		{"an inline table", "[import]\nformat = { name = 'traces' }\n" + importFormatRest, "format unread", wrongType(":2:10:", "inline table"), true, "", ""},
		{"a table", "[import]\n" + importFormatRest + "\n[import.format]\nname = 'traces'\n", "format unread", wrongType(":7:2:", "table"), true, "", ""},
	})
}

// An import's [import] format that is text rlt import never writes (empty,
// or a hand edit's "oficial") is said at its line with the formats to
// write, by the listing and rlt score --run (ConfigTypes) and the export
// (StudentPrompt), as a format of the wrong type is; the run stays an
// import. An empty one made it a run of ours (rlt run --resume refused it
// for every key of a training configuration it lacks, the export wrote the
// models' prompt); an unknown one was taken unsaid for a traces file's,
// its steps numbered from 0 where a trainer's count from 1. A non-empty
// one (a newer rlt's, or a typo) is exported all the same with the
// student_system the file records, which every rlt writes alike, and a
// note with the way on: it was refused though the rows' prompt stood in
// the file; one that records none is refused with the ways on.
func TestImportWithAnUnknownFormat(t *testing.T) {
	const hinted = " " + importFormatHint + "; the run's settings cannot be read until it is fixed"
	checkImportFormat(t, []importFormatCase{
		{"empty", "[import]\nformat = ''\n" + importFormatRest, "format unread", `:2:10: key "import.format": no format (it is empty)` + hinted, false, "", ""},
		{"a typo", "[import]\nformat = \"oficial\"\n" + importFormatRest, "oficial", `:2:10: key "import.format": unknown format "oficial"` + hinted, false,
			"Answer.", `:2:10: [import] format "oficial" is not one this rlt writes (official, trl, verl, nemo-rl, traces): its rows are exported with the student_system its [import] records, which does not depend on the format; a newer rlt imported it? use that rlt to read the rest of the run (its steps), or correct a typo of the format`},
		{"a newer rlt's, [prompts]' prompt", "[prompts]\nstudent_system = 'Think.'\n[import]\nformat = 'openrlhf'\nsource = '/data/rows.jsonl'\n", "openrlhf", `:4:10: key "import.format": unknown format "openrlhf"` + hinted, false,
			"Think.", `:4:10: [import] format "openrlhf" is not one this rlt writes (official, trl, verl, nemo-rl, traces): its rows are exported with the student_system its [prompts] records`},
		{"after a mistyped value", "[import]\ntraces = 'one'\nformat = 'foo'\nsource = '/data/rows.jsonl'\n", "foo", `:2:10: key "import.traces": wrong type: got TOML string, want integer (such as traces = 1); 1 more on line 3;`, false, "", ""},
	})
	// A format this rlt does not know, whose [import] records no
	// student_system: the default this rlt's formats mean would be a
	// guess, so the export is refused, with the ways on.
	dir := t.TempDir()
	cfg := filepath.Join(dir, ConfigFile)
	if err := os.WriteFile(cfg, []byte("[import]\nformat = 'openrlhf'\nsource = '/data/rows.jsonl'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := cfg + `:2:10: [import] format "openrlhf" is not one this rlt writes (official, trl, verl, nemo-rl, traces), and the [import] records no student_system: the default system prompt this rlt's formats mean may not be what the rows carried, so nothing is exported: export it with the newer rlt that imported it, or write the rows' system prompt as student_system in ` + cfg + `'s [prompts] (or correct a typo of the format)`
	if got, note, err := r.ExportPrompt(); err == nil || err.Error() != want {
		t.Errorf("no student_system: ExportPrompt %q, note %q, %v\nwant %s", got, note, err, want)
	}
	// The formats rlt import writes are none of this.
	for _, f := range importFormatsWritten {
		if ce := unknownImportFormat("config.toml", []byte("[import]\nformat = '"+f+"'\n")); ce != nil {
			t.Errorf("format %q: %v", f, ce)
		}
	}
}

// TestRowsConfigTypesOfAnUnknownFormat: rlt score --run's read of
// config.toml's types (Run.RowsConfigTypes) takes an [import] format this
// rlt does not know by the rule rlt export takes it (unknownFormatRule):
// read past with a note where a student_system is recorded, refused
// where none is; every other mistyped value, and a format of the wrong
// type or an empty one, is refused as ConfigTypes refuses it. It was
// ConfigTypes, which refused every unknown format.
func TestRowsConfigTypesOfAnUnknownFormat(t *testing.T) {
	const rest = "source = '/data/rows.jsonl'\nstudent_system = 'Answer.'\n"
	for _, c := range []struct {
		name, text string
		note, err  string // after the file's path; both "": nothing said
	}{
		{"known", "[import]\nformat = 'traces'\n" + rest, "", ""},
		{"a newer rlt's", "[import]\nformat = 'openrlhf'\n" + rest,
			`:2:10: [import] format "openrlhf" is not one this rlt writes (official, trl, verl, nemo-rl, traces): its rows are scored with the student_system its [import] records, which does not depend on the format; a newer rlt imported it? use that rlt to read the rest of the run (its steps), or correct a typo of the format`, ""},
		{"[prompts]' prompt", "[prompts]\nstudent_system = 'Think.'\n[import]\nformat = 'oficial'\nsource = '/data/rows.jsonl'\n",
			`:4:10: [import] format "oficial" is not one this rlt writes (official, trl, verl, nemo-rl, traces): its rows are scored with the student_system its [prompts] records`, ""},
		{"no student_system", "[import]\nformat = 'openrlhf'\nsource = '/data/rows.jsonl'\n", "",
			`:2:10: [import] format "openrlhf" is not one this rlt writes (official, trl, verl, nemo-rl, traces), and the [import] records no student_system: the default system prompt this rlt's formats mean may not be what the rows carried, so nothing is scored: score it with the newer rlt that imported it, or write the rows' system prompt as student_system in `},
		{"a mistyped value", "[import]\nformat = 'traces'\ntraces = 'one'\n" + rest, "",
			`:3:10: key "import.traces": wrong type: got TOML string, want integer (such as traces = 1); the run's settings cannot be read until it is fixed`},
		// Said at once, the format first: the value may be the newer
		// rlt's. The format was said only once the value was fixed.
		{"and a mistyped value", "[import]\nformat = 'openrlhf'\ntraces = 'one'\n" + rest, "",
			`:2:10: [import] format "openrlhf" is not one this rlt writes (official, trl, verl, nemo-rl, traces): a newer rlt imported it? its values may be that rlt's, so read the run with it; or correct a typo of the format; and ` +
				"%s" + `:3:10: key "import.traces": wrong type: got TOML string, want integer (such as traces = 1); the run's settings cannot be read until it is fixed`},
		{"empty", "[import]\nformat = ''\n" + rest, "", `:2:10: key "import.format": no format (it is empty)`},
		{"of the wrong type", "[import]\nformat = 3\n" + rest, "", `:2:10: key "import.format": wrong type: got TOML integer, want string`},
	} {
		dir := t.TempDir()
		cfg := filepath.Join(dir, ConfigFile)
		if err := os.WriteFile(cfg, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := OpenReadOnly(dir)
		if err != nil {
			t.Fatal(err)
		}
		note, err := r.RowsConfigTypes("scored", "score")
		var exportErr error
		if c.name == "and a mistyped value" { // rlt export says the two alike
			_, _, exportErr = r.ExportPrompt()
		}
		r.Close()
		want := strings.ReplaceAll(c.err, "%s", cfg)
		switch {
		case c.err != "" && (err == nil || !strings.HasPrefix(err.Error(), cfg+want)):
			t.Errorf("%s: %v, want an error starting %q", c.name, err, cfg+want)
		case c.name == "and a mistyped value" && (exportErr == nil || !strings.HasPrefix(exportErr.Error(), cfg+want[:strings.Index(want, "; and ")+6]+cfg+`:3:10: key "import.traces": wrong type`)):
			t.Errorf("%s: ExportPrompt %v", c.name, exportErr)
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.note == "" && note != "", c.note != "" && !strings.HasPrefix(note, cfg+c.note):
			t.Errorf("%s: note %q, want %q", c.name, note, c.note)
		}
	}
}
