package sessions

import (
	"errors"
	"strings"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"

	"bufio"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// rawLines decodes every line of a JSON Lines file generically, as an
// independent reading of what the previous version wrote.
func rawLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
	return out
}

func rawF32s(t *testing.T, v any) []float32 {
	t.Helper()
	s, _ := v.(string)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func sameF32s(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestPreviousFormat opens run folders written by the version before the
// record package (testdata/prev-format/README.md says how they were made)
// and checks every trace, rescore, review, metric and event against a
// generic reading of the files.
func TestPreviousFormat(t *testing.T) {
	dir := filepath.Join("testdata", "prev-format", "grpo")
	r, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st := r.Store()
	if is := st.Issues(); len(is) != 0 {
		t.Fatalf("issues: %v", is)
	}
	var raws []map[string]any
	for _, f := range []string{"000000.jsonl", "000001.jsonl"} {
		raws = append(raws, rawLines(t, filepath.Join(dir, "traces", f))...)
	}
	traces, _ := st.TracesSince(0)
	if len(traces) != 8 || len(raws) != 8 {
		t.Fatalf("%d traces, %d lines; want 8", len(traces), len(raws))
	}
	for i, raw := range raws {
		tr, err := st.Trace(raw["id"].(string))
		if err != nil {
			t.Fatalf("line %d: trace %v: %v", i+1, raw["id"], err)
		}
		terms := raw["terms"].(map[string]any)
		if !tr.HasScore || tr.Terms.Reward != terms["reward"].(float64) || tr.Terms.KLMaxPos != int(terms["kl_max_pos"].(float64)) ||
			tr.Terms.NoEntReward != terms["no_entropy_reward"].(float64) {
			t.Errorf("trace %s: terms %+v, file %v", tr.ID, tr.Terms, terms)
		}
		if tr.Ended != raw["ended"].(bool) || tr.Explanation != raw["explanation"].(string) || tr.Advantage != raw["advantage"].(float64) {
			t.Errorf("trace %s: ended/explanation/advantage differ from the file", tr.ID)
		}
		for _, c := range []struct {
			key string
			got []float32
		}{{"teacher_lp", tr.TeacherLP}, {"student_lp", tr.StudentLP}, {"d", tr.D}, {"sol_lp", tr.SolutionLP}} {
			if want := rawF32s(t, raw[c.key]); !sameF32s(c.got, want) || len(want) == 0 {
				t.Errorf("trace %s: %s: %d values, file %d (or not bit-identical)", tr.ID, c.key, len(c.got), len(want))
			}
		}
		if len(tr.ExplanationIDs) != len(raw["expl_ids"].([]any)) || len(tr.SolutionTokens) != len(raw["sol_tokens"].([]any)) {
			t.Errorf("trace %s: token arrays differ in length from the file", tr.ID)
		}
	}

	rescores := rawLines(t, filepath.Join(dir, RescoresFile))
	if n, _ := st.Rescores(); n != len(rescores) || n != 8 {
		t.Fatalf("%d rescores, file %d; want 8", n, len(rescores))
	}
	for _, raw := range rescores {
		rs, err := st.ReadRescore(raw["trace"].(string))
		if err != nil {
			t.Fatalf("rescore of %v: %v", raw["trace"], err)
		}
		cfg := raw["reward_config"].(map[string]any)
		if rs.Terms.Reward != raw["terms"].(map[string]any)["reward"].(float64) || rs.Reward.KLMean != cfg["kl_mean"].(float64) ||
			string(rs.Reward.Estimator) != cfg["estimator"].(string) || rs.Teacher != raw["teacher"].(string) {
			t.Errorf("rescore %s: %+v differs from the file", rs.Trace, rs)
		}
		if want := rawF32s(t, raw["d"]); !sameF32s(rs.D, want) {
			t.Errorf("rescore %s: d differs from the file", rs.Trace)
		}
	}

	for id, want := range map[string]LabelState{"0-0-0": {Label: LabelAccept}, "0-1-1": {Label: LabelFlag, Note: "restates the answer"}, "1-0-0": {Label: LabelReject}, "1-1-1": {}} {
		if got := st.Label(id); got.Label != want.Label || got.Note != want.Note {
			t.Errorf("label of %s: %+v, want %+v", id, got, want)
		}
	}
	metrics, _ := st.MetricsSince(0)
	if len(metrics) != 2 {
		t.Fatalf("%d metrics, want 2", len(metrics))
	}
	if v, ok := metrics[1].Get("reward"); !ok || v != rawLines(t, filepath.Join(dir, "metrics.jsonl"))[1]["values"].(map[string]any)["reward"].(float64) {
		t.Errorf("step 1 reward %v (%v) differs from the file", v, ok)
	}
}

// TestPreviousFormatWarning: the previous version marked a data warning by
// prefixing its message with "warning: "; it reads as a warning, message
// without the prefix. Warnings written now carry their severity as a field.
func TestPreviousFormatWarning(t *testing.T) {
	r, err := OpenReadOnly(filepath.Join("testdata", "prev-format", "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	evs, _ := r.Store().EventsSince(0)
	var got []EventRecord
	for _, e := range evs {
		if e.Kind == KindError {
			got = append(got, e)
		}
	}
	if len(got) != 1 || got[0].Severity != event.SeverityWarning || got[0].Fatal ||
		!strings.HasPrefix(got[0].Error, "data /tmp/fx/data.jsonl: skipped 2 of 6 rows: line 3:") {
		t.Fatalf("error events %+v, want the one data warning graded a warning", got)
	}
	if traces, _ := r.Store().TracesSince(0); len(traces) != 4 {
		t.Errorf("%d traces, want 4", len(traces))
	}

	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	w.Emit(event.Error{Time: time.Now(), Step: 2, Severity: event.SeverityWarning, Err: errors.New("warning: a message that merely starts so")})
	w.Emit(event.Error{Time: time.Now(), Step: 3, Err: errors.New("warning: not one")})
	w.Close()
	back, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	evs, _ = back.Store().EventsSince(0)
	got = got[:0]
	for _, e := range evs {
		if e.Kind == KindError {
			got = append(got, e)
		}
	}
	if len(got) != 2 || got[0].Severity != event.SeverityWarning || got[0].Error != "warning: a message that merely starts so" {
		t.Fatalf("events written now: %+v", got)
	}
	// An error written now keeps its grade whatever its wording.
	if got[1].Severity != event.SeverityError || got[1].Error != "warning: not one" {
		t.Errorf("error event written now: %+v", got[1])
	}
}
