package task

import (
	"bytes"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

func FuzzReadJSONL(f *testing.F) {
	if data, err := os.ReadFile("testdata/rows.jsonl"); err == nil {
		f.Add(data)
		for _, line := range bytes.Split(data, []byte("\n")) {
			f.Add(line)
		}
	}
	f.Add([]byte(`{"conversations":[{"from":"user","value":"q"},{"from":"assistant","value":"<|begin_of_thought|>e<|end_of_thought|>\n\n<|begin_of_solution|>s<|end_of_solution|>"}]}`))
	f.Add([]byte("\xef\xbb\xbf\r\n\n{}\n[]\nnull\n\"s\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		exs, rep, err := ReadJSONL(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Kept != len(exs) || rep.Rows != rep.Kept+len(rep.Skipped) {
			t.Fatalf("inconsistent report %+v for %d examples", rep, len(exs))
		}
		prev := 0
		for _, s := range rep.Skipped {
			if s.Line <= prev || s.Reason == "" {
				t.Fatalf("bad skip %+v after line %d", s, prev)
			}
			prev = s.Line
		}
		for _, ex := range exs {
			if ex.Question == "" || ex.Solution == "" || ex.ID == "" {
				t.Fatalf("kept an incomplete row %+v", ex)
			}
			for _, s := range []string{ex.Question, ex.Solution, ex.Reference} {
				if tag, ok := record.ContainsTag(s); ok {
					t.Fatalf("kept a row with %s: %+v", tag, ex)
				}
			}
		}
		// What was kept can be written and read back unchanged.
		var buf bytes.Buffer
		if err := WriteStratos(&buf, "sys", exs); err != nil {
			t.Fatalf("write kept rows: %v", err)
		}
		back, rep2, err := ReadJSONL(&buf)
		if err != nil || len(rep2.Skipped) != 0 || len(back) != len(exs) {
			t.Fatalf("round trip: %v %v", err, rep2)
		}
		for i := range back {
			if back[i].Question != exs[i].Question || back[i].Solution != exs[i].Solution || back[i].Reference != exs[i].Reference {
				t.Fatalf("round trip changed row %d: %+v → %+v", i, exs[i], back[i])
			}
		}
	})
}

func FuzzVerifyExplanation(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tk := range allTasks() {
		for range 3 {
			ex := tk.Sample(rng)
			for _, st := range tk.Styles() {
				f.Add(ex.Question, st.Generate(ex, rng))
			}
		}
	}
	f.Add("347+285=?", "7+5=12 w2 c1; 4+9+1=14 w4 c1;;; . ,\n 632")
	f.Add("3x+6=0, x=?", "0-6=-6; -6/3=-2; x=-2")
	f.Add("99999999999999999999+1=?", "ans 100000000000000000000")
	f.Add("x-0=-9999999999999, x=?", "-9999999999999+0=-9999999999999")
	f.Fuzz(func(t *testing.T, q, expl string) {
		record.ContainsTag(q + expl)
		NormalizeAnswer(expl)
		for _, tk := range allTasks() {
			tk.CheckAnswer(q, expl)
			tk.SplitKey(q)
			v := tk.VerifyExplanation(q, expl)
			if !v.Valid {
				if len(v.Segments) != 0 || v.Expected != 0 {
					t.Fatalf("invalid verdict with content: %+v", v)
				}
				continue
			}
			if v.Correct < 0 || v.Correct > v.Expected || v.Missing < 0 || v.Correct+v.Missing > v.Expected ||
				v.Missing != len(v.MissingSteps) || v.Leaks > len(v.Segments) || v.AnswerFirst != (v.Leaks > 0) {
				t.Fatalf("%s: inconsistent counts %+v", tk.Name(), v)
			}
			steps := 0
			for _, s := range v.Segments {
				if s.Start < 0 || s.End > len(expl) || s.Start >= s.End || expl[s.Start:s.End] != s.Text {
					t.Fatalf("segment %+v out of place in %q", s, expl)
				}
				if s.Step < -1 || s.Step >= v.Expected {
					t.Fatalf("segment step %d of %d", s.Step, v.Expected)
				}
				if s.Kind == StepSegment {
					steps++
				}
			}
			if v.Wrong+v.Filler > len(v.Segments) || steps > len(v.Segments) {
				t.Fatalf("counts exceed segments: %+v", v)
			}
			if v.Complete() && strings.TrimSpace(expl) == "" && v.Expected > 0 {
				t.Fatalf("empty explanation complete: %+v", v)
			}
			_ = v.String()
		}
	})
}
