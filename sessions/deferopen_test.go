package sessions

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A run opened with DeferOpen writes its open event only at Begin (or at
// Resume, which begins it): closed before, as a refused resume closes it,
// it leaves its events as they were, and is listed as it was.
func TestDeferOpenWritesTheOpenEventAtBegin(t *testing.T) {
	for _, c := range []struct {
		name string
		use  func(t *testing.T, r *Run)
		want []string // the kinds of the events the session adds
	}{
		{"closed before Begin", func(*testing.T, *Run) {}, nil},
		{"Begin", func(t *testing.T, r *Run) {
			if err := r.Begin(); err != nil {
				t.Fatal(err)
			}
			if err := r.Begin(); err != nil { // once only
				t.Fatal(err)
			}
		}, []string{KindOpen, KindClose}},
		{"Resume without Begin", func(t *testing.T, r *Run) {
			if err := r.Resume(0); err != nil {
				t.Fatal(err)
			}
		}, []string{KindOpen, KindResume, KindClose}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			w := mustCreate(t, dir, Options{})
			emitSteps(w, 0, 2, 1, 2)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			events := filepath.Join(dir, EventsFile)
			before, err := os.ReadFile(events)
			if err != nil {
				t.Fatal(err)
			}
			beforeList, err := List(filepath.Dir(dir))
			if err != nil {
				t.Fatal(err)
			}
			r, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
			if err != nil {
				t.Fatal(err)
			}
			if after, _ := os.ReadFile(events); string(after) != string(before) {
				t.Errorf("OpenWith with DeferOpen wrote events:\n%s", after[len(before):])
			}
			c.use(t, r)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			ro := openReadOnly(t, dir)
			evs, _ := ro.Store().EventsSince(0)
			var added []string
			for _, e := range evs {
				if e.Seg > 0 {
					added = append(added, e.Kind)
				}
			}
			if !slices.Equal(added, c.want) {
				t.Errorf("the session added events %v, want %v", added, c.want)
			}
			if c.want != nil {
				return
			}
			if after, _ := os.ReadFile(events); string(after) != string(before) {
				t.Errorf("a run closed before Begin changed %s", EventsFile)
			}
			afterList, err := List(filepath.Dir(dir))
			if err != nil || len(afterList) != 1 || afterList[0].State != beforeList[0].State || afterList[0].Note != beforeList[0].Note {
				t.Errorf("listed as %+v (%v) after, %+v before", afterList, err, beforeList)
			}
		})
	}
}
