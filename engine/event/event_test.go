package event

import "testing"

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
