package rlt

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// TestStepRefusesANonFiniteReward: a student that gives a solution token
// no probability within float32 (its logit divided by τ is past float32's
// range: -Inf) makes that sample's r_SS, and its reward, -Inf. The step
// fails before the policy loss, naming the step, the sample's group and
// place, the term and the token, and leaves the teacher and the step count
// as it found them, so that the run's last checkpoint is where it stands.
// It failed on the NaN gradient the group's NaN advantages made: "gradient
// of model.embed_tokens.weight is not finite (NaN or Inf): … lower the
// learning rate or check the inputs", naming neither sample nor cause.
func TestStepRefusesANonFiniteReward(t *testing.T) {
	tok, err := tokenizer.Load("../tokenizer/testdata/qwen2_pairs.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := model.Config{Vocab: tok.VocabSize() + 6, Hidden: 32, Intermediate: 64, Layers: 2, Heads: 4, KVHeads: 2,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 256, Tied: true, QKVBias: true}
	be := compute.NewCPU()
	teacher, _ := model.NewRandom(be, cfg, 21)
	sc := cfg
	sc.Tied = false
	student, _ := model.NewRandom(be, sc, 22)
	// Every embedding holds 100 in its first dimension, so that the
	// student's last hidden state's first dimension is about +√32 at
	// every position; the head's row of "3" is -1e38 there and 0
	// elsewhere: its logit is about -5.7e38, -Inf in float32.
	three, ok := tok.ID("3")
	if !ok {
		t.Fatal(`the tokenizer has no "3"`)
	}
	emb := make([]float32, sc.Vocab*sc.Hidden)
	be.Read(emb, student.Embed)
	for v := range sc.Vocab {
		emb[v*sc.Hidden] += 100
	}
	be.Write(student.Embed, emb)
	head := make([]float32, sc.Vocab*sc.Hidden)
	be.Read(head, student.LMHead)
	row := head[int(three)*sc.Hidden : int(three+1)*sc.Hidden]
	clear(row)
	row[0] = -1e38
	be.Write(student.LMHead, head)

	gc := runconfig.DefaultGRPO()
	gc.Questions, gc.Samples, gc.MaxNewTokens, gc.LR, gc.MicroBatch = 2, 3, 12, 1e-2, 4
	var sink event.Buffer
	tr, err := NewTrainer(gc, record.DefaultRewardConfig(), mustPair(t, teacher, student, tok, record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."}), sums{}, &sink)
	if err != nil {
		t.Fatal(err)
	}
	before := make([]float32, cfg.Vocab*cfg.Hidden)
	be.Read(before, teacher.Embed)
	_, err = tr.Step(context.Background())
	// Step 0's first question is 10+25=?, its solution "35": the first
	// sample's first solution token is "3".
	want := `step 0: group 0 sample 0's reward is -Inf (r_SS is -Inf: the student's log-prob of solution token 0 "3" is -Inf`
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "the step is not applied") {
		t.Fatalf("the step gave %v\nwant an error beginning %s", err, want)
	}
	// The way on is one that works: a resume samples the step again
	// from its seed, which it cannot change, so it fails alike unless
	// the temperature (the run's config.toml, then resume) or the model
	// does. It said to look at "the sample's texts", which no trace
	// records, and blamed a NaN on logits not finite, which a temperature
	// below 1/MaxFloat32 makes of finite ones.
	for _, way := range []string{
		"the temperature is that small, or the model's weights so large that its sums overflow",
		"rlt logprobs --model DIR --temperature 0.7",
		"A resume, which keeps the run's seed, runs this step again as it was, its samples drawn from the seed and the step, and fails alike",
		"raise temperature in [grpo] and in [reward] (a run's config.toml, then resume it)",
		"start a new run with a sound one",
	} {
		if !strings.Contains(err.Error(), way) {
			t.Errorf("the step gave %v\nwant it to say %q", err, way)
		}
	}
	// Refused before the update, the trainer is not torn: the run's
	// close saves it as the previous step's checkpoint, which it is
	// (a torn one is refused a checkpoint, Trainer.Torn).
	if torn := tr.Torn(); torn != nil {
		t.Errorf("the refused step left the trainer torn: %v", torn)
	}
	after := make([]float32, len(before))
	be.Read(after, teacher.Embed)
	if d := diff(before, after); d != 0 || tr.StepIndex() != 0 {
		t.Errorf("the failed step moved the teacher by %g and counted %d steps; want it as it was, 0 steps", d, tr.StepIndex())
	}
	for _, e := range sink.Events() {
		if _, ok := e.(event.Metrics); ok {
			t.Errorf("the failed step emitted its metrics: %+v", e)
		}
	}
	t.Log(err)
}

// TestFiniteRewardsNamesTheTermThatMadeIt: every reward a step records,
// the reward and its no-entropy twin (d_k replaced by −ℓS_k), refuses the
// step where it is NaN or ±Inf, in 0d2a966/811b078's words, whichever
// term made it so: a log-prob (the token named, the temperature's way
// on) or, every log-prob finite, [reward] coefficients whose products or
// sum leave float64's range (the coefficients named, their way on). The
// no-entropy reward overflowing was let through (the step's metrics then
// recorded a mean of -Inf with no word), and a sum that overflowed from
// two finite terms was said as "reward is -Inf ()" with the temperature
// blamed.
func TestFiniteRewardsNamesTheTermThatMadeIt(t *testing.T) {
	inf := float32(math.Inf(-1))
	def := record.DefaultRewardConfig()
	big := func(f func(*record.RewardConfig)) record.RewardConfig { c := def; f(&c); return c }
	const logProbWay = "A log-prob is -Inf or NaN where a model's logits divided by the temperature (0.7) leave float32's range"
	const coefWay = "Every log-prob is finite: the [reward] coefficients are that large. A resume, which keeps the run's seed, runs this step again as it was, its samples drawn from the seed and the step, and fails alike: give smaller ones in [reward] (a run's config.toml, then resume it; the defaults are solution_mean 1, solution_min 0.01, kl_mean 3, kl_max 0.03, format_penalty -1)"
	for _, c := range []struct {
		name              string
		rc                record.RewardConfig
		solution, teacher []float32 // the student's solution log-probs, the teacher's explanation ones
		student           []float32 // the student's explanation log-probs
		d                 []float32 // nil: the log-ratio of teacher and student
		want, way         string    // want "": the step goes on
	}{
		{"finite", def, []float32{-1, -2}, []float32{-1, -2}, []float32{-2, -3}, nil, "", ""},
		{"a solution log-prob -Inf", def, []float32{-1, inf}, []float32{-1, -2}, []float32{-2, -3}, nil,
			`group 0 sample 1's reward is -Inf (r_SS is -Inf: the student's log-prob of solution token 1 "b" is -Inf), so its group's GRPO advantages would be NaN: the step is not applied, the teacher left as the step found it. `, logProbWay},
		// The full-KL estimator's d is of whole distributions: finite
		// where the student's log-prob of the token is -Inf.
		{"no-entropy: an explanation log-prob -Inf", big(func(c *record.RewardConfig) { c.Estimator = record.FullKL }),
			[]float32{-1, -2}, []float32{-1, -2}, []float32{-2, inf}, []float32{0.5, 0.5},
			`group 0 sample 1's no-entropy reward (r with d_k replaced by −ℓS_k) is -Inf (its r_KL is +Inf: the student's log-prob of explanation token 1 "y" is -Inf), which the step's metrics would record as no number: the step is not applied, the teacher left as the step found it. `, logProbWay},
		{"no-entropy: kl_mean overflows it", big(func(c *record.RewardConfig) { c.KLMean = 1e308 }),
			[]float32{-1, -2}, []float32{-2, -3}, []float32{-2, -3}, nil,
			`group 0 sample 1's no-entropy reward (r with d_k replaced by −ℓS_k) is -Inf (its r_KL is +Inf: kl_mean 1e+308 × −ℓS's mean 2.5 + kl_max 0.03 × −ℓS's max 3 leaves float64's range), which the step's metrics would record as no number: the step is not applied, the teacher left as the step found it. `, coefWay},
		{"r_SS: solution_mean overflows it", big(func(c *record.RewardConfig) { c.SolutionMean = 1e308 }),
			[]float32{-3, -2}, []float32{-1, -2}, []float32{-1, -2}, nil,
			`group 0 sample 1's reward is -Inf (r_SS is -Inf: solution_mean 1e+308 × the solution log-probs' mean -2.5 + solution_min 0.01 × their min -3 leaves float64's range), so its group's GRPO advantages would be NaN: `, coefWay},
		{"each term finite, their sum not", big(func(c *record.RewardConfig) { c.SolutionMean, c.KLMean = 1e308, 1e308 }),
			[]float32{-1, -1}, []float32{-1, -1}, []float32{-2, -2}, nil,
			`group 0 sample 1's reward is -Inf (r_SS -1e+308 − r_KL 1e+308 + m 0 leaves float64's range), so its group's GRPO advantages would be NaN: `, coefWay},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.rc.Temperature = 0.7
			d := c.d
			if d == nil {
				for k := range c.teacher {
					d = append(d, c.rc.TokenScore(c.teacher[k], c.student[k]))
				}
			}
			sound := record.Scored{Ended: true, Terms: def.Reduce([]float32{-1}, []float32{0.1}, []float32{-1}, true)}
			s := record.Scored{Ended: true, Terms: c.rc.Reduce(c.solution, d, c.student, true), Tokens: record.Tokens{
				ExplanationTokens: []string{"x", "y"}, TeacherLP: c.teacher, StudentLP: c.student, D: d,
				SolutionTokens: []string{"a", "b"}, SolutionLP: c.solution}}
			err := finiteRewards([]record.Scored{sound, s}, 2, c.rc)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("%v; want the step to go on", err)
			case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want) || !strings.Contains(err.Error(), c.way)):
				t.Errorf("got %v\nwant it to begin %s\nand say %s", err, c.want, c.way)
			}
		})
	}
}

