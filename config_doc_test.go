package main

import (
	"encoding"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

// configKey is one key of a run configuration (runconfig.Config) as
// config.toml spells it ("grpo.lr"), with its TOML type and its default
// in rlt train (runpkg.DefaultConfig: what --print-config prints) and in
// rlt run (runner.DefaultConfig: the embedded models' run), each as the
// encoder writes the value.
type configKey struct {
	key, typ, train, run string
}

// configKeys walks the configuration's struct, table by table, in the
// order the encoder writes it, reading each key's default off the two
// default configurations.
func configKeys(t *testing.T) []configKey {
	t.Helper()
	var keys []configKey
	var walk func(prefix string, typ reflect.Type, train, run reflect.Value)
	text := reflect.TypeFor[encoding.TextMarshaler]()
	walk = func(prefix string, typ reflect.Type, train, run reflect.Value) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "" || name == "-" {
				t.Fatalf("%s%s has no toml key: the table cannot name it", prefix, f.Name)
			}
			ft := f.Type
			if ft.Kind() == reflect.Struct && !ft.Implements(text) {
				walk(prefix+name+".", ft, train.Field(i), run.Field(i))
				continue
			}
			var kind string
			switch {
			case ft.Implements(text), ft.Kind() == reflect.String:
				kind = "string"
			case ft.Kind() == reflect.Bool:
				kind = "boolean"
			case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Uint64:
				kind = "integer"
			case ft.Kind() == reflect.Float32 || ft.Kind() == reflect.Float64:
				kind = "float"
			default:
				t.Fatalf("%s%s: a %s, which the table has no type for", prefix, name, ft)
			}
			keys = append(keys, configKey{prefix + name, kind, tomlValue(t, train.Field(i)), tomlValue(t, run.Field(i))})
		}
	}
	train := runpkg.DefaultConfig("", "")
	run := runner.DefaultConfig("MODELS", 0)
	walk("", reflect.TypeFor[runconfig.Config](), reflect.ValueOf(train), reflect.ValueOf(run))
	return keys
}

// tomlValue is v as the run configuration's encoder (sessions.EncodeTOML,
// rlt train --print-config's) writes it.
func tomlValue(t *testing.T, v reflect.Value) string {
	t.Helper()
	data, err := sessions.EncodeTOML(map[string]any{"k": v.Interface()})
	if err != nil {
		t.Fatal(err)
	}
	val, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "k = ")
	if !ok {
		t.Fatalf("encoding %v: %q", v, data)
	}
	return val
}

// described are the keys whose default the table says in words, not as a
// value: the system prompts, which rlt train takes from the model
// folders' prompts.json (the long default prompts where they hold none).
var described = map[string]bool{"prompts.teacher_system": true, "prompts.student_system": true}

// TestConfigKeysDoc: docs/formats.md's config.toml table has a row for
// every key of the run configuration and none other, in the order rlt
// train --print-config prints them, each with its TOML type, its default
// as --print-config prints it (rlt run's beside it where the embedded
// models' run differs), what it is and what reads it. A key added to the
// configuration without a row, or a default changed under its row, fails
// here: the table was only `rlt train --print-config`.
func TestConfigKeysDoc(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("docs", "formats.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(data), "\n## Run configuration (config.toml)\n")
	if !ok {
		t.Fatal("docs/formats.md has no section '## Run configuration (config.toml)'")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var order []string
	byKey := map[string][]string{} // a row's cells
	for _, l := range strings.Split(sec, "\n") {
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), " | ")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		key := strings.Trim(cells[0], "`")
		if _, dup := byKey[key]; dup {
			t.Errorf("row of %s: a second row", key)
		}
		byKey[key], order = cells, append(order, key)
	}
	keys := configKeys(t)
	var want []string
	for _, k := range keys {
		want = append(want, k.key)
		cells, ok := byKey[k.key]
		if !ok {
			t.Errorf("no row for %s (a %s, default %s): add one to docs/formats.md's config.toml table", k.key, k.typ, k.train)
			continue
		}
		if len(cells) != 5 {
			t.Errorf("row of %s: %d cells, want 5 (key, type, default, what it is, read by)", k.key, len(cells))
			continue
		}
		typ, def, what, readBy := cells[1], cells[2], cells[3], cells[4]
		if typ != k.typ {
			t.Errorf("row of %s: type %q, want %q", k.key, typ, k.typ)
		}
		switch {
		case described[k.key]:
			if strings.HasPrefix(def, "`") {
				t.Errorf("row of %s: default %q: said in words, as the models' prompts", k.key, def)
			}
		case !strings.HasPrefix(def, "`"+k.train+"`"):
			t.Errorf("row of %s: default %q, want it to start `%s` (rlt train --print-config's)", k.key, def, k.train)
		case k.run != k.train && strings.Contains(k.run, "MODELS"):
			if !strings.Contains(def, "(`rlt run`: the embedded") {
				t.Errorf("row of %s: default %q does not say rlt run's, the embedded models' (%s)", k.key, def, k.run)
			}
		case k.run != k.train:
			if !strings.Contains(def, "(`rlt run`: `"+k.run+"`)") {
				t.Errorf("row of %s: default %q does not say rlt run's, (`rlt run`: `%s`)", k.key, def, k.run)
			}
		case strings.Contains(def, "`rlt run`"):
			t.Errorf("row of %s: default %q says an rlt run default, but rlt run's is %s as rlt train's", k.key, def, k.run)
		}
		if what == "" || readBy == "" {
			t.Errorf("row of %s: says nothing of what it is or what reads it", k.key)
		}
	}
	for _, k := range order {
		if !slices.Contains(want, k) {
			t.Errorf("row of %s: no such key in the run configuration (runconfig.Config)", k)
		}
	}
	if len(order) == len(want) && !slices.Equal(order, want) {
		t.Errorf("rows in the order %v, want --print-config's %v", order, want)
	}
	if len(want) < 40 {
		t.Errorf("only %d keys found in runconfig.Config: is the walk broken?", len(want))
	}
}
