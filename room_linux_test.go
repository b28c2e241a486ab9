package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions/roomtest"
)

// TestRunRefusedOnAFullDisk: rlt run on a disk with less room than its
// checkpoints take is refused before its first step, saying what to free,
// and makes no run folder. It needs a small disk: a 1 MiB tmpfs, mounted
// where the test runs as root (Linux: this file's name); elsewhere the check is tested
// with a free-space function of the test's (sessions/room_test.go).
func TestRunRefusedOnAFullDisk(t *testing.T) {
	disk := roomtest.SmallDisk(t, "size=1m")
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the embedded models are unpacked on the big disk
	runs := filepath.Join(disk, "runs")
	code, _, errs := runCLI(t, "", "run", "--headless", "--runs", runs, "--steps", "20", "--device", "cpu")
	if code != 1 || !strings.Contains(errs, "not enough room for a new run in "+runs) ||
		!strings.Contains(errs, "with rotation keeping 3 and the best, plus the one being written; free at least") ||
		!strings.Contains(errs, "(no run folder was created)") || strings.Contains(errs, "step 0") {
		t.Errorf("exit %d, want a refusal before the first step saying what to free:\n%s", code, errs)
	}
	if _, err := os.Stat(runs); err == nil {
		entries, _ := os.ReadDir(runs)
		if len(entries) > 0 {
			t.Errorf("a refused run left %d folders in %s", len(entries), runs)
		}
	}
}

// TestExportOnAFullDisk: rlt export --out on a full disk says the disk is
// full, which folder, and what to do (free room, or --out on another
// disk), once, and leaves nothing there. It said 'write X: export: write
// .X.tmp-…: no space left on device: …; give --out a file in a folder this
// process can write': the path twice, the temporary file, a folder's
// permissions for a full disk.
func TestExportOnAFullDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), dir)
	disk := roomtest.SmallDisk(t, "size=64k")
	roomtest.Fill(t, disk)
	out := filepath.Join(disk, "accepted.jsonl")
	code, _, errs := runCLI(t, "", "export", "--run", dir, "--out", out)
	want := "rlt export: the disk holding " + disk + " is full (0 B free): free some room there and run the command again, or give --out a file on a disk with room (nothing was written)\n"
	if code != 1 || errs != want {
		t.Errorf("exit %d, stderr %q\nwant exit 1 and %q", code, errs, want)
	}
	if entries, _ := os.ReadDir(disk); len(entries) != 1 {
		t.Errorf("left on the disk: %v", entries)
	}
}

// TestDistillOnAFullDisk: rlt distill on a disk without room for the
// student is refused before the teacher explains; one found full by the
// student's save (here: no file left to make) keeps the rows and says the
// command that trains the student on them without explaining again, as
// the rerun into the same --out does; that command learns from the same
// rows. The student trained, then its save failed with 'no space left',
// the training lost, and the rerun was refused for distill.jsonl.
func TestDistillOnAFullDisk(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	small := roomtest.SmallDisk(t, "size=1m")
	out := filepath.Join(small, "d")
	args := []string{"distill", "--teacher", distillTeacher, "--questions", "4", "--steps", "2", "--seed", "3", "--device", "cpu"}
	code, _, errs := runCLI(t, "", append(args, "--out", out)...)
	if want := "rlt distill: not enough room for the student in " + out + ": the disk holding it has 1.0 MiB free, and the student needs about 3.2 MiB; free at least 2.2 MiB there and run the command again, or give --out a folder on a disk with room (nothing was written)\n"; code != 1 || errs != want {
		t.Errorf("exit %d, stderr %q\nwant exit 1 and %q", code, errs, want)
	}
	if entries, _ := os.ReadDir(small); len(entries) != 0 {
		t.Errorf("a refused distill left %v", entries)
	}

	noFiles := roomtest.SmallDisk(t, "size=8m,nr_inodes=4") // the disk, --out, distill.jsonl, the student's staging folder
	out = filepath.Join(noFiles, "d")
	rows := filepath.Join(out, "distill.jsonl")
	learn := "rlt distill --reference --tokenizer-from " + distillTeacher + " --data " + rows + " --out " + out + "-student --device cpu --seed 3 --steps 2"
	code, _, trained := runCLI(t, "", append(args, "--out", out)...)
	for _, want := range []string{"student step 2/2  loss ", "rlt distill: the disk holding " + out + " is full: the student needs about 3.2 MiB, and the write found no room left",
		"; free more room there and run " + learn + " to train the student on those rows without explaining again (or remove " + rows + " and run this command again), or give --out a folder on a disk with room; " + rows + " keeps the 4 rows\n"} {
		if code != 1 || !strings.Contains(trained, want) {
			t.Errorf("save on a full disk: exit %d, stderr %q\nwant exit 1 and %q", code, trained, want)
		}
	}
	code, _, errs = runCLI(t, "", append(args, "--out", out)...)
	if want := "rlt distill: --out " + out + ": " + rows + " holds the rows of a distill that saved no student: run " + learn + " to train the student on them without explaining again, or remove " + rows + " and run this command again\n"; code != 1 || errs != want {
		t.Errorf("rerun: exit %d, stderr %q\nwant exit 1 and %q", code, errs, want)
	}
	// The command said, with --out on a disk with room, learns from the
	// rows kept: the same rows, the same losses as the distill that ran.
	elsewhere := filepath.Join(t.TempDir(), "student")
	said := strings.Fields(strings.Replace(learn, out+"-student", elsewhere, 1))[1:]
	code, stdout, errs2 := runCLI(t, "", said...)
	if code != 0 || !strings.Contains(stdout, "wrote 4 rows") {
		t.Fatalf("%s: exit %d: %s", learn, code, errs2)
	}
	kept, _ := os.ReadFile(rows)
	again, _ := os.ReadFile(filepath.Join(elsewhere, "distill.jsonl"))
	if string(kept) != string(again) {
		t.Errorf("the rows learned from differ from those kept:\n%s\n%s", again, kept)
	}
	loss := func(s string) string {
		_, steps, _ := strings.Cut(s, "student step 1/2")
		steps, _, _ = strings.Cut(steps, "\nrlt distill")
		return strings.TrimSpace(steps)
	}
	if first := loss(trained); first == "" || loss(errs2) != first {
		t.Errorf("the student learned otherwise from the rows kept: %q, then %q", first, errs2)
	}
}

