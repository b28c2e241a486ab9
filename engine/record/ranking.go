package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/shell"
)

// RankingFile is the file beside config.json in which a student distilled
// from ranked explanations (rlt distill --best-of N, RLT.md §5's ranked
// variant) records how its rows were chosen: its folder alone said
// nothing of it, so that a student of the best of 4 by one reward could
// not be told from one of the teacher's raw explanations. A student of raw
// explanations has none.
const RankingFile = "ranking.json"

// Ranking is how a distilled student's rows were chosen: the teacher
// (its folder, Teacher) wrote BestOf explanations of each question, each
// was scored with the RLT reward Reward against the frozen student
// RewardStudent (its folder), and the highest-reward one the student could
// learn from was kept. Reward is the resolved configuration, at the
// sampling temperature, under the key --samples-out's lines and
// rescores.jsonl record it by. The questions ranked, Questions of them,
// are Task's train split's, drawn with Seed, or the first usable rows of
// the file Data (DataSHA256 its bytes' SHA-256, as a run's trainer.json
// records its data's), one of Task and Data set; the teacher sampled with
// Seed, each explanation within MaxNewTokens tokens. With the folders,
// they are what rlt distill takes to rank them again: the folder alone
// recorded neither where the questions came from nor the seed.
type Ranking struct {
	BestOf        int          `json:"best_of"`
	Reward        RewardConfig `json:"reward_config"`
	Teacher       string       `json:"teacher"`
	RewardStudent string       `json:"reward_student"`
	Task          string       `json:"task,omitempty"`
	Data          string       `json:"data,omitempty"` // absolute
	DataSHA256    string       `json:"data_sha256,omitempty"`
	Questions     int          `json:"questions"`
	MaxNewTokens  int          `json:"max_new_tokens"`
	Seed          uint64       `json:"seed"`
}

// WriteRanking records r in the model folder dir (RankingFile).
func WriteRanking(dir string, r Ranking) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	// durable.Write's error says "write PATH: …", the file named once.
	return durable.WriteFile(filepath.Join(dir, RankingFile), b.Bytes(), 0o644)
}

// rankingExample is a ranking as a message shows one.
const rankingExample = `{"best_of": 4, "reward_config": {…}, "teacher": …, "reward_student": …, "task": … or "data": … and "data_sha256": …, "questions": …, "max_new_tokens": …, "seed": …}`

// rankingKeys are the keys of a ranking, Ranking's JSON names.
var rankingKeys = jsonerr.FieldNames(reflect.TypeFor[Ranking]())

// ReadRanking reads the ranking the model folder dir records
// (RankingFile); ok is false (and err nil) where it records none, as a
// student of raw explanations does. A file that is no ranking is said
// with its path and what is wrong, in the file's words: its JSON
// (jsonerr.At), a key it does not know (a misspelt one would read as
// absent), its reward_config (ParseRewardConfig, a key it lacks at its
// default), a best_of below 2, or questions from neither or both of a
// task and a data file.
func ReadRanking(dir string) (r Ranking, ok bool, err error) {
	path := filepath.Join(dir, RankingFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Ranking{}, false, nil
	}
	if err != nil {
		return Ranking{}, false, err // it names the file
	}
	problem := func(format string, a ...any) (Ranking, bool, error) {
		return Ranking{}, false, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, a...))
	}
	switch t := bytes.TrimSpace(b); {
	case len(t) == 0:
		return problem("the file is empty (want "+shell.Program()+" distill --best-of's %s)", rankingExample)
	case t[0] != '{':
		if err := json.Unmarshal(b, new(json.RawMessage)); err != nil {
			return problem("%s (want %s)", jsonerr.At(b, err), rankingExample)
		}
		return problem("not a JSON object (want %s)", rankingExample)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return problem("%s (want %s)", jsonerr.At(b, err), rankingExample)
	}
	// The reward's configuration is read again as every record's
	// reward_config is (ParseRewardConfig: its keys checked, one it lacks
	// at its default).
	var reward []byte
	for _, m := range jsonerr.Members(b) {
		if !slices.ContainsFunc(rankingKeys, func(k string) bool { return strings.EqualFold(k, m.Key) }) {
			return problem("unknown key %q (known: %s)", m.Key, strings.Join(rankingKeys, ", "))
		}
		if strings.EqualFold(m.Key, "reward_config") {
			reward = m.Value
		}
	}
	if reward == nil {
		return problem("no reward_config: the reward the explanations were ranked with (want %s)", rankingExample)
	}
	if r.Reward, err = ParseRewardConfig(reward); err != nil {
		return problem("%v", err)
	}
	switch {
	case r.BestOf < 2:
		return problem("best_of %d: a ranking keeps the best of 2 or more explanations of each question ("+shell.Program()+" distill --best-of N)", r.BestOf)
	case r.Task == "" && r.Data == "":
		return problem("neither task nor data: want the task whose questions were ranked, or the data file whose rows were")
	case r.Task != "" && r.Data != "":
		return problem("both task %q and data %q: the questions ranked come from one", r.Task, r.Data)
	}
	return r, true, nil
}
