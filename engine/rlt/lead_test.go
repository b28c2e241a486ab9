package rlt

import (
	"context"
	"math"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// fixedModel is a hand-built model whose next-token distribution is the
// same at every position, so every log-prob it gives is known: each token
// embeds to the first unit vector, the layer adds nothing (its output
// projections are zero), the final norm scales that vector by h0, and the
// untied head's row v is logit(v)/h0 on the first dimension.
func fixedModel(t *testing.T, be compute.Backend, vocab int, logit func(v int) float64) *model.Model {
	t.Helper()
	const d = 8
	cfg := model.Config{Vocab: vocab, Hidden: d, Intermediate: 8, Layers: 1, Heads: 2, KVHeads: 1,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 512, Tied: false}
	m, err := model.New(be, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ones := make([]float32, d)
	for i := range ones {
		ones[i] = 1
	}
	for _, n := range []*compute.Tensor{m.Layers[0].InputNorm, m.Layers[0].PostAttnNorm, m.Norm} {
		be.Write(n, ones)
	}
	h0 := 1 / math.Sqrt(1.0/d+cfg.RMSEps)
	emb, head := make([]float32, vocab*d), make([]float32, vocab*d)
	for v := 0; v < vocab; v++ {
		emb[v*d] = 1
		head[v*d] = float32(logit(v) / h0)
	}
	be.Write(m.Embed, emb)
	be.Write(m.LMHead, head)
	return m
}

// knownLP is log softmax(logit/τ) of token v, in float64.
func knownLP(vocab int, logit func(int) float64, tau float64, v int32) float64 {
	mx := math.Inf(-1)
	for u := 0; u < vocab; u++ {
		mx = math.Max(mx, logit(u)/tau)
	}
	var s float64
	for u := 0; u < vocab; u++ {
		s += math.Exp(logit(u)/tau - mx)
	}
	return logit(int(v))/tau - mx - math.Log(s)
}

func teacherLogit(v int) float64 { return 0.5 * float64(v%7) }
func studentLogit(v int) float64 { return 0.3*float64(v%5) - 0.2*float64(v%3) }

// checkLeadFirst checks a scored explanation against the known log-probs:
// T is the lead's token(s) then the body's, every ℓT, ℓS and d is the
// hand-built models', and the reward is reduced over all of T. (This test
// vocabulary has no "\n\n" merge, so the lead is two "\n" tokens.)
func checkLeadFirst(t *testing.T, name string, tok *tokenizer.Tokenizer, vocab int, body string, sc *record.Scored, cfg record.RewardConfig) {
	t.Helper()
	lead := tok.Encode(record.ExplanationLead)
	want := append(append([]int32(nil), lead...), tok.Encode(body)...)
	if len(lead) == 0 {
		t.Fatalf("the lead %q encodes to no token", record.ExplanationLead)
	}
	if len(sc.ExplanationIDs) != len(want) || sc.ExplanationIDs[0] != lead[0] {
		t.Fatalf("%s: T = %v, want the lead %v first, then the body: %v", name, sc.ExplanationIDs, lead, want)
	}
	for k, id := range want {
		if sc.ExplanationIDs[k] != id {
			t.Fatalf("%s: T[%d] = %d, want %d", name, k, sc.ExplanationIDs[k], id)
		}
	}
	tau := cfg.Temperature
	var dMean, dMax float64
	dMax = math.Inf(-1)
	for k, id := range want {
		lt, ls := knownLP(vocab, teacherLogit, tau, id), knownLP(vocab, studentLogit, tau, id)
		if math.Abs(float64(sc.TeacherLP[k])-lt) > 1e-5 || math.Abs(float64(sc.StudentLP[k])-ls) > 1e-5 {
			t.Errorf("%s: token %d (%q): ℓT %v ℓS %v, known %v %v", name, k, sc.ExplanationTokens[k], sc.TeacherLP[k], sc.StudentLP[k], lt, ls)
		}
		dMean += (lt - ls) / float64(len(want))
		dMax = math.Max(dMax, lt-ls)
	}
	if d0 := knownLP(vocab, teacherLogit, tau, lead[0]) - knownLP(vocab, studentLogit, tau, lead[0]); math.Abs(float64(sc.D[0])-d0) > 1e-5 {
		t.Errorf("%s: d of the lead %v, known %v", name, sc.D[0], d0)
	}
	if math.Abs(sc.KLMean-dMean) > 1e-5 || math.Abs(sc.KLMax-dMax) > 1e-5 {
		t.Errorf("%s: KL mean/max %v %v, known over T with the lead %v %v", name, sc.KLMean, sc.KLMax, dMean, dMax)
	}
	var sMean float64
	for _, id := range sc.SolutionIDs {
		sMean += knownLP(vocab, studentLogit, tau, id) / float64(len(sc.SolutionIDs))
	}
	if math.Abs(sc.SolutionMean-sMean) > 1e-5 {
		t.Errorf("%s: solution mean %v, known %v", name, sc.SolutionMean, sMean)
	}
}

func fixedPair(t *testing.T) (*tokenizer.Tokenizer, int, *model.Model, *model.Model) {
	tok, err := tokenizer.Load("../tokenizer/testdata/qwen2_pairs.json")
	if err != nil {
		t.Fatal(err)
	}
	be := compute.NewCPU()
	vocab := tok.VocabSize() + 6
	return tok, vocab, fixedModel(t, be, vocab, teacherLogit), fixedModel(t, be, vocab, studentLogit)
}

// TestExplanationStartsWithTheLead: the scorer (what rlt score runs) takes
// the body after the prefill, and T is the prefill's "\n\n" and the body,
// scored with the log-probs the hand-built models are known to give.
func TestExplanationStartsWithTheLead(t *testing.T) {
	tok, vocab, teacher, student := fixedPair(t)
	cfg := record.DefaultRewardConfig()
	p := record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."}
	s, err := NewScorer(mustPair(t, teacher, student, tok, p), cfg)
	if err != nil {
		t.Fatal(err)
	}
	items := []Item{
		{Question: "347+285=?", Solution: "632", Explanation: "7+5=12 w2 c1", Ended: true},
		{Question: "1+1=?", Solution: "2", Explanation: "", Ended: true},
	}
	got, err := s.Score(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		checkLeadFirst(t, it.Question, tok, vocab, it.Explanation, &got[i], cfg)
		// The teacher's sequence is exactly the prompt it continued, then the body.
		e := s.encode(it)
		whole := append(tok.Encode(p.TeacherPrompt(it.Question, it.Solution)), tok.Encode(it.Explanation)...)
		if len(whole) != len(e.Teacher) {
			t.Fatalf("%s: teacher sequence %d tokens, prompt + body %d", it.Question, len(e.Teacher), len(whole))
		}
		for k := range whole {
			if whole[k] != e.Teacher[k] {
				t.Fatalf("%s: teacher sequence differs from prompt + body at %d", it.Question, k)
			}
		}
	}
}

// TestGRPORewardStartsWithTheLead: GRPO's reward of what the teacher
// sampled scores the same T, the lead first.
func TestGRPORewardStartsWithTheLead(t *testing.T) {
	tok, vocab, teacher, student := fixedPair(t)
	gc := runconfig.DefaultGRPO()
	gc.Questions, gc.Samples, gc.MaxNewTokens, gc.MicroBatch, gc.Reconstruct = 1, 2, 6, 2, false
	cfg := record.DefaultRewardConfig()
	var buf event.Buffer
	tr, err := NewTrainer(gc, cfg, mustPair(t, teacher, student, tok, record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."}), sums{}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Step(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, trc := range res.Traces {
		if trc.Score == nil {
			t.Fatalf("trace %d has no score", i)
		}
		checkLeadFirst(t, "sample", tok, vocab, record.Extract(trc.Completion).Body, trc.Score, cfg)
		if got := res.Metrics["explanation_length"]; got < 1 {
			t.Errorf("explanation_length %v: T holds at least the lead", got)
		}
	}
}
