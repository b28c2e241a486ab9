package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// rlt score --run says each key of the run's config.toml that its
// settings have no place for (sessions.UnknownKeys), at its line, and
// that it was ignored: a typo in [reward] (kl_mx) left kl_max at its
// default, scored with, and the key itself unsaid, where rlt run
// --resume refuses the same file naming it. An import's keys a user adds
// to score it with (its models, [prompts]) are its settings, not unknown.
func TestScoreRunSaysTheKeysItIgnored(t *testing.T) {
	dir, _, _ := stepRun(t)
	cfgPath := filepath.Join(dir, "config.toml")
	orig, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	rows := filepath.Join(t.TempDir(), "rows.jsonl")
	if err := os.WriteFile(rows, []byte(`{"question":"12+9=?","explanation":"2+9=11 w1 c1; ans 21","solution":"21"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	imported := filepath.Join(t.TempDir(), "run")
	if code, _, errs := runCLI(t, "", "import", rows, "--out", imported); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	importCfg := filepath.Join(imported, "config.toml")
	importText, err := os.ReadFile(importCfg)
	if err != nil {
		t.Fatal(err)
	}
	teacher, _ := filepath.Abs(embeddedTeacher)
	student, _ := filepath.Abs(embeddedStudent)
	models := "teacher = " + strconv.Quote(teacher) + "\nstudent = " + strconv.Quote(student) + "\n"
	// lineOf is the 1-based line of text that begins with key.
	lineOf := func(text, key string) int {
		for i, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, key) {
				return i + 1
			}
		}
		t.Fatalf("no line %q in:\n%s", key, text)
		return 0
	}
	for _, c := range []struct {
		name string
		path string
		text string
		want []string // the keys said ignored, by name
	}{
		{"a run of ours as it was", cfgPath, string(orig), nil},
		{"a typo in [reward], a key at the top and in [grpo]", cfgPath,
			"a_key_of_another_version = 1\n" + strings.Replace(strings.Replace(string(orig), "kl_max", "kl_mx", 1), "[grpo]\n", "[grpo]\nkept_by_another_version = true\n", 1),
			[]string{"a_key_of_another_version", "kl_mx", "kept_by_another_version"}},
		{"an import with models and [prompts] added", importCfg,
			models + string(importText) + "[prompts]\nstudent_system = 'Answer.'\n", nil},
		{"an import with a key unknown", importCfg,
			models + strings.Replace(string(importText), "[import]\n", "[import]\nranked_by = 'me'\n", 1), []string{"ranked_by"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(c.path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errs := runCLI(t, "", "score", "--device", "cpu", "--run", filepath.Dir(c.path))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if got := strings.Count(errs, ": ignored\n"); got != len(c.want) {
				t.Errorf("%d keys said ignored, want %d (%v):\n%s", got, len(c.want), c.want, errs)
			}
			for _, k := range c.want {
				want := fmt.Sprintf("%s:%d:1: unknown key %q", c.path, lineOf(c.text, k), k)
				if !strings.Contains(errs, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errs)
				}
			}
			if bytes.Contains([]byte(c.text), []byte("kl_mx")) && !strings.Contains(errs, "not set there, so at its default: kl_max 0.03") {
				t.Errorf("the reward line does not say kl_max at its default:\n%s", errs)
			}
		})
	}
}
