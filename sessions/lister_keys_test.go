package sessions

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// TestRunConfigKeysAreTheEngines: the keys the listing checks the types
// of (runConfigKeys) are those of the engine's configuration and an
// import's, each of the same kind (a uint64 is not an int: its range
// differs), so that a key the engine gains is checked too.
func TestRunConfigKeysAreTheEngines(t *testing.T) {
	kinds := func(types ...reflect.Type) map[string]string {
		out := map[string]string{}
		for _, rt := range types {
			for key := range keyOrder(rt) {
				ft, ok := fieldTypeAt(rt, strings.Split(key, "."))
				if !ok {
					t.Fatalf("%s: no field for key %s", rt, key)
				}
				out[key] = tomlKindName(ft) + " " + ft.Kind().String()
			}
		}
		return out
	}
	engine := kinds(reflect.TypeFor[runconfig.Config](), reflect.TypeFor[ImportConfig]())
	listed := kinds(reflect.TypeFor[runConfigKeys]())
	var keys []string
	for k := range engine {
		keys = append(keys, k)
	}
	for k := range listed {
		if _, ok := engine[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if engine[k] != listed[k] {
			t.Errorf("key %s: the engine's is %q, the listing checks %q", k, engine[k], listed[k])
		}
	}
	if len(engine) < 30 {
		t.Errorf("the engine's configuration has %d keys: the walk missed some", len(engine))
	}
}
