package sessions

import (
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
