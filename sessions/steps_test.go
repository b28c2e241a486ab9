package sessions

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// TestStepsDone: a run of ours numbers its steps from 0, so its last
// record's step plus one are done; a run imported from another trainer
// keeps the trainer's numbers, which count the steps done.
func TestStepsDone(t *testing.T) {
	for _, c := range []struct {
		name      string
		numbering StepNumbering
		lastStep  int
		want      int
	}{
		{"ours, six steps", StepsFromZero, 5, 6},
		{"ours, one step", StepsFromZero, 0, 1},
		{"ours, none", StepsFromZero, -1, 0},
		{"imported, three steps", StepsFromOne, 3, 3},
		{"imported, validation before the first step", StepsFromOne, 0, 0},
		{"imported, none", StepsFromOne, -1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.numbering.StepsDone(c.lastStep); got != c.want {
				t.Errorf("StepsDone(%d) = %d, want %d", c.lastStep, got, c.want)
			}
		})
	}
}

// TestImportedRunsCountTheTrainersSteps: a run imported from each
// trainer's fixture — with rlt import (Import) or followed live
// (OpenTrainerRun) — keeps the trainer's step numbers in its metrics, and
// rlt sessions' summary and the open run count the steps the trainer did:
// its last step number (the official trainer's 3 steps are 3 done, not 4).
// A run of ours and a traces file's import count from 0.
func TestImportedRunsCountTheTrainersSteps(t *testing.T) {
	traces := filepath.Join(t.TempDir(), "mine.jsonl")
	if err := os.WriteFile(traces, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		src       string // "": a run of ours with `ours` steps
		ours      int
		steps     []int // the metric records' steps, as recorded
		done      int
		numbering StepNumbering
	}{
		{name: "official", src: fixtureRun, steps: []int{1, 2, 3}, done: 3, numbering: StepsFromOne},
		{name: "trl", src: trlFixture, steps: []int{2, 4}, done: 4, numbering: StepsFromOne},
		{name: "verl", src: verlFixture, steps: []int{1, 2}, done: 2, numbering: StepsFromOne},
		{name: "nemo-rl", src: nemoFixture, steps: []int{1, 2}, done: 2, numbering: StepsFromOne},
		{name: "traces file", src: traces, steps: nil, done: 0, numbering: StepsFromZero},
		{name: "ours", ours: 3, steps: []int{0, 1, 2}, done: 3, numbering: StepsFromZero},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, c.name)
			if c.src == "" {
				r := mustCreate(t, dir, Options{})
				emitSteps(r, 0, c.ours, 1, 1)
				r.Emit(event.Phase{Time: time.Now(), Name: "done", Step: c.ours})
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
			} else if _, err := Import(dir, c.src); err != nil {
				t.Fatal(err)
			}
			list, err := List(root)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %+v, %v", list, err)
			}
			wantLast := -1
			if n := len(c.steps); n > 0 {
				wantLast = c.steps[n-1]
			}
			if s := list[0]; s.LastStep != wantLast || s.Numbering != c.numbering || s.StepsDone() != c.done {
				t.Errorf("summary: last step %d, numbering %d, %d steps done; want %d, %d, %d",
					s.LastStep, s.Numbering, s.StepsDone(), wantLast, c.numbering, c.done)
			}
			// A trainer's steps that it did not log (TRL's every second
			// step here), or logged before the first it numbers (verl's
			// and NeMo-RL's step 0), were never in its files: no record
			// of ours is lost.
			if strings.Contains(list[0].Note, MetricsFile) {
				t.Errorf("listing's note %q names %s, of which nothing is lost", list[0].Note, MetricsFile)
			}

			rec, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer rec.Close()
			checkOpenCount(t, "opened", rec, c.steps, c.numbering, c.done)
			if c.src == "" || c.src == traces {
				return
			}
			live, err := OpenTrainerRun(t.Context(), c.src, "")
			if err != nil {
				t.Fatal(err)
			}
			defer live.Close()
			checkOpenCount(t, "followed", live.Run, c.steps, c.numbering, c.done)
		})
	}
}

