package record

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// WriteRanking writes the keys docs/commands.md (rlt distill) names, the
// task's or the data file's according to where the questions came from,
// and reads back as it was given; a folder it cannot write in is named
// with the file, as a model folder's other files' failures are.
func TestWriteRanking(t *testing.T) {
	common := []string{"best_of", "max_new_tokens", "questions", "reward_config", "reward_student", "seed", "teacher"}
	for _, c := range []struct {
		name  string
		r     Ranking
		extra []string // the keys besides common
	}{
		{"a task's questions", Ranking{BestOf: 4, Reward: DefaultRewardConfig(), Teacher: "/m/teacher", RewardStudent: "/m/student",
			Task: "addition", Questions: 2000, MaxNewTokens: 128, Seed: 1}, []string{"task"}},
		{"a data file's rows", Ranking{BestOf: 2, Reward: DefaultRewardConfig(), Teacher: "/m/teacher", RewardStudent: "/m/student",
			Data: "/d/rows.jsonl", DataSHA256: strings.Repeat("ab", 32), Questions: 3, MaxNewTokens: 48, Seed: 1 << 40},
			[]string{"data", "data_sha256"}},
	} {
		dir := t.TempDir()
		if err := WriteRanking(dir, c.r); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, err := os.ReadFile(filepath.Join(dir, RankingFile))
		if err != nil {
			t.Fatal(err)
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(b, &keys); err != nil {
			t.Fatalf("%s: %v: %s", c.name, err, b)
		}
		got := slices.Sorted(maps.Keys(keys))
		if want := slices.Sorted(slices.Values(append(slices.Clone(common), c.extra...))); !slices.Equal(got, want) {
			t.Errorf("%s: %s has keys %v, want %v", c.name, RankingFile, got, want)
		}
		var back Ranking
		if err := json.Unmarshal(b, &back); err != nil || back != c.r {
			t.Errorf("%s: read back %+v (%v), want %+v", c.name, back, err, c.r)
		}
	}
}

// A model folder's record that cannot be written says so once, with its
// path (durable.Write's "write PATH: …"): it said "write the ranking: write
// PATH: …" and "write prompts: write PATH: …".
func TestRecordWriteSaysItsPathOnce(t *testing.T) {
	gone := filepath.Join(t.TempDir(), "gone")
	for _, c := range []struct {
		file  string
		write func(dir string) error
	}{
		{RankingFile, func(dir string) error { return WriteRanking(dir, Ranking{BestOf: 2}) }},
		{PromptsFile, func(dir string) error { return WritePrompts(dir, DefaultPrompts()) }},
	} {
		err := c.write(gone)
		if want := "write " + filepath.Join(gone, c.file) + ": "; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s in a folder that is not there: %v, want %q…", c.file, err, want)
		}
	}
}

// ReadRanking reads back what WriteRanking wrote, says none of a folder
// without one, and says what is wrong with a file that is no ranking, in
// the file's words after its path: rlt model info shows it, and nothing
// read it before.
func TestReadRanking(t *testing.T) {
	r := Ranking{BestOf: 4, Reward: DefaultRewardConfig(), Teacher: "/m/teacher", RewardStudent: "/m/student",
		Task: "addition", Questions: 6, MaxNewTokens: 48, Seed: 3}
	dir := t.TempDir()
	if _, ok, err := ReadRanking(dir); ok || err != nil {
		t.Errorf("a folder without %s: ok %v, %v; want none", RankingFile, ok, err)
	}
	for _, w := range []Ranking{r, {BestOf: 2, Reward: DefaultRewardConfig(), Teacher: "/m/teacher", RewardStudent: "/m/student",
		Data: "/d/rows.jsonl", DataSHA256: strings.Repeat("ab", 32), Questions: 3, MaxNewTokens: 8, Seed: 5}} {
		if err := WriteRanking(dir, w); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := ReadRanking(dir); !ok || err != nil || got != w {
			t.Errorf("read back %+v (ok %v, %v), want %+v", got, ok, err, w)
		}
	}
	good, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	with := func(old, new string) string { return strings.Replace(string(good), old, new, 1) }
	without := func(key string) string {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, key)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, c := range []struct{ name, file, want string }{
		{"empty", "\n", "the file is empty (want rlt distill --best-of's {"},
		{"cut short", string(good[:20]), "it ends at line 1, column "},
		{"not an object", "[4]", "not a JSON object (want {"},
		{"a string for a number", with(`"best_of":4`, `"best_of":"4"`), `line 1, column 14: field "best_of" holds a JSON string where a whole number is wanted`},
		{"a misspelt key", with(`"seed":3`, `"sead":3`), `unknown key "sead" (known: best_of, reward_config, teacher, reward_student, task, data, data_sha256, questions, max_new_tokens, seed)`},
		{"the reward's unknown key", with(`"kl_max"`, `"kl_maxx"`), `reward_config: unknown key "kl_maxx" (known: `},
		{"a misspelt reward", with(`"reward_config"`, `"reward_configuration"`), `unknown key "reward_configuration"`},
		{"no reward", without("reward_config"), "no reward_config: the reward the explanations were ranked with (want {"},
		{"best of 1", with(`"best_of":4`, `"best_of":1`), "best_of 1: a ranking keeps the best of 2 or more explanations of each question (rlt distill --best-of N)"},
		{"no questions' source", with(`"task":"addition",`, ``), "neither task nor data: "},
		{"two sources", with(`"task":"addition"`, `"task":"addition","data":"/d/x.jsonl"`), `both task "addition" and data "/d/x.jsonl": the questions ranked come from one`},
	} {
		if err := os.WriteFile(filepath.Join(dir, RankingFile), []byte(c.file), 0o644); err != nil {
			t.Fatal(err)
		}
		_, ok, err := ReadRanking(dir)
		want := filepath.Join(dir, RankingFile) + ": " + c.want
		if ok || err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: ok %v, %v; want %q…", c.name, ok, err, want)
		}
	}
}
