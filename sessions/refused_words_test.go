package sessions

import "testing"

// TestNothingToRunSaysItsCounts: a resume with nothing to run says its
// counts in words that agree with them; a one-step run's read "it has done
// 1 steps …, and 1 are planned".
func TestNothingToRunSaysItsCounts(t *testing.T) {
	for _, c := range []struct {
		err  NothingToRunError
		want string
	}{
		{NothingToRunError{Done: 1, LastStep: 0, Planned: 1},
			"it has done 1 step (its latest checkpoint is after step 0), and 1 is planned: nothing to run"},
		{NothingToRunError{Done: 12, LastStep: 11, Planned: 12},
			"it has done 12 steps (its latest checkpoint is after step 11), and 12 are planned: nothing to run"},
		{NothingToRunError{Done: 5, LastStep: 4, Planned: 3},
			"it has done 5 steps (its latest checkpoint is after step 4), and 3 are planned: nothing to run"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.err, got, c.want)
		}
	}
}
