package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"testing"
)

// TestParseFlagsKnowsARefusedValue: parseFlags tells a value a flag's own
// Set refused (badValue: one line and the way to the usage) from a call of
// the wrong shape (misuse: the usage, then what was wrong) by whether a Set
// failed, whatever the message says, and the flags it watched read as
// before: a bool flag still stands alone (--headless, not --headless
// true), and after the parse every flag holds its own Value again.
func TestParseFlagsKnowsARefusedValue(t *testing.T) {
	for _, c := range []struct {
		args  []string
		value bool // a refused value (badValue), not a wrong shape
	}{
		{[]string{"--steps", "x"}, true},
		{[]string{"--steps", "010"}, true}, // refuseLeadingZeros' own refusal
		{[]string{"--headless=maybe"}, true},
		{[]string{"--rate", "fast"}, true},
		{[]string{"--loud"}, true}, // a BoolFunc that refuses being set alone
		{[]string{"--device", "tpu"}, true},
		{[]string{"--steps"}, false},
		{[]string{"--stpes", "3"}, false},
		{[]string{"---steps", "3"}, false},
	} {
		fs, own := refusalFlags()
		err := parseFlags(fs, c.args)
		var u usageError
		if !errors.As(err, &u) || u.value != c.value {
			t.Errorf("parseFlags(%q) = %#v, want a usageError with value %v", c.args, err, c.value)
		}
		checkOwnValues(t, fs, own)
	}
	fs, own := refusalFlags()
	if err := parseFlags(fs, []string{"DIR", "--headless", "--steps", "3", "--device", "cpu"}); err != nil {
		t.Fatalf("parseFlags of good values: %v", err)
	}
	if fs.Lookup("headless").Value.String() != "true" || fs.Lookup("steps").Value.String() != "3" || fs.NArg() != 1 {
		t.Errorf("parseFlags of good values read --headless %s, --steps %s and %d arguments, want true, 3 and 1",
			fs.Lookup("headless").Value, fs.Lookup("steps").Value, fs.NArg())
	}
	checkOwnValues(t, fs, own)
}

// refusalFlags is a flag set of every kind parseFlags watches: the flag
// package's own values, a Func and a BoolFunc of ours.
func refusalFlags() (*flag.FlagSet, map[string]string) {
	fs := newFlags("rlt test", "usage\n", io.Discard, io.Discard)
	fs.Int("steps", 0, "steps")
	fs.Bool("headless", false, "headless")
	fs.Float64("rate", 1, "rate")
	fs.Func("device", "device", func(s string) error {
		if s != "cpu" {
			return errors.New("want cpu")
		}
		return nil
	})
	fs.BoolFunc("loud", "loud", func(string) error { return errors.New("not today") })
	own := map[string]string{} // each flag's Value's type (a Func's is not comparable)
	fs.VisitAll(func(f *flag.Flag) { own[f.Name] = fmt.Sprintf("%T", f.Value) })
	return fs, own
}

func checkOwnValues(t *testing.T, fs *flag.FlagSet, own map[string]string) {
	t.Helper()
	fs.VisitAll(func(f *flag.Flag) {
		if got := fmt.Sprintf("%T", f.Value); got != own[f.Name] {
			t.Errorf("--%s holds a %s after parseFlags, want its own %s back", f.Name, got, own[f.Name])
		}
	})
}
