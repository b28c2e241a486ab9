package sessions

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
)

func TestReadableJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name, line, want string
	}{
		{"step as text", `{"step":"3","values":{"reward":1}}`, `field "step" holds a JSON string where a whole number is wanted`},
		{"values as a list", `{"step":3,"values":[1]}`, `field "values" holds a JSON array where an object is wanted`},
		{"not JSON", `{"step":3,`, `unexpected end of JSON input`},
		{"bad character", `{"step":3x}`, `not valid JSON at byte 10`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeMetric([]byte(tc.line), nil)
			if err == nil {
				t.Fatal("no error")
			}
			got := jsonerr.Say(err)
			if !strings.Contains(got, tc.want) {
				t.Errorf("%q, want it to contain %q", got, tc.want)
			}
			for _, goName := range []string{"Go struct", "metricJSON", "int", "map[string]"} {
				if strings.Contains(got, goName) {
					t.Errorf("%q names Go type %q", got, goName)
				}
			}
		})
	}
}

// TestBadTimeSaidAtItsLine: a record whose time is no time is skipped and
// said at its file and line in the format's name, a review's and a
// metric's alike; it was 'parsing time "x" as "2006-01-02T15:04:05Z07:00":
// cannot parse "x" as "2006"'.
func TestBadTimeSaidAtItsLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := testCfg()
	r, err := Create(dir, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	emitSteps(r, 0, 1, 1, 2)
	r.Close()
	appendLine := func(name, line string) string {
		path := filepath.Join(dir, name)
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.WriteString(line + "\n")
		data, _ := os.ReadFile(path)
		return fmt.Sprintf("%s:%d", path, strings.Count(string(data), "\n"))
	}
	review := appendLine(ReviewsFile, `{"time":"x","trace":"0-0-1","label":"accept","note":""}`)
	metric := appendLine(MetricsFile, `{"step":9,"time":"yesterday","values":{"kl":1}}`)
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var got []string
	for _, is := range ro.Store().Issues() {
		got = append(got, is.String())
	}
	for _, want := range []string{
		review + `: skipped broken record: time "x" is not an RFC 3339 time (such as 2026-12-05T21:40:00Z)`,
		metric + `: skipped broken record: time "yesterday" is not an RFC 3339 time (such as 2026-12-05T21:40:00Z)`,
	} {
		if !slices.Contains(got, want) {
			t.Errorf("issues %q\nwant %q", got, want)
		}
	}
}
