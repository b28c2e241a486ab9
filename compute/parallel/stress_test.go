package parallel

import (
	"math/rand/v2"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

type stressJob struct {
	n    atomic.Int64
	work int
}

func (j *stressJob) Run(lo, hi int) {
	x := 0.0
	for i := 0; i < j.work; i++ {
		x += float64(i)
	}
	if x < 0 {
		panic("x")
	}
	j.n.Add(int64(hi - lo))
}

// TestStressAgainstHangs runs For back to back for a minute with a watchdog
// that dumps every goroutine and exits if no call completes for 2 s. It is
// long, so it runs only with RLT_PARALLEL_STRESS=1.
func TestStressAgainstHangs(t *testing.T) {
	if os.Getenv("RLT_PARALLEL_STRESS") == "" {
		t.Skip()
	}
	var calls atomic.Int64
	go func() {
		last := int64(-1)
		for {
			time.Sleep(2 * time.Second)
			c := calls.Load()
			if c == last {
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				os.Stderr.Write(buf[:n])
				os.Exit(3)
			}
			last = c
		}
	}()
	r := rand.New(rand.NewPCG(1, 2))
	var j stressJob
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		n := 2 + r.IntN(50)
		j.work = r.IntN(3000)
		j.n.Store(0)
		For(n, 1, &j)
		if got := j.n.Load(); got != int64(n) {
			t.Fatalf("call %d: %d of %d done", calls.Load(), got, n)
		}
		calls.Add(1)
		if r.IntN(1000) == 0 {
			time.Sleep(time.Duration(r.IntN(100)) * time.Microsecond)
		}
	}
	t.Logf("%d calls", calls.Load())
}
