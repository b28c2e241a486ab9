package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions/roomtest"
)

// TestModelDefaultsOnAFullDisk: rlt model defaults --out on a disk without
// room for the two models says so in words that agree ("the pair of
// default models needs about …"); it said "the models needs".
func TestModelDefaultsOnAFullDisk(t *testing.T) {
	disk := roomtest.SmallDisk(t, "size=64k")
	out := filepath.Join(disk, "defaults")
	code, stdout, errs := runCLI(t, "", "model", "defaults", "--out", out)
	if code != 1 || stdout != "" || !strings.Contains(errs, "not enough room for the pair of default models in "+out+": ") ||
		!strings.Contains(errs, ", and the pair of default models needs about ") || strings.Contains(errs, "the models needs") {
		t.Errorf("exit %d, stdout %q, stderr\n%s\nwant a refusal saying the pair of default models needs room", code, stdout, errs)
	}
}