// checkOpenCount checks that an open run's metrics have the steps as
// recorded and that it counts done steps done after the last, none of
// their records lost.
func checkOpenCount(t *testing.T, how string, r *Run, steps []int, numbering StepNumbering, done int) {
	t.Helper()
	if c := r.Steps(); c.Done != done || c.Lost != "" {
		t.Errorf("%s: Steps counts %d done and says %q of %s; want %d and nothing", how, c.Done, c.Lost, MetricsFile, done)
	}
	for _, is := range r.Store().Issues() {
		if is.Kind == IssueLost {
			t.Errorf("%s: the problems view says %s: %s", how, is.File, is.Msg)
		}
	}
	ms, _ := r.Store().MetricsSince(0)
	var got []int
	for _, m := range ms {
		got = append(got, m.Step)
	}
	if !slices.Equal(got, steps) {
		t.Errorf("%s: metric steps %v, want the trainer's %v", how, got, steps)
	}
	last := -1
	if len(got) > 0 {
		last = got[len(got)-1]
	}
	if n := r.StepNumbering(); n != numbering || n.StepsDone(last) != done {
		t.Errorf("%s: numbering %d counts %d steps done after step %d, want %d counting %d", how, n, n.StepsDone(last), last, numbering, done)
	}
}

// TestStepsLabel: steps done against the plan; a run past its plan says
// so rather than reading 12/10.
func TestStepsLabel(t *testing.T) {
	for _, c := range []struct {
		done, planned int
		want          string
	}{
		{3, 10, "3/10"},
		{10, 10, "10/10"},
		{0, 10, "0/10"},
		{3, 0, "3"},
		{12, 10, "12 (10 planned)"},
	} {
		if got := StepsLabel(c.done, c.planned); got != c.want {
			t.Errorf("StepsLabel(%d, %d) = %q, want %q", c.done, c.planned, got, c.want)
		}
	}
}

// TestStepRanges: steps added in any order are the set of them, and the
// highest not past a limit is the set's; a segment's steps in order stay
// one range.
func TestStepRanges(t *testing.T) {
	for _, c := range []struct {
		name   string
		steps  []int
		ranges int
	}{
		{"in order", []int{0, 1, 2, 3, 4}, 1},
		{"repeated", []int{0, 1, 1, 2, 2, 2}, 1},
		{"a gap", []int{0, 1, 5, 6}, 2},
		{"gap filled", []int{0, 1, 5, 6, 3, 2, 4}, 1},
		{"backwards", []int{9, 8, 7, 5, 3}, 3},
		{"merging below and above", []int{10, 12, 11, 0, 2, 1, 14}, 3},
		{"before the first", []int{5, 6, 1}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r stepRanges
			in := map[int]bool{}
			for _, s := range c.steps {
				r.add(s)
				in[s] = true
			}
			if len(r) != c.ranges {
				t.Errorf("%d ranges %v, want %d", len(r), r, c.ranges)
			}
			for i := 1; i < len(r); i++ {
				if r[i][0] <= r[i-1][1]+1 {
					t.Errorf("ranges %v overlap or touch", r)
				}
			}
			for limit := -1; limit <= 16; limit++ {
				want, wok := -1, false
				for s := range in {
					if s <= limit && s > want {
						want, wok = s, true
					}
				}
				if got, ok := r.highestUpTo(limit); ok != wok || (ok && got != want) {
					t.Errorf("highestUpTo(%d) = %d, %v; want %d, %v (ranges %v)", limit, got, ok, want, wok, r)
				}
			}
		})
	}
}

