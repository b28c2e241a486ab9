package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rlt-workbench/rlt/sessions/roomtest"
)

// TestOutOnAPlaceNotWritableIsNotSaidAsRoom: an --out on a place no file
// can be written in says the write's own refusal, not the room check's.
// /proc (a pseudo-filesystem counting no blocks) and a disk mounted
// read-only (here full, as a squashfs image is) say 0 B free to statfs:
// rlt report --out /proc/x said "not enough room for report.html in
// /proc/x: the disk holding it has 0 B free … free at least 12 KiB
// there", which no freeing could mend.
func TestOutOnAPlaceNotWritableIsNotSaidAsRoom(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "run1")
	rewardRun(t, run, 2)
	config := filepath.Join("engine", "defaults", "models", "student", "config.json")
	places := []struct{ name, dir, want string }{
		{"proc", filepath.Join("/proc", "rlt-not-writable"), "cannot make the output folder"},
	}
	if os.Geteuid() == 0 { // a full disk remounted read-only: root mounts it
		disk := roomtest.SmallDisk(t, "size=64k")
		roomtest.Fill(t, disk)
		if err := syscall.Mount("tmpfs", disk, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, "size=64k"); err != nil {
			t.Fatalf("remount %s read-only: %v", disk, err)
		}
		places = append(places, struct{ name, dir, want string }{"read-only", filepath.Join(disk, "out"), "its disk is mounted read-only"})
	}
	for _, p := range places {
		for _, c := range []struct {
			name string
			args []string
			want string
		}{
			{"report", []string{"report", run, "--out", p.dir}, p.want},
			{"model init", []string{"model", "init", "--config", config, "--out", p.dir}, p.dir},
			{"model defaults", []string{"model", "defaults", "--out", p.dir}, p.dir},
		} {
			t.Run(p.name+"/"+c.name, func(t *testing.T) {
				code, _, errs := runCLI(t, "", c.args...)
				if code != 1 || strings.Contains(errs, "not enough room") || strings.Contains(errs, " is full") || !strings.Contains(errs, c.want) {
					t.Errorf("exit %d, stderr %q\nwant exit 1 and the write's refusal holding %q, not a room problem", code, errs, c.want)
				}
			})
		}
	}
}
