package record

import (
	"bytes"
	"encoding/json"
	"path/filepath"

	"github.com/rlt-workbench/rlt/engine/durable"
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
