package vulkan

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
)

// BenchmarkLinear times y = x·wᵀ on the device and on the CPU backend at
// Qwen2-0.5B projection shapes (hidden 896, MLP 4864) for a batch of tokens
// (256 as in decoding a few sequences, 4096 as in a training step).
// device/ runs each product on the kernel Device.gemm picks (or
// RLT_VULKAN_GEMM's); gemm64/ and gemm128/ force the 64×64-tile or the
// 128×128-tile GEMM, to compare the two in one run; f16/ runs it on
// tensor cores (gemmcm, matmul f16) where the device has them, f16-64/ and
// f16-128/ with gemmcm's tile forced, f16-wide/ and f16-k64/ on gemmcm128's
// other shapes (RLT_VULKAN_GEMMCM).
// On lavapipe the device numbers measure a CPU running SPIR-V: correctness
// runs, not GPU speed.
func BenchmarkLinear(b *testing.B) {
	benchLinear(b, false)
}

// BenchmarkLinearBackward times the same products' backward (dx = dy·w and
// dw = dyᵀ·x, LinearBackward without a bias: the operands in the other two
// layouts a training step multiplies), on the device's kernels as
// BenchmarkLinear names them.
func BenchmarkLinearBackward(b *testing.B) {
	benchLinear(b, true)
}

// linearVariants are BenchmarkLinear's kernels on the device.
var linearVariants = []struct {
	name  string
	force uint32 // 0: as the device chooses
	f16   bool
	shape kernelID // gemmcm's 128×128 tiles (f16)
}{{"device", 0, false, kGemmCM128}, {"gemm64", gemmTile, false, kGemmCM128}, {"gemm128", gemmBigTile, false, kGemmCM128},
	{"f16", 0, true, kGemmCM128}, {"f16-64", gemmTile, true, kGemmCM128}, {"f16-128", gemmBigTile, true, kGemmCM128},
	{"f16-wide", gemmBigTile, true, kGemmCM128w}, {"f16-k64", gemmBigTile, true, kGemmCM128k64}}

