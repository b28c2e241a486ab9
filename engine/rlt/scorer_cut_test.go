package rlt

import (
	"context"
	"slices"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

// cutSource is a LogProbSource cut short as an inference server is by a
// stop or its failure: it answers the first whole sequences, plus extra
// values of the next one (a source that broke the contract), and a fatal
// error.
type cutSource struct {
	LogProbSource
	whole, extra int
}

func (c cutSource) LogProbs(ctx context.Context, seqs [][]int32, spans [][][2]int, temperature float64) ([]float32, error) {
	lp, err := c.LogProbSource.LogProbs(ctx, seqs, spans, temperature)
	if err != nil {
		return nil, err
	}
	n := 0 // the values of the first c.whole sequences: sequence after sequence
	for b := range c.whole {
		for _, g := range spans {
			n += g[b][1]
		}
	}
	return lp[:n+c.extra], &SourceError{Source: "cut", Seq: -1, Fatal: true, Err: context.Canceled}
}

// TestScoreKeepsTheItemsBothSourcesAnswered: a student source cut short
// after its first k sequences gives Score the scores of items[:k], each
// the same as an uncut batch's, and the fatal error; a value or two of
// item k's sequence are no score of it; ScoreEach gives items[k:] the
// error. A teacher cut short gives none. Score threw every score away.
func TestScoreKeepsTheItemsBothSourcesAnswered(t *testing.T) {
	s := testScorer(t, record.LogRatio)
	items := append(slices.Clone(scoreItems), scoreItems[0]) // item 2's explanation is empty
	want, err := s.Score(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	ts, ss := NewModelSource(s.pair.Teacher, "teacher"), NewModelSource(s.pair.Student, "student")
	for k := range len(items) {
		for _, extra := range []int{0, 1} {
			for _, who := range []string{"student", "teacher"} {
				var teacher, student LogProbSource = ts, ss
				whole := k
				if who == "student" {
					student = cutSource{ss, k, extra}
				} else {
					teacher, whole = cutSource{ts, k, extra}, 0
				}
				src, err := NewSourceScorer(teacher, student, s.Tok, s.Prompts, s.Cfg)
				if err != nil {
					t.Fatal(err)
				}
				got, err := src.Score(context.Background(), items)
				if !Fatal(err) || len(got) != whole {
					t.Errorf("%s cut after %d sequences (+%d values): %d scores, error %v; want %d and a fatal error", who, k, extra, len(got), err, whole)
					continue
				}
				for i := range got {
					for name, pair := range map[string][2][]float32{
						"teacher": {got[i].TeacherLP, want[i].TeacherLP}, "student": {got[i].StudentLP, want[i].StudentLP},
						"d": {got[i].D, want[i].D}, "solution": {got[i].SolutionLP, want[i].SolutionLP},
					} {
						if len(pair[0]) != len(pair[1]) {
							t.Fatalf("%s cut after %d: item %d %s: %d values, want %d", who, k, i, name, len(pair[0]), len(pair[1]))
						}
						for j := range pair[1] {
							if !near(float64(pair[0][j]), float64(pair[1][j])) {
								t.Errorf("%s cut after %d: item %d %s[%d] = %v, want %v", who, k, i, name, j, pair[0][j], pair[1][j])
							}
						}
					}
					if !near(got[i].Reward, want[i].Reward) {
						t.Errorf("%s cut after %d: item %d reward %v, want %v", who, k, i, got[i].Reward, want[i].Reward)
					}
				}
				out, errs := src.ScoreEach(context.Background(), items)
				for i := range items {
					if (errs[i] == nil) != (i < whole) || (errs[i] != nil && !Fatal(errs[i])) || (i < whole && !near(out[i].Reward, want[i].Reward)) {
						t.Errorf("%s cut after %d: ScoreEach item %d: error %v, reward %v", who, k, i, errs[i], out[i].Reward)
					}
				}
			}
		}
	}
}
