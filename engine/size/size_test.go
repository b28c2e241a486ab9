package size

import "testing"

func TestBytes(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1 << 10, "1.0 KiB"},
		{1e6, "976.6 KiB"},
		{1 << 20, "1.0 MiB"},
		{544 << 20, "544.0 MiB"},
		{1e9, "953.7 MiB"},
		{1 << 30, "1.00 GiB"},
		{3 << 29, "1.50 GiB"},
		{24 << 30, "24.00 GiB"},
	} {
		if got := Bytes(c.n); got != c.want {
			t.Errorf("Bytes(%d) = %q, want %q", c.n, got, c.want)
		}
		// A size copied from a refusal is one RLT_MEMORY_LIMIT takes.
		if _, err := Parse(Bytes(c.n)); err != nil {
			t.Errorf("Parse(Bytes(%d) = %q): %v", c.n, Bytes(c.n), err)
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"123", 123, true}, {"2GB", 2e9, true}, {"1.5 GiB", 3 << 29, true}, {"512mib", 512 << 20, true},
		{"10KB", 10e3, true}, {"-1", 0, false}, {"GB", 0, false}, {"1 parsec", 0, false},
	} {
		got, err := Parse(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("Parse(%q) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}
