package run

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// CheckResume refuses a checkpoint the checked configuration would not
// continue exactly (another seed, other data), before any engine is
// built, in the words Restore uses; a data file that changed is a
// *DataChangedError naming that file, and only that one.
func TestCheckResume(t *testing.T) {
	const rows = `{"question":"20+31=?","solution":"51"}` + "\n" + `{"question":"21+33=?","solution":"54"}` + "\n"
	const evalRows = `{"question":"40+2=?","solution":"42"}` + "\n"
	sum := func(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }
	// repeats asks its first row's question with its solution twice more.
	const repeats = rows + `{"question":"21+33=?","solution":"54"}` + "\n" + `{"question":"21+33=?","solution":"54"}` + "\n"
	data, eval := writeFile(t, "train.jsonl", rows), writeFile(t, "eval.jsonl", evalRows)
	// heldRepeats repeats 20+31=?, a question held out for evaluation, so
	// an older rlt trained on the same rows as this one.
	const heldRepeats = rows + `{"question":"20+31=?","solution":"51"}` + "\n"
	repeated, held := writeFile(t, "repeats.jsonl", repeats), writeFile(t, "held.jsonl", heldRepeats)
	check := func(c runconfig.Config) Checked {
		t.Helper()
		checked, err := Check(c)
		if err != nil {
			t.Fatal(err)
		}
		return checked
	}
	dataRun := dataConfig(data)
	dataRun.EvalEvery = 0
	withEval := dataRun
	onRepeats := dataConfig(repeated)
	onRepeats.EvalEvery = 0
	onHeldRepeats := dataConfig(held)
	onHeldRepeats.EvalEvery = 0
	withEval.EvalData = eval
	synthetic := DefaultConfig(defaultTeacher, defaultStudent)
	synthetic.GRPO.Seed = dataRun.GRPO.Seed
	seed := dataRun.GRPO.Seed
	state := func(seed uint64, digest string) json.RawMessage {
		raw, _ := json.Marshal(TrainerState{Step: 3, AdamSteps: 4, Seed: seed, Data: digest, EachQuestionOnce: digest != ""})
		return raw
	}
	// older is the state an rlt that trained on every row recorded.
	older := func(digest string) json.RawMessage {
		raw, _ := json.Marshal(TrainerState{Step: 3, AdamSteps: 4, Seed: seed, Data: digest})
		return raw
	}
	for _, c := range []struct {
		name    string
		cfg     runconfig.Config
		state   json.RawMessage
		want    string   // the error; "" for none
		changed []string // a DataChangedError's files' keys
	}{
		{"the same data", dataRun, state(seed, sum(rows)), "", nil},
		{"the same data and eval_data", withEval, state(seed, sum(rows)+"+"+sum(evalRows)), "", nil},
		{"a synthetic task", synthetic, state(seed, ""), "", nil},
		{"data changed", dataRun, state(seed, sum(rows+"x")),
			fmt.Sprintf("data %s changed since the checkpoint (sha256 %s… then, %s… now): the resumed run would draw other questions", data, sum(rows + "x")[:12], sum(rows)[:12]),
			[]string{"data"}},
		{"eval_data changed, data not", withEval, state(seed, sum(rows)+"+"+sum("")),
			fmt.Sprintf("eval_data %s changed since the checkpoint (sha256 %s… then, %s… now): the resumed run would draw other questions", eval, sum("")[:12], sum(evalRows)[:12]),
			[]string{"eval_data"}},
		{"both changed", withEval, state(seed, sum("a")+"+"+sum("b")), "", []string{"data", "eval_data"}},
		{"another seed", dataRun, state(seed+1, sum(rows)),
			fmt.Sprintf("the checkpoint was made with seed %d but the configuration says %d", seed+1, seed), nil},
		{"a synthetic checkpoint", dataRun, state(seed, ""), fmt.Sprintf("the checkpoint was made on a synthetic task, but the configuration has data = %q", data), nil},
		{"a data checkpoint", synthetic, state(seed, sum(rows)), `the checkpoint was made on a data file, but the configuration has none (task "addition")`, nil},
		{"eval_data added", withEval, state(seed, sum(rows)), fmt.Sprintf("the checkpoint was made without eval_data, but the configuration has eval_data = %q", eval), nil},
		{"repeats, each question once", onRepeats, state(seed, sum(repeats)), "", nil},
		{"repeats, trained on by an older rlt", onRepeats, older(sum(repeats)),
			fmt.Sprintf("data %s: the run was started by an rlt that trained on every row of it, and 2 rows that ask an earlier row's question with its solution again; this rlt leaves such rows out (each question once), so the resumed run would draw other questions", repeated), nil},
		{"repeats of a held-out question, an older rlt", onHeldRepeats, older(sum(heldRepeats)), "", nil},
		{"no repeats, an older rlt", dataRun, older(sum(rows)), "", nil},
		{"a broken trainer.json", dataRun, json.RawMessage(`{"step": -1}`), "trainer.json: step -1 and adam_steps 0 must not be negative", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := check(c.cfg).CheckResume(c.state)
			var changed *DataChangedError
			var keys []string
			if errors.As(err, &changed) {
				for _, f := range changed.Files {
					keys = append(keys, f.Key)
				}
			}
			if fmt.Sprint(keys) != fmt.Sprint(c.changed) {
				t.Errorf("changed files %v, want %v (%v)", keys, c.changed, err)
			}
			if c.want == "" && c.changed == nil {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if err == nil || (c.want != "" && err.Error() != c.want) {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
			if strings.Contains(fmt.Sprint(err), "resume:") {
				t.Errorf("%v: the caller says it is a resume", err)
			}
		})
	}
}
