package run

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/sample"
	"github.com/rlt-workbench/rlt/engine/task"
)

// BestOfBatch is the most explanations WriteBestExplanations has the
// teacher write, and the scorer score, at once: the questions of a batch
// with all their samples (64 / N questions), or, past 64 samples, one
// question's samples 64 at a time, so that memory does not grow with N.
// It is the raw variant's batch of questions (WriteExplanations).
const BestOfBatch = 64

// BestOf is how WriteBestExplanations ranks: RLT.md §5's ranked variant
// of distillation, where the teacher writes N explanations of each
// question and the one with the highest RLT reward (r = r_SS − r_KL + m,
// against a frozen student) that the distilled student can learn from is
// kept.
type BestOf struct {
	N            int
	Temperature  float64 // the teacher samples at it, and the reward is on it
	MaxNewTokens int
	Seed         uint64
	// Reward is the reward's configuration (required), its coefficients,
	// format penalty and estimator: a run's default one is
	// record.DefaultRewardConfig. Its Temperature is not read: the reward
	// is at the sampling Temperature (RLT.md §3).
	Reward record.RewardConfig
	// MicroBatchTokens bounds each of the scorer's forwards (rlt.Scorer).
	MicroBatchTokens int
	// StudentPositions is the distilled student's positions (required): an
	// explanation it cannot learn from (Learnable's rule: a ChatML or RLT
	// tag, a row longer than them) is never kept; a question none of whose
	// explanations it can learn from has no row (RankStats.Tagged, Long).
	StudentPositions int
	// TooLong, if set, says what to change where an explanation does not
	// fit a model's positions for scoring (rlt.Scorer.TooLong).
	TooLong func(who string) string
	// Samples, if set, gets every sampled explanation with its reward, one
	// JSON line each (sampleLine), as its question is ranked.
	Samples io.Writer
	// Progress, if set, is told what the ranking did so far after each
	// batch of questions.
	Progress func(RankStats)
}

// ResolvedReward is the reward b ranks with: b.Reward at the sampling
// Temperature (RLT.md §3), the configuration --samples-out's lines record
// and rlt distill --best-of says.
func (b BestOf) ResolvedReward() record.RewardConfig {
	rc := b.Reward
	rc.Temperature = b.Temperature
	return rc
}

// RankStats is what the ranking did: the questions ranked, the
// explanations sampled, the mean reward of the kept ones (of the
// questions with one the student can learn from) and of all (Kept, All),
// and the questions whose row is left out, none of whose samples the
// student can learn from, counted as Learnable counts a row it leaves out,
// by why the highest-reward sample cannot be learned from: Tagged, a
// ChatML or RLT tag, else Long, too long for the student's positions,
// else Cut: the models that score it could not take it whole (Pair.Explain
// cut it to their positions), and the part scored is not what the teacher
// wrote. Of Cut, CutPastTeacher and CutPastStudent are those whose sample
// was past the teacher's positions and the reward's student's (both may
// be), so that the advice names the model that cut them.
type RankStats struct {
	Questions, Sampled             int
	Tagged, Long, Cut              int
	CutPastTeacher, CutPastStudent int
	kept, all                      meanOf
}

// Kept is the mean reward of the kept explanations, over their finite
// rewards (a NaN or infinite reward, never kept over a finite one, would
// make the mean say nothing); NaN with none.
func (s RankStats) Kept() float64 { return s.kept.mean() }

// All is the mean reward of every explanation sampled, over the finite
// ones, as Kept.
func (s RankStats) All() float64 { return s.all.mean() }

// meanOf is a running mean of the finite values added.
type meanOf struct {
	sum float64
	n   int
}

func (m *meanOf) add(v float64) {
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		m.sum += v
		m.n++
	}
}

// mean is the mean of the finite values added, NaN with none.
func (m meanOf) mean() float64 {
	if m.n == 0 {
		return math.NaN()
	}
	return m.sum / float64(m.n)
}

// sampleLine is one line of BestOf.Samples: a sampled explanation as rlt
// score reads it (its question, solution and the teacher's raw
// completion, from which the explanation and whether it ended are
// extracted), with the reward that ranked it, which question it explains
// (group, in the order of the questions) and which of its samples it is,
// and whether it was kept: none of a question's is where the student can
// learn from none of them (its row is left out). RewardConfig is the
// resolved reward it was ranked with (BestOf.ResolvedReward), under the
// key a rescore records it by in rescores.jsonl, so that a line says how
// to score it again. FinishReason and Cut say how the completion ends, so
// that a reader of the file can tell a completion cut short from one the
// teacher ended: a cut one read as the teacher's whole output, its end
// tag missing as if it ran out of tokens.
type sampleLine struct {
	Group        int                 `json:"group"`
	Sample       int                 `json:"sample"`
	Question     string              `json:"question"`
	Solution     string              `json:"solution"`
	Completion   string              `json:"completion"`
	Reward       json.RawMessage     `json:"reward"` // record.AppendFloat: NaN and ±Inf as strings
	RewardConfig record.RewardConfig `json:"reward_config"`
	Kept         bool                `json:"kept"`
	// FinishReason is why the teacher's sampling ended, in the words of
	// vLLM's and OpenAI's finish_reason (finishReason): "stop" or
	// "length"; of the whole, where Cut.
	FinishReason string `json:"finish_reason"`
	// Cut is whether Pair.Explain cut the completion to fit the models
	// that score it (rlt.Explanation.Uncut): Completion is then the first
	// part of what the teacher wrote, the part the reward is of, and the
	// sample is never kept (RankStats.Cut, or Long).
	Cut bool `json:"cut"`
	// UncutCompletion is, where Cut, the whole of what the teacher wrote
	// (rlt.Explanation.UncutText), of which Completion is the first part;
	// absent where whole. Completion stays the part, which rlt score reads
	// to give the reward again; the whole was lost, the file keeping only
	// the text the models could take.
	UncutCompletion string `json:"uncut_completion,omitempty"`
}

