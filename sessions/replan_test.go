package sessions

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// withSteps changes the top-level steps value and nothing else: comments,
// layout and every other key stay, text that only looks like a steps key
// (in a string, a comment, a table) is left alone, and a file without the
// key gets a line where a top-level key belongs.
func TestWithStepsChangesOnlyTheSteps(t *testing.T) {
	for _, c := range []struct {
		name, text, want string
		steps            int
	}{
		{name: "a plain value", text: "steps = 4\n[grpo]\nlr = 1e-6\n", steps: 6, want: "steps = 6\n[grpo]\nlr = 1e-6\n"},
		{name: "a comment after it stays",
			text:  "teacher = 't'\nsteps = 4 # the first plan\neval_every = 0\n",
			steps: 10, want: "teacher = 't'\nsteps = 10 # the first plan\neval_every = 0\n"},
		{name: "odd spacing and an underscore number", text: "steps   =   1_000\n", steps: 1200, want: "steps   =   1200\n"},
		{name: "another case, as go-toml decodes it", text: "Steps = 2\n", steps: 3, want: "Steps = 3\n"},
		{name: "not the steps of a table or a string",
			text:  "note = \"\"\"\nsteps = 1\n\"\"\"\n# steps = 2\n[grpo] # steps = 3\nsteps = 4\n",
			steps: 9, want: "steps = 9\nnote = \"\"\"\nsteps = 1\n\"\"\"\n# steps = 2\n[grpo] # steps = 3\nsteps = 4\n"},
		{name: "a file without steps: a line above its tables", text: "# my run\n[grpo]\nlr = 1e-6\n", steps: 5, want: "steps = 5\n# my run\n[grpo]\nlr = 1e-6\n"},
		{name: "an empty file", text: "", steps: 2, want: "steps = 2\n"},
		{name: "until stopped", text: "steps = 4\n", steps: 0, want: "steps = 0\n"},
		{name: "text that is not a number, as an older file might hold", text: "steps = 'four'\n", steps: 6, want: "steps = 6\n"},
		{name: "unchanged", text: "steps = 4\r\n[grpo]\r\n", steps: 4, want: "steps = 4\r\n[grpo]\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := withSteps([]byte(c.text), c.steps)
			if err != nil || string(got) != c.want {
				t.Errorf("got %q, %v\nwant %q", got, err, c.want)
			}
		})
	}
	for _, c := range []struct{ name, text, why string }{
		{"a table named steps", "[steps]\nx = 1\n", "would break it"},
		{"not TOML", "steps = = 4\n", "toml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, err := withSteps([]byte(c.text), 6); err == nil || !strings.Contains(err.Error(), c.why) {
				t.Errorf("got %q, %v; want an error saying %q", got, err, c.why)
			}
		})
	}
}

// RecordSteps rewrites config.toml of a run open for writing, and the new
// plan is what the run's text, its listing and a later open say; a run
// open read-only is refused, and its file left as it was.
func TestRecordStepsIsTheRunsPlan(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "r")
	cfg := testCfg()
	r, err := Create(dir, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	path := filepath.Join(dir, ConfigFile)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("steps = 4 # planned at start\n"+string(text)), 0o644)

	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.RecordSteps(6); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("RecordSteps on a read-only run: %v", err)
	}
	ro.Close()

	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.RecordSteps(6); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(w.ConfigText()), "steps = 6 # planned at start\n") {
		t.Errorf("the run's text after RecordSteps:\n%s", w.ConfigText())
	}
	w.Close()
	// A workbench that opened the run before reads the new plan from its
	// events.
	evs, _ := openReadOnly(t, dir).Store().EventsSince(0)
	if i := slices.IndexFunc(evs, func(e EventRecord) bool { return e.Kind == KindPlan }); i < 0 || evs[i].Count != 6 {
		t.Errorf("no plan event of 6 steps in %+v", evs)
	}
	if on, _ := os.ReadFile(path); !strings.HasPrefix(string(on), "steps = 6 # planned at start\n") || !strings.HasSuffix(string(on), string(text)) {
		t.Errorf("config.toml after RecordSteps:\n%s", on)
	}
	runs, err := List(root)
	if err != nil || len(runs) != 1 || runs[0].PlannedSteps != 6 {
		t.Fatalf("listed %+v, %v; want 6 planned steps", runs, err)
	}
	var back runCfg
	on, _ := os.ReadFile(path)
	if err := decodeLoose(on, &back); err != nil || back.Name != cfg.Name || back.Seed != cfg.Seed {
		t.Errorf("config.toml decodes as %+v, %v; want the run's configuration", back, err)
	}
}
