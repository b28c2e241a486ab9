package event

import (
	"sync"
	"testing"
)

// gate is a sink that blocks until released, like a stalled disk.
type gate struct {
	release chan struct{}
	mu      sync.Mutex
	got     []Event
}

func (g *gate) Emit(e Event) {
	<-g.release
	g.mu.Lock()
	g.got = append(g.got, e)
	g.mu.Unlock()
}

func TestFunnelDropsOnlyTracesWhenFull(t *testing.T) {
	g := &gate{release: make(chan struct{})}
	f := NewFunnel(g, 4)
	// The sink is stalled: 4 events fit the buffer (one more may be held by
	// the forwarding goroutine); further traces are dropped, not waited for.
	for i := 0; i < 20; i++ {
		f.Emit(Trace{Step: i})
	}
	if d := f.Dropped(); d < 15 || d > 16 {
		t.Errorf("dropped %d traces of 20 with room for 4 or 5", d)
	}
	close(g.release)
	f.Emit(Metrics{Step: 99}) // never dropped
	f.Close()
	last, ok := g.got[len(g.got)-1].(Metrics)
	if !ok || last.Step != 99 {
		t.Errorf("the metrics event was lost: %#v", g.got[len(g.got)-1])
	}
	if len(g.got) != 20-f.Dropped()+1 {
		t.Errorf("sink got %d events; want %d", len(g.got), 20-f.Dropped()+1)
	}
}

func TestBufferKeepsOrder(t *testing.T) {
	var b Buffer
	b.Emit(Phase{Name: "sampling"})
	b.Emit(Metrics{Step: 1})
	ev := b.Events()
	if len(ev) != 2 || ev[0].(Phase).Name != "sampling" || ev[1].(Metrics).Step != 1 {
		t.Fatalf("events %#v", ev)
	}
	Discard{}.Emit(Phase{}) // must not panic
}
