package run

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/task"
)

// A data run whose held-out questions are all too long for the models is
// refused with what to do: give an eval_data of questions that fit, or
// evaluate nothing (eval_every = 0), which then trains. The refusal said
// only which rows were skipped, though the run had rows to train on, and
// its held-out question was chosen by a hash the user never sees.
// evalEveryZeroWords is how the refusals say to evaluate nothing: there is
// no --eval-every flag, so the words name the --config file the key goes
// in, and the command that prints one to start from.
const evalEveryZeroWords = "or set eval_every = 0 in the run's --config file to train without evaluating (no flag sets it; with flags only, rlt train --print-config and the same flags print a file to start from)"

func TestNoHeldOutFitSaysWhatToDo(t *testing.T) {
	long := strings.Repeat("seven apples ", 200) // past the default models' 256 positions
	var rows []task.Example
	for i := range 8 {
		rows = append(rows, task.Example{Question: fmt.Sprintf("What is %d plus 1?", i), Solution: fmt.Sprint(i + 1)})
	}
	// A long question the hash holds out.
	var q string
	for k := 0; q == ""; k++ {
		if k == 1000 {
			t.Fatal("no long question held out in 1000 tries")
		}
		cand := fmt.Sprintf("%s%d", long, k)
		_, held := task.HoldOut(append(rows, task.Example{Question: cand, Solution: "7"}), task.DataHeldOut)
		if len(held) == 1 && held[0].Question == cand {
			q = cand
		}
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "{\"question\": %q, \"solution\": %q}\n", r.Question, r.Solution)
	}
	fmt.Fprintf(&b, "{\"question\": %q, \"solution\": \"7\"}\n", q)
	data := writeFile(t, "rows.jsonl", b.String())
	tooLong := writeFile(t, "eval.jsonl", fmt.Sprintf("{\"question\": %q, \"solution\": \"7\"}\n", q))

	for _, c := range []struct {
		name, evalData, want string
	}{
		{"held out of the data", "", "data " + data + ": no held-out question fits the models: 9 rows, 8 kept, 1 skipped: line 9: too long for the teacher: "},
		{"eval_data", tooLong, "eval_data " + tooLong + ": no question fits the models: 1 row, 0 kept, 1 skipped: line 1: too long for the teacher: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := dataConfig(data)
			cfg.EvalData = c.evalData
			_, err := checkAndNew(cfg, nil)
			do := "give eval_data = FILE (rlt train --eval-data FILE) of questions that fit, " + evalEveryZeroWords
			if c.evalData != "" {
				do = "give an eval_data of questions that fit, " + evalEveryZeroWords
			}
			if err == nil || !strings.HasPrefix(err.Error(), c.want) || !strings.HasSuffix(err.Error(), do) {
				t.Fatalf("%v\nwant it to begin %q and end %q", err, c.want, do)
			}
			cfg.EvalEvery = 0
			if _, err := checkAndNew(cfg, nil); err != nil {
				t.Errorf("with eval_every = 0: %v", err)
			}
		})
	}
}
