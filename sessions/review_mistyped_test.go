package sessions

import (
	"path/filepath"
	"strings"
	"testing"
)

// go-toml says a value of another type than its key's in words the
// configuration check reads (typeMismatch): a local date, time or
// datetime (two words, "local date") and an array of tables where no
// array of tables goes are such values too, and are said as wrong types
// at their key and line, as every other kind is, so that the listing and
// rlt score --run (Run.ConfigTypes) say them. They were taken for syntax
// problems, which ConfigTypes passes over: the run listed clean, the
// value left at its default.
func TestMistypedLocalTimesAndArrayTables(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"a local date", "steps = 2026-01-01\n", `:1:9: key "steps": wrong type: got TOML local date, want integer`},
		{"a local time", "steps = 07:30:00\n", `:1:9: key "steps": wrong type: got TOML local time, want integer`},
		{"a local datetime", "[import]\nformat = 2026-01-01T07:30:00\n", `:2:10: key "import.format": wrong type: got TOML local datetime, want string`},
		{"an array of tables", "[[import.format]]\nname = 'traces'\n", `:1:3: key "import.format": wrong type: got TOML array table, want string`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), ConfigFile)
			if err := configTypes(cfg, []byte(c.text)); err == nil || !strings.HasPrefix(err.Error(), cfg+c.want) {
				t.Errorf("configTypes: %v\nwant it to start %q", err, cfg+c.want)
			}
		})
	}
}
