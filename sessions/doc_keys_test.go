package sessions

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDocNamesEveryEventKey: the package doc's events.jsonl line names
// every key an EventRecord is written with (its json tags), and none
// other: a field added to the record (643cdfd's "words") was left out of
// the folder's description.
func TestDocNamesEveryEventKey(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	// The doc's lines, less their comment marks, as one text.
	var text strings.Builder
	for _, line := range strings.Split(string(src), "\n") {
		text.WriteString(strings.TrimSpace(strings.TrimPrefix(line, "//")))
	}
	m := regexp.MustCompile(`\{("time",[^}]*)\}\s*\(EventRecord\)`).FindStringSubmatch(text.String())
	if m == nil {
		t.Fatal(`doc.go has no {"time",…} (EventRecord) key list for events.jsonl`)
	}
	var documented []string
	for _, k := range strings.Split(m[1], ",") {
		documented = append(documented, strings.Trim(k, `"`))
	}
	var keys []string
	typ := reflect.TypeFor[EventRecord]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	slices.Sort(documented)
	slices.Sort(keys)
	if !slices.Equal(documented, keys) {
		t.Errorf("doc.go's events.jsonl keys %v;\nEventRecord's json keys %v", documented, keys)
	}
}