// finishReason is why the teacher's sampling of e ended, as vLLM's and
// OpenAI's finish_reason says it: "stop" where the teacher wrote an end of
// turn (e.Stopped), "length" where it ran out of the tokens it could write
// (--max-new-tokens, or the room its prompt leaves in the models'
// positions). A cut to fit the models that score it (e.Uncut, said by the
// line's "cut") comes after the sampling and leaves its reason as it was:
// a whole explanation the teacher ended, cut, was said "length", as if
// --max-new-tokens had ended it.
func finishReason(e rlt.Explanation) string {
	if e.Stopped {
		return "stop"
	}
	return "length"
}

// RewardStudentPrecision is how the frozen student WriteBestExplanations
// ranks with is held: as a run holds its frozen student by default
// (grpo.frozen_weights), so that the reward is the one a run with this
// student computes.
func RewardStudentPrecision() model.Precision {
	return rlt.FrozenPrecision(runconfig.DefaultGRPO())
}

// WriteBestExplanations has teacher explain each of exs b.N times and
// keeps, of each question's explanations, the one with the highest reward
// (ties and NaN: the first sampled) among those a student of
// b.StudentPositions can learn from (Learnable's rule): one row a
// question, in the order of exs, the rows Learnable keeps. A question
// whose samples the student can learn from none of has no row, counted in
// RankStats.Tagged or Long as Learnable counts the row of its best of all,
// so that the rows need not pass through Learnable again, each sample
// judged whole (Explanation.Uncut); or in Cut, where that one fits the
// student whole but was cut to the scoring models' positions. The reward is
// a GRPO step's (rlt.Trainer.Step): the teacher writes as the step
// samples (rlt.Pair.Explain, within the room the prompts leave in both
// models' positions), and each explanation is scored by rlt.Scorer with
// b.Reward at the sampling temperature, as a run of that [reward]
// configuration scores, against student, the frozen student. A prompt
// that leaves the teacher no room is an *rlt.RoomError whose BudgetName
// and Shorten the caller names. On an error it returns the rows of the
// questions ranked before it (a cancelled ctx's: a signal).
func WriteBestExplanations(ctx context.Context, teacher, student *model.Model, tok rlt.TextTokenizer, p record.Prompts, exs []task.Example, b BestOf) ([]DistillRow, RankStats, error) {
	var st RankStats
	if b.N < 1 || b.StudentPositions < 1 {
		// A caller's mistake: N is the samples a question, and at no
		// positions no row would be learnable, none kept.
		return nil, st, fmt.Errorf("run.WriteBestExplanations: BestOf.N %d and StudentPositions %d: want each at least 1", b.N, b.StudentPositions)
	}
	pair, err := rlt.NewPair(teacher, student, tok, p)
	if err != nil {
		return nil, st, err
	}
	rc := b.ResolvedReward() // RLT.md §3: the log-probs are at the generation temperature
	sc, err := rlt.NewScorer(pair, rc)
	if err != nil {
		return nil, st, err
	}
	sc.MicroBatchTokens = b.MicroBatchTokens
	sc.TooLong = b.TooLong
	gen := sample.NewGenerator(teacher)
	tp := compute.NewTape(teacher.Backend())
	var w *bufio.Writer
	var enc *json.Encoder
	if b.Samples != nil {
		w = bufio.NewWriter(b.Samples)
		enc = json.NewEncoder(w)
		enc.SetEscapeHTML(false) // the tags (<|end_of_explanation|>) read as themselves
	}
	per := max(1, BestOfBatch/b.N) // questions a batch
	rows := make([]DistillRow, 0, len(exs))
	for lo := 0; lo < len(exs); lo += per {
		if err := ctx.Err(); err != nil {
			return rows, st, err
		}
		part := exs[lo:min(lo+per, len(exs))]
		qs := make([]rlt.Example, len(part))
		for i, ex := range part {
			qs[i] = rlt.Example{Question: ex.Question, Solution: ex.Solution}
		}
		budget, err := pair.ExplainBudget(qs, b.MaxNewTokens)
		if err != nil {
			return rows, st, err
		}
		// Each question's samples, all of them, or BestOfBatch at a time:
		// sampled (in question order, a question's samples together),
		// scored, and their lines kept until the question is ranked.
		ranks := make([]ranking, len(part))
		var lines [][]sampleLine // lines[i]: part[i]'s, when written
		if w != nil {
			lines = make([][]sampleLine, len(part))
		}
		for first := 0; first < b.N; first += BestOfBatch {
			k := min(b.N-first, BestOfBatch)
			// A seed for each call, none the same: the raw variant's for
			// the batch's first question, past every question's for a
			// question's later calls.
			seed := b.Seed + uint64(lo) + uint64(first/BestOfBatch)*uint64(len(exs))
			gens, err := pair.Explain(gen, tp, budget, k, rlt.ExplainOptions{Temperature: b.Temperature, Seed: seed, Stop: ctx.Err})
			if err != nil {
				return rows, st, err
			}
			items := make([]rlt.Item, len(gens))
			for i, g := range gens {
				items[i] = g.Item()
			}
			scores, err := sc.Score(ctx, items)
			if err != nil {
				return rows, st, err
			}
			for i, s := range scores {
				q, n := i/k, first+i%k // the question in part, and its sample
				r, g := s.Reward, gens[i]
				st.all.add(r)
				// Judged whole, as the raw rows are (Learnable): a sample
				// Pair.Explain cut to the scoring models' positions was
				// kept cut, unsaid, where the distilled student has no
				// more positions than the reward's. Never kept: too long
				// where the whole is, else Cut.
				whole := g.Extraction
				if g.Uncut != nil {
					whole = *g.Uncut
				}
				tagged, long := unlearnable(DistillRow{Question: g.Question, Explanation: whole.Body, Solution: g.Solution}, tok, p, b.StudentPositions)
				cut := g.CutPast // the models whose positions cut it; none where tagged or long decides
				if tagged || long {
					cut = rlt.Past{}
				}
				ranks[q].offer(n, r, g.Body, tagged, long, cut)
				if lines != nil {
					lines[q] = append(lines[q], sampleLine{Group: lo + q, Sample: n, Question: g.Question,
						Solution: g.Solution, Completion: g.Text, Reward: record.AppendFloat(nil, r), RewardConfig: rc,
						FinishReason: finishReason(g), Cut: g.Uncut != nil, UncutCompletion: g.UncutText})
				}
			}
			st.Sampled += len(gens)
		}
		for q, ex := range part {
			best := ranks[q].best()
			if !ranks[q].learnable.ok {
				// Its row is left out, counted by Learnable's rule (the
				// verdict ranking took, not the row tokenized again): no
				// sample of it is kept.
				switch {
				case best.tagged:
					st.Tagged++
				case best.cut.Any():
					st.Cut++
					if best.cut.Teacher {
						st.CutPastTeacher++
					}
					if best.cut.Student {
						st.CutPastStudent++
					}
				default:
					st.Long++
				}
				continue
			}
			rows = append(rows, DistillRow{Question: ex.Question, Explanation: best.body, Solution: ex.Solution})
			st.kept.add(best.reward)
			if lines != nil {
				lines[q][best.sample].Kept = true
			}
		}
		for _, ls := range lines {
			for _, l := range ls {
				if err := enc.Encode(l); err != nil {
					return rows, st, err
				}
			}
		}
		st.Questions += len(part)
		if w != nil {
			if err := w.Flush(); err != nil {
				return rows, st, err
			}
		}
		if b.Progress != nil {
			b.Progress(st)
		}
	}
	return rows, st, nil
}

