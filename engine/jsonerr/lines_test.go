package jsonerr

import "testing"

// TestLinesAndRows: a note names its first lines, says "…" when there are
// more, and counts rows in the singular for one.
func TestLinesAndRows(t *testing.T) {
	for _, c := range []struct {
		first []int
		n     int
		want  string
	}{
		{[]int{3}, 1, "line 3"},
		{[]int{3, 5, 7}, 3, "lines 3, 5, 7"},
		{[]int{3, 5}, 9, "lines 3, 5, …"},
		{[]int{4}, 2, "lines 4, …"},
	} {
		if got := Lines(c.first, c.n); got != c.want {
			t.Errorf("Lines(%v, %d) = %q, want %q", c.first, c.n, got, c.want)
		}
	}
	for n, want := range map[int]string{0: "0 rows", 1: "1 row", 2: "2 rows"} {
		if got := Rows(n); got != want {
			t.Errorf("Rows(%d) = %q, want %q", n, got, want)
		}
	}
}
