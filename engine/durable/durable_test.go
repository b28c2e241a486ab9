package durable

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := WriteFile(path, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != "new\n" {
		t.Fatalf("content %q", got)
	}
	// Windows keeps only a read-only bit, no permission bits.
	if st, _ := os.Stat(path); runtime.GOOS != "windows" && st.Mode().Perm() != 0o640 {
		t.Errorf("perm %v, want 0640", st.Mode().Perm())
	}
	assertOnly(t, dir, "config.toml")
}

func TestWriteFailureKeepsOldFile(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name   string
		target func(dir string) string // returns the path to write
		write  func(w io.Writer) error
		keep   string // expected content of path afterwards ("" = not checked)
	}{
		{"writer fails midway", func(dir string) string { return filepath.Join(dir, "f") },
			func(w io.Writer) error { w.Write([]byte("half of the new")); return boom }, "old content\n"},
		{"writer fails at once", func(dir string) string { return filepath.Join(dir, "f") },
			func(w io.Writer) error { return boom }, "old content\n"},
		{"rename onto a non-empty directory", func(dir string) string {
			p := filepath.Join(dir, "d")
			os.Mkdir(p, 0o755)
			os.WriteFile(filepath.Join(p, "x"), nil, 0o644)
			return p
		}, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "f"), []byte("old content\n"), 0o644)
			path := tc.target(dir)
			err := Write(path, 0o644, tc.write)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if tc.keep != "" {
				got, _ := os.ReadFile(path)
				if string(got) != tc.keep {
					t.Errorf("old file changed to %q", got)
				}
			}
			assertOnly(t, dir, "d", "f")
		})
	}
}

// TestWriteNew: WriteNew puts a whole new file in place or nothing (a
// writer killed midway, simulated by one that fails after half its bytes,
// leaves neither path nor a temporary file), and never replaces what is
// there, saying so with os.ErrExist.
func TestWriteNew(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name     string
		existing string // content at path before, "" = none
		write    func(w io.Writer) error
		err      error  // wanted error (errors.Is), nil = none
		want     string // content at path afterwards, "" = no file
	}{
		{"new file", "", func(w io.Writer) error { _, err := w.Write([]byte("row 1\nrow 2\n")); return err }, nil, "row 1\nrow 2\n"},
		{"writer fails midway", "", func(w io.Writer) error { w.Write([]byte("row 1\nro")); return boom }, boom, ""},
		{"path exists", "earlier\n", func(w io.Writer) error { _, err := w.Write([]byte("new\n")); return err }, os.ErrExist, "earlier\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.jsonl")
			if tc.existing != "" {
				os.WriteFile(path, []byte(tc.existing), 0o644)
			}
			err := WriteNew(path, 0o644, tc.write)
			if (tc.err == nil) != (err == nil) || (tc.err != nil && !errors.Is(err, tc.err)) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			got, rerr := os.ReadFile(path)
			if tc.want == "" && rerr == nil {
				t.Errorf("%s holds %q, want no file", path, got)
			} else if tc.want != "" && string(got) != tc.want {
				t.Errorf("%s holds %q, want %q", path, got, tc.want)
			}
			if st, err := os.Stat(path); err == nil && runtime.GOOS != "windows" && st.Mode().Perm() != 0o644 {
				t.Errorf("perm %v, want 0644", st.Mode().Perm())
			}
			assertOnly(t, dir, "out.jsonl")
		})
	}
}

// TestMkdirTemp: MkdirTemp's folders have the mode of any folder made
// with 0755 under the same umask (os.MkdirTemp's are 0700, which a rename
// into place keeps), distinct names, and the prefix asked for.
func TestMkdirTemp(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref")
	if err := os.Mkdir(ref, 0o755); err != nil {
		t.Fatal(err)
	}
	want, _ := os.Stat(ref)
	seen := map[string]bool{}
	for _, prefix := range []string{".tmp-step-000001-", ".tmp-step-000001-", ".staging-"} {
		p, err := MkdirTemp(dir, prefix)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(p)
		if err != nil || !st.IsDir() || !strings.HasPrefix(filepath.Base(p), prefix) || seen[p] {
			t.Fatalf("%s: %v, %v", p, st, err)
		}
		seen[p] = true
		if runtime.GOOS != "windows" && st.Mode().Perm() != want.Mode().Perm() {
			t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), want.Mode().Perm())
		}
	}
	if _, err := MkdirTemp(filepath.Join(dir, "no", "such"), "x-"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("in a missing folder: %v", err)
	}
}

