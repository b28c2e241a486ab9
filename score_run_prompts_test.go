package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// rlt score --run scores with the run's [prompts] whatever other keys its
// config.toml holds that this version does not know (an older or newer
// version's): they are read leniently, as its models and [reward] are
// (sessions.Settings, RunReward), the workbench's reading too. They were
// read by a strict decode, so that one unknown key anywhere dropped them
// and the traces were scored with the models' own prompts, unsaid.
func TestScoreRunPromptsBesideUnknownKeys(t *testing.T) {
	dir, _, _ := stepRun(t)
	cfgPath := filepath.Join(dir, "config.toml")
	orig, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	const models = "teacher_system = 'Teach: solution, then explanation.'\n" // the embedded models' prompt, the run's
	if !bytes.Contains(orig, []byte(models)) {
		t.Fatalf("config.toml has no %q:\n%s", models, orig)
	}
	own := bytes.Replace(orig, []byte(models), []byte("teacher_system = 'Teach it well: first the solution, then every step of why.'\n"), 1)
	rewards := func(text []byte) map[string]float64 {
		t.Helper()
		if err := os.WriteFile(cfgPath, text, 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errs := runCLI(t, "", "score", "--device", "cpu", "--run", dir)
		if code != 0 {
			t.Fatalf("score --run: exit %d: %s", code, errs)
		}
		got := map[string]float64{}
		for _, l := range scoreLines(t, out) {
			id, _ := l["trace"].(string)
			got[id], _ = l["reward"].(float64)
		}
		return got
	}
	byModels, byOwn := rewards(orig), rewards(own)
	same := func(a, b map[string]float64) bool {
		if len(a) != len(b) {
			return false
		}
		for id, r := range a {
			if b[id] != r {
				return false
			}
		}
		return true
	}
	if same(byModels, byOwn) {
		t.Fatalf("the run's own teacher prompt scored as the models' did: the checks below prove nothing")
	}
	for _, c := range []struct {
		name string
		text []byte
	}{
		{"at the top level", append([]byte("a_key_of_another_version = 1\n"), own...)},
		{"in [grpo]", bytes.Replace(own, []byte("[grpo]\n"), []byte("[grpo]\nkept_by_another_version = true\n"), 1)},
	} {
		if got := rewards(c.text); !same(got, byOwn) {
			t.Errorf("an unknown key %s: scored %v, want the run's prompts' %v", c.name, got, byOwn)
		}
	}
}