// TestStandingStepsAndHoles: the steps whose records stand are each
// segment's up to where a later resume took over, merged; their holes are
// the steps from 0 they lack, said compactly.
func TestStandingStepsAndHoles(t *testing.T) {
	for _, c := range []struct {
		name     string
		segments map[int][]int // the records' steps by segment
		resumes  resumePoints
		standing stepRanges
		holes    string // holes(0) as said
	}{
		{"none", nil, nil, nil, "no step"},
		{"one session", map[int][]int{0: {0, 1, 2}}, nil, stepRanges{{0, 2}}, "no step"},
		{"resumed at its last step", map[int][]int{0: {0, 1, 2}, 1: {3, 4}}, resumePoints{1: 2}, stepRanges{{0, 4}}, "no step"},
		{"rewound: the steps re-done replace the first session's", map[int][]int{0: {0, 1, 2, 3, 4}, 1: {3}}, resumePoints{1: 2},
			stepRanges{{0, 3}}, "no step"},
		{"rewound past a hole, which is re-done", map[int][]int{0: {0, 1, 2, 5}, 1: {3}}, resumePoints{1: 2}, stepRanges{{0, 3}}, "no step"},
		{"rewound twice", map[int][]int{0: {0, 1, 2, 3, 4, 5}, 1: {5, 6}, 2: {3}}, resumePoints{1: 4, 2: 2}, stepRanges{{0, 3}}, "no step"},
		{"first steps lost, resumed after", map[int][]int{0: {2}, 1: {3, 4}}, resumePoints{1: 2}, stepRanges{{2, 4}}, "steps 0-1"},
		{"one step lost", map[int][]int{0: {0, 1, 3}}, nil, stepRanges{{0, 1}, {3, 3}}, "step 2"},
		{"a few lost", map[int][]int{0: {1, 3, 4, 8}}, nil, stepRanges{{1, 1}, {3, 4}, {8, 8}}, "steps 0, 2 and 5-7"},
		{"many lost", map[int][]int{0: {1, 3, 5, 7, 9, 12}}, nil, stepRanges{{1, 1}, {3, 3}, {5, 5}, {7, 7}, {9, 9}, {12, 12}},
			"steps 0, 2, 4, 6 and 3 more steps"},
	} {
		t.Run(c.name, func(t *testing.T) {
			steps := map[int]*stepRanges{}
			for seg, ss := range c.segments {
				r := &stepRanges{}
				for _, s := range ss {
					r.add(s)
				}
				steps[seg] = r
			}
			got := standingSteps(steps, c.resumes)
			if !slices.Equal(got, c.standing) {
				t.Errorf("standing %v, want %v", got, c.standing)
			}
			if holes := got.holes(0); holes.String() != c.holes || (len(holes) == 0) != (c.holes == "no step") {
				t.Errorf("holes %v said %q, want %q", holes, holes.String(), c.holes)
			}
		})
	}
}

// TestListCountsTheHighestStandingStep: the listing's last step is the
// highest step of the records that stand, as the open run's are: a step's
// later values do not lower it, and the records a resume superseded do not
// count (the resumed session re-does those steps), so the Runs screen and
// rlt sessions count what the header counts. The listing used to count a
// run resumed after step 3 of 6 as 6 steps done while it re-did step 4.
// A step without a record below the last that stands is lost, and said
// so by both (lost); one past the resume's step is re-done, not lost.
func TestListCountsTheHighestStandingStep(t *testing.T) {
	for _, c := range []struct {
		name string
		// first: the steps the first session recorded; resume: the step
		// the second session resumed after (-1: none); then: its steps.
		first  []int
		resume int
		then   []int
		want   int
		lost   string // what is said of metrics.jsonl ("": nothing)
	}{
		{"in order", []int{0, 1, 2}, -1, nil, 2, ""},
		{"a step's later values", []int{0, 1, 2, 3, 1}, -1, nil, 3, ""},
		{"resumed at its last step", []int{0, 1, 2}, 2, []int{3}, 3, ""},
		{"resumed from an earlier step, re-doing it", []int{0, 1, 2, 3, 4, 5}, 3, []int{4}, 4, ""},
		{"resumed from an earlier step, nothing re-done yet", []int{0, 1, 2, 3, 4, 5}, 3, nil, 3, ""},
		{"resumed from an earlier step, past the first session", []int{0, 1, 2, 3, 4, 5}, 3, []int{4, 5, 6}, 6, ""},
		{"records past the resume's step lost, re-done", []int{0, 1, 2, 3, 7}, 3, []int{4}, 4, ""},
		{"a step's records lost", []int{0, 1, 3, 4}, -1, nil, 4,
			"has no record of step 2, though the run has done 5 steps (its records of step 4 say so)"},
		{"the first steps' records lost, resumed after", []int{3}, 3, []int{4, 5}, 5,
			"has no record of steps 0-2, though the run has done 6 steps (its records of step 5 say so)"},
		{"steps lost on both sides of a resume", []int{0, 2, 3}, 3, []int{5}, 5,
			"has no record of steps 1 and 4, though the run has done 6 steps (its records of step 5 say so)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "run")
			r := mustCreate(t, dir, Options{})
			for _, s := range c.first {
				r.Emit(fakeMetrics(s))
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if c.resume >= 0 {
				resumeAndClose(t, dir, c.resume, func(r *Run) {
					for _, s := range c.then {
						r.Emit(fakeMetrics(s))
					}
				})
			}
			list, err := List(root)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %+v, %v", list, err)
			}
			if got := list[0].LastStep; got != c.want {
				t.Errorf("listed last step %d, want %d", got, c.want)
			}
			if note := list[0].Note; c.lost == "" && strings.Contains(note, MetricsFile) || c.lost != "" && !strings.Contains(note, MetricsFile+": "+c.lost) {
				t.Errorf("listing's note %q, want it to say %q of %s", note, c.lost, MetricsFile)
			}
			// The open run's records that stand end at the same step.
			ro, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			ms, _ := ro.Store().MetricsSince(0)
			highest := -1
			for _, m := range ms {
				highest = max(highest, m.Step)
			}
			if highest != c.want {
				t.Errorf("the open run's highest step %d, want %d", highest, c.want)
			}
			if lost := ro.Steps().Lost; !strings.HasPrefix(lost, c.lost) || (c.lost == "") != (lost == "") {
				t.Errorf("the open run says %q of %s, want %q", lost, MetricsFile, c.lost)
			}
		})
	}
}

