package record

import (
	"reflect"
	"testing"
)

// FuzzParseRow: a data row never panics the parser, and parsing is a
// function of the bytes (rows are read, never written back).
func FuzzParseRow(f *testing.F) {
	f.Add([]byte(`{"question":"What is 2+3?","solution":"5"}`))
	f.Add([]byte(`{"id":"a","prompt":"q","question":"q","solution":"s","explanation":"because"}`))
	f.Add([]byte(`{"question":"q","solution":"s","completion":"x<|end_of_explanation|>"}`))
	f.Add([]byte(`{"conversations":[{"from":"user","value":"q"},{"from":"assistant","value":"<|begin_of_thought|>t<|end_of_thought|><|begin_of_solution|>s<|end_of_solution|>"}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, errA := ParseRow(raw)
		b, errB := ParseRow(raw)
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
			t.Fatalf("two parses differ: %+v %v / %+v %v", a, errA, b, errB)
		}
	})
}
