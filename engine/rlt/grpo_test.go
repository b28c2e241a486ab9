package rlt

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// sums is a deterministic question source: step s, item i → a sum.
type sums struct{}

func (sums) Batch(step, n int) []Example {
	out := make([]Example, n)
	for i := range out {
		a, b := 10+step*7+i*3, 25+i*11
		out[i] = Example{Question: fmt.Sprintf("%d+%d=?", a, b), Solution: fmt.Sprint(a + b)}
	}
	return out
}

func newTestTrainer(t *testing.T, sink event.Sink) *Trainer {
	t.Helper()
	tok, err := tokenizer.Load("../tokenizer/testdata/qwen2_pairs.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := model.Config{Vocab: tok.VocabSize() + 6, Hidden: 32, Intermediate: 64, Layers: 2, Heads: 4, KVHeads: 2,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 256, Tied: true, QKVBias: true}
	be := compute.NewCPU()
	teacher, _ := model.NewRandom(be, cfg, 21)
	student, _ := model.NewRandom(be, cfg, 22)
	gc := runconfig.DefaultGRPO()
	gc.Questions, gc.Samples, gc.MaxNewTokens, gc.LR, gc.RefSyncEvery, gc.MicroBatch = 2, 3, 12, 1e-2, 2, 4
	tr, err := NewTrainer(gc, record.DefaultRewardConfig(), mustPair(t, teacher, student, tok, record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."}), sums{}, sink)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestGRPOStepsAreDeterministicAndComplete(t *testing.T) {
	var buf event.Buffer
	a := newTestTrainer(t, &buf)
	b := newTestTrainer(t, nil)
	ctx := context.Background()
	for step := 0; step < 2; step++ {
		ra, err := a.Step(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.Step(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"reward", "reward_std", "kl", "completion_length", "loss", "grad_norm", "learning_rate",
			"answer_log_prob_mean", "answer_log_prob_min", "reasoning_kl_mean", "reasoning_kl_max", "solution_log_prob_reward",
			"kl_reward", "match_reward", "total_teacher_likelihood_reward", "format_penalty_rate", "no_entropy_kl_reward",
			"zero_variance_share"} {
			v, ok := ra.Metrics[k]
			if !ok || math.IsNaN(v) {
				t.Errorf("step %d: metric %s = %v (present %v)", step, k, v, ok)
			}
			if v != rb.Metrics[k] {
				t.Errorf("step %d: metric %s differs between two runs of one seed: %v vs %v", step, k, v, rb.Metrics[k])
			}
		}
		if len(ra.Traces) != 6 {
			t.Fatalf("step %d: %d traces, want P×G = 6", step, len(ra.Traces))
		}
		for i, tr := range ra.Traces {
			if tr.Completion != rb.Traces[i].Completion {
				t.Errorf("step %d trace %d: completions differ for one seed", step, i)
			}
			sc := tr.Score
			if len(sc.D) != len(sc.ExplanationIDs) || len(sc.SolutionLP) == 0 {
				t.Errorf("step %d trace %d: arrays d %d for %d tokens, %d solution log-probs", step, i, len(sc.D), len(sc.ExplanationIDs), len(sc.SolutionLP))
			}
		}
		// A random teacher rarely closes its explanation within 12 tokens.
		if ra.Metrics["format_penalty_rate"] == 0 && ra.Metrics["match_reward"] != 0 {
			t.Errorf("match_reward %v without any penalty", ra.Metrics["match_reward"])
		}
	}
	var phases, metrics, traces int
	for _, e := range buf.Events() {
		switch e.(type) {
		case event.Phase:
			phases++
		case event.Metrics:
			metrics++
		case event.Trace:
			traces++
		}
	}
	if metrics != 2 || traces != 12 || phases < 6 {
		t.Errorf("events: %d phases, %d metrics, %d traces; want ≥6, 2, 12", phases, metrics, traces)
	}
}

// TestStepRecordsHowItsTextsWereTokenized: each step records the share of
// its explanations whose texts were tokenized part by part (Layout.Whole
// false): none where the tokenizer places its tokens in the whole texts,
// all where an added token takes the space before it (the system prompts
// here end in one), so that a run folder says how its texts were read.
func TestStepRecordsHowItsTextsWereTokenized(t *testing.T) {
	data, err := os.ReadFile(pairsTokenizer)
	if err != nil {
		t.Fatal(err)
	}
	stripping := bytes.Replace(data, []byte(`"content":"<|im_end|>","single_word":false,"lstrip":false`), []byte(`"content":"<|im_end|>","single_word":false,"lstrip":true`), 1)
	if bytes.Equal(stripping, data) {
		t.Fatal("no <|im_end|> added token to make lstrip")
	}
	for _, c := range []struct {
		name      string
		tokenizer []byte
		prompts   record.Prompts
		want      float64
	}{
		{"whole", data, record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."}, 0},
		{"part by part", stripping, record.Prompts{TeacherSystem: "Explain. ", StudentSystem: "Think. "}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok, err := tokenizer.Parse(c.tokenizer)
			if err != nil {
				t.Fatal(err)
			}
			cfg := model.Config{Vocab: tok.VocabSize() + 6, Hidden: 32, Intermediate: 64, Layers: 2, Heads: 4, KVHeads: 2,
				RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 256, Tied: true, QKVBias: true}
			be := compute.NewCPU()
			teacher, _ := model.NewRandom(be, cfg, 21)
			student, _ := model.NewRandom(be, cfg, 22)
			gc := runconfig.DefaultGRPO()
			gc.Questions, gc.Samples, gc.MaxNewTokens, gc.MicroBatch = 2, 2, 8, 4
			tr, err := NewTrainer(gc, record.DefaultRewardConfig(), mustPair(t, teacher, student, tok, c.prompts), sums{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := tr.Step(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := res.Metrics["layout_part_by_part_share"]; !ok || got != c.want {
				t.Errorf("layout_part_by_part_share %v (recorded %v), want %v", got, ok, c.want)
			}
		})
	}
}

func TestGRPOMovesTheTeacherAndSyncsTheReference(t *testing.T) {
	tr := newTestTrainer(t, nil)
	be := tr.Teacher.Backend()
	snapshot := func(m *model.Model) []float32 {
		p := m.Params()[1].Tensor // a layer norm weight: starts at exactly 1
		v := make([]float32, p.Len())
		be.Read(v, p)
		return v
	}
	ref0 := snapshot(tr.Ref)
	ctx := context.Background()
	if _, err := tr.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if diff(snapshot(tr.Teacher), ref0) == 0 {
		t.Fatal("one GRPO step left the teacher unchanged")
	}
	if diff(snapshot(tr.Ref), ref0) != 0 {
		t.Fatal("the reference moved before its sync step")
	}
	res, err := tr.Step(ctx) // step 2 of RefSyncEvery = 2: sync
	if err != nil {
		t.Fatal(err)
	}
	if res.Metrics["ref_synced"] != 1 || diff(snapshot(tr.Ref), ref0) == 0 {
		t.Fatal("the reference was not synced at step 2")
	}
	want := snapshot(tr.Teacher)
	got := snapshot(tr.Ref)
	for i := range want {
		mix := 0.9*float64(want[i]) + 0.1*float64(ref0[i])
		if math.Abs(float64(got[i])-mix) > 1e-6 {
			t.Fatalf("ref[%d] = %v, want 0.9·θ + 0.1·ref = %v", i, got[i], mix)
		}
	}
}

func diff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestStepMetricsAreTheRewardsTerms: a step's metrics carry the official
// trainer's names (RLT.md §7) with the reward's terms as §3 defines them:
// solution_log_prob_reward is r_SS, kl_reward is −r_KL (its sign flipped,
// so that reward = solution_log_prob_reward + kl_reward + match_reward),
// match_reward is m, each the mean over the step's completions, and
// reward_std the mean over groups of each group's standard deviation with
// Bessel's correction (the one its advantages divide by).
func TestStepMetricsAreTheRewardsTerms(t *testing.T) {
	scored := func(rss, rkl, m float64) record.Scored {
		var s record.Scored
		s.RSS, s.RKL, s.Penalty, s.Reward = rss, rkl, m, rss-rkl+m
		s.NoEntRKL, s.NoEntReward = 2*rkl, rss-2*rkl+m
		s.Ended = m == 0
		return s
	}
	scores := []record.Scored{scored(-1, 0.5, 0), scored(-2, 1.5, -1), scored(-0.5, 0.5, 0), scored(-0.5, 0.5, 0)}
	rewards := make([]float64, len(scores))
	for i, s := range scores {
		rewards[i] = s.Reward
	}
	// rewards −1.5, −4.5 (std 3/√2 = 2.1213…) and −1, −1 (std 0)
	m := stepMetrics(scores, rewards, 2, PolicyStats{}, 0, 0)
	for _, c := range []struct {
		key  string
		want float64
	}{
		{"solution_log_prob_reward", (-1 - 2 - 0.5 - 0.5) / 4.0},
		{"kl_reward", -(0.5 + 1.5 + 0.5 + 0.5) / 4.0},
		{"match_reward", -1 / 4.0},
		{"reward", (-1.5 - 4.5 - 1 - 1) / 4.0},
		{"total_teacher_likelihood_reward", (-1.5 - 4.5 - 1 - 1) / 4.0},
		{"no_entropy_kl_reward", -2 * (0.5 + 1.5 + 0.5 + 0.5) / 4.0},
		{"no_entropy_total_teacher_likelihood_reward", (-2 - 6 - 1.5 - 1.5) / 4.0},
		{"format_penalty_rate", 1 / 4.0},
		{"reward_std", (3 / math.Sqrt2) / 2},
	} {
		if got := m[c.key]; math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", c.key, got, c.want)
		}
	}
}

func TestStepMetricsZeroVarianceShare(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rewards []float64
		g       int
		want    float64
	}{
		{"one of two groups equal", []float64{1, 1, 0, 2}, 2, 0.5},
		{"none equal", []float64{1, 0, 0, 2}, 2, 0},
		{"all equal", []float64{3, 3, 3, 3, 3, 3}, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scores := make([]record.Scored, len(tc.rewards))
			m := stepMetrics(scores, tc.rewards, tc.g, PolicyStats{}, 0, 0)
			if got := m["zero_variance_share"]; got != tc.want {
				t.Errorf("zero_variance_share = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestStepEventSequence: one small step tells its phases in order, each
// followed by its progress from 0 up (sampling counts the tokens of the
// longest completion, scoring the two models' forwards, optimising the
// micro-batches, reconstructing its one pass), all before the step's metrics and
// traces. Only the order and the counts are checked: intermediate progress
// events depend on the clock.
func TestStepEventSequence(t *testing.T) {
	var buf event.Buffer
	tr := newTestTrainer(t, &buf)
	if _, err := tr.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	var seq []string
	last := map[string]event.Progress{}
	for _, e := range buf.Events() {
		switch e := e.(type) {
		case event.Phase:
			seq = append(seq, "phase "+e.Name)
		case event.Progress:
			if e.Step != 0 {
				t.Errorf("progress %+v: want step 0", e)
			}
			p, seen := last[e.Phase]
			switch {
			case !seen && e.Done != 0:
				t.Errorf("%s starts at %d, want 0", e.Phase, e.Done)
			case seen && e.Done <= p.Done:
				t.Errorf("%s goes from %d to %d", e.Phase, p.Done, e.Done)
			case seen && !e.Started.Equal(p.Started):
				t.Errorf("%s changes its start", e.Phase)
			}
			if !seen {
				seq = append(seq, e.Phase+" progress")
			}
			last[e.Phase] = e
		case event.Metrics:
			seq = append(seq, "metrics")
		case event.Trace:
			if seq[len(seq)-1] != "traces" {
				seq = append(seq, "traces")
			}
		}
	}
	want := "phase sampling,sampling progress,phase scoring,scoring progress,phase backward,backward progress," +
		"phase optimiser,optimiser progress,phase reconstructing,reconstructing progress,metrics,traces"
	if got := strings.Join(seq, ","); got != want {
		t.Fatalf("events:\n%s\nwant\n%s", got, want)
	}
	if s := last["sampling"]; s.Total != 12 || s.Done < 1 || s.Done > 12 || s.Unit != "tokens" {
		t.Errorf("sampling ended at %+v: want 1..12 of 12 tokens", s)
	}
	// 6 rollouts in micro-batches of at most 4: 2.
	for name, want := range map[string]int{"scoring": 2, "backward": 2, "optimiser": 1, "reconstructing": 1} {
		if p := last[name]; p.Done != want || p.Total != want {
			t.Errorf("%s ended at %d/%d, want %d/%d", name, p.Done, p.Total, want, want)
		}
	}
}

// encodeCounter is a real tokenizer that counts the texts it is asked to
// encode whole: by Encode, and by EncodeOffsets (a layout's whole text).
type encodeCounter struct {
	*tokenizer.Tokenizer
	encoded, offsets map[string]int
}

func (c *encodeCounter) Encode(text string) []int32 {
	c.encoded[text]++
	return c.Tokenizer.Encode(text)
}

func (c *encodeCounter) EncodeOffsets(text string) ([]int32, []int, bool) {
	c.offsets[text]++
	return c.Tokenizer.EncodeOffsets(text)
}

// TestStepEncodesEachTextOnce: a GRPO step encodes each of its texts once.
// Its questions' teacher prompts are measured for the sampling budget
// (Pair.ExplainBudget), and the teacher samples after the ids measured
// (Budget); each explanation's sequences are laid out to fit the models
// (Pair.Explain) and scored as laid out. A teacher prompt was encoded
// twice a step (measured, then sampled after), and each explanation's
// sequences twice (fitted, then scored).
func TestStepEncodesEachTextOnce(t *testing.T) {
	tok, err := tokenizer.Load(pairsTokenizer)
	if err != nil {
		t.Fatal(err)
	}
	counter := &encodeCounter{Tokenizer: tok, encoded: map[string]int{}, offsets: map[string]int{}}
	cfg := model.Config{Vocab: tok.VocabSize() + 6, Hidden: 32, Intermediate: 64, Layers: 2, Heads: 4, KVHeads: 2,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 256, Tied: true, QKVBias: true}
	be := compute.NewCPU()
	teacher, _ := model.NewRandom(be, cfg, 21)
	student, _ := model.NewRandom(be, cfg, 22)
	gc := runconfig.DefaultGRPO()
	gc.Questions, gc.Samples, gc.MaxNewTokens, gc.MicroBatch = 2, 3, 12, 6
	pair := mustPair(t, teacher, student, counter, record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."})
	tr, err := NewTrainer(gc, record.DefaultRewardConfig(), pair, sums{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Step(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range (sums{}).Batch(0, gc.Questions) {
		if n := counter.encoded[pair.Prompts.TeacherPrompt(ex.Question, ex.Solution)]; n != 1 {
			t.Errorf("question %q: its teacher prompt encoded %d times in a step, want 1", ex.Question, n)
		}
	}
	// Samples alike in text are laid out once each.
	want := map[string]int{}
	for _, trace := range res.Traces {
		want[strings.Join(teacherText(pair.Prompts, trace.Question, trace.Solution, record.Extract(trace.Completion).Body), "")]++
	}
	for _, trace := range res.Traces {
		text := strings.Join(teacherText(pair.Prompts, trace.Question, trace.Solution, record.Extract(trace.Completion).Body), "")
		if got := counter.offsets[text]; got != want[text] {
			t.Errorf("sample %d:%d: its teacher sequence encoded %d times in a step, want %d", trace.Group, trace.Sample, got, want[text])
		}
	}
}

// TestStepScoresWhatItsTextsScore: a step scores its explanations as
// Pair.Explain laid them out, and those scores are, bit for bit, the
// scorer's of the traces' texts laid out anew (Scorer.Score, by a second
// trainer of the same seeds before its step, whose teacher is the first's
// as it scored).
func TestStepScoresWhatItsTextsScore(t *testing.T) {
	a, b := newTestTrainer(t, nil), newTestTrainer(t, nil)
	res, err := a.Step(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	items := make([]Item, len(res.Traces))
	for i, trace := range res.Traces {
		x := record.Extract(trace.Completion)
		items[i] = Item{Question: trace.Question, Solution: trace.Solution, Explanation: x.Body, Ended: x.Ended}
	}
	scores, err := b.scorer.Score(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	for i, trace := range res.Traces {
		if !reflect.DeepEqual(*trace.Score, scores[i]) {
			t.Errorf("trace %d: the step scored\n%+v\nand its text scores\n%+v", i, *trace.Score, scores[i])
		}
	}
}

// TestTrainerScoresAtTheSamplingTemperature: RLT.md §3 takes every
// log-prob of the reward "on logits divided by τ = 0.7 (the generation
// temperature; both models)", so a trainer whose reward temperature is not
// its sampling temperature is refused, naming both; equal ones at any τ are
// taken.
func TestTrainerScoresAtTheSamplingTemperature(t *testing.T) {
	for _, c := range []struct {
		sample, score float64
		err           string
	}{
		{0.7, 0.7, ""},
		{1, 1, ""},
		{0.7, 1, "grpo: the reward's temperature 1 differs from sampling's 0.7; RLT scores on the sampling temperature"},
		{1, 0.7, "grpo: the reward's temperature 0.7 differs from sampling's 1; RLT scores on the sampling temperature"},
	} {
		gc := runconfig.DefaultGRPO()
		gc.Temperature = c.sample
		rc := record.DefaultRewardConfig()
		rc.Temperature = c.score
		tr, err := NewTrainer(gc, rc, fitPair(t, 256, 256), sums{}, nil)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("sampling at %v, scoring at %v: %v", c.sample, c.score, err)
		case c.err == "" && tr.scorer.Cfg.Temperature != c.sample:
			t.Errorf("sampling at %v: the scorer's temperature is %v", c.sample, tr.scorer.Cfg.Temperature)
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("sampling at %v, scoring at %v: %v, want %s", c.sample, c.score, err, c.err)
		}
	}
}
