package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions/roomtest"
)

// TestLinkToNothingRefusedBeforeWork: every command that writes a folder or
// file and renames it into place refuses, before any work, an output path
// that is a link to nothing or lies under one, saying where it points and
// what to do, and writes nothing through it. rlt train trained first and
// then failed to rename its teacher onto the link ("not a directory"), a
// mkdir under one said "file exists", and rlt export said the link "already
// exists".
func TestLinkToNothingRefusedBeforeWork(t *testing.T) {
	root := t.TempDir()
	nowhere := filepath.Join(root, "nowhere")
	link := filepath.Join(root, "gone")
	if err := os.Symlink(nowhere, link); err != nil {
		t.Skipf("make a link: %v", err)
	}
	// Links inside a folder, relative, to nothing beside it.
	linkIn := func(name string) (dir, at string) {
		dir = t.TempDir()
		at = filepath.Join(dir, name)
		if err := os.Symlink(filepath.Join("..", "missing-"+name), at); err != nil {
			t.Fatal(err)
		}
		return dir, at
	}
	withStudent, student := linkIn("student")
	withRows, rows := linkIn(distillRows)
	withTeacher, teacher := linkIn("teacher")
	withPage, page := linkIn("report.html")
	src := filepath.Join(t.TempDir(), "traces.jsonl")
	os.WriteFile(src, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one"}`+"\n"), 0o644)
	reported := filepath.Join(t.TempDir(), "run")
	rewardRun(t, reported, 2)
	exported := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), exported)
	train := []string{"train", "--steps", "1", "--teacher", distillTeacher, "--student", "engine/defaults/models/student", "--device", "cpu"}
	distill := []string{"distill", "--reference", "--tokenizer-from", distillTeacher, "--questions", "2"}
	under := filepath.Join(link, "sub")
	for _, c := range []struct {
		args         []string
		flag, value  string
		at, pointsTo string
	}{
		{append(train, "--save", link), "save", link, link, nowhere},
		{append(train, "--save", under), "save", under, link, nowhere},
		{[]string{"model", "init", "--config", filepath.Join(distillTeacher, "config.json"), "--out", link}, "out", link, link, nowhere},
		{append(distill, "--out", link), "out", link, link, nowhere},
		{append(distill, "--out", withStudent), "out", withStudent, student, filepath.Join(filepath.Dir(withStudent), "missing-student")},
		{append(distill, "--out", withRows), "out", withRows, rows, filepath.Join(filepath.Dir(withRows), "missing-"+distillRows)},
		{[]string{"pretrain", "--out", link, "--steps", "1", "--batch", "1"}, "out", link, link, nowhere},
		{[]string{"pretrain", "--out", withTeacher, "--steps", "1", "--batch", "1"}, "out", withTeacher, teacher, filepath.Join(filepath.Dir(withTeacher), "missing-teacher")},
		{[]string{"import", "--out", link, src}, "out", link, link, nowhere},
		{[]string{"import", "--runs", under, src}, "runs", under, link, nowhere},
		{[]string{"report", reported, "--out", link}, "out", link, link, nowhere},
		{[]string{"report", reported, "--out", withPage}, "out", withPage, page, filepath.Join(filepath.Dir(withPage), "missing-report.html")},
		{[]string{"export", "--run", exported, "--out", link}, "out", link, link, nowhere},
		{[]string{"score", "--teacher", distillTeacher, "--student", distillTeacher, "--stats", filepath.Join(under, "stats.txt")}, "stats", filepath.Join(under, "stats.txt"), link, nowhere},
	} {
		code, _, errs := runCLI(t, "", c.args...)
		want := "--" + c.flag + " " + c.value + ": " + c.at + " is a link to " + c.pointsTo + ", which does not exist: remove the link, or give another path"
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != 1 || len(lines) != 1 || !strings.HasSuffix(lines[0], want) {
			t.Errorf("rlt %v: exit %d, stderr %q; want exit 1 and only %q", c.args, code, errs, want)
		}
		if _, err := os.Readlink(c.at); err != nil {
			t.Errorf("rlt %v: %s is no longer a link: %v", c.args, c.at, err)
		}
		if _, err := os.Lstat(c.pointsTo); err == nil {
			t.Errorf("rlt %v wrote %s through the link %s", c.args, c.pointsTo, c.at)
		}
	}
}

// TestMountPointRefusedBeforeWork: a mount point given as the folder a
// command writes whole (rlt train --save, rlt model init --out, rlt import
// --out) is refused before any work, saying to give a folder inside it:
// the folder is staged beside it and renamed onto it, which the system
// refuses, and rlt train found that after its training. A link to a mount
// point is refused as it, as the folder is written through the link. A
// folder inside the mount point is written, and rlt pretrain's --out, which holds the two
// model folders it writes, may be a mount point. It needs a mount point of
// its own: a tmpfs, mounted where the test runs as root on Linux.
func TestMountPointRefusedBeforeWork(t *testing.T) {
	disk := roomtest.SmallDisk(t, "size=32m")
	src := filepath.Join(t.TempDir(), "traces.jsonl")
	os.WriteFile(src, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one"}`+"\n"), 0o644)
	const why = " is a mount point: the folder is made beside it and renamed onto it at the end, which the system refuses for a mount point; give a folder inside it, such as "
	initArgs := []string{"model", "init", "--config", filepath.Join(distillTeacher, "config.json"), "--out"}
	// A link to the mount point: the folder is written through it, onto
	// the mount point, which the rename refuses as well.
	link := filepath.Join(t.TempDir(), "bigger-disk")
	if err := os.Symlink(disk, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--save", disk, "--steps", "1", "--teacher", distillTeacher, "--student", "engine/defaults/models/student", "--device", "cpu"},
			"--save " + disk + ": " + disk + why + filepath.Join(disk, "model")},
		{append(initArgs, disk), "--out " + disk + ": " + disk + why + filepath.Join(disk, "model")},
		{append(initArgs, link), "--out " + link + ": " + link + " (a link to " + disk + ")" + why + filepath.Join(link, "model")},
		{[]string{"import", "--out", disk, src}, "--out " + disk + ": " + disk + why + filepath.Join(disk, "run")},
	} {
		code, _, errs := runCLI(t, "", c.args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != 1 || len(lines) != 1 || !strings.HasSuffix(lines[0], c.want) {
			t.Errorf("rlt %v: exit %d, stderr %q; want exit 1 and only %q", c.args, code, errs, c.want)
		}
	}
	if entries, _ := os.ReadDir(disk); len(entries) > 0 {
		t.Errorf("refused commands left %s in %s", entries[0].Name(), disk)
	}
	if code, _, errs := runCLI(t, "", append(initArgs, filepath.Join(disk, "model"))...); code != 0 {
		t.Errorf("model init --out a folder inside the mount point: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "pretrain", "--out", disk, "--steps", "1", "--batch", "1"); code != 0 {
		t.Errorf("pretrain --out the mount point: exit %d: %s", code, errs)
	}
}