// ranking is one question's samples as they are scored: the best of those
// the student can learn from (learnable), and the best of all, whose
// reason the question's row is counted by where none is learnable.
type ranking struct {
	learnable, any candidate
}

// candidate is a sample that ranks first so far (ok: there is one), and
// whether the student cannot learn from it for a tag (tagged), for being
// cut to the scoring models' positions (cut: the models whose positions
// cut it; else, if it cannot, for its length: unlearnable).
type candidate struct {
	sample int
	reward float64
	body   string
	tagged bool
	cut    rlt.Past
	ok     bool
}

// offer ranks sample n, whose explanation is body, of reward r, which the
// student cannot learn from where tagged or long (unlearnable), or cut
// (Explanation.Uncut, cut the models whose positions cut it) and neither.
func (k *ranking) offer(n int, r float64, body string, tagged, long bool, cut rlt.Past) {
	c := candidate{sample: n, reward: r, body: body, tagged: tagged, cut: cut, ok: true}
	if !k.any.ok || k.any.better(r) {
		k.any = c
	}
	if !tagged && !long && !cut.Any() && (!k.learnable.ok || k.learnable.better(r)) {
		k.learnable = c
	}
}

// best is the sample whose row is the question's: the best the student
// can learn from, else the best of all (its row then left out, counted by
// why).
func (k ranking) best() candidate {
	if k.learnable.ok {
		return k.learnable
	}
	return k.any
}

// better reports whether reward r ranks above c's: a higher one, or a
// number over a NaN (which compares as neither).
func (c candidate) better(r float64) bool {
	return r > c.reward || (math.IsNaN(c.reward) && !math.IsNaN(r))
}
