package compute

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute/cputime"
)

// The LM head at the Qwen2.5-0.5B shape: a training micro-batch of 8×214
// tokens (N rows) through a 151,936 × 896 head.
const benchHeadN, benchHeadD, benchHeadV = 8 * 214, 896, 151936

type headBench struct {
	be      *CPU
	h, w    *Tensor
	targets []int32
	seed    []float32
	tp      *Tape
}

func newHeadBench(grad bool) *headBench {
	r := rand.New(rand.NewPCG(1, 2))
	be := NewCPU()
	hb := &headBench{be: be,
		h: randT(be, r, "h", 1, benchHeadN, benchHeadD), w: randT(be, r, "w", 0.02, benchHeadV, benchHeadD),
		targets: make([]int32, benchHeadN), seed: make([]float32, benchHeadN), tp: NewTape(be)}
	for i := range hb.targets {
		hb.targets[i] = int32(r.IntN(benchHeadV))
		hb.seed[i] = 1 / float32(benchHeadN)
	}
	if grad {
		RequireGrad(be, hb.h)
		RequireGrad(be, hb.w)
	} else {
		hb.tp.SetRecording(false)
	}
	return hb
}

// reportHead reports GFLOP/s of the useful work (2·N·V·d a forward, twice
// that again for the backward: recomputation does not count) per second of
// wall time and per second of the process's CPU time (which a machine
// shared with other work disturbs less), and the peak heap in use.
func reportHead(b *testing.B, passes float64, cpu0 time.Duration, peak uint64) {
	flops := passes * 2 * float64(benchHeadN) * benchHeadV * benchHeadD * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(flops/(cputime.Process()-cpu0).Seconds()/1e9, "GFLOP/cpu-s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// heapPeak samples HeapInuse every 20 ms until stop is closed.
func heapPeak(stop chan struct{}, out *uint64) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			*out = max(*out, ms.HeapInuse)
			select {
			case <-stop:
				return
			default:
				runtime.Gosched()
				<-timeAfter20ms()
			}
		}
	}()
	return done
}

// BenchmarkHead compares the LM head as Linear → TokenLogProbs (whole [N, V]
// logits and, training, their gradient) with the fused, chunked
// HeadLogProbs, for scoring (forward, no gradient) and training (forward
// and backward). Run one at a time: go test -run - -bench 'Head/' -benchtime 2x ./compute/
func BenchmarkHead(b *testing.B) {
	for _, train := range []bool{false, true} {
		mode, passes := "forward", 1.0
		if train {
			mode, passes = "train", 3
		}
		b.Run("logits/"+mode, func(b *testing.B) {
			hb := newHeadBench(train)
			var peak uint64
			stop := make(chan struct{})
			done := heapPeak(stop, &peak)
			step := func() {
				hb.tp.Reset()
				lp := hb.tp.TokenLogProbs(hb.tp.Linear(hb.h, hb.w, nil), hb.targets, 1)
				if train {
					if err := hb.tp.Backward(lp, hb.seed); err != nil {
						b.Fatal(err)
					}
				}
			}
			step() // first touch of the buffers
			cpu0 := cputime.Process()
			for b.Loop() {
				step()
			}
			close(stop)
			<-done
			reportHead(b, passes, cpu0, peak)
		})
		// The default tile, then rows by the whole vocabulary (the
		// chunking before vocabulary blocks: 441 rows was its default),
		// then shorter and taller tiles.
		for _, tile := range [][2]int{{HeadTileFloats, headTileRows}, {1 << 26, 441}, {1 << 24, 256}, {1 << 25, 4096}} {
			hb0 := headBufs{floats: tile[0], rows: tile[1]}
			r, c := hb0.tile(benchHeadN, benchHeadV, false)
			b.Run(fmt.Sprintf("fused-%drows-%dcols/%s", r, c, mode), func(b *testing.B) {
				hb := newHeadBench(train)
				hb.be.head.floats, hb.be.head.rows = tile[0], tile[1]
				var peak uint64
				stop := make(chan struct{})
				done := heapPeak(stop, &peak)
				step := func() {
					hb.tp.Reset()
					lp := hb.tp.HeadLogProbs(hb.h, hb.w, hb.targets, 1)
					if train {
						if err := hb.tp.Backward(lp, hb.seed); err != nil {
							b.Fatal(err)
						}
					}
				}
				step() // first touch of the buffers
				cpu0 := cputime.Process()
				for b.Loop() {
					step()
				}
				close(stop)
				<-done
				reportHead(b, passes, cpu0, peak)
			})
		}
	}
}

func timeAfter20ms() <-chan time.Time { return time.After(20 * time.Millisecond) }
