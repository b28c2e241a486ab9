package run

import (
	"os"
	"path/filepath"
	"testing"
)

// A Checked made absolute names the same data by its absolute path, in its
// configuration and in the files it read (as a run records and reports
// them), and leaves the receiver as it was.
func TestCheckedAbsolute(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	c := dataConfig(trainFixture) // relative
	checked, err := Check(c)
	if err != nil {
		t.Fatal(err)
	}
	abs, err := checked.Absolute()
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(wd, trainFixture)
	if abs.Config().Data != want || abs.data.File.Path != want {
		t.Errorf("data %q, its file %q: want both %q", abs.Config().Data, abs.data.File.Path, want)
	}
	if checked.Config().Data != trainFixture || checked.data.File.Path != trainFixture {
		t.Errorf("the receiver changed: data %q, its file %q", checked.Config().Data, checked.data.File.Path)
	}
	if abs.data.Digest() != checked.data.Digest() || len(abs.data.Train) != len(checked.data.Train) {
		t.Error("the data differs: it was read again, or changed")
	}
}
