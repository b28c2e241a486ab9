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
