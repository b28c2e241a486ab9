package nouns

import "testing"

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n          int
		what, want string
	}{
		{0, "run", "0 runs"},
		{1, "run", "1 run"},
		{2, "reference word", "2 reference words"},
		{-1, "step", "-1 steps"},
	} {
		if got := Count(c.n, c.what); got != c.want {
			t.Errorf("Count(%d, %q) = %q, want %q", c.n, c.what, got, c.want)
		}
	}
}