// TestBrokenMetricLineIsNotAlsoAHole: a line of metrics.jsonl broken in
// place is said as a broken record; the step it held is not said again as
// one without a record (the problems view counted it twice), and where
// more steps lack a record than lines are broken the note says that some
// may be those lines.
func TestBrokenMetricLineIsNotAlsoAHole(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps []int
		cut   int    // the line (from 1) cut in half
		lost  string // what is said of metrics.jsonl ("": nothing)
	}{
		{"a middle line broken", []int{0, 1, 2, 3}, 2, ""},
		{"the last line broken", []int{0, 1, 2, 3}, 4, ""},
		{"a line broken and a step lost", []int{0, 1, 2, 4}, 2,
			"has no record of steps 1 and 3 (one of them may be its broken line, said apart), though the run has done 5 steps"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "run")
			r := mustCreate(t, dir, Options{})
			for _, s := range c.steps {
				r.Emit(fakeMetrics(s))
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, MetricsFile)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.SplitAfter(string(data), "\n")
			lines[c.cut-1] = lines[c.cut-1][:len(lines[c.cut-1])/2] + "\n"
			if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644); err != nil {
				t.Fatal(err)
			}
			list, err := List(root)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %+v, %v", list, err)
			}
			note := list[0].Note
			if c.lost == "" && strings.Contains(note, "no record") || c.lost != "" && !strings.Contains(note, MetricsFile+": "+c.lost) {
				t.Errorf("listing's note %q, want it to say %q of %s", note, c.lost, MetricsFile)
			}
			ro, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			if lost := ro.Steps().Lost; !strings.HasPrefix(lost, c.lost) || (c.lost == "") != (lost == "") {
				t.Errorf("the open run says %q of %s, want %q", lost, MetricsFile, c.lost)
			}
			broken := 0
			for _, is := range ro.Store().Issues() {
				if is.Kind == IssueBroken && filepath.Base(is.File) == MetricsFile {
					broken++
				}
			}
			if broken != 1 {
				t.Errorf("%d broken records said of %s, want 1: %+v", broken, MetricsFile, ro.Store().Issues())
			}
		})
	}
}

