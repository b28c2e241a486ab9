package rlt

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
)

func TestAdvantages(t *testing.T) {
	adv, err := Advantages([]float64{1, 2, 3, 5, 5, 5}, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Group 1: mean 2, Bessel std 1. Group 2: all equal, std 0.
	want := []float64{-1 / 1.0001, 0, 1 / 1.0001, 0, 0, 0}
	for i := range want {
		if math.Abs(adv[i]-want[i]) > 1e-12 {
			t.Errorf("A[%d] = %v, want %v", i, adv[i], want[i])
		}
	}
	if _, err := Advantages([]float64{1, 2, 3}, 2); err == nil {
		t.Error("3 rewards in groups of 2 accepted")
	}
}

func tinyPolicy(t *testing.T, seed uint64) *model.Model {
	cfg := model.Config{Vocab: 23, Hidden: 16, Intermediate: 24, Layers: 1, Heads: 2, KVHeads: 1,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 32, Tied: false, QKVBias: true}
	m, err := model.NewRandom(compute.NewCPU(), cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(seed, 0.4)
	return m
}

// surrogate is a loss whose gradient equals GRPO's at ρ = 1:
// mean_i (1/|o_i|) Σ_t (−A_i logπ_t + β k3_t).
func surrogate(t *testing.T, policy, ref *model.Model, rolls []Rollout, cfg PolicyConfig) float64 {
	batch, targets, spans := packRollouts(rolls)
	lp := func(m *model.Model) []float32 {
		tp := compute.NewTape(m.Backend())
		tp.SetRecording(false)
		out := m.TokenLogProbs(tp, batch, targets, float32(1/cfg.Temperature))
		if tp.Err() != nil {
			t.Fatal(tp.Err())
		}
		v := make([]float32, out.Len())
		m.Backend().Read(v, out)
		return v
	}
	p, r := lp(policy), lp(ref)
	var L float64
	for i, ro := range rolls {
		sp := spans[i]
		for k := 0; k < sp[1]; k++ {
			x := float64(r[sp[0]+k]) - float64(p[sp[0]+k])
			L += (-ro.Advantage*float64(p[sp[0]+k]) + cfg.Beta*(math.Exp(x)-x-1)) / float64(sp[1]) / float64(len(rolls))
		}
	}
	return L
}

func TestPolicyGradientMatchesFiniteDifferences(t *testing.T) {
	policy, ref := tinyPolicy(t, 1), tinyPolicy(t, 2)
	policy.RequireGrad()
	rolls := []Rollout{
		{Prompt: []int32{1, 2, 3}, Completion: []int32{4, 5, 6, 7}, Advantage: 1.2},
		{Prompt: []int32{9}, Completion: []int32{10, 11}, Advantage: -0.7},
		{Prompt: []int32{1, 2, 3, 8, 8}, Completion: []int32{22}, Advantage: 0.3},
	}
	cfg := PolicyConfig{Beta: 0.04, Temperature: 0.7, MicroBatch: 2}
	be := policy.Backend()
	if _, err := PolicyGradient(compute.NewTape(be), noGrad(be), policy, ref, rolls, cfg); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range policy.Params() {
		grad := make([]float32, p.Tensor.Len())
		be.Read(grad, p.Tensor.Grad)
		vals := make([]float32, p.Tensor.Len())
		be.Read(vals, p.Tensor)
		for trial := 0; trial < 3; trial++ {
			i := r.IntN(len(vals))
			const h = 2e-3
			orig := vals[i]
			vals[i] = orig + h
			be.Write(p.Tensor, vals)
			up := surrogate(t, policy, ref, rolls, cfg)
			vals[i] = orig - h
			be.Write(p.Tensor, vals)
			down := surrogate(t, policy, ref, rolls, cfg)
			vals[i] = orig
			be.Write(p.Tensor, vals)
			num := (up - down) / (2 * h)
			if math.Abs(num-float64(grad[i])) > 2e-3+2e-2*math.Abs(num) {
				t.Errorf("%s[%d]: gradient %.6f, finite difference %.6f", p.Name, i, grad[i], num)
			}
		}
	}
}

func noGrad(be compute.Backend) *compute.Tape {
	tp := compute.NewTape(be)
	tp.SetRecording(false)
	return tp
}

func TestPolicyLossValueAndKL(t *testing.T) {
	policy := tinyPolicy(t, 5)
	policy.RequireGrad()
	rolls := []Rollout{{Prompt: []int32{1}, Completion: []int32{2, 3}, Advantage: 2}, {Prompt: []int32{1}, Completion: []int32{4}, Advantage: -2}}
	cfg := PolicyConfig{Beta: 0.04, Temperature: 0.7}
	be := policy.Backend()
	// With the reference equal to the policy, k3 is 0 and the loss is −mean(A).
	st, err := PolicyGradient(compute.NewTape(be), noGrad(be), policy, policy, rolls, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(st.KL) > 1e-9 || math.Abs(st.Loss) > 1e-9 || st.Tokens != 3 || st.MeanLength != 1.5 {
		t.Errorf("stats %+v: want KL 0, loss 0, 3 tokens, mean length 1.5", st)
	}
}

// TestPolicyLossAndKLAreTheSpecs: with a reference that differs from the
// policy, the loss and KL PolicyGradient reports are RLT.md §4's, worked
// out here from each model's log-probs of one unbatched sequence at
// logits / τ: loss = mean over completions of (1/|o_i|) Σ_t −(A_i − β k3_t)
// (ρ_t = 1 on-policy), k3_t = exp(logπ_ref − logπ) − (logπ_ref − logπ) − 1,
// and kl = mean over completions of the mean k3 — each completion's tokens
// averaged within it, not all tokens of the batch pooled (completions of 3
// and 1 tokens make the two differ), and k3 with the reference over the
// policy (the other way round is another number).
func TestPolicyLossAndKLAreTheSpecs(t *testing.T) {
	policy, ref := tinyPolicy(t, 5), tinyPolicy(t, 7)
	policy.RequireGrad()
	be := policy.Backend()
	rolls := []Rollout{
		{Prompt: []int32{1, 2}, Completion: []int32{3, 4, 5}, Advantage: 1.5},
		{Prompt: []int32{6}, Completion: []int32{7}, Advantage: -0.5},
	}
	const beta, tau = 0.04, 0.7
	st, err := PolicyGradient(compute.NewTape(be), noGrad(be), policy, ref, rolls, PolicyConfig{Beta: beta, Temperature: tau})
	if err != nil {
		t.Fatal(err)
	}
	var loss, kl, pooledLoss, reversedKL float64
	tokens := 0
	for _, r := range rolls {
		seq := append(append([]int32{}, r.Prompt...), r.Completion...)
		pl := fullSequenceLP(t, policy, seq, float32(1/tau))
		rl := fullSequenceLP(t, ref, seq, float32(1/tau))
		m := float64(len(r.Completion))
		var lossSum, klSum, revSum float64
		for k := range r.Completion {
			at := len(r.Prompt) + k - 1 // the position that predicts completion token k
			x := float64(rl[at]) - float64(pl[at])
			k3 := math.Exp(x) - x - 1
			lossSum += -(r.Advantage - beta*k3)
			klSum += k3
			revSum += math.Exp(-x) + x - 1
		}
		loss += lossSum / m / float64(len(rolls))
		kl += klSum / m / float64(len(rolls))
		reversedKL += revSum / m / float64(len(rolls))
		pooledLoss += lossSum
		tokens += len(r.Completion)
	}
	pooledLoss /= float64(tokens)
	if math.Abs(loss-pooledLoss) < 1e-3 || math.Abs(kl-reversedKL) < 1e-6 {
		t.Fatalf("the case does not tell the normalisations (%v, %v) or the KL's directions (%v, %v) apart", loss, pooledLoss, kl, reversedKL)
	}
	if math.Abs(st.Loss-loss) > 1e-5 || math.Abs(st.KL-kl) > 1e-6 {
		t.Errorf("loss %v, kl %v; want %v, %v (pooled over tokens the loss would be %v; k3 of the policy over the reference %v)",
			st.Loss, st.KL, loss, kl, pooledLoss, reversedKL)
	}
	if st.Tokens != 4 || st.MeanLength != 2 {
		t.Errorf("%d tokens, mean length %v; want 4, 2", st.Tokens, st.MeanLength)
	}
}

func TestClippedRatioStopsTheGradient(t *testing.T) {
	policy := tinyPolicy(t, 6)
	policy.RequireGrad()
	be := policy.Backend()
	// Old log-probs far below the current ones: ratio ≫ 1+ε with A > 0 is clipped.
	rolls := []Rollout{{Prompt: []int32{1}, Completion: []int32{2, 3}, Advantage: 1, OldLP: []float32{-50, -50}}}
	cfg := PolicyConfig{Beta: 0, Temperature: 0.7, ClipEps: 0.2}
	st, err := PolicyGradient(compute.NewTape(be), noGrad(be), policy, policy, rolls, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.ClipFrac != 1 {
		t.Errorf("clip fraction %v, want 1", st.ClipFrac)
	}
	norm, _ := compute.ClipGradNorm(be, policy.Tensors(), 0)
	if norm != 0 {
		t.Errorf("gradient norm %v through clipped tokens, want 0", norm)
	}
}

// TestPolicyGradientUnderATokenBudget: micro-batches by a token budget give
// the gradient and loss of one batch; a budget under one rollout is refused
// with the numbers.
func TestPolicyGradientUnderATokenBudget(t *testing.T) {
	rolls := []Rollout{
		{Prompt: []int32{1, 2, 3}, Completion: []int32{4, 5, 6, 7}, Advantage: 1.2},
		{Prompt: []int32{9}, Completion: []int32{10, 11}, Advantage: -0.7},
		{Prompt: []int32{1, 2, 3, 8, 8}, Completion: []int32{22}, Advantage: 0.3},
	}
	grads := func(budget int) ([]float32, PolicyStats, error) {
		policy, ref := tinyPolicy(t, 1), tinyPolicy(t, 2)
		policy.RequireGrad()
		be := policy.Backend()
		st, err := PolicyGradient(compute.NewTape(be), noGrad(be), policy, ref, rolls, PolicyConfig{Beta: 0.04, Temperature: 0.7, MicroBatchTokens: budget})
		var all []float32
		for _, p := range policy.Params() {
			g := make([]float32, p.Tensor.Len())
			be.Read(g, p.Tensor.Grad)
			all = append(all, g...)
		}
		return all, st, err
	}
	want, wst, err := grads(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, budget := range []int{7, 12, 14} { // one rollout a micro-batch, then two
		got, st, err := grads(budget)
		if err != nil {
			t.Fatalf("budget %d: %v", budget, err)
		}
		if math.Abs(st.Loss-wst.Loss) > 1e-6 || st.Tokens != wst.Tokens {
			t.Errorf("budget %d: stats %+v, want %+v", budget, st, wst)
		}
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-6 {
				t.Fatalf("budget %d: gradient %d = %g, want %g", budget, i, got[i], want[i])
			}
		}
	}
	if _, _, err := grads(6); err == nil || !strings.Contains(err.Error(), "micro_batch_tokens = 6 is smaller than sequence 0 of 7 tokens: set it to at least 7") {
		t.Errorf("a budget under one rollout: %v", err)
	}
}

// TestPolicyGradientRefusesRolloutsPastThePositions: a rollout past the
// policy's positions is refused in the words of every refusal past them
// (model.PositionsError), naming the rollout, before any micro-batch adds
// to the gradients; it was "a rollout of 35 tokens is longer than the
// model's 32 positions", said once the micro-batches before it had
// added theirs. One that fills the positions is taken.
func TestPolicyGradientRefusesRolloutsPastThePositions(t *testing.T) {
	rollout := func(prompt, completion int) Rollout {
		return Rollout{Prompt: make([]int32, prompt), Completion: make([]int32, completion), Advantage: 1}
	}
	for _, c := range []struct {
		name  string
		rolls []Rollout
		want  string // "" for none
	}{
		{"the second past them", []Rollout{rollout(3, 4), rollout(20, 15)},
			"policy loss: the policy: rollout 1 (its prompt and completion) takes 35 tokens, 3 more than its 32 positions (max_position_embeddings): give rollouts of at most 32 tokens"},
		{"filling them", []Rollout{rollout(3, 4), rollout(20, 12)}, ""},
	} {
		policy, ref := tinyPolicy(t, 1), tinyPolicy(t, 2)
		policy.RequireGrad()
		be := policy.Backend()
		_, err := PolicyGradient(compute.NewTape(be), noGrad(be), policy, ref, c.rolls, PolicyConfig{Beta: 0.04, Temperature: 0.7, MicroBatch: 1})
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v, want none", c.name, err)
			}
			continue
		}
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v\nwant %s", c.name, err, c.want)
		}
		norm, _ := compute.ClipGradNorm(be, policy.Tensors(), 0)
		if norm != 0 {
			t.Errorf("%s: refused with a gradient of norm %g: a micro-batch before the refusal added to it", c.name, norm)
		}
	}
}

// TestPolicyLossRefusesATemperatureWithoutLogProbs: a PolicyConfig whose
// temperature has no finite log-probs (record.TemperatureProblem, the
// [grpo] rule: 0, negative, NaN, +Inf, below 1/MaxFloat32) is refused
// before the loss, in the config's words, the policy's gradients left
// untouched; 1/τ was +Inf and the loss NaN. 1/MaxFloat32 itself runs.
func TestPolicyLossRefusesATemperatureWithoutLogProbs(t *testing.T) {
	rolls := []Rollout{{Prompt: []int32{1}, Completion: []int32{2, 3}, Advantage: 1}, {Prompt: []int32{1}, Completion: []int32{4}, Advantage: -1}}
	for _, c := range []struct {
		tau  float64
		want string
	}{
		{1e-40, "policy loss: temperature 1e-40 is below 2.9e-39 (1/MaxFloat32), where log-probs are not finite: give 1e-38 or more (0.01 is near greedy already)"},
		{1e-300, "policy loss: temperature 1e-300 is below 2.9e-39"},
		{0, "policy loss: temperature 0 must be a finite positive number"},
		{-0.7, "policy loss: temperature -0.7 must be a finite positive number"},
		{math.NaN(), "policy loss: temperature NaN must be a finite positive number"},
		{math.Inf(1), "policy loss: temperature +Inf must be a finite positive number"},
		{record.MinTemperature, ""},
	} {
		policy, ref := tinyPolicy(t, 5), tinyPolicy(t, 7)
		policy.RequireGrad()
		be := policy.Backend()
		st, err := PolicyGradient(compute.NewTape(be), noGrad(be), policy, ref, rolls, PolicyConfig{Beta: 0.04, Temperature: c.tau})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("τ %g: %v; want it to run", c.tau, err)
		case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
			t.Errorf("τ %g: error %v, stats %+v; want %q", c.tau, err, st, c.want)
		}
	}
}
