package rlt

import (
	"bytes"
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

// CheckPairWith takes the teacher's tokenizer from an earlier read of it
// (ReadFolderTokenizer, a run's configuration check) where its file holds
// the same bytes, not parsing it again: a run parsed it in the check and
// again at the load. A file changed since (a space more: the same
// vocabulary, other bytes) is parsed; one that no longer parses is said.
func TestCheckPairWithTakesTheReadTokenizer(t *testing.T) {
	src := filepath.Join("..", "defaults", "models", "teacher")
	dir := t.TempDir()
	for _, f := range []string{"config.json", "tokenizer.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read, err := ReadFolderTokenizer(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := CheckPairWith(read, dir, src)
	if err != nil {
		t.Fatal(err)
	}
	if f.Tok != read.Tok {
		t.Errorf("the same file: the tokenizer parsed again, not the one read")
	}
	if f, err = CheckPairWith(nil, dir, src); err != nil || f.Tok == read.Tok {
		t.Errorf("no read: %v, the read one taken %v", err, err == nil && f.Tok == read.Tok)
	}
	path := filepath.Join(dir, "tokenizer.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A space more, and the same size with other bytes (a line break
	// made a space): each compared whole, not by its size.
	for _, changed := range [][]byte{append(bytes.Clone(b), ' '), bytes.Replace(b, []byte("\n "), []byte("  "), 1)} {
		if err := os.WriteFile(path, changed, 0o644); err != nil {
			t.Fatal(err)
		}
		if f, err = CheckPairWith(read, dir, src); err != nil || f.Tok == read.Tok || f.Tok.VocabSize() != read.Tok.VocabSize() {
			t.Errorf("changed since (%d bytes of %d): %v, the read one taken %v", len(changed), len(b), err, err == nil && f.Tok == read.Tok)
		}
	}
	if err := os.WriteFile(path, []byte("not JSON"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckPairWith(read, dir, src); err == nil {
		t.Errorf("a tokenizer.json that is no longer JSON: taken")
	}
}