func TestWriteMissingDir(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "no", "such", "f"), []byte("x"), 0o644)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err %v", err)
	}
}

// assertOnly fails if dir holds entries other than the allowed names (a
// temporary file left behind).
func assertOnly(t *testing.T, dir string, allowed ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		ok := false
		for _, a := range allowed {
			ok = ok || e.Name() == a
		}
		if !ok {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// The temporary file a killed writer left beside a path is removed by the
// next write of that path; a live process's is left to it, and other
// files alone.
func TestLeftoverTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "export.jsonl")
	dead := filepath.Join(dir, ".export.jsonl.tmp-999999999-42") // past any pid_max; named before machines were
	deadHere := filepath.Join(dir, ".export.jsonl.tmp-999999998@"+hostTag+"-42")
	elsewhere := filepath.Join(dir, ".export.jsonl.tmp-999999999@not"+hostTag+"-42")      // another machine's pid
	staleElsewhere := filepath.Join(dir, ".export.jsonl.tmp-999999999@old"+hostTag+"-43") // untouched for a day
	live := filepath.Join(dir, fmt.Sprintf(".export.jsonl.tmp-%d@%s-7", os.Getppid(), hostTag))
	other := filepath.Join(dir, ".other.jsonl.tmp-999999999-1")
	for _, f := range []string{dead, deadHere, elsewhere, staleElsewhere, live, other} {
		if err := os.WriteFile(f, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dayAgo := time.Now().Add(-foreignStale - time.Minute)
	if err := os.Chtimes(staleElsewhere, dayAgo, dayAgo); err != nil {
		t.Fatal(err)
	}
	if err := WriteNew(path, 0o644, func(w io.Writer) error { _, err := w.Write([]byte("row\n")); return err }); err != nil {
		t.Fatal(err)
	}
	for f, kept := range map[string]bool{dead: false, deadHere: false, elsewhere: true, staleElsewhere: false, live: true, other: true} {
		if _, err := os.Stat(f); (err == nil) != kept {
			t.Errorf("%s: kept %v, want %v", filepath.Base(f), err == nil, kept)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 { // export.jsonl, the live writer's, the other machine's and the other file's: nothing of this write's
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files after the write: %v", names)
	}
}

// hostTag fits a file name and ends no writer's tag early.
func TestHostTag(t *testing.T) {
	if len(hostTag) > 16 || strings.ContainsAny(hostTag, "-/@ ") {
		t.Errorf("hostTag %q", hostTag)
	}
}

// TestReplaceOpen: ReplaceOpen puts the new content in place whole and
// hands back the very file that now has the name (so a lock taken on it
// in fill holds on path), while a handle on the file it replaced still
// reads the old content; a fill that fails leaves path as it was, no
// temporary file and no file returned.
func TestReplaceOpen(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows refuses to rename a file that is open")
	}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		fill func(f *os.File) error
		want string // path's content afterwards
	}{
		{"replaced", func(f *os.File) error { _, err := f.WriteString("new\n"); return err }, "new\n"},
		{"fill fails midway", func(f *os.File) error { f.WriteString("half"); return boom }, "old\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "run.lock")
			if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			old, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			f, err := ReplaceOpen(path, 0o644, tc.fill)
			if got, _ := os.ReadFile(path); string(got) != tc.want {
				t.Errorf("%s holds %q, want %q", path, got, tc.want)
			}
			assertOnly(t, dir, "run.lock")
			if tc.want == "old\n" {
				if err == nil || f != nil || !strings.Contains(err.Error(), path) {
					t.Errorf("ReplaceOpen = %v, %v; want no file and an error naming %s", f, err, path)
				}
				return
			}
			if err != nil || f == nil {
				t.Fatalf("ReplaceOpen: %v, %v", f, err)
			}
			defer f.Close()
			fi, _ := f.Stat()
			pi, _ := os.Stat(path)
			if !os.SameFile(fi, pi) {
				t.Errorf("the file returned is not the one named %s", path)
			}
			if got, _ := io.ReadAll(old); string(got) != "old\n" {
				t.Errorf("the replaced file, read through a handle on it, holds %q", got)
			}
		})
	}
}
