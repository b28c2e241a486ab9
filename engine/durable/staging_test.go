package durable

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStageDir: a folder written through StageDir appears whole or not at
// all. A fill that fails after some files (a save killed midway between
// model.safetensors and tokenizer.json) leaves no folder and no staging
// folder, its error naming the folder; a staging folder left by a process
// that is gone is removed by the next save, one of a live process kept; an
// empty folder is replaced, one holding anything refused untouched.
func TestStageDir(t *testing.T) {
	boom := errors.New("boom")
	writeModel := func(dir string) error {
		for _, f := range []string{"model.safetensors", "config.json", "tokenizer.json"} {
			if err := WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	dead := ".model.partial-2147483646-1"                    // no such process
	live := fmt.Sprintf(".model.partial-%d-1", os.Getppid()) // this test's parent
	elsewhere := ".model.partial-2147483646@other.host-1"    // no such process here; another machine's
	for _, tc := range []struct {
		name  string
		setup func(root string)
		fill  func(dir string) error
		err   error
		after []string // root's entries afterwards
		files []string // model's files afterwards
	}{
		{"whole", nil, writeModel, nil, []string{"model"}, []string{"config.json", "model.safetensors", "tokenizer.json"}},
		{"killed midway", nil, func(dir string) error {
			WriteFile(filepath.Join(dir, "model.safetensors"), []byte("w"), 0o644)
			WriteFile(filepath.Join(dir, "config.json"), []byte("{}"), 0o644)
			return fmt.Errorf("write %s: %w", filepath.Join(dir, "tokenizer.json"), boom)
		}, boom, nil, nil},
		{"leftovers", func(root string) {
			for _, d := range []string{dead, live, elsewhere} {
				os.Mkdir(filepath.Join(root, d), 0o755)
				os.WriteFile(filepath.Join(root, d, "config.json"), nil, 0o644)
			}
		}, writeModel, nil, []string{elsewhere, live, "model"}, []string{"config.json", "model.safetensors", "tokenizer.json"}},
		{"empty folder", func(root string) { os.Mkdir(filepath.Join(root, "model"), 0o755) }, writeModel, nil,
			[]string{"model"}, []string{"config.json", "model.safetensors", "tokenizer.json"}},
		{"folder holds a file", func(root string) {
			os.Mkdir(filepath.Join(root, "model"), 0o755)
			os.WriteFile(filepath.Join(root, "model", "notes.txt"), nil, 0o644)
		}, writeModel, fs.ErrExist, []string{"model"}, []string{"notes.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "model")
			if tc.setup != nil {
				tc.setup(root)
			}
			err := StageDir(dir, "nothing was written there", tc.fill)
			if (tc.err == nil) != (err == nil) || (tc.err != nil && !errors.Is(err, tc.err)) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil && (strings.Contains(err.Error(), ".partial-") || !strings.Contains(err.Error(), dir)) {
				t.Errorf("error %q names the staging folder, or not %s", err, dir)
			}
			var names, files []string
			entries, _ := os.ReadDir(root)
			for _, e := range entries {
				names = append(names, e.Name())
			}
			entries, _ = os.ReadDir(dir)
			for _, e := range entries {
				files = append(files, e.Name())
			}
			if want := slices.Sorted(slices.Values(tc.after)); !slices.Equal(names, want) || !slices.Equal(files, tc.files) { // ReadDir sorts by name
				t.Errorf("root holds %v, want %v; model holds %v, want %v", names, want, files, tc.files)
			}
			for _, n := range names {
				if IsStaging(n) != strings.Contains(n, ".partial-") {
					t.Errorf("IsStaging(%q) = %v", n, IsStaging(n))
				}
			}
		})
	}
}

// TestCommitDirSaysWhatIsInTheWay: a file or a link where the folder goes
// is said as what it is, where, and what to do, and is left as it was. A
// file, or a link to one, is fs.ErrExist to errors.Is, as callers test, and
// a link to nothing is not, as before. It said "file already exists (X:
// open X: not a directory)" for a file, and "rename STAGE X: not a
// directory" for a link to nothing.
func TestCommitDirSaysWhatIsInTheWay(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(dir string) error
		says  string // %[1]s is dir, %[2]s what a link points to
		exist bool   // fs.ErrExist to errors.Is
	}{
		{"a file", func(dir string) error { return os.WriteFile(dir, []byte("kept"), 0o644) },
			"a file is at %[1]s where the folder goes: move it away or remove it, or choose another path", true},
		{"a link to nothing", func(dir string) error { return os.Symlink(filepath.Join(filepath.Dir(dir), "nowhere"), dir) },
			"a link to %[2]s, which does not exist, is at %[1]s where the folder goes: remove the link, or choose another path", false},
		{"a link to a file", func(dir string) error {
			target := filepath.Join(filepath.Dir(dir), "nowhere")
			if err := os.WriteFile(target, []byte("kept"), 0o644); err != nil {
				return err
			}
			return os.Symlink(target, dir)
		}, "a link to %[2]s is at %[1]s where the folder goes: remove the link, or choose another path", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "model")
			if err := tc.setup(dir); err != nil {
				t.Skipf("setup: %v", err)
			}
			before, _ := os.Lstat(dir)
			err := StageDir(dir, "nothing was written there", func(stage string) error {
				return WriteFile(filepath.Join(stage, "config.json"), []byte("{}"), 0o644)
			})
			want := "write " + dir + ": " + fmt.Sprintf(tc.says, dir, filepath.Join(root, "nowhere")) + "; nothing was written there"
			if err == nil || err.Error() != want || errors.Is(err, fs.ErrExist) != tc.exist {
				t.Errorf("err %v (fs.ErrExist: %v), want %q (fs.ErrExist: %v)", err, errors.Is(err, fs.ErrExist), want, tc.exist)
			}
			if after, err := os.Lstat(dir); err != nil || after.Mode() != before.Mode() {
				t.Errorf("%s was changed: %v", dir, err)
			}
			if entries, _ := os.ReadDir(root); slices.ContainsFunc(entries, func(e os.DirEntry) bool { return IsStaging(e.Name()) }) {
				t.Errorf("a staging folder was left in %s", root)
			}
		})
	}
}