func benchLinear(b *testing.B, backward bool) {
	shapes := []struct{ n, in, out int }{
		{256, 896, 896},
		{256, 896, 4864},
		{4096, 896, 4864}, // a 0.5B training step's MLP up-projection, B8 × T512
		{4096, 4864, 896}, // and its down-projection
	}
	for _, s := range shapes {
		flops := 2 * float64(s.n) * float64(s.in) * float64(s.out)
		if backward {
			flops *= 2
		}
		xs := randVals(s.n*s.in, 1)
		ws := randVals(s.out*s.in, 2)
		ys := randVals(s.n*s.out, 3)
		for _, v := range linearVariants {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", v.name, s.n, s.in, s.out), func(b *testing.B) {
				d := openOrSkip(b)
				if v.f16 {
					if err := d.SetMatmul(MatmulF16); err != nil {
						b.Skip(err)
					}
					defer d.SetMatmul(MatmulF32)
					if err := d.useCoopShape(v.shape); err != nil {
						b.Skip(err)
					}
					defer d.useCoopShape(kGemmCM128)
				}
				if v.force != 0 {
					old := d.gemmForce
					d.gemmForce = v.force
					defer func() { d.gemmForce = old }()
				}
				x, _ := d.New("x", s.n, s.in)
				w, _ := d.New("w", s.out, s.in)
				y, _ := d.New("y", s.n, s.out)
				dx, _ := d.New("dx", s.n, s.in)
				dw, _ := d.New("dw", s.out, s.in)
				defer func() { d.Free(x); d.Free(w); d.Free(y); d.Free(dx); d.Free(dw) }()
				for _, in := range []struct {
					t    *Tensor
					vals []float32
				}{{x, xs}, {w, ws}, {y, ys}} {
					if err := d.Write(in.t, in.vals); err != nil {
						b.Fatal(err)
					}
				}
				if err := d.Flush(); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					if backward {
						d.LinearBackward(dx, dw, nil, y, x, w)
					} else {
						d.Linear(y, x, w, nil)
					}
				}
				if err := d.Flush(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		if backward {
			continue
		}
		b.Run(fmt.Sprintf("cpu/%dx%dx%d", s.n, s.in, s.out), func(b *testing.B) {
			c := compute.NewCPU()
			x, w, y := c.New("x", s.n, s.in), c.New("w", s.out, s.in), c.New("y", s.n, s.out)
			c.Write(x, xs)
			c.Write(w, ws)
			b.ResetTimer()
			for range b.N {
				c.Linear(y, x, w, nil)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkSmallOps times a chain of small elementwise ops and one read:
// the cost of recording, descriptor sets and one submission per batch.
func BenchmarkSmallOps(b *testing.B) {
	d := openOrSkip(b)
	x, _ := d.New("x", 4096)
	defer d.Free(x)
	out := make([]float32, 4096)
	b.ResetTimer()
	for range b.N {
		for range 100 {
			d.Scale(x, 0.5)
		}
		if err := d.Read(out, x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*100), "µs/op")
}

func randVals(n int, seed int64) []float32 {
	rng := rand.New(rand.NewSource(seed))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// BenchmarkColSum times the bias gradient of LinearBackward (a column sum)
// over a training step's 4096 token rows at hidden size 896 and at the k/v
// width 128. On lavapipe this is a correctness run, not GPU speed.
func BenchmarkColSum(b *testing.B) {
	for _, s := range []struct{ n, d int }{{4096, 896}, {4096, 128}} {
		b.Run(fmt.Sprintf("%dx%d", s.n, s.d), func(b *testing.B) {
			d := openOrSkip(b)
			dy, _ := d.New("dy", s.n, s.d)
			x, _ := d.New("x", s.n, 1)
			w, _ := d.New("w", s.d, 1)
			db, _ := d.New("db", s.d)
			defer func() { d.Free(dy); d.Free(x); d.Free(w); d.Free(db) }()
			if err := d.Write(dy, randVals(s.n*s.d, 3)); err != nil {
				b.Fatal(err)
			}
			if err := d.Flush(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				d.LinearBackward(nil, nil, db, dy, x, w)
			}
			if err := d.Flush(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkRecord times the host's side of recording a dispatch (a Scale:
// descriptors, pipeline, push constants, dispatch, barrier), the device's
// work excluded: the timer runs only while 400 ops are recorded, not while
// the batch is submitted and waited for. RLT_VULKAN_PUSH_DESCRIPTORS=0
// times the descriptor-set path.
func BenchmarkRecord(b *testing.B) {
	d := openOrSkip(b)
	x, _ := d.New("x", 256)
	defer d.Free(x)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for range 400 {
			d.Scale(x, 0.5)
		}
		b.StopTimer()
		if err := d.Flush(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*400), "ns/recorded-op")
}

// BenchmarkAttention times a training step's attention of one layer, the
// forward (with its log-sum-exp) and the backward, on the tiled kernels
// (tiles/), on the row kernels (rows/) and, under matmul f16, on
// cooperative matrices (f16/: attn_cm* where the head dim allows), at
// Qwen2.5-0.5B's heads (14 query heads on 2 kv heads of 64) and at the
// 1.5B–7B models' head size of 128, for B sequences of T tokens. GFLOP/s counts the causal half of the
// products (forward 2, backward 5 of T·T/2·hd multiply-adds per head). On
// lavapipe this is a correctness run, not GPU speed.
func BenchmarkAttention(b *testing.B) {
	for _, s := range []compute.AttnDims{
		{B: 8, T: 512, H: 14, KV: 2, HeadDim: 64},
		{B: 4, T: 512, H: 12, KV: 2, HeadDim: 128},
	} {
		for _, w := range []attnWay{{"tiles", attnTiled, MatmulF32}, {"rows", attnRows, MatmulF32}, {"f16", attnTiled, MatmulF16}} {
			name := fmt.Sprintf("%s/B%d-T%d-H%d-KV%d-hd%d", w.name, s.B, s.T, s.H, s.KV, s.HeadDim)
			b.Run(name, func(b *testing.B) {
				d := openOrSkip(b)
				if w.matmul == MatmulF16 && !d.info.MatmulF16 {
					backendtest.NeedCoopMat(b, fmt.Errorf("%s does not run gemmcm: %s: %w", d.info.Name, d.info.NoMatmulF16, compute.ErrNoMatmulF16))
				}
				oldPath, oldMatmul := d.attn, d.Matmul()
				if err := d.SetMatmul(w.matmul); err != nil {
					b.Fatal(err)
				}
				d.attn = w.path
				defer func() {
					d.attn = oldPath
					if err := d.SetMatmul(oldMatmul); err != nil {
						b.Error(err)
					}
				}()
				nq, nk := s.B*s.T*s.H*s.HeadDim, s.B*s.T*s.KV*s.HeadDim
				ts := map[string]*Tensor{}
				for i, x := range []struct {
					name string
					n    int
				}{{"q", nq}, {"k", nk}, {"v", nk}, {"dout", nq}, {"out", nq}, {"lse", s.B * s.H * s.T}, {"dq", nq}, {"dk", nk}, {"dv", nk}} {
					t, err := d.New(x.name, x.n)
					if err != nil {
						b.Skip(err) // a small GPU
					}
					defer d.Free(t)
					if err := d.Write(t, randVals(x.n, int64(i))); err != nil {
						b.Fatal(err)
					}
					ts[x.name] = t
				}
				if err := d.Flush(); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					d.Attention(ts["out"], ts["lse"], ts["q"], ts["k"], ts["v"], s, nil)
					d.AttentionBackward(ts["dq"], ts["dk"], ts["dv"], ts["dout"], ts["out"], ts["q"], ts["k"], ts["v"], ts["lse"], s, nil)
				}
				if err := d.Flush(); err != nil {
					b.Fatal(err)
				}
				macs := 7 * float64(s.B*s.H) * float64(s.T) * float64(s.T) / 2 * float64(s.HeadDim)
				b.ReportMetric(2*macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
