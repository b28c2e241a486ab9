package run

import (
	"context"
	"testing"
)

// TestDataFitReadsTheLengthsMemoryMeasured: a data run's rows are
// tokenized once before it starts. Checked.Memory measures every row's
// prompt lengths (the estimate's longest prompts) and keeps them; New's
// fit, which leaves out the rows that do not fit the models, reads them
// with the same tokenizer and prompts instead of tokenizing every row
// again (a 200k-row file took a minute each time at a load of 30). Shown
// by a row's kept lengths made past the positions: New (its own memory
// check, then its fit) leaves that row out, though its text fits;
// measured again, it was kept.
func TestDataFitReadsTheLengthsMemoryMeasured(t *testing.T) {
	c := dataConfig(trainFixture)
	checked, m := checkedMemory(t, c)
	d := checked.data
	l := d.lengths.of
	if len(l.train) != len(d.Train) || len(l.heldOut) != len(d.HeldOut) {
		t.Fatalf("Memory kept the lengths of %d training and %d held-out rows; want all %d and %d", len(l.train), len(l.heldOut), len(d.Train), len(d.HeldOut))
	}
	longest := [2]int{}
	for _, ls := range []map[int][2]int{l.train, l.heldOut} {
		for _, x := range ls {
			longest = [2]int{max(longest[0], x[0]), max(longest[1], x[1])}
		}
	}
	if longest != [2]int{m.TeacherPrompt, m.StudentPrompt} {
		t.Errorf("kept lengths' longest %v; the estimate's prompts %d, %d", longest, m.TeacherPrompt, m.StudentPrompt)
	}
	row := d.Train[0]
	l.train[row.Line] = [2]int{m.Teacher.MaxPos + 1, m.Student.MaxPos + 1}
	e, err := New(context.Background(), checked, nil)
	if err != nil {
		t.Fatal(err)
	}
	skipped := false
	for _, s := range e.Data.File.Report.Skipped {
		skipped = skipped || s.Line == row.Line
	}
	if !skipped || len(e.Data.Train) != len(d.Train)-1 {
		t.Errorf("New kept %d of %d training rows, skips %v; want line %d left out by the lengths Memory kept", len(e.Data.Train), len(d.Train), e.Data.File.Report.Skipped, row.Line)
	}
}