// TestStepRefusesANonFiniteNoEntropyReward: a real step whose [reward]
// kl_mean (1e308, finite, so accepted) overflows the no-entropy reward
// (kl_mean × −ℓS's mean, ℓS about −5.6 under random models) while the
// reward (kl_mean × d's mean, d near 0) stays finite is refused before
// its update, the teacher and the step count as it found them; it went
// on, its metrics recording the no-entropy reward's mean as -Inf.
func TestStepRefusesANonFiniteNoEntropyReward(t *testing.T) {
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
	gc.Questions, gc.Samples, gc.MaxNewTokens, gc.LR, gc.MicroBatch = 2, 3, 12, 1e-2, 4
	rc := record.DefaultRewardConfig()
	rc.KLMean = 1e308
	var sink event.Buffer
	tr, err := NewTrainer(gc, rc, mustPair(t, teacher, student, tok, record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."}), sums{}, &sink)
	if err != nil {
		t.Fatal(err)
	}
	before := make([]float32, cfg.Vocab*cfg.Hidden)
	be.Read(before, teacher.Embed)
	_, err = tr.Step(context.Background())
	want := `step 0: group 0 sample 0's no-entropy reward (r with d_k replaced by −ℓS_k) is -Inf (its r_KL is +Inf: kl_mean 1e+308 × −ℓS's mean `
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "give smaller ones in [reward]") {
		t.Fatalf("the step gave %v\nwant an error beginning %s", err, want)
	}
	after := make([]float32, len(before))
	be.Read(after, teacher.Embed)
	if d := diff(before, after); d != 0 || tr.StepIndex() != 0 || tr.Torn() != nil {
		t.Errorf("the failed step moved the teacher by %g, counted %d steps, torn %v; want it as it was", d, tr.StepIndex(), tr.Torn())
	}
	for _, e := range sink.Events() {
		if _, ok := e.(event.Metrics); ok {
			t.Errorf("the failed step emitted its metrics: %+v", e)
		}
	}
}