// TestStageDirThroughALink: a link to a folder where the folder goes (an
// output pointed at a bigger disk) is written through and kept: the files
// land in the folder it points to, staged beside that folder, and the link
// still points there. A link to a folder holding anything is refused as
// the folder is, both left as they were. StageDir renamed the staged
// folder onto the link, which replaced the link and left its folder empty.
func TestStageDirThroughALink(t *testing.T) {
	files := []string{"config.json", "model.safetensors"}
	fill := func(stage string) error {
		for _, f := range files {
			if err := WriteFile(filepath.Join(stage, f), []byte(f), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	for _, tc := range []struct {
		name     string
		relative bool     // the link's text is relative to its folder
		chained  bool     // through a second link
		held     []string // in the folder pointed to before
		err      error
	}{
		{name: "to an empty folder"},
		{name: "relative", relative: true},
		{name: "through another link", chained: true},
		{name: "to a folder holding a file", held: []string{"notes.txt"}, err: fs.ErrExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, disk := t.TempDir(), t.TempDir()
			target := filepath.Join(disk, "big")
			if err := os.Mkdir(target, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.held {
				os.WriteFile(filepath.Join(target, f), []byte("kept"), 0o644)
			}
			points := target
			if tc.relative {
				rel, err := filepath.Rel(root, target)
				if err != nil {
					t.Fatal(err)
				}
				points = rel
			}
			if tc.chained {
				points = filepath.Join(root, "hop")
				if err := os.Symlink(target, points); err != nil {
					t.Fatal(err)
				}
			}
			dir := filepath.Join(root, "model")
			if err := os.Symlink(points, dir); err != nil {
				t.Skipf("make a link: %v", err)
			}
			err := StageDir(dir, "nothing was written there", fill)
			if (tc.err == nil) != (err == nil) || (tc.err != nil && !errors.Is(err, tc.err)) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if got, lerr := os.Readlink(dir); lerr != nil || got != points {
				t.Errorf("%s is no longer the link to %s: %q, %v", dir, points, got, lerr)
			}
			want := files
			if tc.err != nil {
				want = tc.held
			}
			var got []string
			entries, _ := os.ReadDir(target)
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s holds %v, want %v", target, got, want)
			}
			for _, folder := range []string{root, disk} {
				entries, _ := os.ReadDir(folder)
				for _, e := range entries {
					if IsStaging(e.Name()) {
						t.Errorf("a staging folder %s was left in %s", e.Name(), folder)
					}
				}
			}
		})
	}
}
