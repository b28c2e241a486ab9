package compute

import (
	"slices"
	"testing"
)

// TargetRows is the one rule of which rows the fused heads of both
// backends (CPU and Vulkan) work on: those whose target is not ignored.
func TestTargetRows(t *testing.T) {
	for _, c := range []struct {
		name    string
		targets []int32
		want    []int32
	}{
		{"none", nil, []int32{}},
		{"every row", []int32{5, 0, 7}, []int32{0, 1, 2}},
		{"ignored rows left out", []int32{-1, 3, -100, 0, -1}, []int32{1, 3}},
		{"every row ignored", []int32{-1, -1}, []int32{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			scratch := []int32{9, 9, 9, 9, 9, 9}
			got := TargetRows(scratch, c.targets)
			if !slices.Equal(got, c.want) {
				t.Fatalf("TargetRows(%v) = %v, want %v", c.targets, got, c.want)
			}
			if len(got) > 0 && &got[0] != &scratch[0] {
				t.Error("the scratch had room but a new array was made")
			}
		})
	}
}