// TestListPlannedSteps: the listing carries the steps a run plans, as
// config.toml records them: one of ours, its steps (0: until stopped); an
// import, what its trainer's files stated (none for verl).
func TestListPlannedSteps(t *testing.T) {
	root := t.TempDir()
	for name, cfg := range map[string]any{
		"ours": struct {
			Steps int `toml:"steps"`
		}{20},
		"open-ended": struct {
			Steps int `toml:"steps"`
		}{0},
	} {
		r, err := Create(filepath.Join(root, name), cfg)
		if err != nil {
			t.Fatal(err)
		}
		r.Emit(fakeMetrics(0))
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for name, src := range map[string]string{"official": fixtureRun, "trl": trlFixture, "verl": verlFixture} {
		if _, err := Import(filepath.Join(root, name), src); err != nil {
			t.Fatal(err)
		}
	}
	list, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ours": "1/20", "open-ended": "1", "official": "3/3", "trl": "4/4", "verl": "2"}
	for _, s := range list {
		if got := StepsLabel(s.StepsDone(), s.PlannedSteps); got != want[s.Name] {
			t.Errorf("%s: %q, want %q", s.Name, got, want[s.Name])
		}
		delete(want, s.Name)
	}
	if len(want) > 0 {
		t.Errorf("not listed: %v", want)
	}
}

// TestListStepsCell: a listing's STEPS cell (StepsCell, rlt sessions' and
// the Runs screen's) of a run that plans its steps and has done none yet
// reads "0/200", as the header of the workbench training it says "step
// 0/200", where it read "—"; "—" stays for a run with neither a step nor a
// plan, and a run with steps reads StepsLabel's count.
func TestListStepsCell(t *testing.T) {
	root := t.TempDir()
	type cfg struct {
		Steps int `toml:"steps"`
	}
	want := map[string]string{}
	for _, c := range []struct {
		name    string
		planned int
		steps   int // metric records of steps 0…steps-1
		want    string
	}{
		{"planned-no-step", 200, 0, "0/200"},
		{"open-ended-no-step", 0, 0, "—"},
		{"planned-a-step", 200, 1, "1/200"},
		{"open-ended-a-step", 0, 1, "1"},
	} {
		r, err := Create(filepath.Join(root, c.name), cfg{c.planned})
		if err != nil {
			t.Fatal(err)
		}
		for s := range c.steps {
			r.Emit(fakeMetrics(s))
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		want[c.name] = c.want
	}
	list, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if got := StepsCell(s.Numbering, s.LastStep, s.PlannedSteps); got != want[s.Name] {
			t.Errorf("%s (last step %d, %d planned): STEPS %q, want %q", s.Name, s.LastStep, s.PlannedSteps, got, want[s.Name])
		}
		delete(want, s.Name)
	}
	if len(want) > 0 {
		t.Errorf("not listed: %v", want)
	}
	// A trainer's numbering from 1: its step-0 record (a validation before
	// the first step) is no step done, counted against the plan as well.
	for _, c := range []struct {
		n                 StepNumbering
		lastStep, planned int
		want              string
	}{
		{StepsFromOne, 0, 3, "0/3"},
		{StepsFromOne, -1, 3, "0/3"},
		{StepsFromOne, -1, 0, "—"},
		{StepsFromOne, 2, 3, "2/3"},
	} {
		if got := StepsCell(c.n, c.lastStep, c.planned); got != c.want {
			t.Errorf("StepsCell(%v, %d, %d) = %q, want %q", c.n, c.lastStep, c.planned, got, c.want)
		}
	}
}

// TestStepRewards: a segment's best reward up to a step is the best of
// the rewards recorded for the steps not past it, whatever order they
// came in and however often a limit is asked between additions.
func TestStepRewards(t *testing.T) {
	type rw struct {
		step int
		v    float64
	}
	for _, c := range []struct {
		name string
		adds []rw
	}{
		{"in order", []rw{{0, 0.1}, {1, 0.3}, {2, 0.2}, {3, 0.5}}},
		{"a step's later, lower value", []rw{{0, 0.1}, {1, 0.3}, {1, 0.0}, {2, 0.2}}},
		{"a step's later, higher value", []rw{{0, 0.1}, {1, 0.3}, {2, 0.2}, {0, 0.9}}},
		{"out of order", []rw{{5, 0.5}, {1, 0.9}, {3, -1}, {0, 0.2}, {4, 0.7}}},
		{"negative rewards", []rw{{0, -3}, {1, -2}, {2, -4}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r stepRewards
			best := map[int]float64{}
			for _, a := range c.adds {
				r.add(a.step, a.v)
				if old, ok := best[a.step]; !ok || a.v > old {
					best[a.step] = a.v
				}
				// Asked after each addition: what was summed before must
				// not go stale.
				for limit := -1; limit <= 7; limit++ {
					want, wok := 0.0, false
					for s, v := range best {
						if s <= limit && (!wok || v > want) {
							want, wok = v, true
						}
					}
					if got, ok := r.bestUpTo(limit); ok != wok || (ok && got != want) {
						t.Errorf("after %v: bestUpTo(%d) = %v, %v; want %v, %v", a, limit, got, ok, want, wok)
					}
				}
			}
		})
	}
}

// TestListBestRewardOfStandingRecords: the best reward a listing shows is
// of the records that stand, those its steps done count and the open run
// keeps: a run resumed from an earlier checkpoint re-does the steps after
// it, and the rewards of the records it superseded no longer count. The
// listing used to show the best of every record ever written.
func TestListBestRewardOfStandingRecords(t *testing.T) {
	type rw struct {
		step int
		v    float64
	}
	for _, c := range []struct {
		name string
		// first: the first session's records; resume: the step the second
		// resumed after (-1: none); then: its records.
		first  []rw
		resume int
		then   []rw
		want   float64 // NaN: no reward
	}{
		{"no resume", []rw{{0, 0.1}, {1, 0.4}, {2, 0.3}}, -1, nil, 0.4},
		{"superseded best, nothing re-done yet", []rw{{0, 0.1}, {1, 0.2}, {2, 0.9}, {3, 0.8}}, 1, nil, 0.2},
		{"superseded best, re-done lower", []rw{{0, 0.1}, {1, 0.2}, {2, 0.9}, {3, 0.8}}, 1, []rw{{2, 0.5}}, 0.5},
		{"best before the resume point stands", []rw{{0, 0.7}, {1, 0.2}, {2, 0.3}}, 0, []rw{{1, 0.1}, {2, 0.2}}, 0.7},
		{"re-done higher", []rw{{0, 0.1}, {1, 0.2}, {2, 0.3}}, 1, []rw{{2, 0.6}}, 0.6},
		{"resumed at its last step", []rw{{0, 0.1}, {1, 0.9}}, 1, []rw{{2, 0.3}}, 0.9},
		{"every reward superseded", []rw{{3, 0.5}}, 0, nil, math.NaN()},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "run")
			metrics := func(s rw) event.Metrics {
				return event.Metrics{Time: time.Now(), Step: s.step, Values: map[string]float64{"reward": s.v, "kl": 0.01}}
			}
			r := mustCreate(t, dir, Options{})
			for _, s := range c.first {
				r.Emit(metrics(s))
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			// A Lister that read the first session's records before the
			// resume was written must drop what the resume superseded.
			var l Lister
			if _, err := l.List(root); err != nil {
				t.Fatal(err)
			}
			if c.resume >= 0 {
				resumeAndClose(t, dir, c.resume, func(r *Run) {
					for _, s := range c.then {
						r.Emit(metrics(s))
					}
				})
			}
			same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
			fresh, err := List(root)
			if err != nil || len(fresh) != 1 {
				t.Fatalf("List: %+v, %v", fresh, err)
			}
			again, err := l.List(root)
			if err != nil || len(again) != 1 {
				t.Fatalf("Lister.List: %+v, %v", again, err)
			}
			for what, got := range map[string]float64{"List": fresh[0].BestReward, "a Lister's relist": again[0].BestReward} {
				if !same(got, c.want) {
					t.Errorf("%s: best reward %v, want %v", what, got, c.want)
				}
			}
			// The open run's records that stand have the same best.
			ro, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			ms, _ := ro.Store().MetricsSince(0)
			open := math.NaN()
			for _, m := range ms {
				if v, ok := m.Get("reward"); ok && !(v <= open) {
					open = v
				}
			}
			if !same(open, c.want) {
				t.Errorf("the open run's best standing reward %v, want %v", open, c.want)
			}
		})
	}
}

