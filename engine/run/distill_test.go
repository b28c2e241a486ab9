package run

import (
	"bytes"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/task"
)

// TestReferenceRowsRoundTrip: rows rlt distill wrote (Bespoke-Stratos,
// the explanation after the thought tag's lead), read back as data and
// distilled with --reference, are written again byte for byte, not with a
// second lead; a generated example's reference, which has no lead, is the
// body as it is.
func TestReferenceRowsRoundTrip(t *testing.T) {
	const system = "Think, then answer."
	write := func(rows []DistillRow) []byte {
		var buf bytes.Buffer
		sw := record.NewStratosWriter(&buf, system)
		for _, r := range rows { // as rlt distill writes them
			if err := sw.Write(r.Question, r.Explanation, r.Solution); err != nil {
				t.Fatal(err)
			}
		}
		return buf.Bytes()
	}
	first := write([]DistillRow{
		{Question: "347+285=?", Explanation: "7+5=12, carry 1; 4+8+1=13, carry 1; 3+2+1=6.", Solution: "632"},
		{Question: "1+1=?", Explanation: "\n\nA body that itself starts with a blank line.", Solution: "2"},
	})
	exs, rep, err := task.ReadJSONL(bytes.NewReader(first))
	if err != nil || len(exs) != 2 {
		t.Fatalf("read back: %d examples, %v (%s)", len(exs), err, rep.Summary(3))
	}
	if again := write(ReferenceRows(exs)); !bytes.Equal(again, first) {
		t.Errorf("distilled again:\n%s\nwant the rows read:\n%s", again, first)
	}
	gen := task.Example{Question: "2+2=?", Solution: "4", Reference: "2+2=4."}
	if got := ReferenceRows([]task.Example{gen})[0].Explanation; got != gen.Reference {
		t.Errorf("a generated reference became %q, want %q", got, gen.Reference)
	}
}
