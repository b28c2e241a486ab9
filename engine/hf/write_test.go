package hf

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.safetensors")
	for _, c := range []struct {
		name  string
		ts    []NamedTensor
		dtype DType
		want  string
	}{
		{"bad dtype", nil, F16, "dtype F16 cannot be written (want F32 or BF16)"},
		{"length mismatch", []NamedTensor{{"w", []int{2, 3}, make([]float32, 5)}}, F32, `tensor "w": shape [2 3] has 6 elements but Data has 5`},
		{"duplicate", []NamedTensor{{"w", nil, []float32{1}}, {"w", nil, []float32{1}}}, F32, `tensor "w" appears twice`},
		{"empty name", []NamedTensor{{"", nil, []float32{1}}}, BF16, "empty name"},
		{"reserved name", []NamedTensor{{"__metadata__", nil, []float32{1}}}, BF16, `"__metadata__", which the format reserves`},
		{"negative dim", []NamedTensor{{"w", []int{-1}, nil}}, F32, `tensor "w": invalid shape [-1]`},
	} {
		err := WriteSafetensors(p, c.ts, c.dtype, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want it to contain %q and the path", c.name, err, c.want)
		}
	}
	// Into a directory that does not exist: an error, nothing left behind.
	if err := WriteSafetensors(filepath.Join(dir, "no", "m.safetensors"), nil, F32, nil); err == nil {
		t.Error("write into a missing directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left behind: %v", entries)
	}
}

func TestWriteReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.safetensors")
	for i, v := range []float32{1, 2} {
		if err := WriteSafetensors(p, []NamedTensor{{"w", []int{1}, []float32{v}}}, F32, nil); err != nil {
			t.Fatal(err)
		}
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, 1)
		if err := f.ReadFloat32("w", got); err != nil || got[0] != v {
			t.Errorf("write %d: read %v, %v", i, got, err)
		}
		f.Close()
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %v, want only m.safetensors", entries)
	}
	// Windows keeps only a read-only bit, no permission bits.
	if st, _ := os.Stat(p); runtime.GOOS != "windows" && st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}
}