// resumeAndClose resumes the run at dir from step, lets record write the
// session's records, and closes it.
func resumeAndClose(t *testing.T, dir string, step int, record func(r *Run)) {
	t.Helper()
	r := mustOpen(t, dir)
	if err := r.Resume(step); err != nil {
		t.Fatal(err)
	}
	record(r)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLostResumesReadFromTheRecords: a segment whose resume event is lost
// resumed after the step before its first record, where an earlier
// segment's records that stand reach that step (it re-did them); one that
// only continued past them, or whose resume the events record, is no
// lost resume, nor one whose work (a phase, …) the events record: it
// opened the run and recorded steps without resuming it.
func TestLostResumesReadFromTheRecords(t *testing.T) {
	seg := func(rs ...[2]int) *stepRanges { r := stepRanges(rs); return &r }
	for _, c := range []struct {
		name    string
		steps   map[int]*stepRanges
		resumes resumePoints
		worked  map[int]bool
		want    []lostResume
	}{
		{"one segment", map[int]*stepRanges{0: seg([2]int{0, 9})}, nil, nil, nil},
		{"a resume past the earlier records", map[int]*stepRanges{0: seg([2]int{0, 3}), 1: seg([2]int{4, 6})}, nil, nil, nil},
		{"a resume that re-did steps", map[int]*stepRanges{0: seg([2]int{0, 9}), 1: seg([2]int{4, 6})}, nil, map[int]bool{0: true},
			[]lostResume{{seg: 1, step: 3, steps: stepRanges{{4, 9}}}}},
		{"its resume recorded", map[int]*stepRanges{0: seg([2]int{0, 9}), 1: seg([2]int{4, 6})}, resumePoints{1: 3}, map[int]bool{1: true}, nil},
		{"its work recorded, not resumed", map[int]*stepRanges{0: seg([2]int{0, 9}), 1: seg([2]int{4, 6})}, nil, map[int]bool{1: true}, nil},
		{"two, the second re-doing the first's steps", map[int]*stepRanges{0: seg([2]int{0, 9}), 1: seg([2]int{4, 6}), 2: seg([2]int{6, 8})}, nil, nil,
			[]lostResume{{seg: 1, step: 3, steps: stepRanges{{4, 9}}}, {seg: 2, step: 5, steps: stepRanges{{6, 9}}}}},
		{"re-doing only records a recorded resume superseded", map[int]*stepRanges{0: seg([2]int{0, 9}), 1: seg([2]int{4, 6}), 2: seg([2]int{7, 8})}, resumePoints{1: 3}, map[int]bool{1: true}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			all, got := c.resumes.lostResumes(c.steps, c.worked)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("lostResumes: %+v, want %+v", got, c.want)
			}
			for _, l := range got {
				if all[l.seg] != l.step {
					t.Errorf("resume points %v lack segment %d's lost one after step %d", all, l.seg, l.step)
				}
			}
		})
	}
}

