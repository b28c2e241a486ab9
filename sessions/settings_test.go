package sessions

import (
	"reflect"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

func TestParseSettings(t *testing.T) {
	def := record.DefaultRewardConfig()
	lam0 := def
	lam0.KLMean, lam0.KLMax = 0, 0
	// The keys a [reward] lacks, at their defaults (RunReward).
	lamUnset := []string{"temperature", "solution_mean", "solution_min", "format_penalty", "estimator"}
	estUnset := []string{"temperature", "solution_mean", "solution_min", "format_penalty"}
	prompts := record.Prompts{TeacherSystem: "Teach.", StudentSystem: "Solve."}
	defStudent := record.Prompts{StudentSystem: record.DefaultStudentSystem}
	for _, tc := range []struct {
		name, text string
		want       Settings
	}{
		{"empty", "", Settings{Reward: def}},
		{"broken", "task = \n", Settings{Reward: def}},
		{"defaults", "task = \"addition\"\nteacher = \"m/t\"\n", Settings{Task: "addition", Teacher: "m/t", Reward: def, RewardUnset: rewardKeys, Known: true}},
		{"lambda 0 and unknown keys", "task = \"linear\"\nnew_key = 1\n[reward]\nkl_mean = 0\nkl_max = 0\n", Settings{Task: "linear", Reward: lam0, RewardUnset: lamUnset, Known: true}},
		// Edited to a value the engine refuses: not what the run trained with.
		{"a reward the engine refuses", "task = \"linear\"\n[reward]\nkl_mean = 0\nkl_max = 0\nestimator = \"l2\"\n", Settings{Task: "linear", Reward: withEstimator(lam0, "l2"), RewardUnset: estUnset}},
		// The prompts rlt score --run scores with, read however many
		// keys beside them this version does not know (another
		// version's); one of the wrong type leaves the rest read.
		{"prompts beside unknown keys", "task = \"linear\"\nnew_key = 1\n[prompts]\nteacher_system = \"Teach.\"\nstudent_system = \"Solve.\"\nnewer_prompt = \"x\"\n[grpo]\nnewer = true\n",
			Settings{Task: "linear", Reward: def, RewardUnset: rewardKeys, Prompts: prompts, Known: true}},
		{"a prompt of the wrong type", "task = \"linear\"\n[prompts]\nteacher_system = 3\n", Settings{Task: "linear", Reward: def, RewardUnset: rewardKeys, Known: true}},
		// An imported run's config.toml records where it came from, not
		// the trainer's reward: nothing to claim.
		// Its rows' student prompt, none recorded, is the default one
		// the export writes them with (RowsPrompts).
		{"imported", "[import]\nformat = \"trl\"\nsource = \"/data/grpo-output\"\n", Settings{Reward: def, Imported: ImportTRL, Prompts: defStudent}},
		{"imported, models added to score it", "teacher = \"m/t\"\nstudent = \"m/s\"\n[import]\nformat = \"trl\"\n[reward]\nkl_mean = 5.0\n",
			Settings{Teacher: "m/t", Student: "m/s", Reward: def, Imported: ImportTRL, Prompts: defStudent}},
		// The system prompt a traces file's Bespoke-Stratos rows carried
		// is the student prompt rlt score --run scores them with, as the
		// export writes them (RowsPrompts); a [prompts] a user added wins.
		{"imported rows' system prompt", "[import]\nformat = \"" + ImportTraces + "\"\nstudent_system = \"Rows' own.\"\n",
			Settings{Reward: def, Imported: ImportTraces, Prompts: record.Prompts{StudentSystem: "Rows' own."}}},
		{"imported, [prompts] added", "[prompts]\nstudent_system = \"Solve.\"\nteacher_system = \"Teach.\"\n[import]\nformat = \"" + ImportTraces + "\"\nstudent_system = \"Rows' own.\"\n",
			Settings{Reward: def, Imported: ImportTraces, Prompts: prompts}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseSettings([]byte(tc.text)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if got := RowsPrompts([]byte(tc.text)); got != tc.want.Prompts {
				t.Errorf("RowsPrompts %+v, want Settings' %+v", got, tc.want.Prompts)
			}
		})
	}
}

func withEstimator(c record.RewardConfig, e string) record.RewardConfig {
	c.Estimator = record.Estimator(e)
	return c
}
