package record

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestScoredArraysJSON: the per-token arrays are written as encoding/json
// writes float32s (earlier output, byte for byte), a −Inf or NaN as Terms'
// strings instead of an error, and read back the same.
func TestScoredArraysJSON(t *testing.T) {
	vals := []float32{0, -0.5, 1e-7, -3.25e-9, 1.5e21, 123456.79, -2.0000002, float32(math.Inf(-1)), float32(math.NaN()), 7e-6}
	s := Scored{Tokens: Tokens{TeacherLP: vals, SolutionLP: []float32{}}}
	got, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	finite, _ := json.Marshal(vals[:7])
	want := `"teacher_logprobs":` + strings.TrimSuffix(string(finite), "]") + `,"-Inf","NaN",0.000007]`
	if !strings.Contains(string(got), want) {
		t.Errorf("wrote %s\nwant it to hold %s", got, want)
	}
	var back Scored
	if err := back.UnmarshalJSON(got); err != nil {
		t.Fatal(err)
	}
	for i, v := range back.TeacherLP {
		if math.Float32bits(v) != math.Float32bits(vals[i]) && !(math.IsNaN(float64(v)) && math.IsNaN(float64(vals[i]))) {
			t.Errorf("element %d read back %v, want %v", i, v, vals[i])
		}
	}
	if back.SolutionLP == nil || len(back.SolutionLP) != 0 || back.StudentLP != nil {
		t.Errorf("empty and absent arrays read back as %v and %v", back.SolutionLP, back.StudentLP)
	}
}
