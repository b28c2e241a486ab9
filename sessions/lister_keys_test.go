package sessions

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// TestConfigTypesChecksEveryKey: configTypes notes a value of the wrong
// type at every key a run's config.toml holds, the engine's
// (runconfig.Config, the type it decodes into) and an import's, so that a
// key the engine gains is checked too, and none is read as another type.
func TestConfigTypesChecksEveryKey(t *testing.T) {
	checked := 0
	for _, rt := range []reflect.Type{reflect.TypeFor[runconfig.Config](), reflect.TypeFor[ImportConfig]()} {
		for key := range keyOrder(rt) {
			ft, ok := fieldTypeAt(rt, strings.Split(key, "."))
			if !ok {
				t.Fatalf("%s: no field for key %s", rt, key)
			}
			var wrong string
			switch tomlKindName(ft) {
			case "table":
				continue // its keys are walked too
			case "datetime":
				// import.time: DecodeStrict says a value that is no time
				// as a time it cannot parse, not as a wrong type, and
				// configTypes notes only wrong types.
				continue
			case "string":
				wrong = "1"
			default:
				wrong = "'x'"
			}
			text := key + " = " + wrong + "\n"
			if table, name, ok := strings.Cut(key, "."); ok {
				text = "[" + table + "]\n" + name + " = " + wrong + "\n"
			}
			err := configTypes(ConfigFile, []byte(text))
			if want := fmt.Sprintf("key %q: wrong type", key); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s = %s: %v, want %q", key, wrong, err, want)
			}
			checked++
		}
	}
	if checked < 40 {
		t.Errorf("%d keys checked: the walk missed some", checked)
	}
}
