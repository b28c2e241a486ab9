package model_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/sample"
)

// Sampling at the peer's shape (../shared/bench/torch_ref.py): batch 16,
// prompt 16, 128 sampled tokens by multinomial sampling at temperature 1,
// i.e. one prefill and 127 decode steps. Like the peer, tokens/s counts the
// 16·127 tokens of the decode steps over their time; the prefill (with the
// first token's sampling) is reported apart.
const (
	sampleB, samplePrompt, sampleNew = 16, 16, 128
)

func peerPrompts() [][]int32 {
	r := rand.New(rand.NewPCG(2, 3))
	ps := make([][]int32, sampleB)
	for i := range ps {
		ps[i] = make([]int32, samplePrompt)
		for j := range ps[i] {
			ps[i][j] = int32(r.IntN(model.PeerConfig.Vocab))
		}
	}
	return ps
}

func BenchmarkSample(b *testing.B) {
	be := compute.NewCPU()
	m, err := model.NewRandom(be, model.PeerConfig, 1)
	if err != nil {
		b.Fatal(err)
	}
	g := sample.NewGenerator(m)
	tp := compute.NewTape(be)
	ps := peerPrompts()
	var t0, t1 time.Time
	opts := sample.Options{Temperature: 1, MaxNewTokens: sampleNew, Seed: 1,
		OnStep: func(step int, _ []sample.StepToken) error {
			if step == 0 {
				t1 = time.Now()
			}
			return nil
		}}
	if _, err := g.Generate(tp, ps, opts); err != nil { // sizes caches and arenas
		b.Fatal(err)
	}
	var prefill, decode time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		opts.Seed = uint64(i)
		t0 = time.Now()
		res, err := g.Generate(tp, ps, opts)
		t2 := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		if len(res[0].IDs) != sampleNew {
			b.Fatalf("%d tokens generated", len(res[0].IDs))
		}
		prefill += t1.Sub(t0)
		decode += t2.Sub(t1)
	}
	steps := float64(b.N * (sampleNew - 1))
	b.ReportMetric(steps*sampleB/decode.Seconds(), "tokens/s")
	b.ReportMetric(float64(prefill.Microseconds())/1e3/float64(b.N), "prefill-ms")
	b.ReportMetric(float64(decode.Microseconds())/1e3/steps, "ms/step")
}

// BenchmarkDecodeStep is one cached decode step of the model alone (no
// sampling) for batch 16 at position 16..143, the peer's decode shape.
func BenchmarkDecodeStep(b *testing.B) {
	for _, B := range []int{16, 8, 1} {
		b.Run("B="+itoa(B), func(b *testing.B) {
			be := compute.NewCPU()
			m, err := model.NewRandom(be, model.PeerConfig, 1)
			if err != nil {
				b.Fatal(err)
			}
			c, err := m.NewCache(B, samplePrompt+sampleNew)
			if err != nil {
				b.Fatal(err)
			}
			tp := compute.NewTape(be)
			tp.SetRecording(false)
			prompt := make([]int32, B*samplePrompt)
			tok := make([]int32, B)
			m.Decode(tp, c, prompt, samplePrompt) // size the arenas
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%(sampleNew-1) == 0 {
					c.Reset(nil)
					tp.Reset()
					m.Decode(tp, c, prompt, samplePrompt)
				}
				tp.Reset()
				m.Decode(tp, c, tok, 1)
				if err := tp.Err(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*B)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