// TestLostTraceSteps: the steps whose trace files are lost are those a
// checkpoint proves done, from the run's first recorded step, that have no
// file; steps past the checkpoint are not (a kill may stop the writer
// between a step's metrics and its traces).
func TestLostTraceSteps(t *testing.T) {
	for _, c := range []struct {
		name           string
		have, standing stepRanges
		checkpoint     int
		want           stepRanges
	}{
		{"whole", stepRanges{{0, 4}}, stepRanges{{0, 4}}, 4, nil},
		{"past the checkpoint", stepRanges{{0, 2}}, stepRanges{{0, 4}}, 2, nil},
		{"files deleted", stepRanges{{0, 0}, {3, 4}}, stepRanges{{0, 4}}, 4, stepRanges{{1, 2}}},
		{"folder and metrics gone", nil, nil, 4, stepRanges{{0, 4}}},
		{"folder gone", nil, stepRanges{{0, 6}}, 4, stepRanges{{0, 4}}},
		{"no checkpoint", nil, stepRanges{{0, 6}}, -1, nil},
		{"a run starting past 0", stepRanges{{1, 3}}, stepRanges{{1, 1}, {3, 3}}, 3, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := lostTraceSteps(c.have, c.standing, c.checkpoint); !reflect.DeepEqual(got, c.want) {
				t.Errorf("lostTraceSteps: %v, want %v", got, c.want)
			}
		})
	}
}
