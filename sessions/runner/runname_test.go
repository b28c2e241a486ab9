package runner

import (
	"strings"
	"testing"
)

// TestCheckRunName: rlt run --name takes one word that every system keeps
// as the end of a folder's name, and says what is wrong with any other.
// A name ending in '.' was taken, where Windows makes runs/<time>-lam. as
// <time>-lam: the run recorded under one name and found under another.
func TestCheckRunName(t *testing.T) {
	for _, c := range []struct {
		name, want string // want: a part of the refusal; "" takes the name
	}{
		{"", ""},
		{"lam3", ""},
		{"kl_mean=0.5", ""},
		{"lam3+seed2.b", ""},
		{".lam3", ""},
		{strings.Repeat("x", 64), ""},
		{strings.Repeat("x", 65), "is 65 bytes long"},
		{"a/b", `holds '/'`},
		{`a\b`, `holds '\\'`},
		{"lam 3", `holds ' '`},
		{"a:b", `holds ':'`},
		{"λ3", `holds 'λ'`},
		{"..", "is no name"},
		{".", "is no name"},
		{"lam.", "ends in '.', which Windows drops"},
		{"kl_mean=0.", "ends in '.', which Windows drops"},
	} {
		err := CheckRunName(c.name)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("CheckRunName(%q) = %v; want it taken", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("CheckRunName(%q) = %v; want a refusal saying %q", c.name, err, c.want)
		}
	}
}
