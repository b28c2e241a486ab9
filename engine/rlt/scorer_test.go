package rlt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// testScorer builds a real tokenizer (a byte-level BPE with the RLT tags as
// added tokens) and two small random models that share it.
func testScorer(t *testing.T, est record.Estimator) *Scorer {
	t.Helper()
	return testScorerOn(t, est, compute.NewCPU())
}

// testScorerOn is testScorer with its models on be.
func testScorerOn(t *testing.T, est record.Estimator, be compute.Backend) *Scorer {
	t.Helper()
	tok, err := tokenizer.Load("../tokenizer/testdata/qwen2_pairs.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := model.Config{Vocab: tok.VocabSize() + 6, Hidden: 32, Intermediate: 64, Layers: 2, Heads: 4, KVHeads: 2,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 512, Tied: true, QKVBias: true}
	teacher, err := model.NewRandom(be, cfg, 11)
	if err != nil {
		t.Fatal(err)
	}
	teacher.InitRandom(11, 0.3) // a larger spread gives distributions far from uniform
	student, _ := model.NewRandom(be, cfg, 12)
	student.InitRandom(12, 0.3)
	rc := record.DefaultRewardConfig()
	rc.Estimator = est
	s, err := NewScorer(mustPair(t, teacher, student, tok, record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."}), rc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var scoreItems = []Item{
	{Question: "347+285=?", Solution: "632", Explanation: "7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6", Ended: true},
	{Question: "12+9=?", Solution: "21", Explanation: "the answer is 21. 2+9=11", Ended: false},
	{Question: "5+5=?", Solution: "10", Explanation: "", Ended: true},
}

// fullSequenceLP is an independent path to the same numbers: one sequence,
// no batching, no row gathering, the model's TokenLogProbs over everything.
func fullSequenceLP(t *testing.T, m *model.Model, seq []int32, invT float32) []float32 {
	tp := compute.NewTape(m.Backend())
	tp.SetRecording(false)
	targets := make([]int32, len(seq))
	for i := range targets {
		targets[i] = -1
		if i+1 < len(seq) {
			targets[i] = seq[i+1]
		}
	}
	lp := m.TokenLogProbs(tp, &model.Batch{B: 1, T: len(seq), Tokens: seq}, targets, invT)
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, lp.Len())
	m.Backend().Read(out, lp)
	return out
}

func TestScorerMatchesUnbatchedForwards(t *testing.T) {
	s := testScorer(t, record.LogRatio)
	got, err := s.Score(context.Background(), scoreItems)
	if err != nil {
		t.Fatal(err)
	}
	invT := float32(1 / s.Cfg.Temperature)
	for i, it := range scoreItems {
		e := s.encode(it)
		// The explanation is the same ids in both sequences.
		nb := len(e.T)
		for k := 0; k < nb; k++ {
			if e.Teacher[e.TeacherT+k] != e.Student.IDs[e.Student.Expl.Start+k] {
				t.Fatalf("item %d: explanation token %d differs between teacher and student sequences", i, k)
			}
		}
		if tokStr := strings.Join(got[i].ExplanationTokens, ""); nb > 0 && tokStr == "" {
			t.Errorf("item %d: no explanation token strings", i)
		}
		tl := fullSequenceLP(t, s.pair.Teacher, e.Teacher, invT)
		sl := fullSequenceLP(t, s.pair.Student, e.Student.IDs, invT)
		for k := 0; k < nb; k++ {
			if d := math.Abs(float64(got[i].TeacherLP[k] - tl[e.TeacherT+k-1])); d > 1e-4 {
				t.Errorf("item %d token %d: teacher log-prob %v vs unbatched %v", i, k, got[i].TeacherLP[k], tl[e.TeacherT+k-1])
			}
			if d := math.Abs(float64(got[i].StudentLP[k] - sl[e.Student.Expl.Start+k-1])); d > 1e-4 {
				t.Errorf("item %d token %d: student log-prob %v vs unbatched %v", i, k, got[i].StudentLP[k], sl[e.Student.Expl.Start+k-1])
			}
			if got[i].D[k] != got[i].TeacherLP[k]-got[i].StudentLP[k] {
				t.Errorf("item %d token %d: d %v is not ℓT−ℓS", i, k, got[i].D[k])
			}
		}
		for j := range e.S {
			if d := math.Abs(float64(got[i].SolutionLP[j] - sl[e.Student.Sol.Start+j-1])); d > 1e-4 {
				t.Errorf("item %d solution token %d: %v vs unbatched %v", i, j, got[i].SolutionLP[j], sl[e.Student.Sol.Start+j-1])
			}
		}
		want := s.Cfg.Reduce(got[i].SolutionLP, got[i].D, got[i].StudentLP, it.Ended)
		if !near(got[i].Reward, want.Reward) {
			t.Errorf("item %d: reward %v, reductions give %v", i, got[i].Reward, want.Reward)
		}
	}
	if got[1].Penalty != -1 || got[0].Penalty != 0 {
		t.Errorf("penalties %v %v: want 0 for an ended explanation and −1 for a truncated one", got[0].Penalty, got[1].Penalty)
	}
	// An empty body still has the prefill's lead: T is that one chunk.
	if lead := s.Tok.Encode(record.ExplanationLead); len(got[2].D) != len(lead) {
		t.Errorf("empty body: d %v, want the lead's %d token(s)", got[2].D, len(lead))
	}
}

func TestScoresDoNotDependOnTheBatch(t *testing.T) {
	s := testScorer(t, record.LogRatio)
	all, err := s.Score(context.Background(), scoreItems)
	if err != nil {
		t.Fatal(err)
	}
	for i := range scoreItems {
		one, err := s.Score(context.Background(), scoreItems[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(one[0].Reward-all[i].Reward) > 1e-5 {
			t.Errorf("item %d: reward %v alone, %v in a batch", i, one[0].Reward, all[i].Reward)
		}
	}
}

func TestFullKLAndK3AreNonNegative(t *testing.T) {
	for _, est := range []record.Estimator{record.FullKL, record.K3} {
		s := testScorer(t, est)
		got, err := s.Score(context.Background(), scoreItems[:2])
		if err != nil {
			t.Fatal(err)
		}
		for i, sc := range got {
			if len(sc.D) == 0 {
				t.Fatalf("%s: item %d has no explanation scores", est, i)
			}
			for k, d := range sc.D {
				if d < -1e-6 || math.IsNaN(float64(d)) {
					t.Errorf("%s: item %d token %d: d = %v, want ≥ 0", est, i, k, d)
				}
			}
		}
	}
}

func TestScorerRefusesBadInput(t *testing.T) {
	s := testScorer(t, record.LogRatio)
	cases := []struct {
		item Item
		want string
	}{
		{Item{Question: "q", Solution: ""}, "item 0: solution is empty"},
		{Item{Question: "<|im_start|>q", Solution: "1"}, "item 0: question contains the tag <|im_start|>"},
		{Item{Question: "q", Solution: "1" + record.EndSolution}, "solution contains the tag"},
		{Item{Question: "q", Solution: "1", Explanation: strings.Repeat("x y z ", 400)}, "item 0: the teacher: its prompt and the explanation's 1603 tokens take 1631, more than its 512 positions (max_position_embeddings), which leave the explanation 484: shorten the explanation"},
	}
	for _, c := range cases {
		if _, err := s.Score(context.Background(), []Item{c.item}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+.40v: error %v, want %q", c.item, err, c.want)
		}
	}
	// Scored one by one, a row too long says what to do and no made-up
	// item number (the caller gives its line).
	long := Item{Question: "q", Solution: "1", Explanation: strings.Repeat("x y z ", 400)}
	_, errs := s.ScoreEach(context.Background(), []Item{{Question: "q", Solution: "1", Explanation: "e"}, long})
	if errs[0] != nil || errs[1] == nil || strings.Contains(errs[1].Error(), "item") ||
		!strings.Contains(errs[1].Error(), "more than its 512 positions (max_position_embeddings), which leave the explanation 484: shorten the explanation") || !strings.Contains(errs[1].Error(), "--run DIR") {
		t.Errorf("ScoreEach: %v", errs)
	}
	// A source outside this process is named as it is known (a server's
	// URL), as a RoomError names a model's folder; a model in this
	// process is named by its role alone.
	for name, want := range map[string]string{"http://gpu:8000": "item 0: the teacher http://gpu:8000: its prompt", "teacher": "item 0: the teacher: its prompt"} {
		src, err := NewSourceScorer(NewModelSource(s.pair.Teacher, name), NewModelSource(s.pair.Student, "student"), s.Tok, s.Prompts, s.Cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Score(context.Background(), []Item{long}); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("a teacher known as %q: %v, want it to begin %q", name, err, want)
		}
	}
	// A table with fewer rows than the tokenizer has tokens is refused.
	other := *s.pair.Student
	other.Cfg.Vocab = s.Tok.VocabSize() - 1
	if _, err := NewPair(s.pair.Teacher, &other, s.pair.Tok, s.Prompts); err == nil || !strings.Contains(err.Error(), "student's embedding table only") {
		t.Errorf("a short table: %v", err)
	}
}

// TestFullKLMatchesUnbatchedLogits: the full-vocabulary KL the scorer takes
// from hidden rows through both heads, chunk by chunk, is the KL of each
// model's whole logits over one unbatched sequence.
func TestFullKLMatchesUnbatchedLogits(t *testing.T) {
	s := testScorer(t, record.FullKL)
	got, err := s.Score(context.Background(), scoreItems[:2])
	if err != nil {
		t.Fatal(err)
	}
	be := s.pair.Teacher.Backend()
	invT := float32(1 / s.Cfg.Temperature)
	logitRows := func(m *model.Model, seq []int32, first, n int) *compute.Tensor {
		tp := compute.NewTape(be)
		tp.SetRecording(false)
		lg := m.Logits(tp, &model.Batch{B: 1, T: len(seq), Tokens: seq})
		all := make([]float32, lg.Len())
		be.Read(all, lg)
		V, vs := m.Cfg.Vocab, s.pair.Shared() // the KL is over the rows both tables have
		out := be.New("rows", n, vs)
		rows := make([]float32, 0, n*vs)
		for r := first; r < first+n; r++ {
			rows = append(rows, all[r*V:r*V+vs]...)
		}
		be.Write(out, rows)
		return out
	}
	for i, it := range scoreItems[:2] {
		e := s.encode(it)
		nb := len(e.T)
		p := logitRows(s.pair.Teacher, e.Teacher, e.TeacherT-1, nb)
		q := logitRows(s.pair.Student, e.Student.IDs, e.Student.Expl.Start-1, nb)
		kl := be.New("kl", nb)
		be.KL(kl, p, q, invT)
		want := make([]float32, nb)
		be.Read(want, kl)
		if len(got[i].D) != nb {
			t.Fatalf("item %d: %d scores for %d explanation tokens", i, len(got[i].D), nb)
		}
		for k := range want {
			if d := math.Abs(float64(got[i].D[k]) - float64(want[k])); d > 1e-4*math.Max(1, math.Abs(float64(want[k]))) {
				t.Errorf("item %d token %d: KL %v, unbatched %v", i, k, got[i].D[k], want[k])
			}
		}
	}
}

// TestScoresUnderATokenBudget: scoring a batch as micro-batches of a token
// budget (one item per forward here, then two) gives the scores of one
// forward, per-token KL included; a budget under one sequence is refused
// with the numbers.
func TestScoresUnderATokenBudget(t *testing.T) {
	for _, est := range []record.Estimator{record.LogRatio, record.FullKL} {
		s := testScorer(t, est)
		s.MicroBatchTokens = 0
		whole, err := s.Score(context.Background(), scoreItems)
		if err != nil {
			t.Fatal(err)
		}
		longest := 0
		for _, it := range scoreItems {
			tl, sl := s.SequenceLengths(it)
			longest = max(longest, tl, sl)
		}
		for _, budget := range []int{longest, 2 * longest} {
			s.MicroBatchTokens = budget
			got, err := s.Score(context.Background(), scoreItems)
			if err != nil {
				t.Fatalf("%s, budget %d: %v", est, budget, err)
			}
			for i := range got {
				if math.Abs(got[i].Reward-whole[i].Reward) > 1e-5 || len(got[i].D) != len(whole[i].D) {
					t.Errorf("%s, budget %d, item %d: reward %v, want %v", est, budget, i, got[i].Reward, whole[i].Reward)
				}
				for k := range got[i].D {
					if math.Abs(float64(got[i].D[k]-whole[i].D[k])) > 1e-5 {
						t.Errorf("%s, budget %d, item %d: d[%d] %v, want %v", est, budget, i, k, got[i].D[k], whole[i].D[k])
					}
				}
			}
		}
		s.MicroBatchTokens = longest - 1
		if _, err := s.Score(context.Background(), scoreItems); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("micro_batch_tokens = %d is smaller than sequence", longest-1)) {
			t.Errorf("%s: a budget under one sequence: %v", est, err)
		}
	}
}

// forwards is a CPU that counts the positions of each forward (its
// embedding lookup).
type forwards struct {
	compute.Backend
	positions []int
}

func (f *forwards) Embedding(out, table *compute.Tensor, ids []int32) {
	f.positions = append(f.positions, len(ids))
	f.Backend.Embedding(out, table, ids)
}

// TestScoringGroupsSequencesByLength: on the CPU each model's forwards
// take the items in groups of about one length (model.LengthGroups), not
// all padded to the longest, and every item's log-probs, d and reward are
// the bits it gets scored alone, under either estimator.
func TestScoringGroupsSequencesByLength(t *testing.T) {
	long := strings.Repeat("7+5=12 w2 c1; 4+8+1=13 w3 c1; ", 12)
	items := []Item{
		{Question: "1+2=?", Solution: "3", Explanation: "1+2=3", Ended: true},
		{Question: "347+285=?", Solution: "632", Explanation: long, Ended: true},
		{Question: "2+2=?", Solution: "4", Explanation: "2+2=4", Ended: false},
		{Question: "5+4=?", Solution: "9", Explanation: "5+4=9", Ended: true},
	}
	for _, est := range []record.Estimator{record.LogRatio, record.FullKL} {
		be := &forwards{Backend: compute.NewCPU()}
		s := testScorerOn(t, est, be)
		var tl, sl []int
		for _, it := range items {
			a, b := s.SequenceLengths(it)
			tl, sl = append(tl, a), append(sl, b)
		}
		short := func(l []int) int { return max(l[0], l[2], l[3]) }
		// The long item alone, then the three short ones: 4 × the longest
		// would be hundreds of positions more than a second forward costs.
		want := []int{tl[1], 3 * short(tl), sl[1], 3 * short(sl)}
		if 4*tl[1] < want[0]+want[1]+2*cpuForwardPositions {
			t.Fatalf("the items' lengths %v do not test the grouping", tl)
		}
		all, err := s.Score(context.Background(), items)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(be.positions, want) {
			t.Errorf("%s: forwards of %v positions, want %v (teacher sequences of %v tokens, student %v)", est, be.positions, want, tl, sl)
		}
		for i := range items {
			one, err := s.Score(context.Background(), items[i:i+1])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(one[0], all[i]) {
				t.Errorf("%s: item %d scored in the batch differs from alone:\n%+v\n%+v", est, i, all[i], one[0])
			}
		}
	}
}

// TestSourceScorer: the scorer over two LogProbSources (here the same
// models, each its own ModelSource) gives the in-process scorer's arrays,
// and refuses the full KL, which needs whole distributions.
func TestSourceScorer(t *testing.T) {
	for _, est := range []record.Estimator{record.LogRatio, record.K3} {
		s := testScorer(t, est)
		want, err := s.Score(context.Background(), scoreItems)
		if err != nil {
			t.Fatal(err)
		}
		ts, ss := NewModelSource(s.pair.Teacher, "teacher"), NewModelSource(s.pair.Student, "student")
		ss.MicroBatchTokens = 100 // several forwards: the same numbers
		src, err := NewSourceScorer(ts, ss, s.Tok, s.Prompts, s.Cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := src.Score(context.Background(), scoreItems)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			for name, pair := range map[string][2][]float32{
				"teacher": {got[i].TeacherLP, want[i].TeacherLP}, "student": {got[i].StudentLP, want[i].StudentLP},
				"d": {got[i].D, want[i].D}, "solution": {got[i].SolutionLP, want[i].SolutionLP},
			} {
				if len(pair[0]) != len(pair[1]) {
					t.Fatalf("%s item %d %s: %d values, want %d", est, i, name, len(pair[0]), len(pair[1]))
				}
				for k := range pair[1] {
					if !near(float64(pair[0][k]), float64(pair[1][k])) {
						t.Errorf("%s item %d %s[%d] = %v, want %v", est, i, name, k, pair[0][k], pair[1][k])
					}
				}
			}
			if !near(got[i].Reward, want[i].Reward) || src.Raw() {
				t.Errorf("%s item %d: reward %v, want %v (raw %v)", est, i, got[i].Reward, want[i].Reward, src.Raw())
			}
		}
		full := s.Cfg
		full.Estimator = record.FullKL
		if _, err := NewSourceScorer(ts, ss, s.Tok, s.Prompts, full); err == nil || !strings.Contains(err.Error(), "whole distributions") {
			t.Errorf("full KL through sources: %v", err)
		}
	}
}

// TestScoreEachNamesNoItem: an item ScoreEach refuses alone is said without
// an item number (its batch of one's index, always 0): the caller names it
// by its own position (rlt score's line).
func TestScoreEachNamesNoItem(t *testing.T) {
	s := testScorer(t, record.LogRatio)
	good := Item{Question: "q", Solution: "1", Explanation: "e"}
	cases := []struct {
		bad  Item
		want string
	}{
		{Item{Question: "q", Solution: ""}, "solution is empty"},
		{Item{Question: "<|im_start|>q", Solution: "1"}, "question contains the tag <|im_start|>"},
		{Item{Question: "q", Solution: "1" + record.EndSolution}, "solution contains the tag"},
	}
	for _, c := range cases {
		_, errs := s.ScoreEach(context.Background(), []Item{good, good, c.bad})
		if errs[0] != nil || errs[1] != nil {
			t.Errorf("%+.40v: the good items failed: %v", c.bad, errs)
		}
		if errs[2] == nil || !strings.HasPrefix(errs[2].Error(), c.want) {
			t.Errorf("%+.40v: error %v, want it to start %q", c.bad, errs[2], c.want)
		}
	}
}

// TestSourceErrorNamesTheCallersSequence: a sequence a model source
// refuses is named by its index in the call, not in the forward it ran
// in (the long sequence runs alone, the short ones after it).
func TestSourceErrorNamesTheCallersSequence(t *testing.T) {
	ms := NewModelSource(tinyPolicy(t, 3), "tiny")
	ms.MicroBatchTokens = 30
	seqs := [][]int32{make([]int32, 30), {1, 2}, {3, 4}, {5, 6}}
	spans := [][2]int{{1, 29}, {1, 1}, {0, 2}, {1, 1}} // sequence 2's starts at 0: no context
	_, err := ms.LogProbs(context.Background(), seqs, [][][2]int{spans}, 1)
	var se *SourceError
	if !errors.As(err, &se) || se.Seq != 2 {
		t.Fatalf("error %v, want a *SourceError naming sequence 2", err)
	}
}
