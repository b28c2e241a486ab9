package model

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// The fixtures are written by testdata/make_parity.sh with the PyTorch peer
// (../shared/bench/torch_ref.py --export): weights, one batch, the logits of
// sequence 0, the loss, every gradient, and the loss after one AdamW step
// (lr 1e-3, betas 0.9/0.95, eps 1e-8, weight decay 0.1).
func TestParityWithPyTorch(t *testing.T) {
	for _, name := range []string{"parity_tied", "parity_untied"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", name)
			be := compute.NewCPU()
			m, err := Load(be, dir)
			if err != nil {
				t.Fatal(err)
			}
			fx, err := hf.Open(filepath.Join(dir, "fixture.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer fx.Close()
			info, _ := fx.Tensor("tokens")
			B, T1 := info.Shape[0], info.Shape[1]
			T := T1 - 1
			tokens := make([]int32, B*T1)
			must(t, fx.ReadInt32("tokens", tokens))
			batch := &Batch{B: B, T: T, Tokens: make([]int32, B*T)}
			targets := make([]int32, B*T)
			for b := 0; b < B; b++ {
				copy(batch.Tokens[b*T:(b+1)*T], tokens[b*T1:b*T1+T])
				copy(targets[b*T:(b+1)*T], tokens[b*T1+1:(b+1)*T1])
			}
			V := m.Cfg.Vocab

			m.RequireGrad()
			tp := compute.NewTape(be)
			logits := m.Logits(tp, batch)
			lp := tp.TokenLogProbs(logits, targets, 1)
			must(t, tp.Err())

			got := make([]float32, B*T*V)
			be.Read(got, logits)
			want := make([]float32, T*V)
			must(t, fx.ReadFloat32("logits_b0", want))
			e := relErr(got[:T*V], want)
			t.Logf("logits relative error %.3g", e)
			if e > 1e-4 {
				t.Errorf("logits of sequence 0: relative error %.3g > 1e-4", e)
			}

			loss0 := meanNegLogProb(be, lp)
			ref := make([]float32, 1)
			must(t, fx.ReadFloat32("loss0", ref))
			if e := math.Abs(loss0-float64(ref[0])) / math.Abs(float64(ref[0])); e > 1e-4 {
				t.Errorf("loss: got %.7f, PyTorch %.7f (relative error %.3g)", loss0, ref[0], e)
			}

			seed := make([]float32, B*T)
			for i := range seed {
				seed[i] = -1 / float32(B*T)
			}
			must(t, tp.Backward(lp, seed))
			worst := 0.0
			defer func() { t.Logf("worst gradient relative error %.3g", worst) }()
			for _, p := range m.Params() {
				wantG := make([]float32, p.Tensor.Len())
				must(t, fx.ReadFloat32("grad."+p.Name, wantG))
				gotG := make([]float32, p.Tensor.Len())
				be.Read(gotG, p.Tensor.Grad)
				e := relErr(gotG, wantG)
				worst = math.Max(worst, e)
				if e > 1e-3 {
					t.Errorf("gradient of %s: relative error %.3g > 1e-3", p.Name, e)
				}
			}

			opt, err := compute.NewAdamW(be, m.Tensors(), 1e-3, 0.9, 0.95, 1e-8, 0.1)
			must(t, err)
			opt.Step(1e-3)
			tp.Reset()
			tp.SetRecording(false)
			lp1 := m.TokenLogProbs(tp, batch, targets, 1)
			must(t, tp.Err())
			loss1 := meanNegLogProb(be, lp1)
			t.Logf("loss0 %.7f loss1 %.7f", loss0, loss1)
			must(t, fx.ReadFloat32("loss1", ref))
			if e := math.Abs(loss1-float64(ref[0])) / math.Abs(float64(ref[0])); e > 1e-4 {
				t.Errorf("loss after one AdamW step: got %.7f, PyTorch %.7f (relative error %.3g)", loss1, ref[0], e)
			}
		})
	}
}

func meanNegLogProb(be compute.Backend, lp *compute.Tensor) float64 {
	v := make([]float32, lp.Len())
	be.Read(v, lp)
	var s float64
	for _, x := range v {
		s -= float64(x)
	}
	return s / float64(len(v))
}

// relErr is the largest absolute difference relative to the largest
// reference magnitude.
func relErr(got, want []float32) float64 {
	var diff, scale float64
	for i := range want {
		diff = math.Max(diff, math.Abs(float64(got[i])-float64(want[i])))
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
