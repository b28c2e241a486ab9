package sessions

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestImportNumbersPastRange: a number float64 cannot hold (1e400) is
// refused or dropped as the other readers do: a NeMo-RL data row's
// "rewards" is refused as a traces row's and an official CSV's reward is,
// the row left out at its file, line and column (it was read as no
// reward, the row kept as unscored), and a metric value past the range is
// noted in its own words, apart from the values that are no numbers (it
// was counted among the "non-numeric values ignored"). Each skipped
// row's event keeps its column (it kept the line alone).
func TestImportNumbersPastRange(t *testing.T) {
	const nemoReward = `"rewards": [0.2]`
	for _, c := range []struct {
		name, fixture, file, old, new string
		traces                        int    // kept (the fixture's less those left out)
		number, field                 string // the number left out at its column, in field; "" none
		notes                         []string
	}{
		{"nemo list of one", nemoFixture, "train_data_step1.jsonl", nemoReward, `"rewards": [1e400]`, 7, "1e400", "rewards", nil},
		{"nemo bare, spaced", nemoFixture, "train_data_step1.jsonl", nemoReward, `"rewards":   -1e999 `, 7, "-1e999", "rewards", nil},
		{"nemo within the range", nemoFixture, "train_data_step1.jsonl", nemoReward, `"rewards": [1e300]`, 8, "", "", nil},
		// verl's rollout "score" alike: it was "not a rollout row: field
		// "score" holds a JSON number 1e400 where a number is wanted".
		{"verl rollout", verlFixture, "rollout/1.jsonl", `"score": 0.25,`, `"score": 1e400,`, 7, "1e400", "score", nil},
		{"trainer_state", fixtureRun, "trainer_state.json", `"answer_log_prob_mean": -0.7,`, `"answer_log_prob_mean": 1e999, "x": -1e400, "note": "hi",`, 5, "", "",
			[]string{"trainer_state.json: 2 non-numeric values ignored (key: note)",
				"trainer_state.json: 2 numbers past float64's range (about ±1.8e308) ignored, values no trainer logs (keys: answer_log_prob_mean, x)"}},
		{"verl metrics", verlFixture, "rlt_grpo.jsonl", `"actor/entropy":0.9,`, `"actor/entropy":1e999,"actor/note":"hi",`, 8, "", "",
			[]string{"rlt_grpo.jsonl: 3 values that are not numbers (null for NaN, text) ignored (keys: actor/note, perf/mfu/actor)",
				"rlt_grpo.jsonl: 1 number past float64's range (about ±1.8e308) ignored, a value no trainer logs (key: actor/entropy)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "src")
			copyDir(t, c.fixture, src)
			p := filepath.Join(src, c.file)
			data := string(readFile(t, p))
			if !strings.Contains(data, c.old) {
				t.Fatalf("%s lacks %q", c.file, c.old)
			}
			data = strings.Replace(data, c.old, c.new, 1)
			writeFile(t, p, []byte(data))
			rep, err := Import(filepath.Join(dir, "run"), src)
			if err != nil {
				t.Fatal(err)
			}
			var skipped []string
			for _, is := range rep.Skip {
				skipped = append(skipped, is.String())
			}
			if c.number != "" {
				line := strings.SplitAfter(data, "\n")[0]
				want := fmt.Sprintf(`%s:1:%d: field %q is %s, out of float64's range (about ±1.8e308): give a reward within it`,
					c.file, strings.Index(line, c.number)+1, c.field, c.number)
				if !slices.Contains(skipped, want) {
					t.Errorf("left out %q; want %q", skipped, want)
				}
			}
			if rep.Traces != c.traces {
				t.Errorf("%d traces, want %d (left out %q)", rep.Traces, c.traces, skipped)
			}
			for _, n := range c.notes {
				if !slices.Contains(rep.Notes, n) {
					t.Errorf("notes %q\nlack %q", rep.Notes, n)
				}
			}
			// The events say each row left out as the report does, its
			// column included.
			ro, err := OpenReadOnly(filepath.Join(dir, "run"))
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			evs, _ := ro.Store().EventsSince(0)
			var said []string
			for _, e := range evs {
				if e.Kind == KindSkipped {
					said = append(said, RowIssue{File: e.File, Line: e.Line, Column: e.Column, Msg: e.Error}.String())
				}
			}
			if !slices.Equal(said, skipped) {
				t.Errorf("skipped events %q\nwant the report's %q", said, skipped)
			}
		})
	}
}

// TestVerlScoreListSaysItsTypeFirst: verl's rollout "score" is a number,
// so a list there is the wrong type whatever it holds: "score": [1e400]
// is said as "score": [0.5] is (it was said as a number past float64's
// range, the list unwrapped as NeMo-RL's "rewards" may be, so the user
// mended the number and was then told of the list).
func TestVerlScoreListSaysItsTypeFirst(t *testing.T) {
	said := map[string]string{}
	for _, score := range []string{`[0.5]`, `[1e400]`} {
		dir := t.TempDir()
		src := filepath.Join(dir, "src")
		copyDir(t, verlFixture, src)
		p := filepath.Join(src, "rollout", "1.jsonl")
		data := string(readFile(t, p))
		writeFile(t, p, []byte(strings.Replace(data, `"score": 0.25,`, `"score": `+score+`,`, 1)))
		rep, err := Import(filepath.Join(dir, "run"), src)
		if err != nil {
			t.Fatal(err)
		}
		for _, is := range rep.Skip {
			if is.Line == 1 && strings.HasSuffix(is.File, "1.jsonl") {
				said[score] = is.String()
			}
		}
		if said[score] == "" {
			t.Fatalf("score %s: line 1 not left out (%q)", score, rep.Skip)
		}
	}
	if said[`[1e400]`] != said[`[0.5]`] {
		t.Errorf("score [1e400] said %q\nwant it said as [0.5] is, %q", said[`[1e400]`], said[`[0.5]`])
	}
}
