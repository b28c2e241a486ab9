package durable

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
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
