package sessions

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// One rule for the keys of a run's config.toml its settings have no
// place for (UnknownKeys): passed over, the rest read, by rlt score --run
// and the workbench alike. Session.Settings kept a run whose only
// problems were such keys from being Known, so the workbench's legend
// said "λ unknown" of a run the CLI scores with its [reward]; a syntax
// error or a mistyped value still leaves it not Known.
func TestUnknownKeysOneRule(t *testing.T) {
	const run = "task = 'addition'\n[reward]\nkl_mean = 5.0\nkl_max = 0.5\n"
	const imported = "teacher = 'T'\nstudent = 'S'\n[import]\nformat = 'traces'\nsource = '/rows.jsonl'\n[prompts]\nstudent_system = 'Answer.'\n"
	for _, c := range []struct {
		name    string
		text    string
		unknown []string // UnknownKeys' keys
		known   bool     // Session.Settings' Known for a run of ours
	}{
		{"a run of ours", run, nil, true},
		{"a key at the top, one in [reward]", "stepz = 3\n" + run + "kl_mx = 1.0\n", []string{"stepz", "reward.kl_mx"}, true},
		{"an import with models and prompts added", imported, nil, false},
		{"an import's key unknown", imported + "[import.extra]\na = 1\n", []string{"import.extra"}, false},
		{"a mistyped value beside one", "stepz = 3\ntask = 'addition'\n[reward]\nkl_mean = 'five'\n", []string{"stepz"}, false},
		{"not TOML", "task = \n", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var keys []string
			for _, ce := range UnknownKeys(ConfigFile, []byte(c.text)) {
				keys = append(keys, ce.Key)
			}
			if !slices.Equal(keys, c.unknown) {
				t.Errorf("UnknownKeys %v, want %v", keys, c.unknown)
			}
			if _, isImport := readImport([]byte(c.text)); isImport {
				return
			}
			// As the launcher opens it: the strict decode's error a
			// problem of the session, wrapped.
			v := RecordedConfig()
			err := DecodeStrict(ConfigFile, []byte(c.text), &v)
			if got := OnlyUnknownKeys(fmt.Errorf("open run X: %w", err)); got != (len(c.unknown) > 0 && c.known) {
				t.Errorf("OnlyUnknownKeys %v, want %v (%v)", got, len(c.unknown) > 0 && c.known, err)
			}
			r := &Run{config: []byte(c.text)}
			s := &Session{Run: r, Problems: []error{fmt.Errorf("open run X: %w", err)}}
			if err == nil {
				s.Problems = nil
			}
			st := s.Settings()
			if st.Known != c.known || st.UnknownKeys != (len(c.unknown) > 0) {
				t.Errorf("Settings Known %v UnknownKeys %v, want %v %v (%v)", st.Known, st.UnknownKeys, c.known, len(c.unknown) > 0, errors.Join(s.Problems...))
			}
		})
	}
}
