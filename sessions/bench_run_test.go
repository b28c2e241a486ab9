package sessions

import (
	"encoding/json"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
)

// BenchmarkEmit measures append throughput through a Run: b.N records
// emitted, then Flush (everything written and fsynced). records/s counts
// the whole way to disk; emit-ns/op is the engine-side cost alone.
func BenchmarkEmit(b *testing.B) {
	scores := make([]*record.Scored, 16)
	for i := range scores {
		scores[i] = fakeScored(0, i)
	}
	for _, bc := range []struct {
		name string
		make func(i int) event.Event
	}{
		{"metrics", func(i int) event.Event { return fakeMetrics(i) }},
		{"traces-one-step", func(i int) event.Event {
			tr := fakeTrace(0, i/8, i%8)
			tr.Score = scores[i%len(scores)]
			return tr
		}},
		{"traces", func(i int) event.Event {
			tr := fakeTrace(i/64, (i%64)/8, i%8)
			tr.Score = scores[i%len(scores)]
			return tr
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.StopTimer()
			evs := make([]event.Event, b.N)
			for i := range evs {
				evs[i] = bc.make(i)
			}
			r := mustCreate(b, filepath.Join(b.TempDir(), "run"), Options{MaxPendingTraces: b.N + 1})
			runtime.GC()
			b.StartTimer()
			start := time.Now()
			for _, e := range evs {
				r.Emit(e)
			}
			emitted := time.Since(start)
			if err := r.Flush(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(emitted.Nanoseconds())/float64(b.N), "emit-ns/op")
			r.Close()
		})
	}
}

// makeBigRun writes a run of nMetrics metric records and nTraces traces
// (64 per step) through a Run.
func makeBigRun(b *testing.B, nMetrics, nTraces int) string {
	dir := filepath.Join(b.TempDir(), "big")
	r := mustCreate(b, dir, Options{MaxPendingTraces: nTraces + 1})
	scores := make([]*record.Scored, 16)
	for i := range scores {
		scores[i] = fakeScored(0, i)
	}
	for i := 0; i < nMetrics; i++ {
		r.Emit(fakeMetrics(i))
	}
	for i := 0; i < nTraces; i++ {
		tr := fakeTrace(i/64, (i%64)/8, i%8)
		tr.Score = scores[i%len(scores)]
		r.Emit(tr)
	}
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkOpenRun opens a run of 100k metric records (34 values each) and
// 10k traces; store-B is the heap the opened run holds.
func BenchmarkOpenRun(b *testing.B) {
	dir := makeBigRun(b, 100_000, 10_000)
	for _, bc := range []struct {
		name string
		open func() (*Run, error)
	}{
		{"readonly", func() (*Run, error) { return OpenReadOnly(dir) }},
		{"writer", func() (*Run, error) { return Open(dir, nil) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var retained float64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				r, err := bc.open()
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				retained = float64(after.HeapAlloc) - float64(before.HeapAlloc)
				if nm, nt, _ := r.Store().Counts(); nm != 100_000 || nt != 10_000 {
					b.Fatalf("%d metrics %d traces", nm, nt)
				}
				r.Close()
			}
			b.ReportMetric(retained, "store-B")
		})
	}
}

// Alternative encodings of the float arrays, to compare with ours.
type dec6 []float32 // decimal, 6 significant digits

func (a dec6) MarshalJSON() ([]byte, error) {
	out := []byte{'['}
	for i, v := range a {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendFloat(out, float64(v), 'g', 6, 32)
	}
	return append(out, ']'), nil
}

type traceArraysAs[T any] struct {
	traceJSON
	TeacherLP T `json:"teacher_lp"`
	StudentLP T `json:"student_lp"`
	D         T `json:"d"`
	SolLP     T `json:"sol_lp"`
}

// BenchmarkTraceFormat compares the on-disk size and decode time of one
// realistic trace (64 explanation tokens, 8 solution tokens) with the
// float arrays as base64 float32 (the format used), decimal rounded to 6
// significant digits, and full float64 decimal.
func BenchmarkTraceFormat(b *testing.B) {
	tr := traceRecord(fakeTrace(3, 1, 2), 0)
	sc := fakeScored(3, 6)
	base, _ := encodeTrace(tr)
	var plain traceJSON
	json.Unmarshal(base, &plain)
	plain.TeacherLP, plain.StudentLP, plain.D, plain.SolLP = nil, nil, nil, nil
	d6, _ := json.Marshal(traceArraysAs[dec6]{plain, dec6(tr.TeacherLP), dec6(tr.StudentLP), dec6(tr.D), dec6(tr.SolutionLP)})
	f64, _ := json.Marshal(traceArraysAs[[]float64]{plain, widen(sc.TeacherLP), widen(sc.StudentLP), widen(sc.D), widen(sc.SolutionLP)})
	for _, bc := range []struct {
		name   string
		line   []byte
		decode func([]byte) error
	}{
		{"base64-f32", base, func(l []byte) error { _, err := decodeTrace(l); return err }},
		{"decimal-6", d6, func(l []byte) error { _, err := decodeTrace(l); return err }},
		{"decimal-f64", f64, func(l []byte) error { _, err := decodeTrace(l); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := bc.decode(bc.line); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(bc.line)+1), "bytes/trace")
		})
	}
}

func widen(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
