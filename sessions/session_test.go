package sessions

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

// TestSessionSettings: a session's settings are its run's, read
// leniently, but not Known where opening found config.toml not to decode
// strictly (a *ConfigError on it, or on no file, among the problems,
// wrapped or joined), other than an unknown key, passed over as rlt score
// --run passes over it (UnknownKeys: Known, UnknownKeys set); the values
// read stay.
func TestSessionSettings(t *testing.T) {
	type cfg struct {
		Task    string `toml:"task"`
		Teacher string `toml:"teacher"`
		Extra   int    `toml:"extra"` // a key the strict decoding below does not know
	}
	r, err := Create(filepath.Join(t.TempDir(), "run"), cfg{Task: "addition", Teacher: "m/t", Extra: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	var strict struct {
		Task    string `toml:"task"`
		Teacher string `toml:"teacher"`
	}
	decodeErr := r.DecodeConfig(&strict) // as the launcher's describe finds it
	var ce *ConfigError
	if !errors.As(decodeErr, &ce) {
		t.Fatalf("config.toml with an unknown key decoded strictly: %v", decodeErr)
	}
	for _, c := range []struct {
		name     string
		problems []error
		known    bool
	}{
		{"no problems", nil, true},
		{"config.toml holds a key unknown", []error{decodeErr}, true},
		{"a key unknown, wrapped, beside a problem", []error{fmt.Errorf("open: %w", decodeErr), &ConfigError{File: ConfigFile, Msg: "bad"}}, false},
		{"config.toml by its path", []error{&ConfigError{File: filepath.Join(r.Dir(), ConfigFile), Line: 3, Msg: "unknown key"}}, false},
		{"config.toml by its name, wrapped", []error{fmt.Errorf("open: %w", &ConfigError{File: ConfigFile, Msg: "bad"})}, false},
		{"joined, after another problem", []error{errors.New("events.jsonl:3: broken record"), errors.Join(&ConfigError{File: ConfigFile})}, false},
		{"a problem of no file (a value that cannot run)", []error{&ConfigError{Msg: "steps -3 must not be negative"}}, false},
		{"another file's", []error{&ConfigError{File: filepath.Join(r.Dir(), "other.toml"), Line: 1}}, true},
		{"not a configuration problem", []error{errors.New("events.jsonl:3: broken record")}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := (&Session{Run: r, Problems: c.problems}).Settings()
			if got.Known != c.known {
				t.Errorf("Known %v, want %v (problems %v)", got.Known, c.known, c.problems)
			}
			if unknown := len(c.problems) > 0 && errors.Is(c.problems[0], decodeErr); got.UnknownKeys != unknown {
				t.Errorf("UnknownKeys %v, want %v (problems %v)", got.UnknownKeys, unknown, c.problems)
			}
			if got.Task != "addition" || got.Teacher != "m/t" || got.Reward != record.DefaultRewardConfig() {
				t.Errorf("the values read are lost: %+v", got)
			}
		})
	}
	t.Run("no run", func(t *testing.T) {
		for _, s := range []*Session{nil, {}} {
			if got, want := s.Settings(), ParseSettings(nil); !reflect.DeepEqual(got, want) {
				t.Errorf("session %v: %+v, want the defaults %+v", s, got, want)
			}
		}
	})
}
