package sessions

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// writeTracesFile writes, through the package's own JSON Lines writer
// (Log), a traces file of flat rows to path, about size bytes, every
// row's explanation expl bytes long; it returns the rows written.
func writeTracesFile(tb testing.TB, path string, size int64, expl int) int {
	tb.Helper()
	l, err := OpenLogWith(path, LogOptions{SyncEvery: -1})
	if err != nil {
		tb.Fatal(err)
	}
	const sentence = "Add the tens, then the ones: \"carry\" one.\n"
	body := strings.Repeat(sentence, expl/len(sentence)+1)[:expl]
	type row struct {
		Question    string  `json:"question"`
		Solution    string  `json:"solution"`
		Explanation string  `json:"explanation"`
		Reward      float64 `json:"reward"`
	}
	n := 0
	for l.Size() < size {
		r := row{Question: "What is 12+" + strings.Repeat("9", n%7+1) + "?", Solution: "21", Explanation: body, Reward: float64(n%10) / 10}
		if err := l.Append(r); err != nil {
			tb.Fatal(err)
		}
		n++
	}
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// peakHeap runs f while sampling the bytes of live and unswept heap
// objects, and returns the highest seen above what was there before.
func peakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	f()
	close(done)
	<-sampled
	if v := read(); v > peak.Load() {
		peak.Store(v)
	}
	return peak.Load() - min(base, peak.Load())
}

// BenchmarkReadTracesFile reads a 50 MB traces file (2 KB explanations)
// as rlt import does; B/op is what it allocates, peak-heap-MB the most
// heap it held at once (sampled), file-MB the file's size.
//
//	go test -run '^$' -bench ReadTracesFile -benchtime 3x ./sessions/
func BenchmarkReadTracesFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "traces.jsonl")
	rows := writeTracesFile(b, path, 50<<20, 2048)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		peak = max(peak, peakHeap(func() {
			rep := &ImportReport{}
			ts, err := readTracesFile(path, rep, nil)
			if err != nil || len(ts) != rows || len(rep.Skip) != 0 {
				b.Fatalf("%d traces of %d, %d left out: %v", len(ts), rows, len(rep.Skip), err)
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
}