// TestTrainOnAFullDisk: rlt train --save on a disk without room for the
// trained teacher is refused before it trains; one found full by the save
// (here: no file left to make) saves the teacher instead in the first
// folder that takes it (beside --save, on the same disk: no; the user's
// cache folder: yes) and says where, how to use it and how to move it
// into place; where none takes it (the cache folder a file, the temporary
// folder on the full disk), it says that the teacher trained is not kept,
// every folder tried and why, that its metrics are on stdout, and what to
// do; one saved in the temporary folder, that it may be cleared. The
// teacher trained, then its save failed with 'no space left' and
// the training was lost.
func TestTrainOnAFullDisk(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	args := []string{"train", "--teacher", distillTeacher, "--student", "engine/defaults/models/student", "--steps", "1", "--device", "cpu"}
	small := roomtest.SmallDisk(t, "size=1m")
	save := filepath.Join(small, "t")
	code, stdout, errs := runCLI(t, "", append(args, "--save", save)...)
	if want := "rlt train: not enough room for the trained teacher in " + save + ": the disk holding it has 1.0 MiB free, and the trained teacher needs about "; code != 1 || !strings.HasPrefix(errs, want) ||
		!strings.HasSuffix(errs, "there and run the command again, or give --save a folder on a disk with room (nothing was written)\n") || stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q\nwant exit 1, no step, and %q…", code, stdout, errs, want)
	}
	if entries, _ := os.ReadDir(small); len(entries) != 0 {
		t.Errorf("a refused train left %v", entries)
	}

	noFiles := roomtest.SmallDisk(t, "size=8m,nr_inodes=2") // the disk and one folder
	save = filepath.Join(noFiles, "t")
	rescued := filepath.Join(cache, "rlt-workbench", "rescued", "t")
	code, stdout, errs = runCLI(t, "", append(args, "--save", save)...)
	for _, want := range []string{"rlt train: the disk holding " + save + " is full: the trained teacher needs about ",
		"; free more room there and move the teacher saved instead into place (mv " + rescued + " " + save + "); the teacher trained 1 step is saved instead, whole, to " + rescued + ": use it where it is (--teacher " + rescued + ")\n"} {
		if code != 1 || !strings.Contains(errs, want) || !strings.Contains(stdout, `"step"`) {
			t.Errorf("save on a full disk: exit %d, stdout %q, stderr %q\nwant exit 1, the step's metrics, and %q", code, stdout, errs, want)
		}
	}
	if code, _, errs := runCLI(t, "", "model", "info", rescued); code != 0 {
		t.Errorf("rlt model info %s: exit %d: %s", rescued, code, errs)
	}
	if entries, _ := os.ReadDir(noFiles); len(entries) != 0 {
		t.Errorf("a failed save left %v on the full disk", entries)
	}

	tmp := t.TempDir()
	notAFolder := filepath.Join(t.TempDir(), "cache")
	os.WriteFile(notAFolder, nil, 0o644)
	t.Setenv("XDG_CACHE_HOME", notAFolder)
	t.Setenv("TMPDIR", noFiles)
	code, stdout, errs = runCLI(t, "", append(args, "--save", save)...)
	for _, want := range []string{"rlt train: the disk holding " + save + " is full: the trained teacher needs about ",
		"; free more room there and run this command again (it trains from the start), or give --save a folder on a disk with room; the teacher trained 1 step is not kept: nor could it be saved to " +
			save + "-rescued (no space left on device), " + filepath.Join(notAFolder, "rlt-workbench", "rescued", "t") + " (not a directory), " + filepath.Join(noFiles, "rlt-rescued-t") + " (no space left on device); nothing was written to " + save + " (its steps' metrics are on stdout)\n"} {
		if code != 1 || !strings.Contains(errs, want) || !strings.Contains(stdout, `"step"`) {
			t.Errorf("no folder to save in: exit %d, stdout %q, stderr %q\nwant exit 1, the step's metrics, and %q", code, stdout, errs, want)
		}
	}
	if entries, _ := os.ReadDir(noFiles); len(entries) != 0 {
		t.Errorf("a failed save left %v on the full disk", entries)
	}

	// The temporary folder, last, may be cleared: said.
	t.Setenv("TMPDIR", tmp)
	code, _, errs = runCLI(t, "", append(args, "--save", save)...)
	rescued = filepath.Join(tmp, "rlt-rescued-t")
	if want := "; the teacher trained 1 step is saved instead, whole, to " + rescued + ": use it where it is (--teacher " + rescued + "), which the system may clear: move it soon\n"; code != 1 || !strings.HasSuffix(errs, want) {
		t.Errorf("saved in the temporary folder: exit %d, stderr %q\nwant exit 1 and %q", code, errs, want)
	}
	if code, _, errs := runCLI(t, "", "model", "info", rescued); code != 0 {
		t.Errorf("rlt model info %s: exit %d: %s", rescued, code, errs)
	}
}
