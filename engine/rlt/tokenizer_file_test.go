package rlt

import (
	"os"
	"path/filepath"
	"testing"
)

// SameTokenizerFile tells a tokenizer.json of the same bytes as another
// folder's, whose vocabulary it then is (CheckPair and rlt distill's
// student folders parse it no more), from one that differs by a byte or
// cannot be read, which are parsed and compared, or said, as before.
func TestSameTokenizerFile(t *testing.T) {
	src := filepath.Join("..", "defaults", "models", "teacher")
	tok, err := os.ReadFile(filepath.Join(src, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	folder := func(data []byte) string {
		dir := t.TempDir()
		if data != nil {
			if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	edited := append([]byte{}, tok...)
	edited[len(edited)/2] ^= 1
	asFolder := t.TempDir()
	if err := os.Mkdir(filepath.Join(asFolder, "tokenizer.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		b    string
		want bool
	}{
		{"the same bytes", folder(tok), true},
		{"a byte apart", folder(edited), false},
		{"longer", folder(append(append([]byte{}, tok...), '\n')), false},
		{"none", folder(nil), false},
		{"a folder named tokenizer.json", asFolder, false},
	} {
		if got := SameTokenizerFile(src, c.b); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		if got := SameTokenizerFile(c.b, src); got != c.want {
			t.Errorf("%s, the other way: %v, want %v", c.name, got, c.want)
		}
	}
}
