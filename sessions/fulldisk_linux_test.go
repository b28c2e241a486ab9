package sessions

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rlt-workbench/rlt/sessions/roomtest"
)

// TestWorkbenchExportOnAFullDisk: the workbench's export (e) of a run on a
// full disk says the disk is full and to export again once there is room,
// keeping an earlier export as it was; it said the write of its temporary
// file. It needs a small disk: a tmpfs, mounted where the test runs as
// root (Linux: this file's name); the wording is tested on every system in
// room_test.go.
func TestWorkbenchExportOnAFullDisk(t *testing.T) {
	disk := roomtest.SmallDisk(t, "size=256k")
	dir := filepath.Join(disk, "run")
	cfg := testCfg()
	r, err := Create(dir, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	emitSteps(r, 0, 1, 1, 2)
	r.Close()
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Review("0-0-0", LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExportAccepted(); err != nil {
		t.Fatal(err)
	}
	earlier, _ := os.ReadFile(filepath.Join(dir, ExportFile))
	if err := w.Review("0-0-1", LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(disk, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	for block := make([]byte, 4096); ; {
		if _, err := f.Write(block); err != nil {
			break
		}
	}
	f.Close()
	_, err = w.ExportAccepted()
	want := "the disk holding " + dir + " is full (0 B free): free some room there and export again; the earlier " + ExportFile + " is kept as it was"
	if err == nil || err.Error() != want || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("%v\nwant %s", err, want)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, ExportFile)); string(now) != string(earlier) || strings.Count(string(now), "\n") != 1 {
		t.Errorf("%s now holds %q, want the earlier export %q", ExportFile, now, earlier)
	}
}
