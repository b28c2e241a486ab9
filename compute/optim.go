package compute

import (
	"fmt"
	"math"
)

// AdamW is decoupled-weight-decay Adam with bias correction, as PyTorch's
// torch.optim.AdamW computes it, over a fixed list of parameters.
type AdamW struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	be                                 Backend
	params                             []*Tensor
	m, v                               []*Tensor
	step                               int
}

// NewAdamW makes an optimiser for params, which must require gradients.
func NewAdamW(be Backend, params []*Tensor, lr, beta1, beta2, eps, weightDecay float64) (*AdamW, error) {
	o := &AdamW{LR: lr, Beta1: beta1, Beta2: beta2, Eps: eps, WeightDecay: weightDecay, be: be, params: params}
	for _, p := range params {
		if p.DType() != F32 {
			return nil, fmt.Errorf("adamw: parameter %v is a frozen 16-bit weight and cannot be trained (load the model in float32 to train it)", p)
		}
		if !p.requiresGrad || p.Grad == nil {
			return nil, fmt.Errorf("adamw: parameter %v has no gradient (call RequireGrad first)", p)
		}
		o.m = append(o.m, be.New(p.Name+".adam_m", p.Shape()...))
		o.v = append(o.v, be.New(p.Name+".adam_v", p.Shape()...))
	}
	return o, nil
}

// Steps returns how many updates have been applied.
func (o *AdamW) Steps() int { return o.step }

// State returns the first and second moment tensors, parallel to the
// parameters, and the step count (for checkpoints).
func (o *AdamW) State() (m, v []*Tensor, step int) { return o.m, o.v, o.step }

// SetStep restores the step count from a checkpoint.
func (o *AdamW) SetStep(step int) { o.step = step }

// Step applies one update with learning rate lr (the schedule's value).
func (o *AdamW) Step(lr float64) {
	o.step++
	t := float64(o.step)
	s := AdamWStep{
		LR: float32(lr), Beta1: float32(o.Beta1), Beta2: float32(o.Beta2), Eps: float32(o.Eps),
		WeightDecay: float32(o.WeightDecay),
		BC1:         float32(1 - math.Pow(o.Beta1, t)),
		BC2:         float32(1 - math.Pow(o.Beta2, t)),
	}
	for i, p := range o.params {
		o.be.AdamW(p, p.Grad, o.m[i], o.v[i], s)
	}
}

// ZeroGrad clears the gradients of params.
func ZeroGrad(be Backend, params []*Tensor) {
	for _, p := range params {
		if p.Grad != nil {
			be.Zero(p.Grad)
		}
	}
}

// NonFiniteError says which gradient holds a NaN or an Inf.
type NonFiniteError struct {
	Tensor string
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("gradient of %s is not finite (NaN or Inf): the step was not applied; lower the learning rate or check the inputs", e.Tensor)
}

// ClipGradNorm scales the gradients of params so their global L2 norm is at
// most maxNorm (maxNorm <= 0: no clipping) and returns the norm before
// clipping. A non-finite gradient is reported as *NonFiniteError and nothing
// is scaled, so the caller can skip the step.
func ClipGradNorm(be Backend, params []*Tensor, maxNorm float64) (float64, error) {
	grads := make([]*Tensor, len(params))
	for i, p := range params {
		grads[i] = p.Grad
	}
	sums := make([]float64, len(params))
	be.SumSquaresEach(grads, sums) // one wait for a device, not one a tensor
	var ss float64
	for i, s := range sums {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return math.NaN(), &NonFiniteError{Tensor: params[i].Name}
		}
		ss += s
	}
	norm := math.Sqrt(ss)
	if maxNorm > 0 && norm > maxNorm {
		scale := float32(maxNorm / (norm + 1e-6))
		for _, p := range params {
			be.Scale(p.Grad, scale)
		}
	}
	return norm, nil
}

// MixInto softly syncs a reference copy: ref ← alpha·p + (1−alpha)·ref for
// each pair (RLT's reference model update uses alpha = 0.9).
func MixInto(be Backend, ref, params []*Tensor, alpha float32) error {
	if len(ref) != len(params) {
		return fmt.Errorf("mix: %d reference tensors for %d parameters", len(ref), len(params))
	}
	for i := range ref {
		if !SameShape(ref[i], params[i]) {
			return fmt.Errorf("mix: reference %v does not match parameter %v", ref[i], params[i])
		}
		be.Mix(ref[i], params[i], alpha)
	}
	return nil
}

// Schedule gives the learning rate at a 0-based step.
type Schedule interface {
	LR(step int) float64
}

// ConstantLR is a fixed learning rate.
type ConstantLR float64

// LR implements Schedule.
func (c ConstantLR) LR(int) float64 { return float64(c) }

// CosineLR warms up linearly over Warmup steps to Peak, then decays along a
// half cosine to Min at Total steps, and stays at Min after.
type CosineLR struct {
	Peak, Min     float64
	Warmup, Total int
}

// LR implements Schedule.
func (c CosineLR) LR(step int) float64 {
	if c.Warmup > 0 && step < c.Warmup {
		return c.Peak * float64(step+1) / float64(c.Warmup)
	}
	if step >= c.Total || c.Total <= c.Warmup {
		return c.Min
	}
	p := float64(step-c.Warmup) / float64(c.Total-c.Warmup)
	return c.Min + 0.5*(c.Peak-c.Min)*(1+math.Cos(math.Pi*p))
}
