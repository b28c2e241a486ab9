package rlt

import (
	"context"
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
