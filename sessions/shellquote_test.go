package sessions

import "testing"

// TestShellQuote: a folder of plain path characters is said as it is; any
// other is quoted so that a POSIX shell reads it back as one word, a
// quote in it included.
func TestShellQuote(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"runs/20261206-031500", "runs/20261206-031500"},
		{"/home/a.b/runs_1+2:x@y", "/home/a.b/runs_1+2:x@y"},
		{"my runs", "'my runs'"},
		{"it's", `'it'\''s'`},
		{"$HOME/runs", "'$HOME/runs'"},
		{"", "''"},
		{"дир", "'дир'"},
	} {
		if got := ShellQuote(c.in); got != c.want {
			t.Errorf("ShellQuote(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}
